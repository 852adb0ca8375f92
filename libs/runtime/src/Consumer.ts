import { type Contract, DeadLetterInfo, deadLetterSubject, Headers, Streams } from "@leadflow/contracts";
import {
  AckPolicy,
  DeliverPolicy,
  type Consumer as JsConsumer,
  type JsMsg,
  type MsgRequest,
} from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import { Cause, Duration, Effect, Either, type Exit, Fiber, Ref, Schedule, Schema, Stream } from "effect";
import {
  decode,
  type Envelope,
  rawHeaderText,
  readEnvelope,
  readEnvelopeText,
  toNatsHeaders,
} from "./Codec.js";
import { Db, query, type Tx } from "./Db.js";
import { DbError, describeError, isDbUnreachable, NatsError, type RoutableError } from "./Errors.js";
import { failpoint, hasFailpoint } from "./Failpoints.js";
import { Mailbox } from "./Mailbox.js";
import { Metrics } from "./Metrics.js";
import { isNotFound, Nats } from "./Nats.js";
import { OutboxRelay } from "./Outbox.js";
import { TransactionContext, type TxContext, transactionalWith } from "./Transactional.js";

/** What a handler knows about the message it is handling. */
export interface MessageMeta {
  readonly consumer: string;
  readonly subject: string;
  readonly streamSeq: number;
  readonly deliveries: number;
  readonly envelope: Envelope;
}

/**
 * The meta of a delivered message. The subject, stream sequence and delivery count are read from
 * the message (the last two parsed out of its reply subject) only when asked for: the usual path
 * (an id in the headers, a handler that succeeds) never does. A class, not an object literal with
 * getters, which V8 builds far more slowly, once per message.
 */
class DeliveredMeta implements MessageMeta {
  constructor(
    readonly consumer: string,
    private readonly m: JsMsg,
    readonly envelope: Envelope,
  ) {}
  get subject() {
    return this.m.subject;
  }
  get streamSeq() {
    return this.m.seq;
  }
  get deliveries() {
    return this.m.info.deliveryCount;
  }
}

/** The handler's view of its transaction: SQL and outbox writes commit together. */
export interface HandlerContext extends TxContext {
  readonly meta: MessageMeta;
}

/** A handler's context: the transaction's, on behalf of one message (one per message of a group). */
class MessageContext extends TransactionContext implements HandlerContext {
  constructor(
    transaction: TransactionContext,
    readonly meta: MessageMeta,
  ) {
    super(transaction.tx, transaction.pending, meta.envelope);
  }
}

export type Handler<A, R> = (message: A, ctx: HandlerContext) => Effect.Effect<void, RoutableError, R>;
/**
 * A batch handler's `ctx` publishes in the envelope of the batch's first message; publish on behalf
 * of one item through `ctx.within(item.meta.envelope)`.
 */
export type BatchHandler<A, R> = (
  items: ReadonlyArray<{ readonly message: A; readonly meta: MessageMeta }>,
  ctx: HandlerContext,
) => Effect.Effect<void, RoutableError, R>;

export interface ConsumerSpec<A, I, R, P = undefined> {
  readonly contract: Contract<A, I>;
  /** Durable name; default `<service>-<contract name>`. Replicas of a service share it. */
  readonly durable?: string;
  /** Messages handled at once (single mode) or batches at once (batch mode). */
  readonly concurrency?: number;
  readonly maxDeliver?: number;
  /** Delay before delivery n+1 after a retryable failure of delivery n (the last entry repeats). */
  readonly backoff?: ReadonlyArray<Duration.DurationInput>;
  readonly ackWait?: Duration.DurationInput;
  readonly handle?: (message: A, ctx: HandlerContext, prepared: P) => Effect.Effect<void, RoutableError, R>;
  /**
   * Slow work without a transaction (provider calls, LLM calls), before `handle` runs in one:
   * a connection is never held while the network is waited on. Its result is `handle`'s third
   * argument. A message already applied (inbox) is skipped before `prepare`. Single mode only.
   */
  readonly prepare?: (message: A, meta: MessageMeta) => Effect.Effect<P, RoutableError, R>;
  /**
   * Group commit (single mode): messages already waiting when a worker is free are handled in
   * one transaction, up to this many — under load one commit serves many messages, idle it adds
   * no delay. A failure re-runs each message of the group alone. Default `defaultMaxGroup`. 1 for
   * slow handlers (a long group would hold back the other workers); always 1 with `prepare`.
   */
  readonly maxGroup?: number;
  /** Batch mode: up to `batch.size` messages in one transaction. */
  readonly batch?: { readonly size: number; readonly handle: BatchHandler<A, R> };
  /** Runs in a transaction before a message that does not decode is dead-lettered. */
  readonly onInvalid?: (
    raw: Uint8Array,
    reasons: ReadonlyArray<string>,
    ctx: HandlerContext,
  ) => Effect.Effect<void, never, R>;
  /** Runs in a transaction before a decoded message is dead-lettered (e.g. to announce a stage failure). */
  readonly onDeadLetter?: (
    message: A,
    error: { readonly tag: string; readonly message: string },
    ctx: HandlerContext,
  ) => Effect.Effect<void, never, R>;
}

/**
 * The group a cheap handler's messages share under load (single mode), and the pull that feeds
 * it: concurrency × this. The inbox transaction is most of what a cheap handler costs, and each
 * transaction costs its round trips and its commit whatever its size, so a consumer with a
 * backlog gains from a bigger group: the no-op consumer went 19k → 40k msg/s from 16 to 100
 * (24 Nov), and from 100 to 250 from 43–47 % to 54–56 % of raw JetStream consume measured in
 * the same runs (47–51k → 60–63k msg/s; raw 108–112k, a fast hour; 200: 50 %, 400: 61 %, 500:
 * 63 %; raw consume gains ≈ 3 % from the bigger pull). Idle, a group is what is waiting.
 */
export const defaultMaxGroup = 250;

export const defaultBackoff: ReadonlyArray<Duration.DurationInput> = [
  "1 second",
  "5 seconds",
  "15 seconds",
  "30 seconds",
];

const nanos = (d: Duration.DurationInput) => Math.round(Duration.toMillis(d) * 1_000_000);

/** How long a pull request of `consume()` stays open on the server. */
const pullExpiresMs = 10_000;

/**
 * The delay of a nak on shutdown. The server keeps this process's open pull requests until they
 * expire (2.9 cannot cancel one), and would redeliver a message nak'd without a delay into them
 * at once: to an inbox no one reads, hidden from the other replicas for a whole ack_wait. Past
 * their expiry it goes to a live pull instead.
 */
const shutdownNakDelayMs = pullExpiresMs + 1_000;

/** Between tries to finish giving up on a message: 1 s, doubling, at most 30 s. */
const deadLetterRetryDelayMs = (tries: number): number => Math.min(30_000, 1_000 * 2 ** (tries - 1));

/** Between tries of messages held while the database is unreachable: 1 s, doubling, at most 10 s. */
const unreachableRetryDelayMs = (tries: number): number => Math.min(10_000, 1_000 * 2 ** (tries - 1));

/**
 * The `DbError` a failure is or wraps (a handler's own error may carry one as its cause). Only
 * that one is read: a provider's connection refused is a provider's outage, with its own retries.
 */
const dbErrorIn = (error: unknown): DbError | undefined => {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e !== null && typeof e === "object"; depth++) {
    if (e instanceof DbError) return e;
    e = (e as { readonly cause?: unknown }).cause;
  }
  return undefined;
};

/** Whether a failure (or defect) is the database being unreachable, not the message's fault. */
const dbUnreachable = (cause: Cause.Cause<unknown>): boolean => {
  for (const e of [...Cause.failures(cause), ...Cause.defects(cause)]) {
    const db = dbErrorIn(e);
    if (db && isDbUnreachable(db)) return true;
  }
  return false;
};

/** Between sweeps for messages whose MAX_DELIVERIES advisory no process was there to get. */
const strandedSweepInterval = Duration.minutes(5);

/** The same, for the advisory path: forever, while the consumer runs. */
const advisoryRetry = Schedule.exponential("1 second").pipe(Schedule.union(Schedule.spaced("30 seconds")));

/** The delay before the next delivery after delivery `deliveries` failed. */
export const backoffDelay = (backoff: ReadonlyArray<Duration.DurationInput>, deliveries: number): number => {
  if (backoff.length === 0) return 0;
  return Duration.toMillis(backoff[Math.min(Math.max(deliveries - 1, 0), backoff.length - 1)]!);
};

/** Creates or updates a durable pull consumer (plain `filter_subject`: 2.9 has no plural form). */
export const ensureConsumer = (
  stream: string,
  config: {
    durable: string;
    filter: string;
    maxDeliver: number;
    ackWait: Duration.DurationInput;
    maxAckPending: number;
  },
) =>
  Effect.flatMap(Nats, ({ jsm }) =>
    Effect.tryPromise({
      try: async () => {
        const settings = {
          ack_policy: AckPolicy.Explicit,
          max_deliver: config.maxDeliver,
          ack_wait: nanos(config.ackWait),
          max_ack_pending: config.maxAckPending,
        };
        try {
          const info = await jsm.consumers.info(stream, config.durable);
          if (
            info.config.max_deliver !== settings.max_deliver ||
            info.config.ack_wait !== settings.ack_wait ||
            info.config.max_ack_pending !== settings.max_ack_pending
          ) {
            await jsm.consumers.update(stream, config.durable, settings);
          }
        } catch (error) {
          if (!isNotFound(error)) throw error;
          await jsm.consumers.add(stream, {
            durable_name: config.durable,
            filter_subject: config.filter,
            deliver_policy: DeliverPolicy.All,
            ...settings,
          });
        }
      },
      catch: (cause) =>
        new NatsError({ message: `cannot create consumer ${config.durable} on ${stream}`, cause }),
    }),
  );

interface Runner {
  readonly durable: string;
  readonly running: Ref.Ref<boolean>;
  /** Stops pulling, hands back what is queued, waits (bounded) for what is in flight. */
  readonly stop: Effect.Effect<void>;
}

const isRetryable = (cause: Cause.Cause<RoutableError>): boolean => {
  const failure = Cause.failureOption(cause);
  // a defect (a bug, or infrastructure that broke mid-call) is worth another try
  if (failure._tag === "None") return true;
  return failure.value.retryable === true;
};

/** Longest a provider's `Retry-After` may hold a message back (an hour: past that, a typo). */
const maxRetryAfterMs = 3_600_000;

/** The failure's `retryAfterMs`, when it has a usable one; else 0. */
const retryAfterOf = (cause: Cause.Cause<RoutableError>): number => {
  const failure = Cause.failureOption(cause);
  const ms = failure._tag === "Some" ? failure.value.retryAfterMs : undefined;
  return typeof ms === "number" && Number.isFinite(ms) && ms > 0 ? Math.min(ms, maxRetryAfterMs) : 0;
};

const causeToError = (cause: Cause.Cause<RoutableError>) => {
  const failure = Cause.failureOption(cause);
  if (failure._tag === "Some") return describeError(failure.value);
  const defect = Cause.dieOption(cause);
  if (defect._tag === "Some") return describeError(defect.value);
  return { tag: "Interrupted", message: Cause.pretty(cause).slice(0, 500) };
};

/**
 * Runs one consumer: a pull consumer feeding a bounded mailbox, `concurrency` workers, inbox
 * dedupe in the handler's transaction, the outbox written in that same transaction, and
 * typed failure routing (nak with backoff, or dead-letter + bare `term()`).
 */
export const runConsumer = <A, I, R, P>(service: string, spec: ConsumerSpec<A, I, R, P>) =>
  Effect.gen(function* () {
    const db = yield* Db;
    const nats = yield* Nats;
    const metrics = yield* Metrics;
    const relay = yield* OutboxRelay;
    const stream = Streams[spec.contract.stream].name;
    const durable = spec.durable ?? `${service}-${spec.contract.name}`;
    const concurrency = spec.concurrency ?? 4;
    const batchSize = spec.batch?.size ?? (spec.prepare ? 1 : Math.max(1, spec.maxGroup ?? defaultMaxGroup));
    const maxDeliver = spec.maxDeliver ?? 5;
    const backoff = spec.backoff ?? defaultBackoff;
    const ackWait = spec.ackWait ?? "15 seconds";
    const ackWaitMs = Duration.toMillis(ackWait);
    const capacity = concurrency * batchSize;
    const running = yield* Ref.make(false);

    yield* ensureConsumer(stream, {
      durable,
      filter: spec.contract.filter,
      maxDeliver,
      ackWait,
      maxAckPending: Math.max(capacity * 4, 64),
    }).pipe(Effect.retry(Schedule.exponential("200 millis").pipe(Schedule.intersect(Schedule.recurs(10)))));

    const mailbox = new Mailbox<JsMsg>(capacity);

    // a message from outside without an id is known by its place in the stream
    const seqId = (m: JsMsg) => `${stream}:${m.seq}`;
    const metaOf = (m: JsMsg): MessageMeta => {
      const text = rawHeaderText(m);
      return new DeliveredMeta(
        durable,
        m,
        text === undefined ? readEnvelope(m.headers, () => seqId(m)) : readEnvelopeText(text, seqId, m),
      );
    };

    /** Runs `body` in a transaction (SQL and outbox commit together) with the message's context. */
    const transact = <X, E, R2>(
      meta: MessageMeta,
      body: (ctx: MessageContext) => Effect.Effect<X, E, R2>,
      afterCommit?: Effect.Effect<void>,
    ) =>
      transactionalWith(db, relay, (ctx) => body(new MessageContext(ctx, meta)), meta.envelope, afterCommit);

    // the live pull, so shutdown can end it first: interrupting a pending iterator read would
    // otherwise wait for an iterator that only ends once it is stopped
    let current: { stop: () => void } | undefined;
    let stopping = false;

    // Messages this process holds: queued or being handled. One ticker per consumer keeps the
    // server from redelivering them while they wait behind a group or a slow handler works
    // (`working()`), instead of a timer per message or batch.
    const held = new Set<JsMsg>();
    const keepAliveMs = Math.max(1000, ackWaitMs / 3);
    const keepAlive = Effect.sync(() => {
      for (const m of held) m.working();
    }).pipe(Effect.repeat(Schedule.spaced(Duration.millis(keepAliveMs))), Effect.delay(keepAliveMs));

    const deadLetter = (
      m: JsMsg,
      error: { tag: string; message: string },
      reason: DeadLetterInfo["reason"],
    ) =>
      Effect.gen(function* () {
        const info: DeadLetterInfo = {
          stream,
          consumer: durable,
          subject: m.subject,
          streamSeq: m.seq,
          deliveries: m.info.deliveryCount,
          error: { tag: error.tag, message: error.message.replace(/[\r\n\0]/g, " ") },
          reason,
          failedAt: new Date().toISOString(),
        };
        yield* failpoint(`consumer.${durable}.before-dead-letter`);
        yield* publishDeadLetter(info, m.data, Object.fromEntries(headerEntries(m.headers)));
        m.term();
        metrics.deadLetters.inc({ consumer: durable, reason });
        yield* Effect.logWarning("message dead-lettered").pipe(
          Effect.annotateLogs({
            consumer: durable,
            subject: m.subject,
            seq: m.seq,
            reason,
            error: info.error.message,
          }),
        );
      });

    const publishDeadLetter = (
      info: DeadLetterInfo,
      data: Uint8Array,
      originalHeaders: Record<string, string>,
    ) =>
      Effect.tryPromise({
        try: () => {
          const h = toNatsHeaders({
            ...originalHeaders,
            [Headers.deadLetter]: JSON.stringify(Schema.encodeSync(DeadLetterInfo)(info)),
          });
          return nats.js.publish(deadLetterSubject(durable), data, {
            headers: h,
            msgID: `dlq:${info.stream}:${info.streamSeq}`,
          });
        },
        catch: (cause) => new NatsError({ message: "cannot publish dead letter", cause }),
      });

    /**
     * Runs a dead-letter hook in a transaction that also records, in the inbox, that it ran for
     * this message: a give-up tried again (the dead letter's publish failed after the hook
     * committed), or raced by the advisory path of another replica, does not apply it twice.
     */
    const deadLetterHook = (
      meta: MessageMeta,
      hook: (ctx: MessageContext) => Effect.Effect<void, never, R>,
    ) =>
      transact(meta, (ctx) =>
        Effect.flatMap(inboxInsertChecked(ctx.tx, [`dead-letter:${meta.envelope.messageId}`]), (fresh) =>
          fresh.size > 0 ? hook(ctx) : Effect.void,
        ),
      );

    // give-ups waiting for their next try, woken by shutdown (their worker is uninterruptible)
    const sleepers = new Set<() => void>();
    const pause = (ms: number) =>
      Effect.async<void>((resume) => {
        if (stopping) return resume(Effect.void);
        const wake = () => {
          clearTimeout(timer);
          sleepers.delete(wake);
          resume(Effect.void);
        };
        const timer = setTimeout(wake, ms);
        sleepers.add(wake);
        return Effect.sync(() => {
          clearTimeout(timer);
          sleepers.delete(wake);
        });
      });

    /**
     * Finishes giving up on a message held by this process: `attempt` (hook, dead letter,
     * `term()`) again and again, with a backoff, until it succeeds. A nak would not do on a last
     * delivery: the server never delivers past `max_deliver`, and the message would stay in the
     * work-queue stream. Meanwhile the message is still held, so the ticker's `working()` keeps
     * it from the server. On shutdown the tries stop: a message with deliveries left goes back
     * (past this process's pulls); one on its last delivery is left unanswered, so its ack
     * deadline runs out, the server gives up on it and the MAX_DELIVERIES advisory hands it to
     * whichever process runs this consumer then (the same hook and dead letter, once).
     */
    const settle = (m: JsMsg, what: string, attempt: Effect.Effect<void, unknown, R>) =>
      Effect.gen(function* () {
        for (let tries = 1; ; tries++) {
          const exit = yield* Effect.exit(attempt);
          if (exit._tag === "Success") return;
          const last = m.info.deliveryCount >= maxDeliver;
          if (stopping) {
            if (!last) m.nak(shutdownNakDelayMs);
            yield* Effect.logError(
              `${what} failed; shutting down, left to ${last ? "the advisory" : "a redelivery"}`,
              exit.cause,
            ).pipe(Effect.annotateLogs({ consumer: durable, seq: m.seq }));
            return;
          }
          const delayMs = deadLetterRetryDelayMs(tries);
          yield* Effect.logError(`${what} failed, will try again`, exit.cause).pipe(
            Effect.annotateLogs({ consumer: durable, seq: m.seq, tries, delayMs }),
          );
          // shutdown wakes it: one more try, then the message is left as above
          yield* pause(delayMs);
        }
      });

    /** A message that failed for good: give the plugin its say, dead-letter it, `term()`. */
    const giveUp = (
      m: JsMsg,
      message: A | undefined,
      error: { tag: string; message: string },
      reason: DeadLetterInfo["reason"],
    ) => {
      const meta = metaOf(m);
      const hook = spec.onDeadLetter;
      return settle(
        m,
        "dead-lettering",
        Effect.gen(function* () {
          if (message !== undefined && hook) yield* deadLetterHook(meta, (ctx) => hook(message, error, ctx));
          yield* deadLetter(m, error, reason);
          metrics.messagesHandled.inc({ consumer: durable, outcome: "dead_letter" });
        }),
      );
    };

    /**
     * Runs `attempt` (a group's handling) again, without spending a delivery, for as long as it
     * fails because the database cannot be reached. A nak would spend one per try: with the
     * stages' 3 deliveries, an outage of ten seconds or so (a failover, a restart) used to
     * dead-letter every message in flight. Meanwhile the messages stay held, so the ticker's
     * `working()` keeps them from the server, and the full mailbox stops the pulls. Shutdown
     * wakes it: one more try, then a failure is routed as usual.
     */
    const whileUnreachable = <X, E>(size: number, attempt: Effect.Effect<X, E, R>) =>
      Effect.flatMap(Effect.exit(attempt), (exit) =>
        exit._tag === "Success" || stopping || !dbUnreachable(exit.cause)
          ? Effect.succeed(exit)
          : holdWhileUnreachable(size, attempt, exit),
      );

    /** The held part of `whileUnreachable`, after a first failure; counted in the gauge meanwhile. */
    const holdWhileUnreachable = <X, E>(
      size: number,
      attempt: Effect.Effect<X, E, R>,
      first: Exit.Exit<X, E>,
    ): Effect.Effect<Exit.Exit<X, E>, never, R> =>
      Effect.acquireUseRelease(
        Effect.sync(() => metrics.waitingForDatabase.inc({ consumer: durable }, size)),
        () =>
          Effect.gen(function* () {
            let exit = first;
            for (let tries = 1; ; tries++) {
              const delayMs = unreachableRetryDelayMs(tries);
              const cause = exit._tag === "Failure" ? exit.cause : Cause.empty;
              yield* Effect.logWarning("database unreachable; holding the messages, will try again").pipe(
                Effect.annotateLogs({
                  consumer: durable,
                  messages: size,
                  tries,
                  delayMs,
                  error: causeToError(cause as Cause.Cause<RoutableError>).message,
                }),
              );
              yield* pause(delayMs);
              exit = yield* Effect.exit(attempt);
              if (exit._tag === "Success" || stopping || !dbUnreachable(exit.cause)) return exit;
            }
          }),
        () => Effect.sync(() => metrics.waitingForDatabase.dec({ consumer: durable }, size)),
      );

    const handleFailure = (m: JsMsg, message: A, cause: Cause.Cause<RoutableError>) =>
      Effect.gen(function* () {
        const error = causeToError(cause);
        const deliveries = m.info.deliveryCount;
        if (isRetryable(cause) && deliveries < maxDeliver) {
          // shutting down: past this process's open pulls, or the redelivery would go to them
          const delay = Math.max(
            backoffDelay(backoff, deliveries),
            retryAfterOf(cause),
            stopping ? shutdownNakDelayMs : 0,
          );
          m.nak(delay);
          metrics.messagesHandled.inc({ consumer: durable, outcome: "retry" });
          yield* Effect.logWarning("handler failed, will retry").pipe(
            Effect.annotateLogs({
              consumer: durable,
              seq: m.seq,
              deliveries,
              delayMs: delay,
              error: error.message,
            }),
          );
          return;
        }
        yield* giveUp(m, message, error, isRetryable(cause) ? "max_deliveries" : "permanent");
      });

    const handleInvalid = (m: JsMsg, reasons: ReadonlyArray<string>) => {
      const hook = spec.onInvalid;
      return settle(
        m,
        "dead-lettering an undecodable message",
        Effect.gen(function* () {
          if (hook) yield* deadLetterHook(metaOf(m), (ctx) => hook(m.data, reasons, ctx));
          yield* deadLetter(m, { tag: "DecodeError", message: reasons.join("; ") }, "undecodable");
          metrics.messagesHandled.inc({ consumer: durable, outcome: "undecodable" });
        }),
      );
    };

    // One statement and two parameters however many messages (not two parameters per row).
    // Usually every message of a group is new, and a plain insert (no conflict handling, nothing
    // returned) costs Postgres and this process a third less than `on conflict do nothing
    // returning` (a speculative insertion and a row back per message: 5.5 vs 9.3 µs a row, wall,
    // 24 Nov). A message applied before (redelivered after a crash, or raced by a replica) makes
    // it fail on the inbox's key; the group then runs again with the checked insert, which skips
    // what was applied.
    const inboxInsert = (tx: Tx, ids: ReadonlyArray<string>) =>
      query(tx`insert into inbox (consumer, message_id) select ${durable}, unnest(${ids}::text[])`);
    const inboxInsertChecked = (tx: Tx, ids: ReadonlyArray<string>) =>
      query(
        tx<{ message_id: string }[]>`insert into inbox (consumer, message_id)
          select ${durable}, unnest(${ids}::text[])
          on conflict do nothing returning message_id`,
      ).pipe(Effect.map((rows) => new Set(rows.map((r) => r.message_id))));

    const runHandler = (
      items: ReadonlyArray<{ message: A; meta: MessageMeta; prepared?: P }>,
      ctx: MessageContext,
    ) => {
      if (spec.batch) return spec.batch.handle(items, ctx);
      const handle = spec.handle!;
      // a group shares one transaction; each message keeps its own meta and envelope
      return Effect.forEach(
        items,
        (item) =>
          handle(
            item.message,
            item.meta === ctx.meta ? ctx : new MessageContext(ctx, item.meta),
            item.prepared as P,
          ),
        { discard: true },
      );
    };

    const alreadyApplied = (meta: MessageMeta) =>
      query(
        () =>
          db.sql`select 1 from inbox where consumer = ${durable} and message_id = ${meta.envelope.messageId}`,
      ).pipe(Effect.map((rows) => rows.length > 0));

    type Prepared = { m: JsMsg; message: A; meta: MessageMeta; prepared?: P };

    /** Runs `prepare` (outside any transaction) unless the message was applied already. */
    const prepareAll = (
      items: ReadonlyArray<{ m: JsMsg; message: A; meta: MessageMeta }>,
    ): Effect.Effect<ReadonlyArray<Prepared>, RoutableError | DbError, R> => {
      const prepare = spec.prepare;
      if (!prepare) return Effect.succeed(items);
      return Effect.forEach(items, (item) =>
        Effect.flatMap(alreadyApplied(item.meta), (done) =>
          done
            ? Effect.succeed<Prepared>(item)
            : Effect.map(prepare(item.message, item.meta), (prepared): Prepared => ({ ...item, prepared })),
        ),
      );
    };

    const handleDecoded = (items: ReadonlyArray<{ m: JsMsg; message: A; meta: MessageMeta }>) =>
      Effect.flatMap(prepareAll(items), (prepared) => commitItems(prepared));

    /** Applies a group in one transaction; the number of messages skipped as applied before. */
    const commitGroup = (items: ReadonlyArray<Prepared>, checked: boolean) =>
      transact(
        items[0]!.meta,
        (ctx) =>
          Effect.gen(function* () {
            const ids = items.map((i) => i.meta.envelope.messageId);
            let todo = items;
            if (!checked) yield* inboxInsert(ctx.tx, ids);
            else {
              const fresh = yield* inboxInsertChecked(ctx.tx, ids);
              // one id twice in a group (a republish of the same message) is applied once
              todo = items.filter((i) => fresh.delete(i.meta.envelope.messageId));
            }
            if (todo.length > 0) yield* runHandler(todo, ctx);
            return items.length - todo.length;
          }),
        failpoint(`consumer.${durable}.after-commit`),
      );

    const commitItems = (items: ReadonlyArray<Prepared>) =>
      commitGroup(items, false).pipe(Effect.catchIf(isInboxConflict, () => commitGroup(items, true)));

    const handleMessages = (messages: ReadonlyArray<JsMsg>) =>
      Effect.gen(function* () {
        const started = performance.now();
        const valid: Array<{ m: JsMsg; message: A; meta: MessageMeta }> = [];
        for (const m of messages) {
          const decoded = decode(spec.contract, m.data);
          if (Either.isLeft(decoded)) yield* handleInvalid(m, decoded.left);
          else valid.push({ m, message: decoded.right, meta: metaOf(m) });
        }
        if (valid.length === 0) return;
        // a process that hangs here looks to the server like one that died: no `working()` for
        // these messages while it does
        const hang = `consumer.${durable}.before-handle`;
        if (hasFailpoint(hang)) {
          for (const v of valid) held.delete(v.m);
          yield* failpoint(hang);
          for (const v of valid) held.add(v.m);
        }
        const exit = yield* whileUnreachable(valid.length, handleDecoded(valid));
        if (exit._tag === "Success") {
          for (const v of valid) v.m.ack();
          const skipped = exit.value;
          if (skipped > 0) metrics.messagesHandled.inc({ consumer: durable, outcome: "skipped" }, skipped);
          if (valid.length - skipped > 0)
            metrics.messagesHandled.inc({ consumer: durable, outcome: "ok" }, valid.length - skipped);
        } else if (valid.length > 1) {
          // one bad message must not sink its batch: handle each alone, each routed on its own
          for (const v of valid) {
            const single = yield* whileUnreachable(1, handleDecoded([v]));
            if (single._tag === "Success") {
              v.m.ack();
              metrics.messagesHandled.inc({
                consumer: durable,
                outcome: single.value > 0 ? "skipped" : "ok",
              });
            } else yield* handleFailure(v.m, v.message, single.cause as Cause.Cause<RoutableError>);
          }
        } else {
          yield* handleFailure(valid[0]!.m, valid[0]!.message, exit.cause as Cause.Cause<RoutableError>);
        }
        metrics.handlerDuration.observe({ consumer: durable }, (performance.now() - started) / 1000);
      }).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            for (const m of messages) held.delete(m);
          }),
        ),
        Effect.uninterruptible,
      );

    // batch mode takes a full batch; single mode shares what is waiting among the workers free to
    // take it, not among all: a worker that comes free while the others work takes a whole group
    // (one commit for all of it), and a burst that finds several free is spread over them. Shared
    // among all four, the no-op consumer's groups stayed small under load and it ran ≈ 20 %
    // slower than batch mode (53k vs 67k msg/s, 24 Nov).
    const takeSize = spec.batch
      ? () => batchSize
      : (waiting: number, takers: number) => Math.min(batchSize, Math.ceil(waiting / takers));
    const worker = Effect.forever(Effect.flatMap(mailbox.take(takeSize), handleMessages));

    /**
     * Moves messages from the pull's iterator into the mailbox: straight in while there is room,
     * waiting only when it is full (the iterator issues the next pull as it is read, so this
     * wait is the backpressure). A plain loop: no Effect stream step per message.
     */
    const feed = (messages: AsyncIterable<JsMsg>) =>
      Effect.tryPromise({
        try: async () => {
          for await (const m of messages) {
            // shutting down: what is still arriving goes straight back
            if (stopping) {
              m.nak(shutdownNakDelayMs);
              continue;
            }
            held.add(m);
            while (!mailbox.offer(m)) {
              await mailbox.space();
              // shutdown drained the mailbox (which made the space): this one goes back too
              if (stopping) {
                held.delete(m);
                m.nak(shutdownNakDelayMs);
                break;
              }
            }
          }
        },
        catch: (e) => new NatsError({ message: "consume failed", cause: e }),
      });

    /** Pulls into the mailbox; when the pull dies (server restart, consumer gone, missed heartbeats) it starts again. */
    const pull = Effect.gen(function* () {
      const consumer: JsConsumer = yield* Effect.tryPromise({
        try: () => nats.js.consumers.get(stream, durable),
        catch: (cause) => new NatsError({ message: `consumer ${durable} unavailable`, cause }),
      });
      yield* Effect.acquireUseRelease(
        Effect.tryPromise({
          try: async () => {
            const messages = await consumer.consume({ max_messages: capacity, expires: pullExpiresMs });
            current = messages;
            if (stopping) messages.stop();
            return messages;
          },
          catch: (cause) => new NatsError({ message: `cannot consume ${durable}`, cause }),
        }),
        (messages) =>
          Effect.gen(function* () {
            yield* Ref.set(running, true);
            // a pull that cannot go on ends, and `pullForever` starts a new one. A plain loop: a
            // status event comes with every pull request, and an Effect stream step per event
            // showed in profiles. It ends when the pull is stopped (the release below).
            void (async () => {
              for await (const event of messages.status()) {
                if (
                  (event.type === "heartbeats_missed" && event.count >= 2) ||
                  event.type === "consumer_not_found" ||
                  event.type === "consumer_deleted" ||
                  event.type === "stream_not_found"
                )
                  messages.stop();
              }
            })().catch(() => undefined);
            yield* feed(messages);
          }),
        (messages) => Effect.sync(() => messages.stop()).pipe(Effect.zipRight(Ref.set(running, false))),
      );
    });

    const pullForever = pull.pipe(
      Effect.catchAll((e) => Effect.logWarning(`consumer ${durable} pull stopped`, describeError(e))),
      Effect.zipRight(
        ensureConsumer(stream, {
          durable,
          filter: spec.contract.filter,
          maxDeliver,
          ackWait,
          maxAckPending: Math.max(capacity * 4, 64),
        }).pipe(Effect.ignore),
      ),
      Effect.zipRight(Effect.sleep("500 millis")),
      Effect.repeat({ while: () => !stopping }),
    );

    const workers = yield* Effect.forkScoped(
      Effect.all(
        Array.from({ length: concurrency }, () => worker),
        { concurrency: "unbounded", discard: true },
      ),
    );
    yield* Effect.forkScoped(keepAlive);

    // The safety net for a last delivery that was never answered (a crash, a hang, a shutdown
    // while its dead-lettering kept failing): 2.9 keeps such a message in the work-queue stream
    // and says so only in this advisory, which is not stored. So it is tried until it succeeds
    // (or this process stops): hook (once, however many replicas got the advisory), dead letter
    // (deduplicated by its id), and the message deleted from the stream — the only way it leaves,
    // as the consumer will never deliver it again.
    if (spec.contract.stream === "cmd") {
      const advisoryDeadLetter = (seq: number) =>
        Effect.gen(function* () {
          const stored = yield* Effect.tryPromise({
            try: () => nats.jsm.streams.getMessage(stream, { seq }),
            catch: (cause) => new NatsError({ message: `cannot read message ${seq}`, cause }),
          });
          // gone: dead-lettered already (by another replica that got the same advisory)
          if (!stored) return;
          const data = stored.data;
          const decoded = decode(spec.contract, data);
          const info: DeadLetterInfo = {
            stream,
            consumer: durable,
            subject: stored.subject,
            streamSeq: seq,
            deliveries: maxDeliver,
            error: {
              tag: "MaxDeliveries",
              message: "delivery limit reached without an answer (handler crashed or timed out)",
            },
            reason: "advisory",
            failedAt: new Date().toISOString(),
          };
          if (Either.isRight(decoded) && spec.onDeadLetter) {
            const hook = spec.onDeadLetter;
            const meta: MessageMeta = {
              consumer: durable,
              subject: stored.subject,
              streamSeq: seq,
              deliveries: maxDeliver,
              envelope: readEnvelope(stored.header, () => `${stream}:${seq}`),
            };
            yield* deadLetterHook(meta, (ctx) => hook(decoded.right, info.error, ctx));
          }
          yield* publishDeadLetter(info, data, Object.fromEntries(headerEntries(stored.header)));
          yield* Effect.tryPromise({
            try: async () => {
              try {
                await nats.jsm.streams.deleteMessage(stream, seq, false);
              } catch (error) {
                // deleted meanwhile (a replica) is as good; anything else is tried again
                if ((await nats.jsm.streams.getMessage(stream, { seq })) !== null) throw error;
              }
            },
            catch: (cause) => new NatsError({ message: `cannot delete message ${seq}`, cause }),
          });
          metrics.deadLetters.inc({ consumer: durable, reason: "advisory" });
          yield* Effect.logWarning("message dead-lettered (advisory)").pipe(
            Effect.annotateLogs({ consumer: durable, subject: stored.subject, seq }),
          );
        }).pipe(
          // a hook that dies (Postgres down under it) is tried again as well
          Effect.sandbox,
          Effect.tapError((c) => Effect.logError("advisory dead-lettering failed, will try again", c)),
          Effect.retry(advisoryRetry),
          // the schedule never ends: this only gives the type its `never`
          Effect.catchAll((c) => Effect.logError("advisory dead-lettering abandoned", c)),
          Effect.annotateLogs({ consumer: durable, seq }),
        );
      // subscribed before the first pull below: a pull is when 2.9 finds a delivery limit reached
      yield* watchAdvisories(stream, durable, advisoryDeadLetter);

      // The advisory is not stored: one raised while no process ran this consumer (every replica
      // down when a last delivery's ack wait ran out) is lost, and its message would stay in the
      // work-queue stream for good. This sweep, at start and every few minutes, finds them. With
      // nothing pending, every message of this consumer's subject up to the last one delivered
      // has had its last delivery: 2.9 delivers in stream order, and a message nak'd or whose
      // ack wait ran out stays in `num_ack_pending` until redelivered. Else those up to the ack
      // floor. Each goes the advisory's way (hook once, dead letter, deleted).
      const sweepStranded = Effect.gen(function* () {
        const info = yield* Effect.tryPromise({
          try: () => nats.jsm.consumers.info(stream, durable),
          catch: (cause) => new NatsError({ message: `cannot read consumer ${durable}`, cause }),
        });
        const bound = info.num_ack_pending === 0 ? info.delivered.stream_seq : info.ack_floor.stream_seq;
        for (let seq = 1; seq <= bound; ) {
          const next = seq;
          const stored = yield* Effect.tryPromise({
            // the server's STREAM.MSG.GET takes `next_by_subj` (2.9 too); the client's type omits it
            try: () =>
              nats.jsm.streams.getMessage(stream, {
                next_by_subj: spec.contract.filter,
                seq: next,
              } as unknown as MsgRequest),
            catch: (cause) => new NatsError({ message: `cannot read ${stream} from ${next}`, cause }),
          });
          if (!stored || stored.seq > bound) return;
          yield* Effect.logWarning("message stranded past its last delivery; dead-lettering it").pipe(
            Effect.annotateLogs({ consumer: durable, seq: stored.seq }),
          );
          yield* advisoryDeadLetter(stored.seq);
          seq = stored.seq + 1;
        }
      }).pipe(
        Effect.catchAll((e) => Effect.logWarning("sweep for stranded messages failed", describeError(e))),
        Effect.annotateLogs({ consumer: durable }),
      );
      yield* Effect.forkScoped(sweepStranded.pipe(Effect.repeat(Schedule.spaced(strandedSweepInterval))));
    }

    const puller = yield* Effect.forkScoped(pullForever);

    // Shutdown, within a budget that leaves the host's deadline (25 s in `launch`) room for
    // the outbox flush, the NATS drain and the pool's close after it. Once, whoever asks first:
    // the host stops every consumer at once, and the scope's finalizer then finds it done.
    const stop = yield* Effect.cached(
      Effect.gen(function* () {
        stopping = true;
        for (const wake of [...sleepers]) wake();
        current?.stop();
        yield* Fiber.interrupt(puller).pipe(Effect.timeout("2 seconds"), Effect.ignore);
        // those in the mailbox go back at once (past this process's pulls: `shutdownNakDelayMs`);
        // in-flight messages finish (`handleMessages` is uninterruptible)
        for (const m of mailbox.drain()) {
          held.delete(m);
          m.nak(shutdownNakDelayMs);
        }
        yield* Fiber.interrupt(workers).pipe(Effect.timeout("12 seconds"), Effect.ignore);
      }),
    );
    yield* Effect.addFinalizer(() => stop);

    return { durable, running, stop } satisfies Runner;
  }).pipe(Effect.withSpan("Consumer.run", { attributes: { contract: spec.contract.name } }));

/**
 * The failure of a plain inbox insert on a message applied before: a unique violation in the
 * inbox table (its key, whatever the constraint is called where the schema was made).
 */
const isInboxConflict = (error: unknown): boolean => {
  if (!(error instanceof DbError)) return false;
  const cause = error.cause as { readonly code?: unknown; readonly table_name?: unknown } | undefined;
  return cause?.code === "23505" && cause.table_name === "inbox";
};

/** A message's headers but its id (the dead letter has its own). */
const headerEntries = (headers: MsgHdrs | undefined): Array<[string, string]> => {
  const out: Array<[string, string]> = [];
  if (!headers) return out;
  for (const [k, v] of headers) if (v[0] !== undefined && k !== Headers.messageId) out.push([k, v[0]]);
  return out;
};

/**
 * Subscribes to the consumer's MAX_DELIVERIES advisories now, and handles them in a fiber of the
 * scope until it closes.
 */
const watchAdvisories = <R>(
  stream: string,
  durable: string,
  onSeq: (seq: number) => Effect.Effect<void, never, R>,
) =>
  Effect.gen(function* () {
    const { nc } = yield* Nats;
    const sub = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${durable}`);
    // a few at once: one that keeps failing (its hook, say) holds up no other
    yield* Effect.forkScoped(
      Stream.fromAsyncIterable(sub, (e) => e).pipe(
        Stream.mapEffect(
          (msg) => {
            let seq: number | undefined;
            try {
              seq = (JSON.parse(new TextDecoder().decode(msg.data)) as { stream_seq?: number }).stream_seq;
            } catch {
              seq = undefined;
            }
            return typeof seq === "number" ? onSeq(seq) : Effect.void;
          },
          { concurrency: 8, unordered: true },
        ),
        Stream.runDrain,
        Effect.ignore,
      ),
    );
    // added after the fork, so it runs before the fiber is interrupted (finalizers run last
    // first): the iterator's pending read ends only when the subscription does
    yield* Effect.addFinalizer(() => Effect.sync(() => sub.unsubscribe()));
  });

export type { Runner };
