import { Cause, Effect, Exit, Runtime } from "effect";
import type { Sql } from "postgres";
import type { Tx } from "./Db.js";
import { DbError } from "./Errors.js";

class Rollback {
  constructor(readonly exit: Exit.Exit<unknown, unknown>) {}
}

/**
 * Runs an Effect inside one Postgres transaction: a failure or defect of the Effect rolls
 * the transaction back and comes out unchanged; a failure of Postgres itself is a `DbError`.
 */
export const withTransaction = <A, E, R>(
  sql: Sql,
  body: (tx: Tx) => Effect.Effect<A, E, R>,
): Effect.Effect<A, E | DbError, R> =>
  Effect.flatMap(Effect.runtime<R>(), (runtime) =>
    Effect.async<A, E | DbError>((resume) => {
      sql
        .begin(async (tx) => {
          const exit = await Runtime.runPromiseExit(runtime)(body(tx));
          if (Exit.isFailure(exit)) throw new Rollback(exit);
          return exit.value as never;
        })
        .then(
          (value) => resume(Effect.succeed(value as A)),
          (error) =>
            resume(
              error instanceof Rollback
                ? Effect.failCause(
                    error.exit.pipe(Exit.causeOption, (o) =>
                      o._tag === "Some" ? o.value : Cause.empty,
                    ) as Cause.Cause<E>,
                  )
                : Effect.fail(new DbError({ message: "transaction failed", cause: error })),
            ),
        );
    }),
  );
