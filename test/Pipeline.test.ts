import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AnalystPlugin } from "@leadflow/analyst";
import type { RunSummary } from "@leadflow/contracts";
import { EnrichmentPlugin } from "@leadflow/enrichment";
import { OrchestratorPlugin } from "@leadflow/orchestrator";
import { ScoutPlugin } from "@leadflow/scout";
import {
  captureLogs,
  connectJet,
  createTestDatabase,
  createTestNats,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import {
  fakeHunterEmail,
  type GooglePlacesPhoneFake,
  type HunterFake,
  type OllamaFake,
  startGooglePlacesPhoneFake,
  startHunterFake,
  startOllamaFake,
} from "@leadflow/testkit/fakes";
import { escapeHtml, WriterPlugin } from "@leadflow/writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Six hospitals from a CSV; Google Places knows four of their phones, Hunter has people at four
// of their domains (two domains have nobody).
const hospitals = [
  ["Lakeside General Hospital", "lakesidegeneral.test", "(716) 845-2000"],
  ["Erie County Medical Center", "eriecountymedical.test", "(716) 898-3000"],
  ["Niagara Children's Hospital", "niagarachildrens.test", "(716) 878-7000"],
  ["Delaware Park Surgical Hospital", "delawareparksurgical.test", "(716) 887-4600"],
  ["Riverside Rehabilitation Hospital", "riversiderehab.test", null],
  ["Grand Island Community Hospital", "grandislandcommunity.test", null],
] as const;
// a NUL (Postgres stores none), a tab, a line break and a terminal escape in CSV names: stored
// as the plain names (the assertions below use them), not a failed run
const inCsv = (name: string) =>
  name
    .replace("Grand Island ", "Grand Island \u0000")
    .replace("Lakeside ", "Lakeside\t")
    .replace("Erie County ", "Erie County\r\n")
    .replace("Riverside ", "Riverside\u001b ");

let db: TestDatabase;
let nats: TestNats;
let host: TestHost;
let google: GooglePlacesPhoneFake;
let hunter: HunterFake;
let ollama: OllamaFake;
let dir: string;
const logs = captureLogs();

beforeAll(async () => {
  [db, nats, google, hunter] = await Promise.all([
    createTestDatabase(),
    createTestNats(),
    startGooglePlacesPhoneFake({
      directory: hospitals
        .filter(([, , phone]) => phone !== null)
        .map(([name, domain, phone]) => ({
          name,
          city: "Buffalo",
          state: "NY",
          phone: phone!,
          website: `https://${domain}/`,
        })),
    }),
    startHunterFake({
      domains: {
        "riversiderehab.test": [],
        "eriecountymedical.test": [],
        // a provider's answer with a terminal escape, a header-like line break and a
        // right-to-left override in the person's fields
        "lakesidegeneral.test": [
          fakeHunterEmail({
            value: "ann.smith@lakesidegeneral.test",
            first_name: "Ann\u001b[2J",
            last_name: "Smith\r\nBcc: x@evil.test",
            position: "Facilities\u202e Manager",
            confidence: 95,
          }),
        ],
      },
    }),
  ]);
  ollama = await startOllamaFake();
  dir = await mkdtemp(join(tmpdir(), "leadflow-csv-"));
  const csv = [
    "name,industry,address,city,state,postal_code,phone,website,employees,sites",
    ...hospitals.map(
      ([name, domain]) => `"${inCsv(name)}",hospital,1 Main St,Buffalo,NY,14202,,https://${domain}/,900,2`,
    ),
  ].join("\n");
  await writeFile(join(dir, "companies.csv"), csv);
  Object.assign(process.env, {
    SCOUT_SOURCES: "csv",
    SCOUT_CSV_PATH: join(dir, "companies.csv"),
    GOOGLE_PLACES_API_KEY: google.apiKey,
    GOOGLE_PLACES_BASE_URL: google.url,
    HUNTER_API_KEY: hunter.apiKey,
    HUNTER_BASE_URL: hunter.url,
    ENRICHMENT_PHONE_SOURCES: "google_places",
    ENRICHMENT_CONTACT_SOURCES: "hunter",
    OLLAMA_BASE_URL: ollama.url,
    OLLAMA_TIMEOUT_MS: "1500",
  });
  host = await startTestHost(
    [OrchestratorPlugin, ScoutPlugin, AnalystPlugin, EnrichmentPlugin, WriterPlugin],
    {
      databaseUrl: db.url,
      natsUrl: nats.url,
      logger: logs.logger,
    },
  );
});

afterAll(async () => {
  await host?.stop();
  for (const k of [
    "SCOUT_SOURCES",
    "SCOUT_CSV_PATH",
    "GOOGLE_PLACES_API_KEY",
    "GOOGLE_PLACES_BASE_URL",
    "HUNTER_API_KEY",
    "HUNTER_BASE_URL",
    "ENRICHMENT_PHONE_SOURCES",
    "ENRICHMENT_CONTACT_SOURCES",
  ]) {
    delete process.env[k];
  }
  await Promise.all([
    db?.drop(),
    nats?.stop(),
    google?.close(),
    hunter?.close(),
    dir ? rm(dir, { recursive: true, force: true }) : undefined,
  ]);
});

const runToGate = async (id: string) => {
  const jet = await connectJet(nats.url);
  await jet.publishRaw("leadflow.cmd.run.start", {
    industry: "hospital",
    location: "Buffalo, NY",
    count: 6,
    requestId: id,
  });
  await jet.close();
  return waitFor(
    async () => {
      const row = (
        await db.sql<
          { status: string; summary: RunSummary }[]
        >`select status, summary from runs where id = ${id}`
      )[0];
      return row && ["awaiting_approval", "failed", "completed"].includes(row.status) ? row : undefined;
    },
    { what: `run ${id} at the gate`, timeoutMs: 45_000 },
  );
};

describe("a whole run through the provider fakes", () => {
  it("finds phones (first hit wins) and contacts for the high tier, approves companies with a contact, drafts their emails, asks for both approvals", async () => {
    const run = await runToGate("enrich-1");
    expect(run.status).toBe("awaiting_approval");
    expect(run.summary.leads.high).toBe(6);
    const phones = await db.sql<{ name: string; phone: string | null; phone_source: string | null }[]>`
      select name, phone, phone_source from companies order by name`;
    expect(phones.filter((p) => p.phone !== null)).toHaveLength(4);
    expect(phones.map((p) => p.name)).toEqual(hospitals.map(([name]) => name).sort());
    expect(phones.find((p) => p.name === "Lakeside General Hospital")).toMatchObject({
      phone: "(716) 845-2000",
      phone_source: "google_places",
    });
    const contacts =
      await db.sql`select c.name, ct.email, ct.source from contacts ct join companies c on c.id = ct.company_id`;
    expect(contacts).toHaveLength(4);
    // stored as clean single lines: no escape, no line break, no override
    const [ann] = await db.sql<{ full_name: string; first_name: string; last_name: string; title: string }[]>`
      select full_name, first_name, last_name, title from contacts where email = 'ann.smith@lakesidegeneral.test'`;
    expect(ann).toEqual({
      full_name: "Ann[2J Smith Bcc: x@evil.test",
      first_name: "Ann[2J",
      last_name: "Smith Bcc: x@evil.test",
      title: "Facilities Manager",
    });
    expect(contacts.every((c) => c.source === "hunter")).toBe(true);
    const approved = await db.sql<{ n: number }[]>`
      select count(*)::int as n from lead_scores where run_id = 'enrich-1' and approved_human and approved_by = 'system (contact found)'`;
    expect(approved[0]!.n).toBe(4);
    expect((await db.sql`select count(*)::int as n from companies where status = 'approved'`)[0]!.n).toBe(4);
    expect(run.summary.enrichment).toMatchObject({
      companies: 6,
      phonesBySource: { google_places: 4 },
      contacts: 4,
      contactsBySource: { hunter: 4 },
      autoApproved: 4,
    });
    // drafts for the four approved companies, written by the LLM (Ollama's fake)
    const drafts = await db.sql<
      { backend: string; is_fallback: boolean; to_email: string; body_html: string; approval_id: string }[]
    >`select backend, is_fallback, to_email, body_html, approval_id from email_drafts where run_id = 'enrich-1'`;
    expect(drafts).toHaveLength(4);
    expect(drafts.every((d) => d.backend === "ollama" && !d.is_fallback && d.to_email.includes("@"))).toBe(
      true,
    );
    expect(drafts.every((d) => d.body_html.includes("<html"))).toBe(true);
    expect(run.summary.drafts).toEqual({ drafted: 4, byBackend: { ollama: 4 }, fallbacks: 0 });
    // the leads approval after analysis (as in the original), the emails approval after writing
    const approvals = await db.sql<{ id: string; approval_type: string; status: string; items: number }[]>`
      select id, approval_type, status, cardinality(item_ids) as items from human_approval_requests
      where run_id = 'enrich-1' order by requested_at`;
    expect(approvals.map((a) => [a.approval_type, a.status, a.items])).toEqual([
      ["leads", "pending", 6],
      ["emails", "pending", 4],
    ]);
    expect(new Set(drafts.map((d) => d.approval_id))).toEqual(new Set([approvals[1]!.id]));
    const jet = await connectJet(nats.url);
    const requested = await jet.messages("LEADFLOW_EVT", "leadflow.evt.approval.requested");
    expect(requested.map((r) => (r.data as { type: string }).type)).toEqual(["leads", "emails"]);
    await jet.close();

    // the task log: each stage's task dispatched, then completed with its result and duration
    const lines = logs.taskLines("enrich-1");
    const stages = ["scout", "analyst", "enrichment", "writer"];
    expect(lines.map((l) => `${l.message} ${l.fields.agent}`)).toEqual(
      stages.flatMap((s) => [`task dispatched ${s}`, `task completed ${s}`]),
    );
    const rows = await db.sql<{ id: string; agent: string; duration_ms: number; result_summary: unknown }[]>`
      select id, agent, duration_ms, result_summary from tasks where run_id = 'enrich-1'`;
    for (const line of lines.filter((l) => l.message === "task completed")) {
      const row = rows.find((r) => r.id === line.fields.taskId);
      expect(row?.agent).toBe(line.fields.agent);
      expect(line.fields).toMatchObject({ attempt: 1, chunk: 0, durationMs: row!.duration_ms });
      expect(JSON.parse(line.fields.result as string)).toEqual(row!.result_summary);
    }
    expect(
      lines.find((l) => l.message === "task completed" && l.fields.agent === "scout")?.fields.params,
    ).toEqual({ industry: "hospital", location: "Buffalo, NY", count: 6 });
    expect(
      lines.find((l) => l.message === "task completed" && l.fields.agent === "writer")?.fields.params,
    ).toEqual({ companies: 4 });
  });

  it("spends no provider call twice: a repeat run is answered from the cache and the database", async () => {
    const googleCalls = google.calls();
    const hunterCalls = hunter.calls();
    const run = await runToGate("enrich-2");
    expect(run.status).toBe("awaiting_approval");
    expect(run.summary.companies.duplicates).toBe(6);
    expect(google.calls()).toBe(googleCalls);
    expect(hunter.calls()).toBe(hunterCalls);
    expect(run.summary.enrichment?.contacts).toBe(4);
    // the companies already have their drafts: nothing more to write or approve, and it says so
    expect(run.summary.drafts).toBeUndefined();
    expect(run.summary.warnings).toContain("writer: nothing to do (no approved company without a draft)");
  });

  it("reaches the gate when the LLM answers garbage, nothing, or too late: template drafts, marked as fallbacks", async () => {
    // new companies, so there is something to write
    await db.sql`delete from email_drafts`;
    ollama.answerNext(
      { content: "Sure! Here is an email: hello???" },
      { content: "" },
      { content: "not json at all" },
      { content: "{}", delayMs: 5000 },
    );
    const run = await runToGate("llm-bad-1");
    expect(run.status).toBe("awaiting_approval");
    const drafts = await db.sql<
      { backend: string; is_fallback: boolean; body_text: string; body_html: string }[]
    >`
      select backend, is_fallback, body_text, body_html from email_drafts where run_id = 'llm-bad-1'`;
    expect(drafts.length).toBe(4);
    // each row's HTML is its own text rendered (the HTML is stored apart from the other columns)
    for (const d of drafts) {
      const body = d.body_text.split("\n\n--\n")[0]!;
      for (const line of body.split("\n").filter((l) => l.trim() !== "")) {
        expect(d.body_html).toContain(escapeHtml(line.trim()));
      }
    }
    expect(drafts.filter((d) => d.is_fallback).length).toBeGreaterThanOrEqual(1);
    expect(drafts.filter((d) => d.is_fallback).every((d) => d.backend === "template")).toBe(true);
    expect(run.summary.drafts?.fallbacks).toBeGreaterThanOrEqual(1);
  });
});
