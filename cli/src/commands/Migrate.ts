import { migrate as runMigrations } from "@leadflow/db";
import { Console, Effect } from "effect";
import postgres from "postgres";
import { resolveDatabase } from "../Connections.js";

/** `leadflow migrate`: applies pending migrations (safe while services run). */
export const migrate = Effect.gen(function* () {
  const connections = yield* resolveDatabase;
  const result = yield* Effect.acquireUseRelease(
    Effect.sync(() => postgres(connections.databaseUrl, { max: 1, onnotice: () => undefined })),
    (sql) => runMigrations(sql),
    (sql) => Effect.promise(() => sql.end({ timeout: 5 })),
  );
  yield* Console.log(
    result.applied.length > 0
      ? `applied ${result.applied.join(", ")}`
      : `up to date (${result.alreadyApplied} migrations applied earlier)`,
  );
});
