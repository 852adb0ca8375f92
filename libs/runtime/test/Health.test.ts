import {
  createTestDatabase,
  createTestNats,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { Effect } from "effect";
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeNats, Nats, readHeartbeats } from "../src/index.js";

let db: TestDatabase;
let nats: TestNats;
let host: TestHost;

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  host = await startTestHost([], {
    databaseUrl: db.url,
    natsUrl: nats.url,
    port: 0,
    heartbeatInterval: "200 millis",
  });
});

afterAll(async () => {
  await host?.stop();
  await Promise.all([db?.drop(), nats?.stop()]);
});

const get = (path: string) => fetch(`http://127.0.0.1:${host.port}${path}`);

it("serves /healthz, /readyz and /metrics, and /readyz follows NATS going away and coming back", async () => {
  expect((await get("/healthz")).status).toBe(200);
  const ready = await get("/readyz");
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({
    status: "ready",
    checks: { postgres: true, nats: true, consumers: true },
  });
  const metrics = await (await get("/metrics")).text();
  expect(metrics).toContain("leadflow_outbox_published_total");
  expect(metrics).toContain('service="test"');

  const beats = await Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(makeNats({ servers: nats.url }), (n) =>
        readHeartbeats.pipe(Effect.provideService(Nats, n)),
      ),
    ),
  );
  expect(beats.map((b) => b.service)).toEqual(["test"]);
  expect(beats[0]!.pid).toBe(process.pid);

  await nats.server.stop();
  await waitFor(async () => (await get("/readyz")).status === 503, { what: "not ready without NATS" });
  const body = (await (await get("/readyz")).json()) as { checks: Record<string, boolean> };
  expect(body.checks).toMatchObject({ nats: false, postgres: true });
  await nats.server.start();
  await waitFor(async () => (await get("/readyz")).status === 200, {
    what: "ready again",
    timeoutMs: 20_000,
  });
});
