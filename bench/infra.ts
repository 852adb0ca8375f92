/**
 * Shared plumbing for the benchmarks: configuration from the environment, a nats-server and
 * a database per benchmark, JetStream helpers, and a registry of child processes so none is
 * left behind, whatever happens.
 */
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Headers, RunStartContract } from "@leadflow/contracts";
import { provisionStreams } from "@leadflow/runtime";
import { NatsServerProcess } from "@leadflow/runtime/embedded";
import { adminUrl, createTestDatabase, type TestDatabase } from "@leadflow/testkit";
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { connect, type MsgHdrs, type NatsConnection, headers as natsHeaders } from "@nats-io/transport-node";
import { Effect } from "effect";
import postgres from "postgres";

// ---------------------------------------------------------------------------------------------
// configuration

const int = (name: string, fallback: number): number => {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
};

const num = (name: string, fallback: number): number => {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
};

const list = (name: string, fallback: ReadonlyArray<string>): ReadonlyArray<string> => {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  return raw
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
};

const quick = process.env.BENCH_QUICK === "1" || process.env.BENCH_QUICK === "true";

export interface BenchConfig {
  readonly quick: boolean;
  /** Repetitions of each micro benchmark (medians are printed). */
  readonly reps: number;
  /** Messages per repetition in benchmarks 1–3. */
  readonly messages: number;
  /**
   * Batch size of benchmark 3 (the insert + outbox plugin in batch mode, and its raw multi-row
   * inserts); benchmark 2 uses the runtime's `defaultMaxGroup`.
   */
  readonly batchSize: number;
  /** Async publishes in flight at once. */
  readonly publishWindow: number;
  /** Repetitions of the end-to-end benchmark, per mode. */
  readonly e2eReps: number;
  /** Runs triggered at once, and companies per run (the contract caps a run at 1000). */
  readonly e2eRuns: number;
  readonly e2eCount: number;
  readonly e2eTimeoutMs: number;
  readonly e2eModes: ReadonlyArray<"postgres" | "pglite">;
  /** Repetitions of the enrichment benchmark, and companies in its run (≤ 1000). */
  readonly enrichReps: number;
  readonly enrichCount: number;
  /** Repetitions of the end-to-end-to-drafts benchmark (same workload as benchmark 4). */
  readonly draftsReps: number;
  /** The clients' rate limit the enrichment benchmark sets (`<P>_RATE_PER_SEC`); the fakes enforce 10/s. */
  readonly enrichClientRate: number;
  /** Which benchmarks to run: raw, runtime, outbox, e2e, enrichment, e2e-drafts, writer. */
  readonly only: ReadonlyArray<string>;
}

export const loadConfig = (): BenchConfig => {
  const modes = list("BENCH_E2E_MODES", ["postgres", "pglite"]);
  for (const m of modes) {
    if (m !== "postgres" && m !== "pglite") throw new Error(`BENCH_E2E_MODES: unknown mode "${m}"`);
  }
  const e2eCount = int("BENCH_E2E_COUNT", 1000);
  if (e2eCount > 1000) throw new Error("BENCH_E2E_COUNT is capped at 1000 by the run contract");
  const enrichCount = int("BENCH_ENRICH_COUNT", quick ? 100 : 300);
  if (enrichCount > 1000) throw new Error("BENCH_ENRICH_COUNT is capped at 1000 by the run contract");
  return {
    quick,
    reps: int("BENCH_REPS", quick ? 3 : 5),
    messages: int("BENCH_MESSAGES", quick ? 2_000 : 10_000),
    batchSize: int("BENCH_BATCH_SIZE", 100),
    publishWindow: int("BENCH_PUBLISH_WINDOW", 1024),
    e2eReps: int("BENCH_E2E_REPS", quick ? 1 : 3),
    e2eRuns: int("BENCH_E2E_RUNS", quick ? 3 : 10),
    e2eCount,
    e2eTimeoutMs: int("BENCH_E2E_TIMEOUT_S", 300) * 1000,
    e2eModes: modes as ReadonlyArray<"postgres" | "pglite">,
    enrichReps: int("BENCH_ENRICH_REPS", quick ? 1 : 2),
    enrichCount,
    enrichClientRate: num("BENCH_ENRICH_CLIENT_RATE", 10),
    draftsReps: int("BENCH_DRAFTS_REPS", quick ? 1 : 2),
    only: list("BENCH_ONLY", [
      "raw",
      "runtime",
      "outbox",
      "e2e",
      "enrichment",
      "e2e-drafts",
      "writer",
      "monitor",
    ]),
  };
};

// ---------------------------------------------------------------------------------------------
// child processes: every pid we start is killed on exit, even on an error or a signal

const livePids = new Set<number>();

export const trackPid = (pid: number | undefined): void => {
  if (pid !== undefined) livePids.add(pid);
};

export const untrackPid = (pid: number | undefined): void => {
  if (pid !== undefined) livePids.delete(pid);
};

const liveDirs = new Set<string>();

/** A temp folder of this bench's, removed when done (or on exit, whatever happens). */
export const makeTempDir = async (prefix: string): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
};

export const removeTempDir = async (dir: string): Promise<void> => {
  await rm(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
};

const killTracked = () => {
  for (const pid of livePids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  livePids.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
};

let guardsInstalled = false;

/** Kills every tracked child when this process exits, however it exits. */
export const installExitGuards = (): void => {
  if (guardsInstalled) return;
  guardsInstalled = true;
  process.on("exit", killTracked);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping child processes\n`);
      process.exit(130);
    });
  }
  process.on("uncaughtException", (error) => {
    process.stderr.write(`bench: uncaught exception: ${error.stack ?? String(error)}\n`);
    process.exit(1);
  });
  process.on("unhandledRejection", (error) => {
    process.stderr.write(`bench: unhandled rejection: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
};

// ---------------------------------------------------------------------------------------------
// services

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A nats-server child of its own (JetStream, file store in a temp folder) for `fn`. */
export const withNatsServer = async <T>(fn: (server: NatsServerProcess) => Promise<T>): Promise<T> => {
  const dir = await makeTempDir("leadflow-bench-nats-");
  let server: NatsServerProcess | undefined;
  try {
    server = await NatsServerProcess.create({ dataDir: dir });
    trackPid(server.pid);
    return await fn(server);
  } finally {
    const pid = server?.pid;
    await server?.stop();
    untrackPid(pid);
    await removeTempDir(dir);
  }
};

export const benchDbPrefix = "lf_bench";

/** A fresh, migrated database on the local PostgreSQL for `fn`, dropped afterwards. */
export const withDatabase = async <T>(fn: (db: TestDatabase) => Promise<T>): Promise<T> => {
  const db = await createTestDatabase(benchDbPrefix);
  try {
    return await fn(db);
  } finally {
    await db.drop();
  }
};

/** Drops databases an earlier bench left behind (its process is gone). */
export const dropStaleDatabases = async (): Promise<string[]> => {
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => undefined });
  const dropped: string[] = [];
  try {
    const rows = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like ${`${benchDbPrefix}\\_%`}`;
    for (const { datname } of rows) {
      const pid = Number(datname.split("_")[2]);
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (error) {
        alive = (error as NodeJS.ErrnoException).code === "EPERM";
      }
      if (alive || !/^[a-z0-9_]+$/.test(datname)) continue;
      await admin.unsafe(`drop database if exists ${datname} with (force)`);
      dropped.push(datname);
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
  return dropped;
};

export interface JsClient {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly close: () => Promise<void>;
}

/**
 * A plain NATS connection (client defaults, as the runtime connects) with JetStream clients,
 * and the runtime's three streams provisioned. `noAsyncTraces` turns off the client's
 * per-request stack capture (an experiment, not the runtime's setting).
 */
export const connectJetStream = async (
  url: string,
  options: { readonly noAsyncTraces?: boolean } = {},
): Promise<JsClient> => {
  const nc = await connect({ servers: url, name: "leadflow-bench", noAsyncTraces: options.noAsyncTraces });
  const jsm = await jetstreamManager(nc);
  // the same stream settings the runtime uses (file storage, work queue, 2 min dedupe window)
  await Effect.runPromise(provisionStreams(jsm));
  return {
    nc,
    js: jetstream(nc),
    jsm,
    close: async () => {
      await nc.drain().catch(() => nc.close());
    },
  };
};

const encoder = new TextEncoder();

/** A small JSON body. */
export const body = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

/**
 * The envelope headers the runtime's outbox relay puts on every message (contract, time,
 * correlation id, W3C traceparent), so consumers see what they see in the pipeline.
 */
export const envelope = (contract: string, correlationId: string, traceparent: string): MsgHdrs => {
  const h = natsHeaders();
  h.set(Headers.contract, contract);
  h.set(Headers.occurredAt, new Date().toISOString());
  h.set(Headers.correlationId, correlationId);
  h.set(Headers.traceparent, traceparent);
  return h;
};

/** A W3C traceparent for one repetition. */
export const traceparentFor = (tag: string): string => {
  const hex = Buffer.from(tag.padEnd(24, "-").slice(0, 24)).toString("hex");
  return `00-${hex.slice(0, 32)}-${hex.slice(32, 48)}-01`;
};

/**
 * Publishes `count` messages with at most `window` acks outstanding; resolves with the
 * elapsed milliseconds once the stream acknowledged every one.
 */
export const publishAll = async (
  js: JetStreamClient,
  count: number,
  make: (i: number) => { subject: string; data: Uint8Array; msgID?: string; headers?: MsgHdrs },
  window: number,
): Promise<number> => {
  let inFlight = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const settle = () => {
    inFlight--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    while (inFlight >= window) await new Promise<void>((r) => (wake = r));
    if (failure) break;
    const { subject, data, msgID, headers } = make(i);
    inFlight++;
    js.publish(subject, data, { msgID, headers }).then(settle, (error) => {
      failure ??= error;
      settle();
    });
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  if (failure) throw failure;
  return performance.now() - started;
};

/** Adds a durable pull consumer with explicit acks on one subject. */
export const addConsumer = (
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  subject: string,
  maxAckPending = 10_000,
) =>
  jsm.consumers.add(stream, {
    durable_name: durable,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: maxAckPending,
    ack_wait: 60_000_000_000,
  });

export interface ConsumeOptions {
  /** `consume({ max_messages })`: how many messages the client keeps requested. */
  readonly maxMessages: number;
  /** Messages handed to `work` at once. */
  readonly batch: number;
  /** Calls of `work` in flight at once. */
  readonly concurrency: number;
  /** The work done before the messages are acked (none: ack at once). */
  readonly work?: (messages: ReadonlyArray<JsMsg>) => Promise<void>;
}

/**
 * Consumes `count` messages with `consumer.consume()` and acks each after `work`; measures from
 * the first delivery to the last ack flushed to the server (a round trip after the last ack), and
 * the CPU time this process spent in that window.
 */
export const consumeN = async (
  client: JsClient,
  stream: string,
  durable: string,
  count: number,
  options: ConsumeOptions,
): Promise<{ ms: number; cpuUs: number }> => {
  const consumer = await client.js.consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: options.maxMessages });
  let first: number | undefined;
  let cpu0: NodeJS.CpuUsage | undefined;
  let received = 0;
  let acked = 0;
  let inFlight = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  let finished!: () => void;
  const allAcked = new Promise<void>((r) => (finished = r));
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let pending: JsMsg[] = [];
  const dispatch = async (batch: JsMsg[]) => {
    while (inFlight >= options.concurrency) await new Promise<void>((r) => (wake = r));
    inFlight++;
    const done = () => {
      for (const m of batch) m.ack();
      acked += batch.length;
      inFlight--;
      signal();
      if (acked >= count) finished();
    };
    if (!options.work) return done();
    options.work(batch).then(done, (error) => {
      failure ??= error;
      messages.stop(); // ends the loop below
      finished();
    });
  };
  for await (const m of messages) {
    if (first === undefined) {
      first = performance.now();
      cpu0 = process.cpuUsage();
    }
    if (!options.work) {
      // nothing to do but ack: no batching, no bookkeeping
      m.ack();
      if (++received >= count) break;
      continue;
    }
    pending.push(m);
    received++;
    if (pending.length >= options.batch || received >= count) {
      const batch = pending;
      pending = [];
      await dispatch(batch);
    }
    if (received >= count) break;
  }
  if (!options.work) finished();
  await allAcked;
  await client.nc.flush();
  const elapsed = performance.now() - first!;
  const cpu = process.cpuUsage(cpu0);
  messages.stop();
  if (failure) throw failure;
  return { ms: elapsed, cpuUs: cpu.user + cpu.system };
};

/**
 * Consumes `count` messages with `consumer.consume({ callback })` and acks each at once: the
 * client's callback delivery, which skips its async iterator (and with it the pull's
 * backpressure: the next pull goes out as messages arrive, not as they are read). Measured like
 * `consumeN`.
 */
export const consumeNCallback = async (
  client: JsClient,
  stream: string,
  durable: string,
  count: number,
  maxMessages: number,
): Promise<{ ms: number; cpuUs: number }> => {
  const consumer = await client.js.consumers.get(stream, durable);
  let received = 0;
  let first = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  const all = deferred<void>();
  const messages = await consumer.consume({
    max_messages: maxMessages,
    callback: (m) => {
      if (received === 0) {
        first = performance.now();
        cpu0 = process.cpuUsage();
      }
      m.ack();
      if (++received === count) all.resolve();
    },
  });
  await all.promise;
  await client.nc.flush();
  const elapsed = performance.now() - first;
  const cpu = process.cpuUsage(cpu0);
  messages.stop();
  return { ms: elapsed, cpuUs: cpu.user + cpu.system };
};

/** Polls the consumer until nothing is pending or unacknowledged; resolves with that moment. */
export const waitConsumerDrained = async (
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  timeoutMs = 120_000,
): Promise<number> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await jsm.consumers.info(stream, durable);
    if (info.num_pending === 0 && info.num_ack_pending === 0) return performance.now();
    if (Date.now() > deadline) {
      throw new Error(
        `consumer ${durable} not drained after ${timeoutMs} ms (pending ${info.num_pending}, ack pending ${info.num_ack_pending})`,
      );
    }
    await sleep(5);
  }
};

/** A promise with its resolve, for counters that complete it from a handler. */
export const deferred = <T = void>() => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** Rejects after `ms` with a message naming what did not happen. */
export const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

/** Progress on stderr, so stdout keeps only the report. */
export const log = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};

/**
 * Publishes `n` bench messages `{"n": i}` to `subject` as the pipeline would: `Nats-Msg-Id`
 * `<tag>-<i>` and the runtime's envelope headers. Resolves with the elapsed milliseconds.
 */
export const publishBench = (
  client: JsClient,
  subject: string,
  contractName: string,
  tag: string,
  n: number,
  window: number,
): Promise<number> => {
  const traceparent = traceparentFor(tag);
  return publishAll(
    client.js,
    n,
    (i) => ({
      subject,
      data: body({ n: i }),
      msgID: `${tag}-${i}`,
      headers: envelope(contractName, tag, traceparent),
    }),
    window,
  );
};

// ---------------------------------------------------------------------------------------------
// triggering runs

export interface RunRequest {
  readonly requestId: string;
  readonly industry: string;
  readonly location: string;
  readonly count: number;
}

/**
 * Triggers the runs at once and resolves once every one is `awaiting_approval` (its
 * `leadflow.evt.run.<id>.awaiting_approval` event); rejects when one fails, or after `timeoutMs`.
 * Returns `performance.now()` at the trigger and at the last run's arrival.
 * Benchmarks 4–6 all trigger through here.
 */
export const runToGate = async (
  client: JsClient,
  runs: ReadonlyArray<RunRequest>,
  timeoutMs: number,
  options: {
    /** Runs once the run events are subscribed, right before the clock starts (e.g. CPU counters). */
    readonly beforeTrigger?: () => Promise<void>;
  } = {},
): Promise<{ readonly started: number; readonly finished: number }> => {
  const pending = new Set(runs.map((r) => r.requestId));
  const done = deferred<number>();
  done.promise.catch(() => undefined); // a run may fail before anyone awaits
  const sub = client.nc.subscribe("leadflow.evt.run.>", {
    callback: (_err, msg) => {
      const [, , , runId, status] = msg.subject.split(".");
      if (!runId || !pending.has(runId)) return;
      if (status === "awaiting_approval") {
        pending.delete(runId);
        if (pending.size === 0) done.resolve(performance.now());
      } else if (status === "failed" || status === "rejected" || status === "completed") {
        done.reject(
          new Error(`run ${runId} ended ${status}: ${new TextDecoder().decode(msg.data).slice(0, 500)}`),
        );
      }
    },
  });
  try {
    await client.nc.flush();
    await options.beforeTrigger?.();
    const started = performance.now();
    await Promise.all(
      runs.map((run) => {
        const h = natsHeaders();
        h.set(Headers.correlationId, run.requestId);
        return client.js.publish(
          RunStartContract.subject({ industry: "", location: "", count: 1 }),
          body(run),
          { msgID: run.requestId, headers: h },
        );
      }),
    );
    const finished = await withTimeout(
      done.promise,
      timeoutMs,
      `${runs.length} run(s) to reach awaiting_approval (${pending.size} still on the way)`,
    );
    return { started, finished };
  } finally {
    sub.unsubscribe();
  }
};
