import { AnalystPlugin } from "@leadflow/analyst";
import { type ApprovalDecided, ApprovalDecidedEvent, type RunSummary } from "@leadflow/contracts";
import { EnrichmentPlugin } from "@leadflow/enrichment";
import { OrchestratorPlugin } from "@leadflow/orchestrator";
import { insertOutbox, toEncoded } from "@leadflow/runtime";
import { ScoutPlugin } from "@leadflow/scout";
import {
  connectJet,
  createTestDatabase,
  createTestNats,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { WriterPlugin } from "@leadflow/writer";
import { Effect } from "effect";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The orchestrator's side of a human decision. The notifier (not hosted here) is played by the
// test: it writes the decision and puts `approval.decided` in the outbox in one transaction,
// exactly as the notifier does; the relay of the host publishes it.

let db: TestDatabase;
let nats: TestNats;
let host: TestHost;

const env = { SCOUT_SOURCES: "sample", WRITER_BACKEND: "template", RUN_CHUNK_SIZE: "1" };

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  Object.assign(process.env, env);
  host = await startTestHost(
    [OrchestratorPlugin, ScoutPlugin, AnalystPlugin, EnrichmentPlugin, WriterPlugin],
    { databaseUrl: db.url, natsUrl: nats.url },
  );
});

afterAll(async () => {
  await host?.stop();
  for (const k of Object.keys(env)) delete process.env[k];
  await Promise.all([db?.drop(), nats?.stop()]);
});

const runId = "decided-1";
const reviewer = "ops@example.com";

interface RunRow {
  status: string;
  stage: string | null;
  notes: string[];
  summary: RunSummary;
}
const runRow = async () =>
  (await db.sql<RunRow[]>`select status, stage, notes, summary from runs where id = ${runId}`)[0];

const approvals = () =>
  db.sql<{ id: string; approval_type: string; status: string; item_ids: string[] }[]>`
    select id, approval_type, status, item_ids from human_approval_requests
    where run_id = ${runId} order by requested_at`;

/** What the notifier does for a decision: the rows, and the event through the outbox, in one transaction. */
const decide = async (decision: ApprovalDecided, write = true) => {
  await db.sql.begin(async (tx) => {
    if (write) {
      const partial = decision.decision === "approved" && decision.type === "leads";
      await tx`
        update human_approval_requests set
          status = ${partial ? "partially_approved" : decision.decision},
          decided_at = ${decision.decidedAt}, decided_by = ${decision.decidedBy},
          decision_note = ${decision.note}, decision = ${tx.json({ approvedIds: [...decision.approvedIds] })}
        where id = ${decision.approvalId} and status = 'pending'`;
      if (decision.type === "leads") {
        await tx`
          update lead_scores set approved_human = true, approved_by = ${decision.decidedBy}, approved_at = now()
          where run_id = ${decision.runId} and company_id = any(${[...decision.approvedIds]}::uuid[])`;
        await tx`update companies set status = 'approved' where id = any(${[...decision.approvedIds]}::uuid[])`;
      } else {
        await tx`
          update email_drafts set status = 'approved', approved_human = true, approved_by = ${decision.decidedBy},
            approved_at = now()
          where approval_id = ${decision.approvalId} and id = any(${[...decision.approvedIds]}::uuid[])`;
      }
    }
    await Effect.runPromise(insertOutbox(tx as unknown as Sql, [toEncoded(ApprovalDecidedEvent, decision)]));
  });
};

/** Everything a repeated event could change. */
const snapshot = async () => ({
  run: await db.sql`select status, stage, notes from runs where id = ${runId}`,
  tasks:
    await db.sql`select id, agent, chunk, attempt, status from tasks where run_id = ${runId} order by id`,
  approvals: await db.sql`select id, status from human_approval_requests where run_id = ${runId} order by id`,
  drafts: await db.sql`select id, status, approval_id from email_drafts order by id`,
});

describe("the orchestrator acts on human approval decisions", () => {
  let leadsDecision: ApprovalDecided;
  let chosen: string[];

  it("approved leads: the writer drafts exactly those, and a new emails approval is requested", async () => {
    const jet = await connectJet(nats.url);
    await jet.publishRaw("leadflow.cmd.run.start", {
      industry: "hospital",
      location: "Buffalo, NY",
      count: 20,
      requestId: runId,
    });
    const gate = await waitFor(
      async () => {
        const r = await runRow();
        return r && ["awaiting_approval", "failed", "completed"].includes(r.status) ? r : undefined;
      },
      { what: "run at the leads gate", timeoutMs: 45_000 },
    );
    expect(gate.status).toBe("awaiting_approval");
    // sample data: nothing looked up, nothing approved automatically, nothing drafted
    expect(gate.summary.companies.sampleData).toBe(true);
    expect(await db.sql`select id from email_drafts`).toHaveLength(0);
    const [leads, ...others] = await approvals();
    expect(others).toHaveLength(0);
    expect(leads).toMatchObject({ approval_type: "leads", status: "pending" });
    const high = await db.sql<{ company_id: string }[]>`
      select s.company_id from lead_scores s join run_companies rc using (run_id, company_id)
      where s.run_id = ${runId} and s.tier = 'high' order by rc.position limit 3`;
    expect(high).toHaveLength(3);
    chosen = [high[0]!.company_id, high[2]!.company_id];
    const eventsBefore = (await jet.messages("LEADFLOW_EVT", `leadflow.evt.run.${runId}.`)).length;

    leadsDecision = {
      approvalId: leads!.id,
      runId,
      type: "leads",
      decision: "approved",
      approvedIds: chosen,
      decidedBy: reviewer,
      note: "two of three",
      decidedAt: new Date().toISOString(),
    };
    await decide(leadsDecision);

    const emails = await waitFor(async () => (await approvals()).find((a) => a.approval_type === "emails"), {
      what: "the emails approval request",
      timeoutMs: 30_000,
    });
    expect(emails.status).toBe("pending");
    const drafts = await db.sql<
      { id: string; company_id: string; to_email: string | null; approval_id: string }[]
    >`
      select id, company_id, to_email, approval_id from email_drafts where run_id = ${runId}`;
    expect(new Set(drafts.map((d) => d.company_id))).toEqual(new Set(chosen));
    // sample companies have no contact: drafted all the same, with no recipient yet
    expect(drafts.every((d) => d.to_email === null && d.approval_id === emails.id)).toBe(true);
    expect(new Set(emails.item_ids)).toEqual(new Set(drafts.map((d) => d.id)));

    // writer tasks with the same machinery as every stage: one chunk per company (RUN_CHUNK_SIZE=1)
    const tasks = await db.sql<{ chunk: number; status: string; params: { companyIds: string[] } }[]>`
      select chunk, status, params from tasks where run_id = ${runId} and agent = 'writer' order by chunk`;
    expect(tasks.map((t) => t.status)).toEqual(["completed", "completed"]);
    expect(tasks.flatMap((t) => t.params.companyIds)).toEqual(chosen);

    // back to writing, then to the gate again, each announced
    const at = await waitFor(
      async () => {
        const r = await runRow();
        return r?.status === "awaiting_approval" && r.summary.approvals.length === 2 ? r : undefined;
      },
      { what: "the run at the gate again", timeoutMs: 10_000 },
    );
    const statuses = await waitFor(
      async () => {
        const events = await jet.messages("LEADFLOW_EVT", `leadflow.evt.run.${runId}.`);
        const later = events.slice(eventsBefore).map((e) => e.subject.split(".").at(-1));
        return later.length >= 2 ? later : undefined;
      },
      { what: "run events after the decision", timeoutMs: 10_000 },
    );
    expect(statuses).toEqual(["writing", "awaiting_approval"]);
    const requested = await waitFor(
      async () => {
        const all = await jet.messages("LEADFLOW_EVT", "leadflow.evt.approval.requested");
        return all.length >= 2
          ? all.map((m) => m.data as { approvalId: string; type: string; items: number })
          : undefined;
      },
      { what: "approval.requested for the drafts", timeoutMs: 10_000 },
    );
    expect(requested.at(-1)).toMatchObject({ approvalId: emails.id, type: "emails", items: 2 });
    await jet.close();

    // the summary shows the decision
    expect(at.summary.drafts).toMatchObject({ drafted: 2, byBackend: { template: 2 } });
    expect(at.summary.approvals[0]).toMatchObject({
      type: "leads",
      status: "partially_approved",
      decidedBy: reviewer,
      approved: 2,
      note: "two of three",
    });
    expect(Date.parse(at.summary.approvals[0]!.decidedAt!)).toBeGreaterThan(0);
    expect(at.summary.approvals[1]).toMatchObject({ type: "emails", status: "pending", items: 2 });
    expect(at.summary.approvals[1]).not.toHaveProperty("decidedBy");
  });

  it("the same leads decision again changes nothing", async () => {
    const before = await snapshot();
    await decide(leadsDecision, false);
    // the relay has published it and the orchestrator has handled it once its inbox has the row
    await waitFor(
      async () => {
        const [row] = await db.sql<{ n: number }[]>`
          select count(*)::int as n from inbox where consumer like 'orchestrator-approval-decided%'`;
        return row!.n >= 2 ? true : undefined;
      },
      { what: "the repeated decision handled", timeoutMs: 10_000 },
    );
    expect(await snapshot()).toEqual(before);
  });

  it("an emails decision completes the run; a repeated one changes nothing", async () => {
    const [, emails] = await approvals();
    const drafts = await db.sql<
      { id: string }[]
    >`select id from email_drafts where approval_id = ${emails!.id}`;
    const decision: ApprovalDecided = {
      approvalId: emails!.id,
      runId,
      type: "emails",
      decision: "approved",
      approvedIds: drafts.map((d) => d.id),
      decidedBy: reviewer,
      note: null,
      decidedAt: new Date().toISOString(),
    };
    await decide(decision);
    const done = await waitFor(
      async () => {
        const r = await runRow();
        return r?.status === "completed" ? r : undefined;
      },
      { what: "the run completed", timeoutMs: 15_000 },
    );
    expect(done.stage).toBeNull();
    expect(done.summary.status).toBe("completed");
    expect(done.summary.approvals[1]).toMatchObject({ type: "emails", status: "approved", approved: 2 });
    const statuses = await db.sql<
      { status: string }[]
    >`select status from email_drafts where run_id = ${runId}`;
    expect(statuses.map((s) => s.status)).toEqual(["approved", "approved"]);

    const before = await snapshot();
    await decide(decision, false);
    await waitFor(
      async () => {
        const [row] = await db.sql<{ n: number }[]>`
          select count(*)::int as n from inbox where consumer like 'orchestrator-approval-decided%'`;
        return row!.n >= 4 ? true : undefined;
      },
      { what: "the repeated decision handled", timeoutMs: 10_000 },
    );
    expect(await snapshot()).toEqual(before);
  });
});
