import { migrate } from "@leadflow/db";
import { Clock, Config, Effect, Redacted } from "effect";
import postgres from "postgres";
import { awaitDatabase, DbPoolMaxConfig, isDatabaseUrl } from "./Db.js";
import { DbError } from "./Errors.js";
import { launch, startHost } from "./Host.js";
import { NatsConfig, natsOptionsFromConfig } from "./Nats.js";
import type { AnyPlugin } from "./Plugin.js";
import { StartupWaitConfig } from "./StartupWait.js";

export interface ServiceConnections {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly singleConnection?: boolean;
}

/**
 * One service in this process: wait for the database, migrate (advisory-locked, so replicas
 * starting together are safe), then host the plugin until SIGTERM. Connections come from the
 * caller, or from `DATABASE_URL` / `NATS_URL`; the HTTP port from `PORT`, else the service's
 * default. PostgreSQL and NATS that do not answer yet are waited for, together for at most
 * `STARTUP_WAIT_MS` from here; a refusal waiting will not heal (credentials, a database that
 * does not exist) stops the process at once.
 */
export const runService = (plugin: AnyPlugin, defaultPort: number, connections?: ServiceConnections) =>
  Effect.gen(function* () {
    const c = connections ?? {
      databaseUrl: Redacted.value(yield* Config.redacted("DATABASE_URL")),
      natsUrl: (yield* NatsConfig).servers,
    };
    if (!isDatabaseUrl(c.databaseUrl)) {
      return yield* new DbError({ message: "DATABASE_URL is not a postgres:// (or postgresql://) URL" });
    }
    const nats = yield* natsOptionsFromConfig(c.natsUrl, plugin.name);
    const poolMax = yield* DbPoolMaxConfig;
    const port = yield* Config.integer("PORT").pipe(
      Config.withDefault(defaultPort),
      Config.validate({
        message: "PORT must be a whole number from 0 to 65535",
        validation: (n) => n >= 0 && n <= 65535,
      }),
    );
    const deadline = (yield* Clock.currentTimeMillis) + (yield* StartupWaitConfig);
    yield* Effect.acquireUseRelease(
      Effect.sync(() => postgres(c.databaseUrl, { max: 1, connect_timeout: 10, onnotice: () => undefined })),
      (sql) => Effect.zipRight(awaitDatabase(sql, deadline), migrate(sql)),
      (sql) => Effect.promise(() => sql.end({ timeout: 5 })),
    );
    const host = yield* startHost([plugin], {
      name: plugin.name,
      db: { url: c.databaseUrl, singleConnection: c.singleConnection ?? false, listen: true, max: poolMax },
      nats: { ...nats, waitUntil: deadline },
      port,
    });
    yield* Effect.logInfo("service started").pipe(
      Effect.annotateLogs({ service: plugin.name, port: host.port ?? 0 }),
    );
    return yield* Effect.never;
  });

/** A service's `main.ts`: run it as the process's main, with graceful shutdown on SIGTERM. */
export const serviceMain = (plugin: AnyPlugin, defaultPort: number): void =>
  launch(runService(plugin, defaultPort));
