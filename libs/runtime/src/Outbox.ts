import { Context, Duration, Effect, Layer, Queue, Schedule } from "effect";
import type { Sql } from "postgres";
import { type EncodedMessage, toNatsHeaders } from "./Codec.js";
import { Db, query, type Tx } from "./Db.js";
import { describeError } from "./Errors.js";
import { Metrics } from "./Metrics.js";
import { Nats } from "./Nats.js";

/** The Postgres channel the outbox trigger notifies on commit. */
export const OutboxChannel = "leadflow_outbox";

type OutboxRow = EncodedMessage & { readonly availableAt?: Date };

/**
 * The statement that writes outbox rows: one statement and one jsonb parameter however many
 * rows (a multi-row insert would bind six parameters per row), undefined when there are none.
 */
export const outboxInsertStatement = (tx: Tx | Sql, rows: ReadonlyArray<OutboxRow>) =>
  rows.length === 0
    ? undefined
    : tx`insert into outbox (id, subject, contract, payload, headers, available_at)
        select r.id, r.subject, r.contract, r.payload, r.headers, coalesce(r.available_at, now())
        from jsonb_to_recordset(${tx.json(
          rows.map((r) => ({
            id: r.id,
            subject: r.subject,
            contract: r.contract,
            payload: r.payload,
            headers: r.headers,
            available_at: r.availableAt?.toISOString() ?? null,
          })),
        )}) as r(id uuid, subject text, contract text, payload text, headers jsonb, available_at timestamptz)`;

/** Writes outbox rows in the caller's transaction (one statement). */
export const insertOutbox = (tx: Tx | Sql, rows: ReadonlyArray<OutboxRow>) => {
  const statement = outboxInsertStatement(tx, rows);
  return statement ? query(statement).pipe(Effect.asVoid) : Effect.void;
};

export interface OutboxRelayShape {
  /** Wakes the relay now (after a commit in this process). */
  readonly wake: Effect.Effect<void>;
  /** Publishes everything due, until nothing is left (used on shutdown and in tests). */
  readonly flush: Effect.Effect<number>;
}

export class OutboxRelay extends Context.Tag("leadflow/runtime/OutboxRelay")<
  OutboxRelay,
  OutboxRelayShape
>() {}

export interface RelayOptions {
  readonly batchSize: number;
  readonly pollInterval: Duration.DurationInput;
  /** How long a claimed row stays invisible to other relays while it is being published. */
  readonly lease: Duration.DurationInput;
  readonly maxInFlight: number;
}

export const defaultRelayOptions: RelayOptions = {
  batchSize: 500,
  pollInterval: "1 second",
  lease: "30 seconds",
  maxInFlight: 256,
};

interface ClaimedRow {
  id: string;
  subject: string;
  payload: string;
  headers: Record<string, string>;
  attempts: number;
}

/**
 * The outbox relay: claims due rows with `for update skip locked` (any number of relays in
 * any number of processes share the table), publishes each with `Nats-Msg-Id` = row id so
 * JetStream drops a second publish of the same row, and marks them published. Woken by
 * LISTEN/NOTIFY (other processes), by `wake` (this process), and by a slow poll.
 */
export const makeOutboxRelay = (options: RelayOptions = defaultRelayOptions) =>
  Effect.gen(function* () {
    const { sql, listen } = yield* Db;
    const nats = yield* Nats;
    const metrics = yield* Metrics;
    const signal = yield* Queue.sliding<void>(1);
    const leaseMs = Duration.toMillis(options.lease);
    const encoder = new TextEncoder();

    const publishBatch = Effect.gen(function* () {
      const rows = yield* query(sql<ClaimedRow[]>`
        with due as (
          select id from outbox
          where published_at is null and available_at <= now()
          order by available_at
          limit ${options.batchSize}
          for update skip locked
        )
        update outbox o
        set available_at = now() + ${`${leaseMs} milliseconds`}::interval, attempts = o.attempts + 1
        from due where o.id = due.id
        returning o.id, o.subject, o.payload, o.headers, o.attempts`);
      if (rows.length === 0) return 0;
      const results = yield* Effect.forEach(
        rows,
        (row) =>
          Effect.tryPromise(() =>
            nats.js.publish(row.subject, encoder.encode(row.payload), {
              msgID: row.id,
              headers: toNatsHeaders(row.headers),
            }),
          ).pipe(
            Effect.as({ id: row.id, ok: true as const }),
            Effect.catchAll((error) =>
              Effect.succeed({
                id: row.id,
                ok: false as const,
                error: describeError(error.error).message,
                attempts: row.attempts,
              }),
            ),
          ),
        { concurrency: options.maxInFlight },
      );
      const published = results.filter((r) => r.ok).map((r) => r.id);
      if (published.length > 0) {
        yield* query(
          sql`update outbox set published_at = now(), last_error = null where id = any(${published}::uuid[])`,
        );
        metrics.outboxPublished.inc(published.length);
      }
      for (const failed of results) {
        if (failed.ok) continue;
        // back off per row; the row stays due, nothing is lost
        const delayMs = Math.min(60_000, 250 * 2 ** Math.min(failed.attempts, 8));
        yield* query(
          sql`update outbox set last_error = ${failed.error}, available_at = now() + ${`${delayMs} milliseconds`}::interval where id = ${failed.id}`,
        );
      }
      if (published.length < rows.length) {
        yield* Effect.logWarning("outbox publish failed for some rows").pipe(
          Effect.annotateLogs({ failed: rows.length - published.length }),
        );
      }
      return published.length;
    });

    const drain = Effect.gen(function* () {
      let total = 0;
      for (;;) {
        const n = yield* publishBatch;
        total += n;
        if (n < options.batchSize) return total;
      }
    });

    const backlog = query(
      () =>
        sql<
          { n: number }[]
        >`select count(*)::int as n from outbox where published_at is null and available_at <= now()`,
    ).pipe(
      Effect.tap((rows) => Effect.sync(() => metrics.outboxBacklog.set(rows[0]?.n ?? 0))),
      Effect.ignore,
    );

    const pollMs = Duration.toMillis(options.pollInterval);
    /** How long until the next delayed row is due (capped by the poll interval). */
    const nextDue = query(
      () =>
        sql<{ ms: number | null }[]>`
        select (extract(epoch from (min(available_at) - now())) * 1000)::int as ms
        from outbox where published_at is null`,
    ).pipe(
      Effect.map((rows) => Math.min(pollMs, Math.max(5, rows[0]?.ms ?? pollMs))),
      Effect.orElseSucceed(() => pollMs),
    );

    const loop = Effect.gen(function* () {
      for (;;) {
        yield* drain.pipe(
          Effect.catchAllCause((cause) => Effect.logWarning("outbox relay pass failed", cause)),
        );
        const wait = yield* nextDue;
        yield* Queue.take(signal).pipe(Effect.timeout(Duration.millis(wait)), Effect.ignore);
      }
    });

    if (listen) {
      yield* Effect.acquireRelease(
        Effect.tryPromise(() => sql.listen(OutboxChannel, () => Queue.unsafeOffer(signal, undefined))).pipe(
          Effect.retry(Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(5)))),
          Effect.orElseSucceed(() => undefined),
        ),
        (listener) =>
          listener ? Effect.promise(() => listener.unlisten().catch(() => undefined)) : Effect.void,
      );
    }
    yield* Effect.forkScoped(loop);
    yield* Effect.forkScoped(backlog.pipe(Effect.repeat(Schedule.spaced("10 seconds"))));
    // on scope close: one last pass so nothing committed waits for the next start
    yield* Effect.addFinalizer(() => drain.pipe(Effect.timeout("5 seconds"), Effect.ignore));

    return {
      wake: Queue.offer(signal, undefined).pipe(Effect.asVoid),
      flush: drain.pipe(Effect.orDie),
    } satisfies OutboxRelayShape;
  }).pipe(Effect.withSpan("OutboxRelay.make"));

export const OutboxRelayLive = (options?: RelayOptions) =>
  Layer.scoped(OutboxRelay, makeOutboxRelay(options));
