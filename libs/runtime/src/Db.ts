import { describeDatabaseError } from "@leadflow/db";
import { Config, Context, Duration, Effect, Layer, Redacted, Schedule } from "effect";
import postgres, { type PendingQuery, type Row, type Sql, type TransactionSql } from "postgres";
import { DbError, isDbUnreachable } from "./Errors.js";
import { waitForDependency } from "./StartupWait.js";

export interface DbShape {
  readonly sql: Sql;
  /** True when the database allows one connection only (embedded PGlite). */
  readonly singleConnection: boolean;
  /** Whether LISTEN/NOTIFY may be used for cross-process wake-ups. */
  readonly listen: boolean;
}

/** The process's Postgres pool (postgres.js). */
export class Db extends Context.Tag("leadflow/runtime/Db")<Db, DbShape>() {}

export interface DbOptions {
  readonly url: string;
  readonly max?: number;
  readonly singleConnection?: boolean;
  readonly listen?: boolean;
}

/**
 * Runs a postgres.js query as an Effect; failures become a retryable `DbError`.
 * A postgres.js query runs once and keeps its result: pass a thunk (`() => sql\`…\``)
 * when the Effect is kept and run more than once (a probe, a periodic job).
 */
export const query = <T extends readonly (object | undefined)[] = Row[]>(
  q: PendingQuery<T> | Promise<T> | (() => PendingQuery<T> | Promise<T>),
): Effect.Effect<T, DbError> =>
  Effect.tryPromise({
    try: () => (typeof q === "function" ? q() : q) as Promise<T>,
    catch: (cause) => new DbError({ message: "database query failed", cause }),
  });

export type Tx = TransactionSql;

/**
 * Rows as one jsonb parameter, read back with `jsonb_to_recordset(…) as r(column type, …)`: one
 * statement text and one parameter however many rows. A multi-row `insert … ${tx(rows)}` binds a
 * parameter per cell and is a new prepared statement for every row count: twice the client CPU
 * per row (250-row batches of 16 columns: 10–13 µs vs 5.5 µs a row, 24 Nov).
 */
export const jsonRows = (sql: Sql | Tx, rows: ReadonlyArray<Record<string, unknown>>) => {
  let text = JSON.stringify(rows);
  // Postgres keeps no NUL character, in text or jsonb: one that came from outside (a CSV cell, a
  // provider's answer, a scraped page) is dropped here rather than failing the statement (and
  // with it the task and the run). Rare, so only looked for in the finished text.
  if (text.includes("\\u0000")) text = JSON.stringify(withoutNul(JSON.parse(text)));
  // bound as text and cast: bound as jsonb, postgres.js would encode the text as a JSON string
  return sql`${text}::text::jsonb`;
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: the NUL character is what it removes
const NUL = /\u0000/g;

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and the separator are what it removes
const NUL_OR_SEPARATOR = /[\u0000\u0001]/g;

/**
 * Long text values, one per row (rendered HTML), as one text parameter split again by
 * `string_to_table`: no JSON escaping on either side (a 7 KB email body inside `jsonRows` cost
 * 25–30 µs of client CPU and as much again in Postgres's jsonb parser; this, 9–11 µs in all).
 * Zip it with `jsonRows` in one `rows from (jsonb_to_recordset(…) as (…), ${textRows(…)})`: row
 * k of each. The separator, U+0001, and NUL cannot be in a value and are dropped from it: C0
 * control characters have no place in HTML or text for people.
 */
export const textRows = (sql: Sql | Tx, values: ReadonlyArray<string>) => {
  const clean = values.map((v) =>
    v.includes("\u0000") || v.includes("\u0001") ? v.replace(NUL_OR_SEPARATOR, "") : v,
  );
  // one value is one row, even the empty one (string_to_table('') is no row at all)
  return clean.length === 1
    ? sql`unnest(${clean as string[]}::text[])`
    : sql`string_to_table(${clean.join("\u0001")}::text, E'\\x01')`;
};

/** A parsed JSON value with every NUL removed from its strings and keys. */
const withoutNul = (value: unknown): unknown => {
  if (typeof value === "string") return value.replace(NUL, "");
  if (Array.isArray(value)) return value.map(withoutNul);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(NUL, ""), withoutNul(v)]));
  }
  return value;
};

// Pools `makeDb` has closed. postgres.js fails a query on an ended pool (CONNECTION_ENDED) but
// hands `reserve()` a new, working connection, which nothing would ever close: a transaction
// started during shutdown would leak one. `reserveConnection` refuses these.
const closedPools = new WeakSet<Sql>();

/** Whether `makeDb` closed this pool (no connection may be reserved from it any more). */
export const isClosedPool = (sql: Sql): boolean => closedPools.has(sql);

/**
 * Opens a pool, probes it with `select 1` (a pool that cannot reach the database fails the
 * layer, it does not limp along), and closes it with a bound on scope exit.
 */
export const makeDb = (options: DbOptions) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const singleConnection = options.singleConnection ?? false;
      const sql = postgres(options.url, {
        max: singleConnection ? 1 : (options.max ?? 10),
        onnotice: () => undefined,
        connect_timeout: 10,
        // between connection attempts while the server is away: postgres.js's own curve
        // (3^n / 100 s, jittered) capped at 4 s rather than 20, so a pool is back within a few
        // seconds of the server (each attempt is one refused or answered connect)
        backoff: (attempts: number) => (0.5 + Math.random() / 2) * Math.min(3 ** attempts / 100, 4),
        idle_timeout: 60,
        // a URL that names no database means the user's default; postgres.js sends it as is
        connection: { application_name: "leadflow" },
      });
      yield* query(() => sql`select 1`).pipe(
        Effect.timeoutFail({
          duration: Duration.seconds(15),
          onTimeout: () => new DbError({ message: "database did not answer within 15 s" }),
        }),
        Effect.retry({ times: 5, schedule: Schedule.spaced("1 second") }),
        Effect.tapError(() => Effect.promise(() => sql.end({ timeout: 1 }))),
      );
      return { sql, singleConnection, listen: options.listen ?? !singleConnection } satisfies DbShape;
    }),
    ({ sql }) =>
      Effect.sync(() => closedPools.add(sql)).pipe(
        Effect.zipRight(Effect.promise(() => sql.end({ timeout: 5 }))),
        Effect.timeout("6 seconds"),
        Effect.ignore,
      ),
  ).pipe(Effect.withSpan("Db.make"));

/**
 * Waits until the database answers `select 1` on `sql`, or `deadline` (epoch ms) passes, logging
 * each refusal with its reason; a failure that waiting will not heal (credentials, a database
 * that does not exist) stops at once. Fails with one line naming the reason.
 */
export const awaitDatabase = (sql: Sql, deadline: number) =>
  waitForDependency(
    query(() => sql`select 1`),
    {
      dependency: "PostgreSQL",
      deadline,
      transient: (e) => isDbUnreachable(e.cause),
      reason: (e) => describeDatabaseError(e.cause),
      fail: (e, waited) =>
        new DbError({
          message:
            waited === undefined
              ? `cannot connect to PostgreSQL: ${describeDatabaseError(e.cause)}`
              : `PostgreSQL did not answer within STARTUP_WAIT_MS (gave up after ${Math.round(waited.waitedMs / 1000)} s, ${waited.attempts} attempts): ${describeDatabaseError(e.cause)}`,
          cause: e.cause,
        }),
    },
  ).pipe(Effect.withSpan("Db.await"));

/** Whether `url` reads as a PostgreSQL connection URL (`postgres://` or `postgresql://`). */
export const isDatabaseUrl = (url: string): boolean => {
  try {
    const { protocol } = new URL(url);
    return protocol === "postgres:" || protocol === "postgresql:";
  } catch {
    return false;
  }
};

/** `DATABASE_POOL_MAX`: connections per process (default 10; 1–100). */
export const DbPoolMaxConfig = Config.integer("DATABASE_POOL_MAX").pipe(
  Config.withDefault(10),
  Config.validate({
    message: "DATABASE_POOL_MAX must be a whole number from 1 to 100",
    validation: (n) => n >= 1 && n <= 100,
  }),
);

/** `DATABASE_URL` (required) and `DATABASE_POOL_MAX`. */
export const DbConfig = Config.all({
  url: Config.redacted("DATABASE_URL"),
  max: DbPoolMaxConfig,
});

export const DbLive = Layer.scoped(
  Db,
  Effect.gen(function* () {
    const config = yield* DbConfig;
    return yield* makeDb({ url: Redacted.value(config.url), max: config.max });
  }),
);

export const dbLayer = (options: DbOptions) => Layer.scoped(Db, makeDb(options));
