import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ChildService,
  createTestDatabase,
  createTestNats,
  runLeadflow,
  spawnLeadflow,
  type TestDatabase,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import {
  type ApolloFake,
  fakeApolloPerson,
  fakeHunterEmail,
  type GooglePlacesPhoneFake,
  type HunterFake,
  type OllamaFake,
  startApolloFake,
  startGooglePlacesPhoneFake,
  startHunterFake,
  startOllamaFake,
  startYelpPhoneFake,
  type YelpPhoneFake,
} from "@leadflow/testkit/fakes";
import { afterAll, beforeAll, expect, it } from "vitest";

// The "done when", as a user does it: `leadflow dev` with every provider pointed at its
// fake by environment variables, then `leadflow run … --wait` from a second terminal.
// Google knows 2 phones, Yelp the next 2 (the chain falls back); Hunter has people at 2 domains,
// Apollo at 1 more (falls back); 1 company has nobody anywhere.
const rows = [
  ["Lakeside General Hospital", "lakesidegeneral.test"],
  ["Erie County Medical Center", "eriecountymedical.test"],
  ["Niagara Children's Hospital", "niagarachildrens.test"],
  ["Delaware Park Surgical Hospital", "delawareparksurgical.test"],
] as const;

let db: TestDatabase;
let nats: TestNats;
let google: GooglePlacesPhoneFake;
let yelp: YelpPhoneFake;
let hunter: HunterFake;
let apollo: ApolloFake;
let ollama: OllamaFake;
let dir: string;
let dev: ChildService;
let env: Record<string, string>;

beforeAll(async () => {
  const listing = (i: number, phone: string) => ({ name: rows[i]![0], city: "Buffalo", state: "NY", phone });
  [db, nats, google, yelp, hunter, apollo, ollama] = await Promise.all([
    createTestDatabase(),
    createTestNats(),
    startGooglePlacesPhoneFake({ directory: [listing(0, "(716) 845-2000"), listing(1, "(716) 898-3000")] }),
    startYelpPhoneFake({ directory: [listing(2, "(716) 878-7000"), listing(3, "(716) 887-4600")] }),
    startHunterFake({ generate: false, domains: {} }),
    startApolloFake({
      generate: false,
      people: {
        "niagarachildrens.test": [
          fakeApolloPerson({
            first_name: "Dana",
            last_name: "Reyes",
            domain: "niagarachildrens.test",
            title: "Director of Facilities",
          }),
        ],
      },
    }),
    startOllamaFake(),
  ]);
  hunter.setDomain("lakesidegeneral.test", [
    fakeHunterEmail({
      value: "pat.quinn@lakesidegeneral.test",
      first_name: "Pat",
      last_name: "Quinn",
      position: "Facilities Manager",
      confidence: 94,
    }),
  ]);
  hunter.setDomain("eriecountymedical.test", [
    fakeHunterEmail({
      value: "sam.ortiz@eriecountymedical.test",
      first_name: "Sam",
      last_name: "Ortiz",
      position: "CFO",
      confidence: 91,
    }),
  ]);
  dir = await mkdtemp(join(tmpdir(), "leadflow-devp-"));
  await writeFile(
    join(dir, "companies.csv"),
    [
      "name,industry,address,city,state,postal_code,phone,website,employees,sites",
      ...rows.map(
        ([name, domain]) => `"${name}",hospital,1 Main St,Buffalo,NY,14202,,https://${domain}/,900,2`,
      ),
    ].join("\n"),
  );
  env = {
    LEADFLOW_DATA_DIR: join(dir, "data"),
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    SCOUT_SOURCES: "csv",
    SCOUT_CSV_PATH: join(dir, "companies.csv"),
    GOOGLE_PLACES_API_KEY: google.apiKey,
    GOOGLE_PLACES_BASE_URL: google.url,
    YELP_API_KEY: "test-yelp-key",
    YELP_BASE_URL: yelp.url,
    HUNTER_API_KEY: hunter.apiKey,
    HUNTER_BASE_URL: hunter.url,
    APOLLO_API_KEY: "test-apollo-key",
    APOLLO_BASE_URL: apollo.url,
    ENRICHMENT_PHONE_SOURCES: "google_places,yelp",
    ENRICHMENT_CONTACT_SOURCES: "hunter,apollo",
    OLLAMA_BASE_URL: ollama.url,
  };
  dev = spawnLeadflow(["dev", "--port", "0"], env);
  await waitFor(() => existsSync(join(dir, "data", "stack.json")), {
    what: "dev stack up",
    timeoutMs: 60_000,
  }).catch((e) => {
    throw new Error(`${e.message}\n${dev.output()}`);
  });
});

afterAll(async () => {
  await dev?.kill("SIGTERM");
  await Promise.all([
    db?.drop(),
    nats?.stop(),
    google?.close(),
    yelp?.close(),
    hunter?.close(),
    apollo?.close(),
    ollama?.close(),
    dir ? rm(dir, { recursive: true, force: true }) : undefined,
  ]);
});

it("leadflow run --wait ends at the draft-approval gate with a draft for every company that got a contact", async () => {
  const run = await runLeadflow(
    [
      "run",
      "--industry",
      "hospital",
      "--location",
      "Buffalo, NY",
      "--count",
      "4",
      "--request-id",
      "providers-1",
      "--wait",
    ],
    env,
  );
  expect(run.code, `${run.output}\n--- dev ---\n${dev.output()}`).toBe(0);
  expect(run.output).toContain("awaiting_approval");
  expect(run.output).toContain("phones by source: google_places 2, yelp 2");
  expect(run.output).toContain("contacts 3 (apollo 1, hunter 2)");
  expect(run.output).toContain("emails pending (3 items)");
  const status = JSON.parse(
    (await runLeadflow(["status", "providers-1", "--json"], env)).output.trim().split("\n").at(-1)!,
  );
  expect(status.summary.drafts).toEqual({ drafted: 3, byBackend: { ollama: 3 }, fallbacks: 0 });
  expect(status.summary.enrichment.autoApproved).toBe(3);
  const drafts = await db.sql<{ to_email: string }[]>`select to_email from email_drafts order by to_email`;
  expect(drafts.map((d) => d.to_email)).toEqual([
    "dana.reyes@niagarachildrens.test",
    "pat.quinn@lakesidegeneral.test",
    "sam.ortiz@eriecountymedical.test",
  ]);
}, 120_000);
