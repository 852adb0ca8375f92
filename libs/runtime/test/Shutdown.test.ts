import { contract } from "@leadflow/contracts";
import {
  createTestDatabase,
  createTestNats,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Effect, Schema } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { definePlugin, query } from "../src/index.js";

const Work = contract({
  name: "test-work",
  stream: "cmd",
  filter: "leadflow.cmd.test.work",
  subject: () => "leadflow.cmd.test.work",
  schema: Schema.Struct({ n: Schema.Int }),
  messageId: (m) => `work:${m.n}`,
});

let db: TestDatabase;
let nats: TestNats;
const hosts: TestHost[] = [];

// two replicas of one service share the durable; a slow handler (300 ms, two at a time) keeps
// messages queued in a replica's mailbox. The ack deadline is long (60 s) so that a message
// hidden until it runs out shows.
const replica = (name: string) =>
  startTestHost(
    [
      definePlugin({
        name: "worker",
        consumers: [
          {
            contract: Work,
            concurrency: 2,
            maxGroup: 1,
            ackWait: "60 seconds",
            handle: (msg, ctx) =>
              Effect.sleep("300 millis").pipe(
                Effect.zipRight(query(ctx.tx`insert into work_done (n, host) values (${msg.n}, ${name})`)),
                Effect.asVoid,
              ),
          },
        ],
      }),
    ],
    { databaseUrl: db.url, natsUrl: nats.url, name, housekeeping: false },
  ).then((h) => {
    hosts.push(h);
    return h;
  });

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  await db.sql`create table work_done (n int primary key, host text)`;
});

afterAll(async () => {
  for (const h of hosts) await h.stop().catch(() => undefined);
  await Promise.all([db?.drop(), nats?.stop()]);
});

describe("graceful shutdown", () => {
  it("hands the messages it still held to another replica long before their ack deadline", async () => {
    const one = await replica("one");
    const nc = await connect({ servers: nats.url });
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const total = 30;
    for (let n = 0; n < total; n++)
      await js.publish(Work.subject({ n }), JSON.stringify({ n }), { msgID: `work:${n}` });
    // replica one is busy: two in its workers, more in its mailbox
    await waitFor(async () => (await db.sql`select count(*)::int as n from work_done`)[0]!.n >= 2, {
      what: "replica one at work",
    });
    const held = (await jsm.consumers.info("LEADFLOW_CMD", "worker-test-work")).num_ack_pending;
    expect(held).toBeGreaterThan(2);
    const two = await replica("two");
    const stopped = Date.now();
    await one.stop();
    await waitFor(
      async () => (await db.sql`select count(*)::int as n from work_done`)[0]!.n === total,
      // a bound for correctness (the 60 s ack deadline must not be what frees them), not speed
      { what: "every message handled", timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(Date.now() - stopped).toBeLessThan(30_000);
    const byTwo = (await db.sql`select count(*)::int as n from work_done where host = 'two'`)[0]!.n;
    expect(byTwo).toBeGreaterThan(0);
    const info = await jsm.consumers.info("LEADFLOW_CMD", "worker-test-work");
    expect(info.num_ack_pending + info.num_pending).toBe(0);
    await two.stop();
    await nc.close();
  });
});
