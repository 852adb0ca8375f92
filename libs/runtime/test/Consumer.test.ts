import { contract, DeadLetterInfo, Headers } from "@leadflow/contracts";
import {
  createTestDatabase,
  createTestNats,
  runLeadflow,
  type TestDatabase,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import { Effect, Exit, Schema, Scope } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  definePlugin,
  Nats,
  PermanentError,
  publish,
  query,
  RetryableError,
  setFailpoints,
  startHost,
} from "../src/index.js";

const Ping = contract({
  name: "test-ping",
  stream: "cmd",
  filter: "leadflow.cmd.test.ping",
  subject: () => "leadflow.cmd.test.ping",
  schema: Schema.Struct({ n: Schema.Int, mode: Schema.Literal("ok", "retry", "permanent", "later") }),
  messageId: (m) => `ping:${m.n}`,
});
const Pong = contract({
  name: "test-pong",
  stream: "evt",
  filter: "leadflow.evt.test.pong",
  subject: () => "leadflow.evt.test.pong",
  schema: Schema.Struct({ n: Schema.Int }),
  messageId: (m) => `pong:${m.n}`,
});

const Item = contract({
  name: "test-item",
  stream: "cmd",
  filter: "leadflow.cmd.test.item",
  subject: () => "leadflow.cmd.test.item",
  schema: Schema.Struct({ n: Schema.Int }),
  messageId: (m) => `item:${m.n}`,
});
const batchSizes: number[] = [];
const Hang = contract({
  name: "test-hang",
  stream: "cmd",
  filter: "leadflow.cmd.test.hang",
  subject: () => "leadflow.cmd.test.hang",
  schema: Schema.Struct({ n: Schema.Int }),
  messageId: (m) => `hang:${m.n}`,
});
const hangFailures: string[] = [];
const Slow = contract({
  name: "test-slow",
  stream: "cmd",
  filter: "leadflow.cmd.test.slow",
  subject: () => "leadflow.cmd.test.slow",
  schema: Schema.Struct({ n: Schema.Int }),
  messageId: (m) => `slow:${m.n}`,
});
// a slow consumer (one at a time, 2.5 s each) whose ack deadline (2 s) is shorter than the wait
// of the message queued behind the one it works on
const Queued = contract({
  name: "test-queued",
  stream: "cmd",
  filter: "leadflow.cmd.test.queued",
  subject: () => "leadflow.cmd.test.queued",
  schema: Schema.Struct({ n: Schema.Int }),
  messageId: (m) => `queued:${m.n}`,
});
const queuedPrepares: Array<{ n: number; deliveries: number }> = [];
let prepares = 0;
let inTransactionDuringPrepare: number | undefined;

let db: TestDatabase;
let nats: TestNats;
let scope: Scope.CloseableScope;
const deliveries = new Map<number, number[]>();

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  await db.sql`create table test_items (n int primary key)`;
  await db.sql`create table test_batch (n int primary key)`;
  const plugin = definePlugin({
    name: "tester",
    consumers: [
      {
        contract: Slow,
        concurrency: 1,
        prepare: (msg) =>
          Effect.gen(function* () {
            prepares++;
            // no transaction is open for this message while it prepares
            inTransactionDuringPrepare = (yield* query(
              db.sql`select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%' and datname = current_database()`,
            ))[0]!.n;
            return { doubled: msg.n * 2 };
          }),
        handle: (_msg, ctx, prepared: { doubled: number }) =>
          query(ctx.tx`insert into test_items (n) values (${500_000 + prepared.doubled})`).pipe(
            Effect.asVoid,
          ),
      },
      {
        contract: Queued,
        concurrency: 1,
        ackWait: "2 seconds",
        prepare: (msg, meta) =>
          Effect.sync(() => queuedPrepares.push({ n: msg.n, deliveries: meta.deliveries })).pipe(
            Effect.zipRight(Effect.sleep("2500 millis")),
          ),
        handle: (msg, ctx) =>
          query(ctx.tx`insert into test_items (n) values (${700_000 + msg.n})`).pipe(Effect.asVoid),
      },
      {
        contract: Hang,
        concurrency: 2,
        maxDeliver: 2,
        ackWait: "1 second",
        handle: () => Effect.void,
        onDeadLetter: (message, error) =>
          Effect.sync(() => hangFailures.push(`${message.n}: ${error.message}`)),
      },
      {
        contract: Item,
        concurrency: 2,
        maxDeliver: 2,
        backoff: ["50 millis"],
        batch: {
          size: 50,
          handle: (items, ctx) =>
            Effect.gen(function* () {
              batchSizes.push(items.length);
              // n = 13 is poison: it fails its whole batch, and must fail alone
              if (items.some((i) => i.message.n === 13))
                return yield* new PermanentError({ message: "13 is poison" });
              yield* query(ctx.tx`insert into test_batch ${ctx.tx(items.map((i) => ({ n: i.message.n })))}`);
              for (const i of items) ctx.publish(Pong, { n: 100_000 + i.message.n });
            }),
        },
      },
      {
        contract: Ping,
        concurrency: 4,
        maxDeliver: 4,
        backoff: ["100 millis", "200 millis", "400 millis"],
        handle: (msg, ctx) =>
          Effect.gen(function* () {
            const seen = deliveries.get(msg.n) ?? [];
            seen.push(Date.now());
            deliveries.set(msg.n, seen);
            if (msg.mode === "retry") return yield* new RetryableError({ message: `always fails ${msg.n}` });
            if (msg.mode === "permanent") return yield* new PermanentError({ message: `bad input ${msg.n}` });
            // a provider said "not before 1.2 s" (Retry-After) on the first delivery
            if (msg.mode === "later" && seen.length === 1)
              return yield* new RetryableError({ message: `busy ${msg.n}`, retryAfterMs: 1200 });
            yield* query(ctx.tx`insert into test_items (n) values (${msg.n})`);
            ctx.publish(Pong, { n: msg.n });
          }),
      },
    ],
  });
  scope = Effect.runSync(Scope.make());
  await Effect.runPromise(
    startHost([plugin], { name: "test", db: { url: db.url }, nats: { servers: nats.url } }).pipe(
      Scope.extend(scope),
    ),
  );
});

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void));
  await Promise.all([db?.drop(), nats?.stop()]);
});

const send = (n: number, mode: "ok" | "retry" | "permanent" | "later", msgID?: string) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const { makeNats } = yield* Effect.promise(() => import("../src/Nats.js"));
        const n2 = yield* makeNats({ servers: nats.url });
        return yield* publish(Ping, { n, mode }, { msgID, correlationId: `run-${n}` }).pipe(
          Effect.provideService(Nats, n2),
        );
      }),
    ),
  );

describe("consumer runtime", () => {
  it("applies each message once and publishes its outbox message, in the envelope of the message it handled", async () => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => send(i, "ok", `ping-${i}`)));
    await waitFor(async () => (await db.sql`select count(*)::int as n from test_items`)[0]!.n === 50, {
      what: "50 rows",
    });
    await waitFor(
      async () =>
        (await db.sql`select count(*)::int as n from outbox where published_at is null`)[0]!.n === 0,
      {
        what: "outbox drained",
      },
    );
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info("LEADFLOW_EVT");
    expect(info.state.messages).toBe(50);
    await nc.close();
    // each pong carries its ping's run (correlation), names the ping as its cause, continues its trace
    const pongs = await db.sql<{ payload: string; headers: Record<string, string> }[]>`
      select payload, headers from outbox where contract = ${Pong.name}`;
    expect(pongs).toHaveLength(50);
    for (const p of pongs) {
      const n = (JSON.parse(p.payload) as { n: number }).n;
      expect(p.headers[Headers.correlationId]).toBe(`run-${n}`);
      expect(p.headers[Headers.causationId]).toBe(`ping-${n}`);
      expect(p.headers[Headers.traceparent]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
    // one trace per ping, shared by what its handler published
    expect(new Set(pongs.map((p) => p.headers[Headers.traceparent])).size).toBe(50);
  });

  it("skips a message redelivered after its transaction committed (inbox), applying it once", async () => {
    // the process "crashes" after the commit and before the ack: JetStream delivers it again
    setFailpoints("consumer.tester-test-ping.after-commit=die(1)");
    const jsm = await jetstreamManager(await connect({ servers: nats.url }));
    const deliveredBefore = (await jsm.consumers.info("LEADFLOW_CMD", "tester-test-ping")).delivered
      .consumer_seq;
    try {
      await send(1000, "ok");
      await waitFor(() => (deliveries.get(1000)?.length ?? 0) >= 1, { what: "first delivery" });
      await waitFor(
        async () => {
          const info = await jsm.consumers.info("LEADFLOW_CMD", "tester-test-ping");
          return (
            info.num_ack_pending === 0 &&
            info.num_pending === 0 &&
            info.delivered.consumer_seq === deliveredBefore + 2
          );
        },
        { what: "redelivered and acked" },
      );
      expect((await db.sql`select count(*)::int as n from test_items where n = 1000`)[0]!.n).toBe(1);
      // the handler ran once: the second delivery was skipped before it
      expect(deliveries.get(1000)).toHaveLength(1);
      expect((await db.sql`select count(*)::int as n from outbox where payload = '{"n":1000}'`)[0]!.n).toBe(
        1,
      );
    } finally {
      setFailpoints("");
    }
  });

  it("retries a failing handler exactly max_deliver times on the backoff schedule, then dead-letters it once", async () => {
    await send(2000, "retry");
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await waitFor(async () => (await jsm.streams.info("LEADFLOW_DLQ")).state.messages === 1, {
      what: "dead letter",
    });
    const times = deliveries.get(2000)!;
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 100, 200, 400 ms backoff (never earlier than asked)
    expect(gaps[0]).toBeGreaterThanOrEqual(90);
    expect(gaps[1]).toBeGreaterThanOrEqual(190);
    expect(gaps[2]).toBeGreaterThanOrEqual(390);
    const stored = await jsm.streams.getMessage("LEADFLOW_DLQ", {
      last_by_subj: "leadflow.dlq.tester-test-ping",
    });
    const info = Schema.decodeUnknownSync(Schema.parseJson(DeadLetterInfo))(
      stored!.header.get(Headers.deadLetter),
    );
    expect(info.deliveries).toBe(4);
    expect(info.reason).toBe("max_deliveries");
    expect(info.error.message).toContain("always fails 2000");
    expect(JSON.parse(new TextDecoder().decode(stored!.data))).toEqual({ n: 2000, mode: "retry" });
    // the work-queue stream holds nothing more for this consumer
    await waitFor(async () => (await jsm.streams.info("LEADFLOW_CMD")).state.messages === 0, {
      what: "cmd stream empty",
    });
    await new Promise((r) => setTimeout(r, 600));
    expect(deliveries.get(2000)).toHaveLength(4);
    await nc.close();
  });

  it("waits out a failure's retryAfterMs when it is longer than the backoff step", async () => {
    await send(2500, "later");
    await waitFor(async () => (await db.sql`select 1 from test_items where n = 2500`).length === 1, {
      what: "the second delivery applied",
    });
    const times = deliveries.get(2500)!;
    expect(times).toHaveLength(2);
    // the backoff's first step is 100 ms; the failure asked for 1.2 s
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1190);
  });

  it("dead-letters a permanent failure on the first delivery and an undecodable body unread", async () => {
    await send(3000, "permanent");
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const { jetstream } = await import("@nats-io/jetstream");
    await jetstream(nc).publish("leadflow.cmd.test.ping", new TextEncoder().encode("{not json"));
    await waitFor(async () => (await jsm.streams.info("LEADFLOW_DLQ")).state.messages === 3, {
      what: "3 dead letters",
    });
    expect(deliveries.get(3000)).toHaveLength(1);
    const rows = await db.sql`select count(*)::int as n from test_items where n = 3000`;
    expect(rows[0]!.n).toBe(0);
    await nc.close();
  });
});

describe("prepare", () => {
  it("runs slow work outside the transaction, hands its result to the handler, and is skipped on a redelivery", async () => {
    setFailpoints("consumer.tester-test-slow.after-commit=die(1)");
    try {
      const nc = await connect({ servers: nats.url });
      const { jetstream } = await import("@nats-io/jetstream");
      await jetstream(nc).publish(
        "leadflow.cmd.test.slow",
        new TextEncoder().encode(JSON.stringify({ n: 21 })),
      );
      await waitFor(async () => (await db.sql`select 1 from test_items where n = 500042`).length === 1, {
        what: "row",
      });
      const jsm = await jetstreamManager(nc);
      await waitFor(
        async () => {
          const info = await jsm.consumers.info("LEADFLOW_CMD", "tester-test-slow");
          return info.delivered.consumer_seq === 2 && info.num_ack_pending === 0;
        },
        { what: "redelivered and acked" },
      );
      expect(prepares).toBe(1);
      expect(inTransactionDuringPrepare).toBe(0);
      await nc.close();
    } finally {
      setFailpoints("");
    }
  });
});

describe("a slow consumer", () => {
  it("keeps a message that waits behind a slow handler from being redelivered (working() while queued)", async () => {
    const nc = await connect({ servers: nats.url });
    const { jetstream } = await import("@nats-io/jetstream");
    const js = jetstream(nc);
    for (const n of [1, 2]) {
      await js.publish("leadflow.cmd.test.queued", new TextEncoder().encode(JSON.stringify({ n })), {
        msgID: `queued:${n}`,
      });
    }
    await waitFor(
      async () =>
        (await db.sql`select count(*)::int as n from test_items where n in (700001, 700002)`)[0]!.n === 2,
      { what: "both queued messages applied", timeoutMs: 15_000 },
    );
    // message 2 waited 2.5 s for message 1, past its 2 s ack deadline: it was still prepared once
    expect(queuedPrepares).toEqual([
      { n: 1, deliveries: 1 },
      { n: 2, deliveries: 1 },
    ]);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info("LEADFLOW_CMD", "tester-test-queued");
    expect(info.num_redelivered).toBe(0);
    expect(info.delivered.consumer_seq).toBe(2);
    await nc.close();
  });
});

describe("the MAX_DELIVERIES advisory", () => {
  it("dead-letters a message whose last delivery was never answered (a process that died or hung)", async () => {
    // both deliveries hang without working(): the server gives up after max_deliver = 2
    setFailpoints("consumer.tester-test-hang.before-handle=sleep(4000)");
    try {
      const nc = await connect({ servers: nats.url });
      const { jetstream } = await import("@nats-io/jetstream");
      await jetstream(nc).publish(
        "leadflow.cmd.test.hang",
        new TextEncoder().encode(JSON.stringify({ n: 7 })),
      );
      const jsm = await jetstreamManager(nc);
      const letter = await waitFor(
        () =>
          jsm.streams
            .getMessage("LEADFLOW_DLQ", { last_by_subj: "leadflow.dlq.tester-test-hang" })
            .then((m) => m ?? undefined)
            .catch(() => undefined),
        { what: "advisory dead letter", timeoutMs: 20_000 },
      );
      const info = Schema.decodeUnknownSync(Schema.parseJson(DeadLetterInfo))(
        letter.header.get(Headers.deadLetter),
      );
      expect(info).toMatchObject({ reason: "advisory", consumer: "tester-test-hang", deliveries: 2 });
      expect(JSON.parse(new TextDecoder().decode(letter.data))).toEqual({ n: 7 });
      expect(hangFailures).toEqual([expect.stringContaining("7: delivery limit reached")]);
      // gone from the work queue, so nothing is stuck there
      await waitFor(
        async () => (await jsm.consumers.info("LEADFLOW_CMD", "tester-test-hang")).num_pending === 0,
      );
      await nc.close();
    } finally {
      setFailpoints("");
    }
  });
});

describe("batch mode", () => {
  it("handles many messages per transaction, and a poison message fails alone", async () => {
    const nc = await connect({ servers: nats.url });
    const { jetstream } = await import("@nats-io/jetstream");
    const js = jetstream(nc);
    await Promise.all(
      Array.from({ length: 400 }, (_, n) =>
        js.publish("leadflow.cmd.test.item", new TextEncoder().encode(JSON.stringify({ n }))),
      ),
    );
    await waitFor(async () => (await db.sql`select count(*)::int as n from test_batch`)[0]!.n === 399, {
      what: "399 rows",
    });
    expect(Math.max(...batchSizes)).toBeGreaterThan(1);
    expect((await db.sql`select count(*)::int as n from test_batch where n = 13`)[0]!.n).toBe(0);
    const jsm = await jetstreamManager(nc);
    await waitFor(
      async () => {
        const letters = await jsm.streams
          .getMessage("LEADFLOW_DLQ", { last_by_subj: "leadflow.dlq.tester-test-item" })
          .catch(() => null);
        return letters ? JSON.parse(new TextDecoder().decode(letters.data)).n === 13 : false;
      },
      { what: "13 dead-lettered" },
    );
    await waitFor(
      async () =>
        (
          await db.sql`select count(*)::int as n from outbox where (payload::jsonb->>'n')::int >= 100000 and published_at is not null`
        )[0]!.n >= 399,
      {
        what: "outbox published",
      },
    );
    await nc.close();
  });
});

const Twice = contract({
  name: "test-twice",
  stream: "cmd",
  filter: "leadflow.cmd.test.twice",
  subject: () => "leadflow.cmd.test.twice",
  schema: Schema.Struct({ n: Schema.Int }),
  messageId: (m) => `twice:${m.n}`,
});

describe("the same message twice", () => {
  it("is applied once, whether the copies share a batch or not", async () => {
    await db.sql`create table test_twice (n int primary key)`;
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const batches: number[][] = [];
    const host = Effect.runSync(Scope.make());
    // The server drops a second message with the same id within its duplicate window (2 min);
    // past it (an outbox row published again after a crash, say) it keeps both. The test cannot
    // wait that long, nor shrink the window (2.9 purges its id map on the old cadence), so each
    // copy carries the id with its own trailing spaces: a different id to the server, which
    // compares the raw value, and the same to the runtime, which trims it as the client does.
    let copies = 0;
    const copy = async (n: number, id: string) => {
      const h = natsHeaders();
      h.set(Headers.messageId, id);
      (h as unknown as { headers: Map<string, string[]> }).headers.set(Headers.messageId, [
        `${id}${" ".repeat(copies++)}`,
      ]);
      await js.publish(Twice.subject({ n }), JSON.stringify({ n }), { headers: h });
    };
    try {
      // one worker, which holds each batch a while before handling it: what arrives meanwhile
      // is the next batch
      setFailpoints("consumer.twice-test-twice.before-handle=sleep(1000)");
      await Effect.runPromise(
        startHost(
          [
            definePlugin({
              name: "twice",
              consumers: [
                {
                  contract: Twice,
                  concurrency: 1,
                  batch: {
                    size: 10,
                    handle: (items, ctx) =>
                      Effect.gen(function* () {
                        batches.push(items.map((i) => i.message.n));
                        yield* query(
                          ctx.tx`insert into test_twice ${ctx.tx(items.map((i) => ({ n: i.message.n })))}`,
                        );
                      }),
                  },
                },
              ],
            }),
          ],
          { name: "twice", db: { url: db.url }, nats: { servers: nats.url }, housekeeping: false },
        ).pipe(Scope.extend(host)),
      );
      const consumerState = () => jsm.consumers.info("LEADFLOW_CMD", "twice-test-twice");
      await copy(0, "twice-0");
      // [0] is taken and held (the failpoint): what is published now waits for the next batch
      await waitFor(async () => (await consumerState()).num_ack_pending === 1, { what: "[0] held" });
      await copy(1, "twice-a");
      await copy(2, "twice-b");
      await copy(1, "twice-a");
      await waitFor(async () => (await db.sql`select count(*)::int as n from test_twice`)[0]!.n === 3, {
        what: "0, 1 and 2 applied",
        timeoutMs: 20_000,
      });
      // and a copy of 1 after it was applied
      await copy(1, "twice-a");
      await waitFor(
        async () => {
          const info = await consumerState();
          return info.num_ack_pending === 0 && info.num_pending === 0 && info.delivered.consumer_seq >= 5;
        },
        { what: "all five acked", timeoutMs: 20_000 },
      );
      expect((await db.sql`select n from test_twice order by n`).map((r) => r.n)).toEqual([0, 1, 2]);
      // the copy in the batch was skipped within it (not a failed batch retried message by
      // message), and the late copy never reached the handler
      expect(batches).toEqual([[0], [1, 2]]);
    } finally {
      setFailpoints("");
      await Effect.runPromise(Scope.close(host, Exit.void));
      await nc.close();
    }
  });
});

describe("leadflow dlq", () => {
  it("lists the dead letter of the always-failing handler and replays it to its subject", async () => {
    const env = { NATS_URL: nats.url, DATABASE_URL: db.url };
    const listed = await runLeadflow(["dlq", "list", "--json"], env);
    expect(listed.code, listed.output).toBe(0);
    const letters = JSON.parse(listed.output.trim().split("\n").at(-1)!) as Array<{
      seq: number;
      consumer: string;
      error: { message: string };
      deliveries: number;
    }>;
    const failing = letters.find((l) => l.error.message.includes("always fails 2000"))!;
    expect(failing).toMatchObject({ consumer: "tester-test-ping", deliveries: 4 });

    const human = await runLeadflow(["dlq", "list"], env);
    expect(human.output).toContain("always fails 2000");

    const before = deliveries.get(2000)!.length;
    const replayed = await runLeadflow(["dlq", "replay", String(failing.seq)], env);
    expect(replayed.code, replayed.output).toBe(0);
    expect(replayed.output).toContain("replayed to leadflow.cmd.test.ping");
    // the replayed message is handled again (and, still failing, dead-lettered again)
    await waitFor(() => deliveries.get(2000)!.length === before + 4, { what: "replayed deliveries" });
    const after = JSON.parse(
      (await runLeadflow(["dlq", "list", "--json"], env)).output.trim().split("\n").at(-1)!,
    ) as Array<{ seq: number; error: { message: string } }>;
    expect(after.filter((l) => l.error.message.includes("always fails 2000"))).toHaveLength(1);
    expect(after.some((l) => l.seq === failing.seq)).toBe(false);
  });
});
