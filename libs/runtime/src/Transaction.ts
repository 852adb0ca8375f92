import { Effect, Exit } from "effect";
import type { PendingQuery, ReservedSql, Row, Sql } from "postgres";
import { isClosedPool, type Tx } from "./Db.js";
import { DbError } from "./Errors.js";

const settle = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error ?? new Error("query failed"),
  );

/**
 * A connection of the pool for the caller alone (`sql.reserve()`), as an Effect that can be
 * interrupted while it waits: with the server away, postgres.js waits between connection
 * attempts with a growing back-off (up to 20 s), and shutdown should not. A connection that
 * arrives after the interruption goes straight back to the pool. A pool `makeDb` closed gives
 * none (postgres.js would open a new one that nothing closes).
 */
export const reserveConnection = (sql: Sql, message: string): Effect.Effect<ReservedSql, DbError> =>
  Effect.async<ReservedSql, DbError>((resume) => {
    if (isClosedPool(sql)) {
      resume(Effect.fail(new DbError({ message: `${message}: the pool is closed` })));
      return;
    }
    let interrupted = false;
    sql.reserve().then(
      (reserved) => {
        if (interrupted) reserved.release();
        else resume(Effect.succeed(reserved));
      },
      (cause: unknown) => {
        if (!interrupted) resume(Effect.fail(new DbError({ message, cause })));
      },
    );
    return Effect.sync(() => {
      interrupted = true;
    });
  });

/**
 * Runs `use` with a reserved connection, released when it ends however it ends; the wait for the
 * connection can be interrupted (see `reserveConnection`).
 */
export const withConnection = <A, E, R>(
  sql: Sql,
  message: string,
  use: (reserved: ReservedSql) => Effect.Effect<A, E, R>,
): Effect.Effect<A, E | DbError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(restore(reserveConnection(sql, message)), (reserved) =>
      restore(use(reserved)).pipe(Effect.ensuring(Effect.sync(() => reserved.release()))),
    ),
  );

/**
 * Runs an Effect inside one Postgres transaction: a failure or defect of the Effect rolls
 * the transaction back and comes out unchanged; a failure of Postgres itself is a `DbError`.
 *
 * The body runs in the caller's fiber on a reserved connection (no promise-to-fiber hop per
 * transaction), and the transaction costs no round trip of its own: `begin` is pipelined with
 * the body's first statement, and `last` (the statement that ends the body, e.g. the outbox
 * insert) with `commit`. With fsync on, a transaction is two round trips and one flush at
 * least, which is what a handler of a message pays.
 *
 * Only the body can be interrupted: the end of the transaction (rollback or commit, then the
 * connection back to the pool) always runs to completion, so an interrupted body leaves no
 * transaction open on a pooled connection. That end is one promise, not a chain of Effect steps:
 * the runtime runs this once per message group, and the Effect version of it cost ≈ 45 µs of
 * CPU per transaction more (24 Nov).
 */
export const withTransaction = <A, E, R>(
  sql: Sql,
  body: (tx: Tx) => Effect.Effect<A, E, R>,
  last?: (tx: Tx, result: A) => PendingQuery<Row[]> | undefined,
): Effect.Effect<A, E | DbError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(
      restore(reserveConnection(sql, "no database connection for a transaction")),
      (reserved) => {
        // a reserved connection speaks SQL like a transaction's; nothing here uses savepoints
        const tx = reserved as unknown as Tx;
        const begun = settle(reserved`begin`.execute());
        return Effect.flatMap(Effect.exit(restore(body(tx))), (result) =>
          Effect.flatten(Effect.promise(() => finish(reserved, tx, begun, result, last))),
        );
      },
    ),
  );

const rollback = (reserved: ReservedSql) => settle(reserved`rollback`.execute());

/** Ends the transaction after its body: rollback or commit, then the connection back to the pool. */
const finish = async <A, E>(
  reserved: ReservedSql,
  tx: Tx,
  begun: Promise<unknown>,
  result: Exit.Exit<A, E>,
  last: ((tx: Tx, result: A) => PendingQuery<Row[]> | undefined) | undefined,
): Promise<Exit.Exit<A, E | DbError>> => {
  try {
    if (Exit.isFailure(result)) {
      await rollback(reserved);
      return result;
    }
    const beginError = await begun;
    if (beginError) {
      await rollback(reserved);
      return Exit.fail(new DbError({ message: "transaction failed to begin", cause: beginError }));
    }
    const final = last?.(tx, result.value);
    const finalDone = final ? settle(final.execute()) : Promise.resolve(undefined);
    const commit = reserved`commit`.execute();
    const [finalError, committed] = await Promise.all([
      finalDone,
      commit.then(
        (r) => ({ ok: r.command === "COMMIT", error: undefined as unknown }),
        (error: unknown) => ({ ok: false, error }),
      ),
    ]);
    // a statement that failed aborts the transaction, and its commit answers ROLLBACK
    if (finalError) return Exit.fail(new DbError({ message: "transaction failed", cause: finalError }));
    if (!committed.ok) {
      return Exit.fail(
        new DbError({
          message: committed.error ? "commit failed" : "transaction rolled back (a statement in it failed)",
          cause: committed.error,
        }),
      );
    }
    return result;
  } catch (error) {
    // not expected (every query above is settled), but the connection must not keep a transaction
    await rollback(reserved);
    return Exit.fail(new DbError({ message: "transaction failed", cause: error }));
  } finally {
    reserved.release();
  }
};
