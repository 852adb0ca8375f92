import { migrate } from "@leadflow/db";
import { startHost } from "@leadflow/runtime";
import { Config, Effect } from "effect";
import postgres from "postgres";
import { resolveConnections } from "../Connections.js";
import { Services } from "../Plugins.js";

/** `leadflow service <name>`: one service in this process (one per pod in Kubernetes). */
export const service = (name: string) =>
  Effect.gen(function* () {
    const entry = Services[name];
    if (!entry) {
      return yield* Effect.fail(
        new Error(`unknown service "${name}"; one of: ${Object.keys(Services).join(", ")}`),
      );
    }
    const connections = yield* resolveConnections;
    const port = yield* Config.integer("PORT").pipe(Config.withDefault(entry.port));
    // every service migrates at start; the advisory lock makes concurrent starts safe
    yield* Effect.acquireUseRelease(
      Effect.sync(() => postgres(connections.databaseUrl, { max: 1, onnotice: () => undefined })),
      (sql) => migrate(sql),
      (sql) => Effect.promise(() => sql.end({ timeout: 5 })),
    );
    const host = yield* startHost([entry.plugin], {
      name,
      db: { url: connections.databaseUrl, singleConnection: connections.singleConnection, listen: true },
      nats: { servers: connections.natsUrl },
      port,
    });
    yield* Effect.logInfo("service started").pipe(
      Effect.annotateLogs({ service: name, port: host.port ?? 0 }),
    );
    return yield* Effect.never;
  });
