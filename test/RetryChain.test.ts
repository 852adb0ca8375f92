import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AnalystPlugin } from "@leadflow/analyst";
import type { RunSummary } from "@leadflow/contracts";
import { EnrichmentPlugin } from "@leadflow/enrichment";
import { OrchestratorPlugin } from "@leadflow/orchestrator";
import { withTransaction } from "@leadflow/runtime";
import { gather, ScoutPlugin, sampleSource, storeCompanies } from "@leadflow/scout";
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
import { startGooglePlacesFake } from "@leadflow/testkit/fakes";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let db: TestDatabase;
let nats: TestNats;

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  Object.assign(process.env, {
    RUN_MAX_ATTEMPTS: "3",
    RUN_RETRY_BASE_MS: "100",
    RUN_SWEEP_INTERVAL_MS: "100",
    STAGE_DEADLINE_SCOUT_MS: "600",
  });
});

afterAll(async () => {
  await Promise.all([db?.drop(), nats?.stop()]);
});

const finalRun = (id: string) =>
  waitFor(
    async () => {
      const row = (
        await db.sql<
          { status: string; error: string | null; error_stage: string | null; summary: RunSummary }[]
        >`
        select status, error, error_stage, summary from runs where id = ${id}`
      )[0];
      return row && ["failed", "awaiting_approval", "completed"].includes(row.status) ? row : undefined;
    },
    { what: `run ${id} finished`, timeoutMs: 45_000 },
  );

const tasksOf = async (id: string) =>
  db.sql<{ attempt: number; status: string; error: string | null; created_at: Date }[]>`
    select attempt, status, error, created_at from tasks where run_id = ${id} order by attempt`;

/**
 * Triggers a hotel run and waits until it has failed in the scout after its 3 attempts, each a
 * failed task whose error names `error`; returns the run and its tasks.
 */
const scoutFailsThrice = async (requestId: string, error: string) => {
  const jet = await connectJet(nats.url);
  await jet.publishRaw("leadflow.cmd.run.start", {
    industry: "hotel",
    location: "Reno, NV",
    count: 5,
    requestId,
  });
  await jet.close();
  const run = await finalRun(requestId);
  expect(run.status).toBe("failed");
  expect(run.error_stage).toBe("scout");
  expect(run.error).toContain(error);
  expect(run.error).toContain("after 3 attempts");
  const tasks = await tasksOf(requestId);
  expect(tasks.map((t) => [t.attempt, t.status])).toEqual([
    [1, "failed"],
    [2, "failed"],
    [3, "failed"],
  ]);
  return { run, tasks };
};

describe("the retry chain", () => {
  it("dispatches a failing stage again with attempt + 1, then fails the run with the stage and the error", async () => {
    // the file is there when the scout starts (it is checked then) and gone when runs read it
    const dir = await mkdtemp(join(tmpdir(), "leadflow-retry-"));
    const csv = join(dir, "companies.csv");
    await writeFile(csv, "name,city,state\nAcme,Reno,NV\n");
    process.env.SCOUT_SOURCES = "csv";
    process.env.SCOUT_CSV_PATH = csv;
    const logs = captureLogs();
    const host = await startTestHost([OrchestratorPlugin, ScoutPlugin], {
      databaseUrl: db.url,
      natsUrl: nats.url,
      logger: logs.logger,
    });
    await rm(dir, { recursive: true, force: true });
    try {
      const { run, tasks } = await scoutFailsThrice("retry-1", csv);
      const jet = await connectJet(nats.url);
      // each retry waited for the schedule (≥ ~100 ms base, doubling, jittered)
      expect(tasks[1]!.created_at.getTime()).toBeGreaterThan(tasks[0]!.created_at.getTime());
      expect(run.summary.status).toBe("failed");
      expect(run.summary.errors.length).toBeGreaterThanOrEqual(3);
      const events = await jet.messages("LEADFLOW_EVT", "leadflow.evt.run.retry-1.");
      expect(events.map((e) => e.subject).at(-1)).toBe("leadflow.evt.run.retry-1.failed");

      // the task log: a line per dispatch and per outcome, with params, attempt, error, duration
      const lines = logs.taskLines("retry-1");
      expect(lines.map((l) => [l.message, l.fields.attempt])).toEqual([
        ["task dispatched", 1],
        ["task failed", 1],
        ["task retried", 2],
        ["task failed", 2],
        ["task retried", 3],
        ["task failed", 3],
      ]);
      const params = { industry: "hotel", location: "Reno, NV", count: 5 };
      for (const line of lines) {
        expect(line.fields).toMatchObject({ agent: "scout", chunk: 0, params });
        expect(line.fields.taskId).toEqual(expect.any(String));
      }
      const failed = lines.filter((l) => l.message === "task failed");
      const durations = await db.sql<{ id: string; duration_ms: number }[]>`
        select id, duration_ms from tasks where run_id = 'retry-1'`;
      for (const line of failed) {
        expect(line.level).toBe("WARN");
        expect(line.fields.error).toContain(csv);
        // the duration logged is the one the task row keeps
        const row = durations.find((d) => d.id === line.fields.taskId);
        expect(row).toBeDefined();
        expect(line.fields.durationMs).toBe(row!.duration_ms);
      }
      // each retry says how long it waits first (the jittered schedule)
      for (const line of lines.filter((l) => l.message === "task retried")) {
        expect(line.fields.delayMs).toEqual(expect.any(Number));
      }
      await jet.close();
    } finally {
      await host.stop();
      delete process.env.SCOUT_SOURCES;
      delete process.env.SCOUT_CSV_PATH;
    }
  });

  it("retries a provider outage once per layer: in process per call, then the orchestrator's chain (no redelivery on top, no dead letter)", async () => {
    const google = await startGooglePlacesFake();
    // Google's answer while the service is down, to every call
    google.server.route("POST", "/v1/places:searchText", () => ({
      status: 503,
      json: { error: { code: 503, message: "The service is currently unavailable.", status: "UNAVAILABLE" } },
    }));
    Object.assign(process.env, {
      SCOUT_SOURCES: "google_places",
      GOOGLE_PLACES_API_KEY: google.apiKey,
      GOOGLE_PLACES_BASE_URL: google.url,
      // the call's own retries (250 ms, then 500) outlast this file's 600 ms deadline
      STAGE_DEADLINE_SCOUT_MS: "30000",
    });
    const host = await startTestHost([OrchestratorPlugin, ScoutPlugin], {
      databaseUrl: db.url,
      natsUrl: nats.url,
    });
    try {
      await scoutFailsThrice("outage-1", "UNAVAILABLE");
      const jet = await connectJet(nats.url);
      // 3 attempts of the run's chain × 3 tries of the call in process, and nothing more: a
      // redelivery of each command would have tripled it
      expect(google.server.requests.filter((r) => r.path === "/v1/places:searchText")).toHaveLength(9);
      // the stage reported its failure itself: nothing for an operator to replay
      const dead = await jet.messages("LEADFLOW_DLQ", "leadflow.dlq.");
      expect(dead.filter((d) => (d.data as { runId?: string }).runId === "outage-1")).toEqual([]);
      await jet.close();
    } finally {
      await host.stop();
      await google.close();
      for (const k of ["SCOUT_SOURCES", "GOOGLE_PLACES_API_KEY", "GOOGLE_PLACES_BASE_URL"])
        delete process.env[k];
      process.env.STAGE_DEADLINE_SCOUT_MS = "600";
    }
  });

  it("treats a task past its deadline as failed (no scout is running here)", async () => {
    const logs = captureLogs();
    const host = await startTestHost([OrchestratorPlugin], {
      databaseUrl: db.url,
      natsUrl: nats.url,
      logger: logs.logger,
    });
    try {
      const jet = await connectJet(nats.url);
      await jet.publishRaw("leadflow.cmd.run.start", {
        industry: "school",
        location: "Boise, ID",
        count: 5,
        requestId: "deadline-1",
      });
      const run = await finalRun("deadline-1");
      expect(run.status).toBe("failed");
      expect(run.error_stage).toBe("scout");
      expect(run.error).toContain("deadline passed");
      const tasks = await tasksOf("deadline-1");
      expect(tasks.map((t) => [t.attempt, t.status])).toEqual([
        [1, "timed_out"],
        [2, "timed_out"],
        [3, "timed_out"],
      ]);
      const timedOut = logs.taskLines("deadline-1").filter((l) => l.message === "task timed out");
      expect(timedOut.map((l) => l.fields.attempt)).toEqual([1, 2, 3]);
      for (const line of timedOut) {
        expect(line.fields.error).toContain("deadline passed");
        // the deadline is 600 ms: the task ran at least that long before the sweep saw it
        expect(line.fields.durationMs).toBeGreaterThanOrEqual(600);
      }
      await jet.close();
    } finally {
      await host.stop();
    }
  });

  it("goes on with every company of the run when a timed-out scout attempt linked them all before the retry ran", async () => {
    Object.assign(process.env, { SCOUT_SOURCES: "sample", STAGE_DEADLINE_SCOUT_MS: "30000" });
    const request = { industry: "hospital", location: "Buffalo, NY", count: 5, requestId: "late-scout-1" };
    // no scout yet: attempt 1 waits in the stream while its task passes its deadline
    const orchestrator = await startTestHost([OrchestratorPlugin], {
      databaseUrl: db.url,
      natsUrl: nats.url,
    });
    let stages: TestHost | undefined;
    try {
      const jet = await connectJet(nats.url);
      await jet.publishRaw("leadflow.cmd.run.start", request);
      await jet.close();
      await waitFor(async () => (await tasksOf(request.requestId)).length === 1, { what: "attempt 1" });
      await db.sql`update tasks set deadline_at = now() - interval '1 second'
        where run_id = ${request.requestId} and attempt = 1`;
      await waitFor(
        async () =>
          (await tasksOf(request.requestId)).map((t) => [t.attempt, t.status]).join() ===
          "1,timed_out,2,running",
        { what: "attempt 2 dispatched" },
      );
      // attempt 1's transaction commits late: the run's companies are linked before attempt 2 runs
      const found = await Effect.runPromise(gather([sampleSource], { ...request, seed: request.requestId }));
      await Effect.runPromise(
        withTransaction(db.sql, (tx) =>
          storeCompanies(tx, request.requestId, found.companies, request.count),
        ),
      );

      stages = await startTestHost([ScoutPlugin, AnalystPlugin, EnrichmentPlugin], {
        databaseUrl: db.url,
        natsUrl: nats.url,
      });
      const run = await finalRun(request.requestId);
      expect(run.status).toBe("awaiting_approval");
      expect(run.summary.companies).toMatchObject({ found: 5, new: 5, duplicates: 0 });
      expect(run.summary.leads.scored).toBe(5);
      expect(run.summary.warnings.join("\n")).not.toContain("no companies found");
      const [scout] = await db.sql<{ result_summary: { found: number; created: number } }[]>`
        select result_summary from tasks where run_id = ${request.requestId} and attempt = 2`;
      expect(scout?.result_summary).toMatchObject({ found: 5, created: 5, duplicates: 0 });
    } finally {
      await stages?.stop();
      await orchestrator.stop();
      delete process.env.SCOUT_SOURCES;
      process.env.STAGE_DEADLINE_SCOUT_MS = "600";
    }
  });
});
