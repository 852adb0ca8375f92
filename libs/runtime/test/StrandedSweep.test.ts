import { contract, DeadLetterInfo, Headers } from "@leadflow/contracts";
import {
  captureLogs,
  createTestDatabase,
  createTestNats,
  startTestHost,
  type TestDatabase,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Effect, Schema } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { definePlugin, type HandlerContext, query } from "../src/index.js";

// A last delivery whose ack wait runs out while no process runs its consumer: the server says so
// only in the MAX_DELIVERIES advisory, which nobody hears then, and keeps the message in the
// work-queue stream for good. The consumer's sweep at start finds it and dead-letters it.

const Stranded = contract({
  name: "stranded-work",
  stream: "cmd",
  filter: "leadflow.cmd.stranded.work",
  subject: () => "leadflow.cmd.stranded.work",
  schema: Schema.Struct({ n: Schema.Int }),
  messageId: (m) => `stranded:${m.n}`,
});
const durable = "stranded-stranded-work";

let db: TestDatabase;
let nats: TestNats;
let nc: NatsConnection;
let jsm: JetStreamManager;

const plugin = definePlugin({
  name: "stranded",
  consumers: [
    {
      contract: Stranded,
      concurrency: 1,
      maxDeliver: 1,
      ackWait: "1 second",
      handle: () => Effect.void,
      onDeadLetter: (message: { n: number }, _error, ctx: HandlerContext) =>
        query(ctx.tx`insert into stranded_effects (n) values (${message.n})`).pipe(Effect.orDie),
    },
  ],
});

const start = (logger?: ReturnType<typeof captureLogs>["logger"]) =>
  startTestHost([plugin], {
    databaseUrl: db.url,
    natsUrl: nats.url,
    name: "stranded",
    housekeeping: false,
    logger,
  });

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  await db.sql`create table stranded_effects (n int not null)`;
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
  // the streams and the durable consumer, as a process that ran before left them
  await (await start()).stop();
});

afterAll(async () => {
  await nc?.close();
  await Promise.all([db?.drop(), nats?.stop()]);
});

const send = (n: number) =>
  jetstream(nc).publish(Stranded.subject({ n }), JSON.stringify({ n }), { msgID: `stranded:${n}` });

/** Takes the next message from the durable as a process would, and does not answer it. */
const takeUnanswered = async () => {
  const consumer = await jetstream(nc).consumers.get("LEADFLOW_CMD", durable);
  const m = await consumer.next({ expires: 5_000 });
  if (!m) throw new Error("no message delivered");
  return m;
};

const inStream = async () =>
  (await jsm.streams.info("LEADFLOW_CMD", { subjects_filter: Stranded.subject({ n: 0 }) })).state.subjects?.[
    Stranded.subject({ n: 0 })
  ] ?? 0;

const letters = async () => {
  const out: DeadLetterInfo[] = [];
  const state = (await jsm.streams.info("LEADFLOW_DLQ")).state;
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage("LEADFLOW_DLQ", { seq });
    if (!m || m.subject !== `leadflow.dlq.${durable}`) continue;
    out.push(Schema.decodeUnknownSync(Schema.parseJson(DeadLetterInfo))(m.header.get(Headers.deadLetter)));
  }
  return out;
};

const effects = async () =>
  (await db.sql<{ n: number }[]>`select n from stranded_effects order by n`).map((r) => r.n);

describe("a message stranded past its last delivery", () => {
  it("is dead-lettered by the next process to run its consumer, hook applied once, and leaves the stream", async () => {
    const ack = await send(1);
    await takeUnanswered();
    // its ack wait (1 s) runs out, and the server gives up on it at the next pull (2.9 checks
    // the delivery limit as it serves one): a pull from a process that then went away, with no
    // process left to hear the advisory. Nothing pending, the message still in the stream,
    // never to be delivered again
    await new Promise((r) => setTimeout(r, 1_500));
    const consumer = await jetstream(nc).consumers.get("LEADFLOW_CMD", durable);
    for await (const m of await consumer.fetch({ max_messages: 1, expires: 2_000 })) m.ack();
    expect((await jsm.consumers.info("LEADFLOW_CMD", durable)).num_ack_pending).toBe(0);
    expect(await inStream()).toBe(1);

    const logs = captureLogs();
    const host = await start(logs.logger);
    try {
      await waitFor(async () => (await inStream()) === 0, { what: "the stream emptied", timeoutMs: 15_000 });
      const [letter, ...more] = await letters();
      expect(more).toHaveLength(0);
      expect(letter).toMatchObject({ reason: "advisory", streamSeq: ack.seq, consumer: durable });
      expect(await effects()).toEqual([1]);
      expect(
        logs.lines.some((l) => l.message.startsWith("message stranded") && l.fields.seq === ack.seq),
      ).toBe(true);
    } finally {
      await host.stop();
    }
  });

  it("given up at the first pull of the process that starts next, is dead-lettered by its advisory at once", async () => {
    const ack = await send(3);
    await takeUnanswered();
    // the ack wait runs out with no pull: the server gives up only at the next process's first
    // pull, whose advisory that process must already be listening for
    await new Promise((r) => setTimeout(r, 1_500));
    const logs = captureLogs();
    const host = await start(logs.logger);
    try {
      await waitFor(async () => (await inStream()) === 0, { what: "the stream emptied", timeoutMs: 10_000 });
      expect((await letters()).filter((l) => l.streamSeq === ack.seq)).toHaveLength(1);
      expect(await effects()).toEqual([1, 3]);
    } finally {
      await host.stop();
    }
  });

  it("leaves alone a message still being worked on elsewhere", async () => {
    await send(4);
    const held = await takeUnanswered();
    const keep = setInterval(() => held.working(), 300);
    const logs = captureLogs();
    const host = await start(logs.logger);
    try {
      // the sweep runs as the consumer starts; give it time to look
      await waitFor(() => logs.lines.some((l) => l.message === "plugin started"), {
        what: "the plugin started",
      });
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await inStream()).toBe(1);
      expect(await letters()).toHaveLength(2);
      held.ack();
      await waitFor(async () => (await inStream()) === 0, { what: "the acked message gone" });
      expect(await effects()).toEqual([1, 3]);
    } finally {
      clearInterval(keep);
      await host.stop();
    }
  });
});
