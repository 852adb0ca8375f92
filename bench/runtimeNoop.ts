/**
 * Benchmark 2 — the runtime with a handler that does nothing: the same N messages handled by a
 * plugin (`definePlugin` + `startHost`), in single mode (a handler call per message; messages
 * waiting together share a transaction, up to the runtime's `defaultMaxGroup`: group commit; the
 * default concurrency of 4) and in batch mode (`batch: { size: defaultMaxGroup }`, so both modes
 * pull alike and one raw baseline, pulling as much, serves both).
 *
 * Runtime messages cost a Postgres transaction (the inbox insert, by design) per group or batch, so besides
 * the raw consume + ack baseline this measures that floor without the runtime — raw consume +
 * one postgres.js transaction with the same inbox insert, per message and per batch — and, to
 * tell the runtime's own cost from Postgres's, the transaction alone without NATS: a plain
 * postgres.js `begin` loop against the runtime's `transactional` (Effect) loop. Every row also
 * reports the CPU time this process spent per message, and where measured, nats-server's and
 * the database's Postgres backends' (the rest of the two cores' work the ratio depends on). A
 * warm-up pass of everything runs first and is not recorded (steady state is what the target
 * is about; the first pass of the runtime measured mostly V8 compiling its code: 40–60 % below
 * the later passes, 24 Nov).
 */
import { contract, Streams } from "@leadflow/contracts";
import {
  type AnyPlugin,
  Db,
  defaultMaxGroup,
  definePlugin,
  makeDb,
  OutboxRelay,
  query,
  startHost,
  transactional,
} from "@leadflow/runtime";
import type { TestDatabase } from "@leadflow/testkit";
import { Effect, Exit, Logger, LogLevel, Schema, Scope } from "effect";
import { backendCpu, backendCpuSince, cpuSeconds } from "./endToEnd.js";
import {
  addConsumer,
  type BenchConfig,
  connectJetStream,
  consumeN,
  consumeNCallback,
  deferred,
  type JsClient,
  log,
  publishBench,
  waitConsumerDrained,
  withDatabase,
  withNatsServer,
  withTimeout,
} from "./infra.js";
import { type Figure, fmt, rate, ratioOf, type Summary, summarize } from "./stats.js";

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

/**
 * Counts handled messages: the first one starts the clock (and the CPU clock), the N-th
 * resolves `all`.
 */
export const makeProbe = (expected: number) => {
  const all = deferred<void>();
  const probe = {
    count: 0,
    first: 0,
    cpu: undefined as NodeJS.CpuUsage | undefined,
    handled: 0,
    all: all.promise,
    add(k: number) {
      if (probe.count === 0) {
        probe.first = performance.now();
        probe.cpu = process.cpuUsage();
      }
      probe.count += k;
      if (probe.count >= expected && probe.handled === 0) {
        probe.handled = performance.now();
        all.resolve();
      }
    },
    /** CPU microseconds this process spent since the first message. */
    cpuSinceFirst() {
      const d = process.cpuUsage(probe.cpu);
      return d.user + d.system;
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
  publishBench(client, subject, "bench-noop", tag, n, window);

/**
 * Raw consume + a postgres.js transaction per `batch` messages with the runtime's inbox insert,
 * the message id read through the client's header object (the plain way).
 */
const inboxFloor = async (
  client: JsClient,
  db: TestDatabase,
  subject: string,
  durable: string,
  n: number,
  batch: number,
) => {
  await addConsumer(client.jsm, Streams.cmd.name, durable, subject);
  const result = await consumeN(client, Streams.cmd.name, durable, n, {
    maxMessages: batch === 1 ? 100 : Math.max(100, batch * 4),
    batch,
    concurrency: 4,
    work: async (messages) => {
      // the runtime's statement for a group of new messages (one array parameter, nothing back)
      await db.sql.begin(
        (tx) =>
          tx`insert into inbox (consumer, message_id) select ${durable}, unnest(${messages.map(
            (m) => m.headers?.get("Nats-Msg-Id") ?? String(m.seq),
          )}::text[])`,
      );
    },
  });
  await client.jsm.consumers.delete(Streams.cmd.name, durable);
  return result;
};

/** `count` transactions, 4 at once, each one inbox insert: plain postgres.js, no NATS. */
const plainTxLoop = async (db: TestDatabase, tag: string, count: number) => {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await db.sql.begin(
        (tx) =>
          tx`insert into inbox ${tx({ consumer: tag, message_id: `${tag}-${i}` })} on conflict do nothing returning message_id`,
      );
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const cpu = process.cpuUsage(cpu0);
  return { ms: performance.now() - started, cpuUs: cpu.user + cpu.system };
};

/** The same through the runtime's `transactional` (Effect, outbox bookkeeping), no NATS. */
const effectTxLoop = (db: TestDatabase, tag: string, count: number) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const shape = yield* makeDb({ url: db.url });
        const started = performance.now();
        const cpu0 = process.cpuUsage();
        yield* Effect.forEach(
          Array.from({ length: count }, (_, i) => i),
          (i) =>
            transactional((ctx) =>
              query(
                ctx.tx`insert into inbox ${ctx.tx({ consumer: tag, message_id: `${tag}-${i}` })} on conflict do nothing returning message_id`,
              ),
            ),
          { concurrency: 4, discard: true },
        ).pipe(
          Effect.provideService(Db, shape),
          Effect.provideService(OutboxRelay, { wake: Effect.void, flush: Effect.succeed(0) }),
        );
        const cpu = process.cpuUsage(cpu0);
        return { ms: performance.now() - started, cpuUs: cpu.user + cpu.system };
      }),
    ),
  );

interface Series {
  readonly rates: number[];
  readonly cpuPerMsg: number[];
  /** CPU µs per message of nats-server and of the database's backends, where measured. */
  readonly natsPerMsg: number[];
  readonly pgPerMsg: number[];
}

interface Sample {
  readonly ms: number;
  readonly cpuUs: number;
  readonly others?: { readonly natsS: number; readonly pgS: number };
}

const series = (): Series => ({ rates: [], cpuPerMsg: [], natsPerMsg: [], pgPerMsg: [] });
const recordSample = (s: Series, count: number, r: Sample) => {
  s.rates.push(rate(count, r.ms));
  s.cpuPerMsg.push(r.cpuUs / count);
  if (r.others) {
    s.natsPerMsg.push((r.others.natsS * 1e6) / count);
    s.pgPerMsg.push((r.others.pgS * 1e6) / count);
  }
};

/** CPU seconds so far of nats-server and of this database's Postgres backends (/proc). */
const otherCpu = async (db: TestDatabase, natsPid: number | undefined) => ({
  nats: natsPid === undefined ? 0 : await cpuSeconds(natsPid),
  pg: await backendCpu(db.sql),
});

/** What they spent since `before`: the rest of the machine's work per message. */
const otherCpuSince = async (
  db: TestDatabase,
  natsPid: number | undefined,
  before: Awaited<ReturnType<typeof otherCpu>>,
) => {
  const after = await otherCpu(db, natsPid);
  return { natsS: after.nats - before.nats, pgS: backendCpuSince(before.pg, after.pg) };
};

export const runRuntimeNoop = (config: BenchConfig): Promise<ReadonlyArray<Figure>> =>
  withNatsServer((server) =>
    withDatabase(async (db) => {
      const client = await connectJetStream(server.url);
      const n = config.messages;
      const txN = Math.min(n, 3000);
      const size = defaultMaxGroup;
      // what the runtime asks for per pull: concurrency (4) × group or batch size
      const rawPull = 4 * size;
      const raw = series();
      const rawCallback = series();
      const rawGroupAck = series();
      const floorSingle = series();
      const floorBatch = series();
      const plainTx = series();
      const effectTx = series();
      const single = series();
      const batch = series();
      const singleContract = benchContract("noop");
      const batchContract = benchContract("noopbatch");
      const timeoutMs = 300_000;
      const withOthers = async (measure: () => Promise<{ ms: number; cpuUs: number }>): Promise<Sample> => {
        const before = await otherCpu(db, server.pid);
        const sample = await measure();
        return { ...sample, others: await otherCpuSince(db, server.pid, before) };
      };
      try {
        // rep -1 is a warm-up pass, not recorded: the runtime's code paths are far longer than the
        // raw loop's, so a cold first pass measures V8 compiling them more than the runtime
        for (let rep = -1; rep < config.reps; rep++) {
          const record = rep < 0 ? () => undefined : recordSample;
          // raw consume + ack on this server: the baseline of the ratio, pulling as many at a
          // time as the runtime does (4 workers × 100: a bigger pull is faster, raw too)
          const rawSubject = `leadflow.cmd.bench.noopraw.r${rep}`;
          await publishMessages(client, rawSubject, `noopraw-${rep}`, n, config.publishWindow);
          await addConsumer(client.jsm, Streams.cmd.name, `bench-noopraw-${rep}`, rawSubject);
          record(
            raw,
            n,
            await withOthers(() =>
              consumeN(client, Streams.cmd.name, `bench-noopraw-${rep}`, n, {
                maxMessages: rawPull,
                batch: 1,
                concurrency: 1,
              }),
            ),
          );
          await client.jsm.consumers.delete(Streams.cmd.name, `bench-noopraw-${rep}`);
          // the same with the client's callback delivery: what its async iterator costs
          const cbSubject = `leadflow.cmd.bench.nooprawcb.r${rep}`;
          await publishMessages(client, cbSubject, `nooprawcb-${rep}`, n, config.publishWindow);
          await addConsumer(client.jsm, Streams.cmd.name, `bench-nooprawcb-${rep}`, cbSubject);
          record(
            rawCallback,
            n,
            await consumeNCallback(client, Streams.cmd.name, `bench-nooprawcb-${rep}`, n, rawPull),
          );
          await client.jsm.consumers.delete(Streams.cmd.name, `bench-nooprawcb-${rep}`);
          // the iterator again, acking in groups of `size` as the runtime does (one socket write
          // per group instead of one per message): what the runtime's consumption costs without
          // its inbox, codec and handlers
          const gaSubject = `leadflow.cmd.bench.nooprawga.r${rep}`;
          await publishMessages(client, gaSubject, `nooprawga-${rep}`, n, config.publishWindow);
          await addConsumer(client.jsm, Streams.cmd.name, `bench-nooprawga-${rep}`, gaSubject);
          record(
            rawGroupAck,
            n,
            await withOthers(() =>
              consumeN(client, Streams.cmd.name, `bench-nooprawga-${rep}`, n, {
                maxMessages: rawPull,
                batch: size,
                concurrency: 4,
                work: () => Promise.resolve(),
              }),
            ),
          );
          await client.jsm.consumers.delete(Streams.cmd.name, `bench-nooprawga-${rep}`);

          // the Postgres floor: one inbox transaction per message / per batch, no runtime
          await db.sql`truncate inbox`;
          const fsSubject = `leadflow.cmd.bench.floor1.r${rep}`;
          await publishMessages(client, fsSubject, `floor1-${rep}`, n, config.publishWindow);
          record(floorSingle, n, await inboxFloor(client, db, fsSubject, `bench-floor1-${rep}`, n, 1));
          await db.sql`truncate inbox`;
          const fbSubject = `leadflow.cmd.bench.floorb.r${rep}`;
          await publishMessages(client, fbSubject, `floorb-${rep}`, n, config.publishWindow);
          record(
            floorBatch,
            n,
            await withOthers(() => inboxFloor(client, db, fbSubject, `bench-floorb-${rep}`, n, size)),
          );

          // the transaction alone, no NATS: postgres.js vs the runtime's Effect wrapper
          await db.sql`truncate inbox`;
          record(plainTx, txN, await plainTxLoop(db, `plain-${rep}`, txN));
          await db.sql`truncate inbox`;
          record(effectTx, txN, await effectTxLoop(db, `effect-${rep}`, txN));

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
          // the host's backends start with it: they count from zero
          const singleOthers = await otherCpu(db, server.pid);
          const singleEnd = await withHost([singlePlugin], db, server.url, async () => {
            await withTimeout(p1.all, timeoutMs, `${n} no-op messages`);
            const end = await waitConsumerDrained(
              client.jsm,
              Streams.cmd.name,
              `bench-${singleContract.name}`,
            );
            const cpuUs = p1.cpuSinceFirst();
            return { ms: end - p1.first, cpuUs, others: await otherCpuSince(db, server.pid, singleOthers) };
          });
          record(single, n, singleEnd);

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
          const batchOthers = await otherCpu(db, server.pid);
          const batchEnd = await withHost([batchPlugin], db, server.url, async () => {
            await withTimeout(p2.all, timeoutMs, `${n} no-op messages (batch mode)`);
            const end = await waitConsumerDrained(
              client.jsm,
              Streams.cmd.name,
              `bench-${batchContract.name}`,
            );
            const cpuUs = p2.cpuSinceFirst();
            return { ms: end - p2.first, cpuUs, others: await otherCpuSince(db, server.pid, batchOthers) };
          });
          record(batch, n, batchEnd);
          if (rep < 0) {
            log("runtime: warm-up pass done");
            continue;
          }
          log(
            `runtime rep ${rep + 1}/${config.reps}: raw ${fmt(raw.rates.at(-1)!)}, inbox tx/msg ${fmt(floorSingle.rates.at(-1)!)}, inbox tx/${size} ${fmt(floorBatch.rates.at(-1)!)}, tx loop plain ${fmt(plainTx.rates.at(-1)!)} / Effect ${fmt(effectTx.rates.at(-1)!)}, runtime single ${fmt(single.rates.at(-1)!)}, runtime batch ${fmt(batch.rates.at(-1)!)} msg/s`,
          );
        }
      } finally {
        await client.close();
      }
      const s = (x: Series) => summarize(x.rates);
      const cpu = (x: Series) =>
        `CPU ${fmt(summarize(x.cpuPerMsg).median)} µs/msg in this process` +
        (x.natsPerMsg.length > 0
          ? `, ${fmt(summarize(x.natsPerMsg).median)} in nats-server, ${fmt(summarize(x.pgPerMsg).median)} in Postgres (/proc, 10 ms ticks: ± 1 µs)`
          : "");
      const rawS = s(raw);
      // each repetition measures raw consume and the runtime minutes apart: their ratio per
      // repetition shows how far the verdict moves with the host within one run
      const paired = (x: Series) => {
        const ratios = summarize(x.rates.map((r, i) => r / (raw.rates[i] ?? Number.NaN)));
        return `per repetition, against that repetition's raw: ${fmt(ratios.min * 100)} – ${fmt(ratios.max * 100)} % (median ${fmt(ratios.median * 100)} %)`;
      };
      const rawBaseline = { label: "raw consume + ack (same server)", unit: "msg/s", value: rawS };
      const baselineOf = (label: string, unit: string, value: Summary) => ({ label, unit, value });
      return [
        {
          id: "runtime.raw",
          group,
          label: `raw consume + ack, max_messages=${rawPull} (in-context baseline: the runtime's pull)`,
          unit: "msg/s",
          value: rawS,
          note: cpu(raw),
        },
        {
          id: "runtime.raw.callback",
          group,
          label: `raw consume + ack, max_messages=${rawPull}, callback delivery (no iterator)`,
          unit: "msg/s",
          value: s(rawCallback),
          baseline: rawBaseline,
          ratio: ratioOf(s(rawCallback), rawS),
          note: `what the client's async iterator costs; the runtime keeps the iterator (reading it is the pull's backpressure); ${cpu(rawCallback)}`,
        },
        {
          id: "runtime.raw.groupAck",
          group,
          label: `raw consume, max_messages=${rawPull}, acks in groups of ${size} (4 in flight, no work)`,
          unit: "msg/s",
          value: s(rawGroupAck),
          baseline: rawBaseline,
          ratio: ratioOf(s(rawGroupAck), rawS),
          note: `the baseline loop acks each message as it comes, and the client flushes every ack in a socket write of its own; acked a group at a time, as the runtime does, the acks share one write; ${cpu(rawGroupAck)}`,
        },
        {
          id: "runtime.floor.txPerMessage",
          group,
          label: "raw consume + 1 inbox tx per msg, 4 in flight (no runtime)",
          unit: "msg/s",
          value: s(floorSingle),
          baseline: rawBaseline,
          ratio: ratioOf(s(floorSingle), rawS),
          note: `what single mode would cost without group commit; ${cpu(floorSingle)}`,
        },
        {
          id: "runtime.floor.txPerBatch",
          group,
          label: `raw consume + 1 inbox tx per ${size} msgs, 4 in flight (max_messages=${Math.max(100, size * 4)})`,
          unit: "msg/s",
          value: s(floorBatch),
          baseline: rawBaseline,
          ratio: ratioOf(s(floorBatch), rawS),
          note: `Postgres floor of batch mode and of group commit; ${cpu(floorBatch)}`,
        },
        {
          id: "runtime.txLoop.plain",
          group,
          label: `postgres.js: ${txN} inbox txs, 4 at once, no NATS`,
          unit: "tx/s",
          value: s(plainTx),
          note: cpu(plainTx).replace("msg", "tx"),
        },
        {
          id: "runtime.txLoop.effect",
          group,
          label: `runtime transactional(): ${txN} inbox txs, 4 at once, no NATS`,
          unit: "tx/s",
          value: s(effectTx),
          baseline: baselineOf("postgres.js tx loop", "tx/s", s(plainTx)),
          ratio: ratioOf(s(effectTx), s(plainTx)),
          note: cpu(effectTx).replace("msg", "tx"),
        },
        {
          id: "runtime.single",
          group,
          label: `runtime no-op, single mode (group commit ≤ ${size}, concurrency 4)`,
          unit: "msg/s",
          value: s(single),
          baseline: rawBaseline,
          ratio: ratioOf(s(single), rawS),
          target: { text: "≥ 50 % of raw", met: ratioOf(s(single), rawS) >= 0.5 },
          note: `${fmt(ratioOf(s(single), s(floorBatch)) * 100)} % of the floor of a tx per ${size} msgs; ${paired(single)}; ${cpu(single)}`,
        },
        {
          id: "runtime.batch",
          group,
          label: `runtime no-op, batch mode (size ${size}, concurrency 4)`,
          unit: "msg/s",
          value: s(batch),
          baseline: rawBaseline,
          ratio: ratioOf(s(batch), rawS),
          target: { text: "≥ 50 % of raw", met: ratioOf(s(batch), rawS) >= 0.5 },
          note: `${fmt(ratioOf(s(batch), s(floorBatch)) * 100)} % of its Postgres floor; ${paired(batch)}; ${cpu(batch)}`,
        },
      ] satisfies Figure[];
    }),
  );
