import { AnalystPlugin } from "@leadflow/analyst";
import { EnrichmentPlugin } from "@leadflow/enrichment";
import { OrchestratorPlugin } from "@leadflow/orchestrator";
import { setFailpoints } from "@leadflow/runtime";
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
import { afterAll, beforeAll, expect, it } from "vitest";

let db: TestDatabase;
let nats: TestNats;
let host: TestHost;

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  process.env.RUN_CHUNK_SIZE = "20";
  setFailpoints("consumer.analyst-analyst-score.before-handle=sleep(250)");
  host = await startTestHost([OrchestratorPlugin, ScoutPlugin, AnalystPlugin, EnrichmentPlugin], {
    databaseUrl: db.url,
    natsUrl: nats.url,
  });
});

afterAll(async () => {
  setFailpoints("");
  await host?.stop();
  await Promise.all([db?.drop(), nats?.stop()]);
});

it("a nats-server restart during a run: the services reconnect and the run gets past analysis", async () => {
  let jet = await connectJet(nats.url);
  await jet.publishRaw("leadflow.cmd.run.start", {
    industry: "grocery",
    location: "Tampa, FL",
    count: 200,
    requestId: "restart-1",
  });
  await jet.close();
  await waitFor(async () => (await db.sql`select 1 from lead_scores where run_id = 'restart-1'`).length > 0, {
    what: "analysis under way",
  });
  await nats.server.stop();
  await new Promise((r) => setTimeout(r, 1000));
  await nats.server.start();
  const run = await waitFor(
    async () => {
      const row = (await db.sql<{ status: string }[]>`select status from runs where id = 'restart-1'`)[0];
      return row && ["awaiting_approval", "failed"].includes(row.status) ? row : undefined;
    },
    { what: "run at the approval gate", timeoutMs: 90_000 },
  );
  expect(run.status).toBe("awaiting_approval");
  const scored =
    await db.sql`select count(*)::int as n, count(distinct company_id)::int as d from lead_scores where run_id = 'restart-1'`;
  expect(scored[0]).toEqual({ n: 200, d: 200 });
  jet = await connectJet(nats.url);
  await waitFor(
    async () =>
      (await jet.messages("LEADFLOW_EVT", "leadflow.evt.run.restart-1.awaiting_approval")).length === 1,
    {
      what: "the gate's run event",
    },
  );
  await jet.close();
});
