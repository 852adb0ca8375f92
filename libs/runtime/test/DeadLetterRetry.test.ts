import { contract, DeadLetterInfo, Headers } from "@leadflow/contracts";
import {
  captureLogs,
  createTestDatabase,
  createTestNats,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Effect, Schema } from "effect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  definePlugin,
  type HandlerContext,
  PermanentError,
  query,
  RetryableError,
  setFailpoints,
} from "../src/index.js";

// A message that fails for good while its dead-lettering fails too (Postgres down under the
// plugin's onDeadLetter hook, NATS down under the dead letter's publish) must still end up
// dead-lettered, once, with the hook applied once, and gone from the work-queue stream.

const Msg = Schema.Struct({ n: Schema.Int });
const make = (name: string) =>
  contract({
    name: `dl-${name}`,
    stream: "cmd",
    filter: `leadflow.cmd.dl.${name}`,
    subject: () => `leadflow.cmd.dl.${name}`,
    schema: Msg,
    messageId: (m) => `dl-${name}:${m.n}`,
  });
const Last = make("last");
const Publish = make("publish");
const Advisory = make("advisory");

/** How many more times each hook fails after writing its row (rolled back), as if Postgres were down. */
const hookFailures = new Map<string, number>();
const handled = new Map<string, number>();

let db: TestDatabase;
let nats: TestNats;
let host: TestHost;
let nc: NatsConnection;
let jsm: JetStreamManager;
const logs = captureLogs();

const hook = (name: string) => (message: { n: number }, error: { message: string }, ctx: HandlerContext) =>
  Effect.gen(function* () {
    yield* query(
      ctx.tx`insert into dl_effects (consumer, n, error) values (${name}, ${message.n}, ${error.message})`,
    );
    const left = hookFailures.get(name) ?? 0;
    if (left > 0) {
      hookFailures.set(name, left - 1);
      return yield* Effect.dieMessage(`${name}: connection refused (Postgres is down)`);
    }
  }).pipe(Effect.orDie);

const countHandled = (name: string) => Effect.sync(() => handled.set(name, (handled.get(name) ?? 0) + 1));

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  await db.sql`create table dl_effects (consumer text, n int, error text)`;
  host = await startTestHost(
    [
      definePlugin({
        name: "dl",
        consumers: [
          {
            contract: Last,
            concurrency: 1,
            maxDeliver: 2,
            backoff: ["50 millis"],
            handle: () =>
              countHandled("last").pipe(
                Effect.zipRight(Effect.fail(new RetryableError({ message: "always fails" }))),
              ),
            onDeadLetter: hook("last"),
          },
          {
            contract: Publish,
            concurrency: 1,
            maxDeliver: 1,
            handle: () =>
              countHandled("publish").pipe(
                Effect.zipRight(Effect.fail(new PermanentError({ message: "bad" }))),
              ),
            onDeadLetter: hook("publish"),
          },
          {
            contract: Advisory,
            concurrency: 1,
            maxDeliver: 1,
            ackWait: "1 second",
            handle: () =>
              countHandled("advisory").pipe(
                Effect.zipRight(Effect.fail(new RetryableError({ message: "always fails" }))),
              ),
            onDeadLetter: hook("advisory"),
          },
        ],
      }),
    ],
    { databaseUrl: db.url, natsUrl: nats.url, name: "dl", housekeeping: false, logger: logs.logger },
  );
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
});

afterEach(() => setFailpoints(""));

afterAll(async () => {
  await host?.stop();
  await nc?.close();
  await Promise.all([db?.drop(), nats?.stop()]);
});

const send = (subject: string, n: number) =>
  jetstream(nc).publish(subject, JSON.stringify({ n }), { msgID: `${subject}:${n}` });

const letters = async (consumer: string) => {
  const out: Array<{ info: DeadLetterInfo; data: unknown }> = [];
  const state = (await jsm.streams.info("LEADFLOW_DLQ")).state;
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage("LEADFLOW_DLQ", { seq });
    if (!m || m.subject !== `leadflow.dlq.${consumer}`) continue;
    out.push({
      info: Schema.decodeUnknownSync(Schema.parseJson(DeadLetterInfo))(m.header.get(Headers.deadLetter)),
      data: JSON.parse(new TextDecoder().decode(m.data)),
    });
  }
  return out;
};

const effects = async (name: string) =>
  (await db.sql<{ n: number }[]>`select n from dl_effects where consumer = ${name}`).map((r) => r.n);

const cmdMessages = async (subject: string) =>
  (await jsm.streams.info("LEADFLOW_CMD", { subjects_filter: subject })).state.subjects?.[subject] ?? 0;

const deadLettered = (consumer: string, seq: number) =>
  logs.lines.some(
    (l) => l.message === "message dead-lettered" && l.fields.consumer === consumer && l.fields.seq === seq,
  );

describe("dead-lettering that fails", () => {
  it("is tried again on a last delivery until the hook and the dead letter get through, not left in the stream", async () => {
    hookFailures.set("last", 2);
    const ack = await send(Last.subject({ n: 1 }), 1);
    const [letter] = await waitFor(
      async () => ((await letters("dl-dl-last")).length > 0 ? letters("dl-dl-last") : undefined),
      {
        what: "the dead letter",
        timeoutMs: 20_000,
      },
    );
    expect(letter!.info).toMatchObject({ reason: "max_deliveries", deliveries: 2, streamSeq: ack.seq });
    expect(letter!.data).toEqual({ n: 1 });
    await waitFor(async () => (await cmdMessages(Last.subject({ n: 1 }))) === 0, {
      what: "the stream emptied",
    });
    expect(await effects("last")).toEqual([1]);
    expect(handled.get("last")).toBe(2);
    expect(await letters("dl-dl-last")).toHaveLength(1);
    const info = await jsm.consumers.info("LEADFLOW_CMD", "dl-dl-last");
    expect(info.num_ack_pending + info.num_pending).toBe(0);
  });

  it("applies the hook once when the dead letter's publish fails after the hook committed", async () => {
    setFailpoints("consumer.dl-dl-publish.before-dead-letter=die(2)");
    const ack = await send(Publish.subject({ n: 2 }), 2);
    await waitFor(() => deadLettered("dl-dl-publish", ack.seq), { what: "dead-lettered", timeoutMs: 20_000 });
    await waitFor(async () => (await cmdMessages(Publish.subject({ n: 2 }))) === 0, {
      what: "the stream emptied",
    });
    const [letter, ...more] = await letters("dl-dl-publish");
    expect(more).toHaveLength(0);
    expect(letter!.info).toMatchObject({ reason: "permanent", streamSeq: ack.seq });
    expect(await effects("publish")).toEqual([2]);
    expect(handled.get("publish")).toBe(1);
  });

  it("is tried again on the MAX_DELIVERIES advisory until it gets through; the late give-up adds nothing", async () => {
    // the only delivery hangs past its ack deadline without working(): the advisory path takes
    // it, its hook failing twice; then the handler fails and the worker gives up on it as well
    setFailpoints("consumer.dl-dl-advisory.before-handle=sleep(7000)");
    hookFailures.set("advisory", 2);
    const ack = await send(Advisory.subject({ n: 3 }), 3);
    const [letter] = await waitFor(
      async () => ((await letters("dl-dl-advisory")).length > 0 ? letters("dl-dl-advisory") : undefined),
      { what: "the advisory's dead letter", timeoutMs: 20_000 },
    );
    expect(letter!.info).toMatchObject({ reason: "advisory", streamSeq: ack.seq });
    expect(await cmdMessages(Advisory.subject({ n: 3 }))).toBe(0);
    await waitFor(() => deadLettered("dl-dl-advisory", ack.seq), {
      what: "the worker's give-up",
      timeoutMs: 20_000,
    });
    expect(handled.get("advisory")).toBe(1);
    expect(await effects("advisory")).toEqual([3]);
    expect(await letters("dl-dl-advisory")).toHaveLength(1);
  });
});
