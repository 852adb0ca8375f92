import { definePlugin } from "@leadflow/runtime";
import { Effect, Layer } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  createTestNats,
  startTestHost,
  type TestDatabase,
  type TestNats,
  waitFor,
} from "../src/index.js";

let db: TestDatabase;
let nats: TestNats;

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
});

afterAll(async () => {
  await Promise.all([db?.drop(), nats?.stop()]);
});

const runtimeConnections = async () =>
  (
    await db.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and application_name = 'leadflow'`
  )[0]!.n;

// A closed connection's backend leaves pg_stat_activity a moment after the client's socket
// closes (it exits on its own time), so "all closed" is waited for, briefly; a leak never gets
// there.
const allClosed = () =>
  waitFor(async () => (await runtimeConnections()) === 0, {
    what: "the host's connections closed",
    timeoutMs: 5_000,
  });

describe("startTestHost", () => {
  it("closes what it opened when a plugin fails to start, and says why", async () => {
    const broken = definePlugin({
      name: "broken",
      consumers: [],
      layer: Layer.effectDiscard(Effect.fail(new Error("BROKEN_SETTING is not a number"))),
    });
    await expect(
      startTestHost([broken], { databaseUrl: db.url, natsUrl: nats.url, housekeeping: false }),
    ).rejects.toThrow(/did not start[\s\S]*BROKEN_SETTING is not a number/);
    // the host's pool was open (it probes the database first) and is closed again
    await allClosed();
  });

  it("runs and stops a working host", async () => {
    const host = await startTestHost([definePlugin({ name: "fine", consumers: [] })], {
      databaseUrl: db.url,
      natsUrl: nats.url,
      housekeeping: false,
    });
    expect(await runtimeConnections()).toBeGreaterThan(0);
    await host.stop();
    await allClosed();
  });
});
