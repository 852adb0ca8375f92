import { Effect, Exit } from "effect";
import type { PendingQuery, Row, Sql } from "postgres";
import type { Tx } from "./Db.js";
import { DbError } from "./Errors.js";

const settle = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error ?? new Error("query failed"),
  );

/**
 * Runs an Effect inside one Postgres transaction: a failure or defect of the Effect rolls
 * the transaction back and comes out unchanged; a failure of Postgres itself is a `DbError`.
 *
 * The body runs in the caller's fiber on a reserved connection (no promise-to-fiber hop per
 * transaction), and the transaction costs no round trip of its own: `begin` is pipelined with
 * the body's first statement, and `last` (the statement that ends the body, e.g. the outbox
 * insert) with `commit`. With fsync on, a transaction is three round trips and one flush,
 * which is what a handler of a message pays at least.
 */
export const withTransaction = <A, E, R>(
  sql: Sql,
  body: (tx: Tx) => Effect.Effect<A, E, R>,
  last?: (tx: Tx, result: A) => PendingQuery<Row[]> | undefined,
): Effect.Effect<A, E | DbError, R> =>
  Effect.acquireUseRelease(
    Effect.tryPromise({
      try: () => sql.reserve(),
      catch: (cause) => new DbError({ message: "no database connection for a transaction", cause }),
    }),
    (reserved) => {
      // a reserved connection speaks SQL like a transaction's; nothing here uses savepoints
      const tx = reserved as unknown as Tx;
      let done = false;
      return Effect.gen(function* () {
        const begun = settle(reserved`begin`.execute());
        const result = yield* Effect.exit(body(tx));
        if (Exit.isFailure(result)) {
          yield* Effect.promise(() => settle(reserved`rollback`.execute()));
          done = true;
          return yield* result;
        }
        const beginError = yield* Effect.promise(() => begun);
        if (beginError) {
          yield* Effect.promise(() => settle(reserved`rollback`.execute()));
          done = true;
          return yield* new DbError({ message: "transaction failed to begin", cause: beginError });
        }
        const final = last?.(tx, result.value);
        const finalDone = final ? settle(final.execute()) : Promise.resolve(undefined);
        const commit = reserved`commit`.execute();
        const [finalError, committed] = yield* Effect.promise(() =>
          Promise.all([
            finalDone,
            commit.then(
              (r) => ({ ok: r.command === "COMMIT", error: undefined as unknown }),
              (error: unknown) => ({ ok: false, error }),
            ),
          ]),
        );
        done = committed.error === undefined;
        if (finalError) return yield* new DbError({ message: "transaction failed", cause: finalError });
        if (!committed.ok) {
          return yield* new DbError({
            message: committed.error ? "commit failed" : "transaction rolled back (a statement in it failed)",
            cause: committed.error,
          });
        }
        return result.value;
      }).pipe(
        Effect.onExit(() =>
          // interrupted mid-transaction (or a commit that never answered): end it before the
          // connection goes back to the pool; a broken connection is dropped by the pool
          done ? Effect.void : Effect.promise(() => settle(reserved`rollback`.execute())),
        ),
      );
    },
    (reserved) => Effect.sync(() => reserved.release()),
  );
