/**
 * Benchmark 2 — the runtime with a handler that does nothing: the same N messages handled by a
 * plugin (`definePlugin` + `startHost`), in single mode (one transaction per message, the
 * default concurrency of 4) and in batch mode (`batch: { size: 100 }`). Each runtime message
 * costs a Postgres transaction (the inbox insert, by design), so besides the raw consume + ack
 * baseline this also measures that floor without the runtime: raw consume + one postgres.js
 * transaction with the same inbox insert, per message and per 100 messages.
 */
import { contract, Streams } from "@leadflow/contracts";
import { type AnyPlugin, definePlugin, startHost } from "@leadflow/runtime";
import type { TestDatabase } from "@leadflow/testkit";
import { Effect, Exit, Logger, LogLevel, Schema, Scope } from "effect";
import {
  addConsumer,
  type BenchConfig,
  body,
  connectJetStream,
  consumeN,
  deferred,
  type JsClient,
  log,
  publishAll,
  waitConsumerDrained,
  withDatabase,
  withNatsServer,
  withTimeout,
} from "./infra.js";
import { type Figure, fmt, rate, ratioOf, summarize } from "./stats.js";

const group = "2. Runtime, no-op handler";
const Message = Schema.Struct({ n: Schema.Int });

/** A contract on its own subject of the work-queue stream. */
export const benchContract = (name: string) =>
  contract({
    name,
    stream: "cmd",
    filter: `leadflow.cmd.bench.${name}`,
    subject: () => `leadflow.cmd.bench.${name}`,
    schema: Message,
    messageId: (m) => `${name}:${m.n}`,
  });

/** Counts handled messages: the first one starts the clock, the N-th resolves `all`. */
export const makeProbe = (expected: number) => {
  const all = deferred<void>();
  const probe = {
    count: 0,
    first: 0,
    handled: 0,
    all: all.promise,
    add(k: number) {
      if (probe.count === 0) probe.first = performance.now();
      probe.count += k;
      if (probe.count >= expected) {
        probe.handled = performance.now();
        all.resolve();
      }
    },
  };
  return probe;
};

/** Runs a host with `plugins` until `until` resolves; the scope (and host) is closed after. */
export const withHost = async <T>(
  plugins: ReadonlyArray<AnyPlugin>,
  db: TestDatabase,
  natsUrl: string,
  until: () => Promise<T>,
): Promise<T> => {
  const scope = Effect.runSync(Scope.make());
  try {
    await Effect.runPromise(
      startHost(plugins, { name: "bench", db: { url: db.url }, nats: { servers: natsUrl } }).pipe(
        Scope.extend(scope),
        Logger.withMinimumLogLevel(LogLevel.Warning),
      ),
    );
    return await until();
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void));
  }
};

const publishMessages = (client: JsClient, subject: string, tag: string, n: number, window: number) =>
  publishAll(client.js, n, (i) => ({ subject, data: body({ n: i }), msgID: `${tag}-${i}` }), window);

/** Raw consume + a postgres.js transaction per `batch` messages with the runtime's inbox insert. */
const inboxFloor = async (
  client: JsClient,
  db: TestDatabase,
  subject: string,
  durable: string,
  n: number,
  batch: number,
) => {
  await addConsumer(client.jsm, Streams.cmd.name, durable, subject);
  const ms = await consumeN(client, Streams.cmd.name, durable, n, {
    maxMessages: batch === 1 ? 100 : Math.max(100, batch * 4),
    batch,
    concurrency: 4,
    work: async (messages) => {
      await db.sql.begin(
        (tx) =>
          tx`insert into inbox ${tx(
            messages.map((m) => ({
              consumer: durable,
              message_id: m.headers?.get("Nats-Msg-Id") ?? String(m.seq),
            })),
          )} on conflict do nothing returning message_id`,
      );
    },
  });
  await client.jsm.consumers.delete(Streams.cmd.name, durable);
  return rate(n, ms);
};

export const runRuntimeNoop = (config: BenchConfig): Promise<ReadonlyArray<Figure>> =>
  withNatsServer((server) =>
    withDatabase(async (db) => {
      const client = await connectJetStream(server.url);
      const n = config.messages;
      const size = config.batchSize;
      const raw: number[] = [];
      const floorSingle: number[] = [];
      const floorBatch: number[] = [];
      const single: number[] = [];
      const batch: number[] = [];
      const singleContract = benchContract("noop");
      const batchContract = benchContract("noopbatch");
      const timeoutMs = 300_000;
      try {
        for (let rep = 0; rep < config.reps; rep++) {
          // raw consume + ack on this server: the baseline of the ratio
          const rawSubject = `leadflow.cmd.bench.noopraw.r${rep}`;
          await publishMessages(client, rawSubject, `noopraw-${rep}`, n, config.publishWindow);
          await addConsumer(client.jsm, Streams.cmd.name, `bench-noopraw-${rep}`, rawSubject);
          raw.push(
            rate(
              n,
              await consumeN(client, Streams.cmd.name, `bench-noopraw-${rep}`, n, {
                maxMessages: 100,
                batch: 1,
                concurrency: 1,
              }),
            ),
          );
          await client.jsm.consumers.delete(Streams.cmd.name, `bench-noopraw-${rep}`);

          // the Postgres floor: one inbox transaction per message / per batch, no runtime
          await db.sql`truncate inbox`;
          const fsSubject = `leadflow.cmd.bench.floor1.r${rep}`;
          await publishMessages(client, fsSubject, `floor1-${rep}`, n, config.publishWindow);
          floorSingle.push(await inboxFloor(client, db, fsSubject, `bench-floor1-${rep}`, n, 1));
          await db.sql`truncate inbox`;
          const fbSubject = `leadflow.cmd.bench.floorb.r${rep}`;
          await publishMessages(client, fbSubject, `floorb-${rep}`, n, config.publishWindow);
          floorBatch.push(await inboxFloor(client, db, fbSubject, `bench-floorb-${rep}`, n, size));

          // the runtime, single mode: a no-op handler, default concurrency (4)
          await db.sql`truncate inbox`;
          await publishMessages(
            client,
            singleContract.subject({ n: 0 }),
            `noop-${rep}`,
            n,
            config.publishWindow,
          );
          const p1 = makeProbe(n);
          const singlePlugin = definePlugin({
            name: "bench",
            consumers: [{ contract: singleContract, handle: () => Effect.sync(() => p1.add(1)) }],
          });
          const singleEnd = await withHost([singlePlugin], db, server.url, async () => {
            await withTimeout(p1.all, timeoutMs, `${n} no-op messages`);
            return waitConsumerDrained(client.jsm, Streams.cmd.name, `bench-${singleContract.name}`);
          });
          single.push(rate(n, singleEnd - p1.first));

          // the runtime, batch mode: a no-op batch handler, batches of `size`
          await db.sql`truncate inbox`;
          await publishMessages(
            client,
            batchContract.subject({ n: 0 }),
            `noopbatch-${rep}`,
            n,
            config.publishWindow,
          );
          const p2 = makeProbe(n);
          const batchPlugin = definePlugin({
            name: "bench",
            consumers: [
              {
                contract: batchContract,
                batch: { size, handle: (items) => Effect.sync(() => p2.add(items.length)) },
              },
            ],
          });
          const batchEnd = await withHost([batchPlugin], db, server.url, async () => {
            await withTimeout(p2.all, timeoutMs, `${n} no-op messages (batch mode)`);
            return waitConsumerDrained(client.jsm, Streams.cmd.name, `bench-${batchContract.name}`);
          });
          batch.push(rate(n, batchEnd - p2.first));
          log(
            `runtime rep ${rep + 1}/${config.reps}: raw ${fmt(raw.at(-1)!)}, inbox tx/msg ${fmt(floorSingle.at(-1)!)}, inbox tx/${size} ${fmt(floorBatch.at(-1)!)}, runtime single ${fmt(single.at(-1)!)}, runtime batch ${fmt(batch.at(-1)!)} msg/s`,
          );
        }
      } finally {
        await client.close();
      }
      const rawS = summarize(raw);
      const floorSingleS = summarize(floorSingle);
      const floorBatchS = summarize(floorBatch);
      const singleS = summarize(single);
      const batchS = summarize(batch);
      const rawBaseline = { label: "raw consume + ack (same server)", unit: "msg/s", value: rawS };
      const usPerMsg = (r: number) => `${fmt(1e6 / r)} µs/msg`;
      return [
        {
          id: "runtime.raw",
          group,
          label: "raw consume + ack, max_messages=100 (in-context baseline)",
          unit: "msg/s",
          value: rawS,
          note: usPerMsg(rawS.median),
        },
        {
          id: "runtime.floor.txPerMessage",
          group,
          label: "raw consume + 1 inbox tx per msg, 4 in flight (no runtime)",
          unit: "msg/s",
          value: floorSingleS,
          baseline: rawBaseline,
          ratio: ratioOf(floorSingleS, rawS),
          note: `Postgres floor of single mode: ${usPerMsg(floorSingleS.median)}`,
        },
        {
          id: "runtime.floor.txPerBatch",
          group,
          label: `raw consume + 1 inbox tx per ${size} msgs, 4 in flight (no runtime)`,
          unit: "msg/s",
          value: floorBatchS,
          baseline: rawBaseline,
          ratio: ratioOf(floorBatchS, rawS),
          note: `Postgres floor of batch mode: ${usPerMsg(floorBatchS.median)}`,
        },
        {
          id: "runtime.single",
          group,
          label: "runtime no-op, single mode (concurrency 4)",
          unit: "msg/s",
          value: singleS,
          baseline: rawBaseline,
          ratio: ratioOf(singleS, rawS),
          target: { text: "≥ 50 % of raw", met: ratioOf(singleS, rawS) >= 0.5 },
          note: `${fmt(ratioOf(singleS, floorSingleS) * 100)} % of its Postgres floor`,
        },
        {
          id: "runtime.batch",
          group,
          label: `runtime no-op, batch mode (size ${size}, concurrency 4)`,
          unit: "msg/s",
          value: batchS,
          baseline: rawBaseline,
          ratio: ratioOf(batchS, rawS),
          target: { text: "≥ 50 % of raw", met: ratioOf(batchS, rawS) >= 0.5 },
          note: `${fmt(ratioOf(batchS, floorBatchS) * 100)} % of its Postgres floor`,
        },
      ] satisfies Figure[];
    }),
  );
