import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ChildService,
  connectJet,
  createTestDatabase,
  createTestNats,
  spawnLeadflow,
  type TestDatabase,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";

let db: TestDatabase;
let nats: TestNats;
let dataDir: string;
const children: ChildService[] = [];

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  dataDir = await mkdtemp(join(tmpdir(), "leadflow-dev-"));
});

afterAll(async () => {
  for (const c of children) await c.kill("SIGKILL");
  await Promise.all([db?.drop(), nats?.stop(), rm(dataDir, { recursive: true, force: true })]);
});

const dev = (failpoints = "") => {
  const child = spawnLeadflow(["dev", "--port", "0"], {
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    LEADFLOW_DATA_DIR: dataDir,
    LEADFLOW_FAILPOINTS: failpoints,
  });
  children.push(child);
  return child;
};

it("a crash after the analyst's commit and before its publish: the outbox relay publishes after restart", async () => {
  const first = dev("consumer.analyst-analyst-score.after-commit=exit");
  await waitFor(() => existsSync(join(dataDir, "stack.json")), { what: "dev stack up" });
  const jet = await connectJet(nats.url);
  await jet.publishRaw("leadflow.cmd.run.start", {
    industry: "hospital",
    location: "Buffalo, NY",
    count: 30,
    requestId: "crash-1",
  });
  expect(await first.exited, first.output()).toBe(137);

  // committed: the scores and the completion event in the outbox; not published, not acked
  const pending = await db.sql`select contract from outbox where published_at is null`;
  expect(pending.map((r) => r.contract)).toContain("analyst-completed");
  expect((await db.sql`select count(*)::int as n from lead_scores where run_id = 'crash-1'`)[0]!.n).toBe(30);
  expect((await db.sql`select status from runs where id = 'crash-1'`)[0]!.status).toBe("analyzing");

  const second = dev();
  const run = await waitFor(
    async () => {
      const row = (await db.sql<{ status: string }[]>`select status from runs where id = 'crash-1'`)[0];
      return row?.status === "awaiting_approval" ? row : undefined;
    },
    { what: "run at the approval gate", timeoutMs: 60_000 },
  );
  expect(run.status, second.output()).toBe("awaiting_approval");
  await waitFor(
    async () => (await db.sql`select count(*)::int as n from outbox where published_at is null`)[0]!.n === 0,
    {
      what: "outbox drained",
    },
  );
  const completions = await jet.messages("LEADFLOW_EVT", "leadflow.evt.analyst.completed");
  expect(completions).toHaveLength(1);
  // one analyst attempt, one set of scores: the redelivered command was skipped by the inbox
  expect((await db.sql`select count(*)::int as n from lead_scores where run_id = 'crash-1'`)[0]!.n).toBe(30);
  expect(
    (
      await db.sql`select max(attempt)::int as a from tasks where run_id = 'crash-1' and agent = 'analyst'`
    )[0]!.a,
  ).toBe(1);
  await jet.close();
  await second.kill("SIGTERM");
});
