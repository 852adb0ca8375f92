import { AnalystPlugin } from "@leadflow/analyst";
import {
  DeadLetterInfo,
  Headers,
  type RunEvent,
  type RunRejected,
  type RunSummary,
} from "@leadflow/contracts";
import { EnrichmentPlugin } from "@leadflow/enrichment";
import { OrchestratorPlugin } from "@leadflow/orchestrator";
import { ScoutPlugin } from "@leadflow/scout";
import {
  connectJet,
  createTestDatabase,
  createTestNats,
  type Jet,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { Schema } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let db: TestDatabase;
let nats: TestNats;
let host: TestHost;
let jet: Jet;

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  host = await startTestHost([OrchestratorPlugin, ScoutPlugin, AnalystPlugin, EnrichmentPlugin], {
    databaseUrl: db.url,
    natsUrl: nats.url,
  });
  jet = await connectJet(nats.url);
});

afterAll(async () => {
  await jet?.close();
  await host?.stop();
  await Promise.all([db?.drop(), nats?.stop()]);
});

const runRow = async (id: string) =>
  (
    await db.sql<{ status: string; summary: RunSummary }[]>`select status, summary from runs where id = ${id}`
  )[0];

const waitForGate = (id: string) =>
  waitFor(
    async () => {
      const row = await runRow(id);
      return row && ["awaiting_approval", "failed", "completed"].includes(row.status) ? row : undefined;
    },
    { what: `run ${id} at a gate`, timeoutMs: 45_000 },
  );

describe("triggering a run over NATS", () => {
  it("scouts and scores every company, then asks for lead approval", async () => {
    await jet.publishRaw("leadflow.cmd.run.start", {
      industry: "hospital",
      location: "Buffalo, NY",
      count: 50,
      requestId: "good-1",
    });
    const row = await waitForGate("good-1");
    expect(row.status).toBe("awaiting_approval");
    expect(row.summary.companies.found).toBe(50);
    expect(row.summary.leads.scored).toBe(50);
    const scores =
      await db.sql`select count(*)::int as n, count(distinct company_id)::int as d from lead_scores where run_id = 'good-1'`;
    expect(scores[0]).toEqual({ n: 50, d: 50 });
    const approvals =
      await db.sql`select approval_type, status, cardinality(item_ids) as items from human_approval_requests where run_id = 'good-1'`;
    expect(approvals).toEqual([{ approval_type: "leads", status: "pending", items: 50 }]);
    const statuses = await db.sql`select status, count(*)::int as n from companies group by status`;
    expect(statuses).toEqual([{ status: "scored", n: 50 }]);
    // task log: one scout and one analyst task, completed, with durations
    const tasks =
      await db.sql`select agent, status, attempt, duration_ms from tasks where run_id = 'good-1' order by created_at`;
    expect(tasks.map((t) => [t.agent, t.status, t.attempt])).toEqual([
      ["scout", "completed", 1],
      ["analyst", "completed", 1],
      ["enrichment", "completed", 1],
    ]);
    expect(tasks.every((t) => typeof t.duration_ms === "number")).toBe(true);
    // run events, through the outbox
    await waitFor(async () => (await jet.messages("LEADFLOW_EVT", "leadflow.evt.run.good-1.")).length === 4, {
      what: "run events",
    });
    const events = await jet.messages("LEADFLOW_EVT", "leadflow.evt.run.good-1.");
    expect(events.map((e) => e.subject)).toEqual([
      "leadflow.evt.run.good-1.scouting",
      "leadflow.evt.run.good-1.analyzing",
      "leadflow.evt.run.good-1.enriching",
      "leadflow.evt.run.good-1.awaiting_approval",
    ]);
    // sample data: enrichment says what it skipped and why
    expect((events[3]!.data as RunEvent).summary.enrichment?.skipped).toContain(
      "sample data: phones and contacts are not looked up for sample companies",
    );
    expect((events[3]!.data as RunEvent).summary.leads.scored).toBe(50);
    // the envelope: correlation id = run id, one trace from the trigger on
    for (const e of events) expect(e.headers["Leadflow-Correlation-Id"]).toBe("good-1");
    const traces = new Set(events.map((e) => e.headers.traceparent?.split("-")[1]));
    expect(traces.size).toBe(1);
    expect(events[0]!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const requested = await jet.messages("LEADFLOW_EVT", "leadflow.evt.approval.requested");
    expect(requested).toHaveLength(1);
    expect((requested[0]!.data as { items: number }).items).toBe(50);
  });

  it("starts one run for the same requestId published twice", async () => {
    const body = { industry: "hotel", location: "Austin, TX", count: 5, requestId: "twice-1" };
    // distinct Nats-Msg-Ids, so JetStream's duplicate window does not hide the second one
    await jet.publishRaw("leadflow.cmd.run.start", body, "a");
    await jet.publishRaw("leadflow.cmd.run.start", body, "b");
    await waitForGate("twice-1");
    await waitFor(async () => (await jet.jsm.streams.info("LEADFLOW_CMD")).state.messages === 0, {
      what: "both handled",
    });
    expect((await db.sql`select count(*)::int as n from runs where id = 'twice-1'`)[0]!.n).toBe(1);
    expect(
      (await db.sql`select count(*)::int as n from tasks where run_id = 'twice-1' and agent = 'scout'`)[0]!.n,
    ).toBe(1);
  });

  const bad: Array<[string, Uint8Array | string | object]> = [
    ["not JSON", "{industry: hospital"],
    ["an array", [1, 2, 3]],
    ["wrong types", { industry: 7, location: ["x"], count: 5 }],
    ["an empty industry", { industry: "", location: "Buffalo, NY", count: 5 }],
    ["a blank location", { industry: "hospital", location: "   ", count: 5 }],
    ["an oversized industry", { industry: "x".repeat(101), location: "Buffalo, NY", count: 5 }],
    ["count 0", { industry: "hospital", location: "Buffalo, NY", count: 0 }],
    ["count 1001", { industry: "hospital", location: "Buffalo, NY", count: 1001 }],
    ["count 2.5", { industry: "hospital", location: "Buffalo, NY", count: 2.5 }],
    ['count "10"', { industry: "hospital", location: "Buffalo, NY", count: "10" }],
    ["a missing count", { industry: "hospital", location: "Buffalo, NY" }],
    [
      "a requestId with bad characters",
      { industry: "hospital", location: "Buffalo, NY", count: 5, requestId: "no spaces/or;slashes" },
    ],
    [
      "a requestId of 65 characters",
      { industry: "hospital", location: "Buffalo, NY", count: 5, requestId: "a".repeat(65) },
    ],
    ["an unknown field", { industry: "hospital", location: "Buffalo, NY", count: 5, priority: "high" }],
    ["a control character", { industry: "hospital\r\nBcc: x@y", location: "Buffalo, NY", count: 5 }],
    [
      "a 2 MB body",
      { industry: "hospital", location: "Buffalo, NY", count: 5, padding: "x".repeat(2 * 1024 * 1024) },
    ],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
  ];

  it("rejects every bad trigger: no run, a rejected event with reasons, a dead letter; and keeps serving", async () => {
    const runsBefore = (await db.sql`select count(*)::int as n from runs`)[0]!.n;
    const dlqBefore = (await jet.jsm.streams.info("LEADFLOW_DLQ")).state.messages;
    for (const [, body] of bad) await jet.publishRaw("leadflow.cmd.run.start", body);
    await waitFor(
      async () => (await jet.messages("LEADFLOW_EVT", "leadflow.evt.run.rejected")).length === bad.length,
      {
        what: `${bad.length} rejected events`,
      },
    );
    await waitFor(
      async () => (await jet.jsm.streams.info("LEADFLOW_DLQ")).state.messages === dlqBefore + bad.length,
      {
        what: "dead letters",
      },
    );
    expect((await db.sql`select count(*)::int as n from runs`)[0]!.n).toBe(runsBefore);
    const rejected = await jet.messages("LEADFLOW_EVT", "leadflow.evt.run.rejected");
    for (const r of rejected) expect((r.data as RunRejected).reasons.length).toBeGreaterThan(0);
    const reasons = rejected.map((r) => (r.data as RunRejected).reasons.join(" | ")).join("\n");
    expect(reasons).toContain("count must be between 1 and 1000");
    expect(reasons).toContain("count must be an integer");
    expect(reasons).toContain("over the limit");
    expect(reasons).toContain("is unexpected");
    expect(reasons).toContain("requestId must be");
    expect(reasons).toContain("control characters");
    const letters = await jet.messages("LEADFLOW_DLQ", "leadflow.dlq.orchestrator-run-start");
    const info = Schema.decodeUnknownSync(Schema.parseJson(DeadLetterInfo))(
      letters[0]!.headers[Headers.deadLetter],
    );
    expect(info.reason).toBe("undecodable");
    // and a good request afterwards still runs
    await jet.publishRaw("leadflow.cmd.run.start", {
      industry: "school",
      location: "Denver, CO",
      count: 3,
      requestId: "after-bad",
    });
    expect((await waitForGate("after-bad")).status).toBe("awaiting_approval");
  });
});
