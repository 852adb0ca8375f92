import { EnrichmentPlugin } from "@leadflow/enrichment";
import { OrchestratorPlugin } from "@leadflow/orchestrator";
import { ScoutPlugin } from "@leadflow/scout";
import {
  type ChildService,
  connectJet,
  createTestDatabase,
  createTestNats,
  spawnLeadflow,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";

let db: TestDatabase;
let nats: TestNats;
let host: TestHost;
const children: ChildService[] = [];

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  process.env.RUN_CHUNK_SIZE = "25"; // 500 companies → 20 analyst tasks
  host = await startTestHost([OrchestratorPlugin, ScoutPlugin, EnrichmentPlugin], {
    databaseUrl: db.url,
    natsUrl: nats.url,
  });
});

afterAll(async () => {
  for (const c of children) await c.kill("SIGKILL");
  await host?.stop();
  await Promise.all([db?.drop(), nats?.stop()]);
});

const analyst = (failpoints = "") => {
  const child = spawnLeadflow(["service", "analyst"], {
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    PORT: "0",
    LEADFLOW_FAILPOINTS: failpoints,
  });
  children.push(child);
  return child;
};

const scored = async () =>
  (
    await db.sql<{ n: number; d: number }[]>`
    select count(*)::int as n, count(distinct company_id)::int as d from lead_scores where run_id = 'kill-1'`
  )[0]!;

it.sequential("SIGKILL of the analyst mid-run: a restarted analyst finishes with exactly 500 scored companies", async () => {
  // slow each analyst transaction down so the kill lands mid-run
  const first = analyst("consumer.analyst-analyst-score.before-handle=sleep(400)");
  const jet = await connectJet(nats.url);
  await jet.publishRaw("leadflow.cmd.run.start", {
    industry: "warehouse",
    location: "Columbus, OH",
    count: 500,
    requestId: "kill-1",
  });
  await waitFor(async () => (await scored()).n >= 50, { what: "some scores", timeoutMs: 60_000 }).catch(
    (e) => {
      throw new Error(`${e.message}\n${first.output()}`);
    },
  );
  await first.kill("SIGKILL");
  const atKill = await scored();
  expect(atKill.n).toBeLessThan(500);

  const second = analyst();
  const run = await waitFor(
    async () => {
      const row = (await db.sql<{ status: string }[]>`select status from runs where id = 'kill-1'`)[0];
      return row && row.status !== "analyzing" && row.status !== "scouting" ? row : undefined;
    },
    { what: "run past analysis", timeoutMs: 90_000 },
  );
  expect(run.status, second.output()).toBe("awaiting_approval");
  expect(await scored()).toEqual({ n: 500, d: 500 });
  const tasks = await db.sql<{ chunks: number }[]>`
    select count(distinct chunk)::int as chunks from tasks where run_id = 'kill-1' and agent = 'analyst' and status = 'completed'`;
  expect(tasks[0]!.chunks).toBe(20);
  await jet.close();
}, 150_000);
