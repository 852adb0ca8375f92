/**
 * Shared plumbing for the benchmarks that drive whole runs through `leadflow dev` with the CSV
 * scout source and provider fakes (enrichment under a rate limit, end to end to drafts):
 * hospital rows and their CSV file, a stack of its own per repetition (nats-server child, fresh
 * database, `leadflow dev` child), and triggering runs and waiting for them at the
 * draft-approval gate. Everything it starts is stopped and removed on success and on failure.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NatsServerProcess } from "@leadflow/runtime/embedded";
import type { TestDatabase } from "@leadflow/testkit";
import type { FakeListing } from "@leadflow/testkit/fakes";
import { type DevProcess, rssSampler, startDev, stopDev, waitReady } from "./endToEnd.js";
import {
  connectJetStream,
  type JsClient,
  makeTempDir,
  removeTempDir,
  withDatabase,
  withNatsServer,
} from "./infra.js";

// ---------------------------------------------------------------------------------------------
// the companies

/**
 * Ten towns, none a substring of another (the CSV source matches cities loosely), in states
 * where the analyst scores a 900-employee hospital high tier (electricity prices enter the score).
 */
export const towns: ReadonlyArray<{ readonly city: string; readonly state: string; readonly area: string }> =
  [
    { city: "Buffalo", state: "NY", area: "716" },
    { city: "Sacramento", state: "CA", area: "916" },
    { city: "Boston", state: "MA", area: "617" },
    { city: "Hartford", state: "CT", area: "860" },
    { city: "Manchester", state: "NH", area: "603" },
    { city: "Bangor", state: "ME", area: "207" },
    { city: "Burlington", state: "VT", area: "802" },
    { city: "Providence", state: "RI", area: "401" },
    { city: "Newark", state: "NJ", area: "973" },
    { city: "Detroit", state: "MI", area: "313" },
  ];

const firstWords = [
  "Lakeside",
  "Riverside",
  "Mercy",
  "Summit",
  "Valley",
  "Northgate",
  "Harbor",
  "Cedar",
  "Pinecrest",
  "Fairview",
  "Westfield",
  "Oakwood",
  "Brookside",
  "Highland",
  "Meadow",
  "Stonebridge",
  "Clearwater",
  "Maple",
  "Kingsley",
  "Ashford",
];
const secondWords = ["General", "Memorial", "Regional", "Community", "University", "Saint Luke"];

/** A hospital as a CSV row: no phone (so the phone chain is asked), a domain of its own. */
export interface HospitalRow {
  readonly name: string;
  readonly city: string;
  readonly state: string;
  readonly domain: string;
  /** A 10-digit US number the phone fakes may know. */
  readonly phone: string;
}

/**
 * `perTown` hospitals in each of the first `townCount` towns, all of them high tier for the
 * analyst (~900 employees, 2 sites), with distinct names and `<tag>-NNNNN.test` domains.
 */
export const hospitalRows = (townCount: number, perTown: number, tag: string): HospitalRow[] =>
  towns.slice(0, townCount).flatMap((town, t) =>
    Array.from({ length: perTown }, (_, j) => {
      const i = t * perTown + j;
      const n = String(i).padStart(5, "0");
      const name = `${firstWords[i % firstWords.length]} ${secondWords[Math.floor(i / firstWords.length) % secondWords.length]} Hospital ${n}`;
      return {
        name,
        city: town.city,
        state: town.state,
        domain: `${tag}-${n}.test`,
        phone: `${town.area}${String(320 + Math.floor(j / 10_000))}${String(j % 10_000).padStart(4, "0")}`,
      };
    }),
  );

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Writes the rows as the CSV scout source reads them; returns the file's path. */
export const writeHospitalCsv = async (dir: string, rows: ReadonlyArray<HospitalRow>): Promise<string> => {
  const file = join(dir, "companies.csv");
  const lines = [
    "name,industry,address,city,state,postal_code,phone,website,employees,sites",
    ...rows.map((r, i) =>
      [
        csvField(r.name),
        "hospital",
        `${100 + (i % 900)} Main St`,
        r.city,
        r.state,
        "14202",
        "",
        `https://${r.domain}/`,
        String(880 + (i % 40)),
        "2",
      ].join(","),
    ),
  ];
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
};

/** The row as a directory listing the phone fakes can find by name and town. */
export const listingOf = (row: HospitalRow): FakeListing => ({
  name: row.name,
  city: row.city,
  state: row.state,
  phone: row.phone,
  street: "100 Main St",
  website: `https://${row.domain}/`,
});

// ---------------------------------------------------------------------------------------------
// the stack

/** Provider, writer and scout settings are set by the benchmark, never taken from the shell. */
const scrubbedPrefixes = [
  "GOOGLE_PLACES_",
  "YELP_",
  "HUNTER_",
  "APOLLO_",
  "OLLAMA_",
  "OPENAI_",
  "OVERPASS_",
  "SCOUT_",
  "WRITER_BACKEND",
  "ENRICHMENT_PHONE_SOURCES",
  "ENRICHMENT_CONTACT_SOURCES",
  "ENRICHMENT_CACHE_",
];

export interface DevStack {
  readonly nats: NatsServerProcess;
  readonly db: TestDatabase;
  readonly dev: DevProcess;
  readonly dataDir: string;
  /** The orchestrator's HTTP base (for /metrics). */
  readonly base: string;
  readonly client: JsClient;
  readonly rss: ReturnType<typeof rssSampler>;
  /** ms from spawning `leadflow dev` until its /readyz answered. */
  readonly startupMs: number;
  readonly rssAtReadyMb: number;
}

/**
 * A nats-server child, a fresh database and a `leadflow dev` child configured with `env` (on top
 * of this process's environment, provider settings scrubbed) for `fn`; all stopped and removed
 * afterwards, whatever happens.
 */
export const withDevStack = <T>(
  name: string,
  env: Readonly<Record<string, string>>,
  fn: (stack: DevStack) => Promise<T>,
): Promise<T> =>
  withNatsServer((nats) =>
    withDatabase(async (db) => {
      const dataDir = await makeTempDir(`leadflow-bench-${name}-`);
      try {
        const childEnv: NodeJS.ProcessEnv = { ...process.env };
        for (const key of Object.keys(childEnv)) {
          if (scrubbedPrefixes.some((p) => key.startsWith(p))) delete childEnv[key];
        }
        delete childEnv.PORT;
        Object.assign(childEnv, {
          NATS_URL: nats.url,
          DATABASE_URL: db.url,
          LEADFLOW_DATA_DIR: dataDir,
          ...env,
        });
        const spawned = performance.now();
        // BENCH_DEV_NODE_ARGS: node options for the dev child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"
        const nodeArgs = (process.env.BENCH_DEV_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
        const dev = startDev(childEnv, dataDir, nodeArgs);
        const rss = rssSampler(dev.pid);
        try {
          const ready = await waitReady(dev, dataDir, 180_000);
          const startupMs = performance.now() - spawned;
          const rssAtReadyMb = await rss.current();
          const client = await connectJetStream(nats.url);
          try {
            return await fn({
              nats,
              db,
              dev,
              dataDir,
              base: ready.base,
              client,
              rss,
              startupMs,
              rssAtReadyMb,
            });
          } finally {
            await client.close();
          }
        } finally {
          rss.stop();
          await stopDev(dev);
        }
      } finally {
        await removeTempDir(dataDir);
      }
    }),
  );
