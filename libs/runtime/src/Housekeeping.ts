import { Cause, Config, Duration, Effect, Schedule } from "effect";
import type { PendingQuery, Row, RowList, Sql } from "postgres";
import { Db, query } from "./Db.js";
import type { DbError } from "./Errors.js";
import { Metrics } from "./Metrics.js";
import { streamConfigs } from "./Nats.js";
import { withConnection } from "./Transaction.js";

/**
 * Retention of the runtime's own bookkeeping. Every handled message leaves an inbox row and
 * every published message an outbox row; without this both tables grow for as long as the
 * system runs (a 10,000-company run leaves some 60,000 of each).
 */
export interface HousekeepingOptions {
  /** Inbox rows older than this go. Keep it longer than any stream keeps a message it could replay. */
  readonly inboxRetention: Duration.Duration;
  /** Published outbox rows older than this go; unpublished ones stay, however old. */
  readonly outboxRetention: Duration.Duration;
  /** Time between sweeps; the first runs `firstSweepAfter` after start. */
  readonly interval: Duration.Duration;
  readonly firstSweepAfter: Duration.Duration;
  /** Rows per delete statement: short statements, short locks. */
  readonly chunk: number;
}

export const defaultHousekeeping: HousekeepingOptions = {
  // the events stream keeps messages 14 days: a consumer recreated within that time replays
  // them, and the inbox is what skips the ones it applied
  inboxRetention: Duration.days(15),
  outboxRetention: Duration.days(7),
  interval: Duration.hours(1),
  firstSweepAfter: Duration.minutes(1),
  chunk: 5_000,
};

const atLeast = (name: string, min: Duration.Duration, text: string) =>
  Config.duration(name).pipe(
    Config.validate({
      message: `must be at least ${text} (a duration such as "15 days")`,
      validation: (d) => Duration.greaterThanOrEqualTo(d, min),
    }),
  );

/**
 * `INBOX_RETENTION` (default 15 days, at least 1 day), `OUTBOX_RETENTION` (default 7 days, at
 * least 1 hour), `HOUSEKEEPING_INTERVAL` (default 1 hour, at least 1 minute), as Effect
 * durations: "15 days", "90 minutes".
 */
export const HousekeepingConfig: Config.Config<HousekeepingOptions> = Config.all({
  inboxRetention: atLeast("INBOX_RETENTION", Duration.days(1), "1 day").pipe(
    Config.withDefault(defaultHousekeeping.inboxRetention),
  ),
  outboxRetention: atLeast("OUTBOX_RETENTION", Duration.hours(1), "1 hour").pipe(
    Config.withDefault(defaultHousekeeping.outboxRetention),
  ),
  interval: atLeast("HOUSEKEEPING_INTERVAL", Duration.minutes(1), "1 minute").pipe(
    Config.withDefault(defaultHousekeeping.interval),
  ),
}).pipe(Config.map((c) => ({ ...defaultHousekeeping, ...c })));

export interface SweepResult {
  /** Another process was sweeping: this one left it alone. */
  readonly skipped: boolean;
  readonly inbox: number;
  readonly outbox: number;
}

// one sweeper at a time across every replica of every service (pg_try_advisory_lock's key)
const lockKey = 0x1ead_f10e;

const seconds = (d: Duration.Duration) => Duration.toMillis(d) / 1000;

/** Deletes chunk after chunk until one comes back short; returns the rows deleted. */
const drain = (statement: () => PendingQuery<RowList<Row[]>>, chunk: number) =>
  Effect.gen(function* () {
    let total = 0;
    for (;;) {
      const { count } = yield* query(statement);
      total += count;
      if (count < chunk) return total;
    }
  });

const deleteOld = (sql: Sql, options: HousekeepingOptions) =>
  Effect.gen(function* () {
    // `ctid = any(array(… limit n))`: a bounded delete (DELETE has no LIMIT), found through the
    // BRIN indexes of 0005_retention.sql and removed by tid
    const inbox = yield* drain(
      () =>
        sql`delete from inbox where ctid = any(array(
          select ctid from inbox
          where processed_at < now() - make_interval(secs => ${seconds(options.inboxRetention)})
          limit ${options.chunk}))`,
      options.chunk,
    );
    const outbox = yield* drain(
      () =>
        sql`delete from outbox where ctid = any(array(
          select ctid from outbox
          where created_at < now() - make_interval(secs => ${seconds(options.outboxRetention)})
            and published_at < now() - make_interval(secs => ${seconds(options.outboxRetention)})
          limit ${options.chunk}))`,
      options.chunk,
    );
    return { skipped: false, inbox, outbox } satisfies SweepResult;
  });

/**
 * One sweep: inbox rows past their retention, published outbox rows past theirs. Replicas take
 * turns through a session advisory lock (a process that dies mid-sweep releases it with its
 * connection); with a single connection (embedded PGlite: one process) there is no one to wait for.
 */
export const sweep = (
  sql: Sql,
  options: HousekeepingOptions,
  singleConnection = false,
): Effect.Effect<SweepResult, DbError> =>
  singleConnection
    ? deleteOld(sql, options)
    : withConnection(sql, "no database connection for housekeeping", (reserved) =>
        Effect.gen(function* () {
          const [lock] = yield* query(
            () => reserved<{ locked: boolean }[]>`select pg_try_advisory_lock(${lockKey}) as locked`,
          );
          if (!lock?.locked) return { skipped: true, inbox: 0, outbox: 0 } satisfies SweepResult;
          return yield* deleteOld(reserved as unknown as Sql, options).pipe(
            Effect.ensuring(query(() => reserved`select pg_advisory_unlock(${lockKey})`).pipe(Effect.ignore)),
          );
        }),
      );

/** Sweeps for the life of the host: first after `firstSweepAfter`, then every `interval`. */
export const runHousekeeping = (options: HousekeepingOptions) =>
  Effect.gen(function* () {
    const { sql, singleConnection } = yield* Db;
    const metrics = yield* Metrics;
    // the streams the consumers read (the dead-letter stream is replayed by republishing)
    const longestReplay = Duration.nanos(
      BigInt(Math.max(streamConfigs.cmd.max_age, streamConfigs.evt.max_age)),
    );
    if (Duration.lessThan(options.inboxRetention, longestReplay)) {
      yield* Effect.logWarning(
        `INBOX_RETENTION (${Duration.format(options.inboxRetention)}) is shorter than the streams keep a message ` +
          `(${Duration.format(longestReplay)}): a consumer recreated and replaying its stream could apply a message twice`,
      );
    }
    const once = sweep(sql, options, singleConnection).pipe(
      Effect.tap((r) =>
        Effect.sync(() => {
          metrics.housekeepingSweeps.inc({ outcome: r.skipped ? "skipped" : "ok" });
          metrics.housekeepingDeleted.inc({ table: "inbox" }, r.inbox);
          metrics.housekeepingDeleted.inc({ table: "outbox" }, r.outbox);
        }),
      ),
      Effect.tap((r) =>
        r.inbox + r.outbox > 0
          ? Effect.logInfo("housekeeping: old rows deleted").pipe(
              Effect.annotateLogs({ inbox: r.inbox, outbox: r.outbox }),
            )
          : Effect.void,
      ),
      // a failed sweep (Postgres away, or a bug) is tried again next time; nothing depends on it
      Effect.catchAllCause((cause) =>
        Effect.sync(() => metrics.housekeepingSweeps.inc({ outcome: "failed" })).pipe(
          Effect.zipRight(Effect.logWarning("housekeeping sweep failed", Cause.pretty(cause))),
        ),
      ),
    );
    yield* once.pipe(Effect.repeat(Schedule.spaced(options.interval)), Effect.delay(options.firstSweepAfter));
  });
