import { migrate } from "@leadflow/db";
import { Config, Effect, Option, Redacted } from "effect";
import postgres from "postgres";
import { launch, startHost } from "./Host.js";
import { NatsConfig } from "./Nats.js";
import type { AnyPlugin } from "./Plugin.js";

export interface ServiceConnections {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly singleConnection?: boolean;
}

/**
 * One service in this process: migrate (advisory-locked, so replicas starting together are
 * safe), then host the plugin until SIGTERM. Connections come from the caller, or from
 * `DATABASE_URL` / `NATS_URL`; the HTTP port from `PORT`, else the service's default.
 */
export const runService = (plugin: AnyPlugin, defaultPort: number, connections?: ServiceConnections) =>
  Effect.gen(function* () {
    const c = connections ?? {
      databaseUrl: Redacted.value(yield* Config.redacted("DATABASE_URL")),
      natsUrl: (yield* NatsConfig).servers,
    };
    const nats = yield* NatsConfig;
    const port = yield* Config.integer("PORT").pipe(Config.withDefault(defaultPort));
    yield* Effect.acquireUseRelease(
      Effect.sync(() => postgres(c.databaseUrl, { max: 1, onnotice: () => undefined })),
      (sql) => migrate(sql),
      (sql) => Effect.promise(() => sql.end({ timeout: 5 })),
    );
    const host = yield* startHost([plugin], {
      name: plugin.name,
      db: { url: c.databaseUrl, singleConnection: c.singleConnection ?? false, listen: true },
      nats: {
        servers: c.natsUrl,
        user: Option.getOrUndefined(nats.user),
        pass: Option.getOrUndefined(Option.map(nats.pass, Redacted.value)),
        token: Option.getOrUndefined(Option.map(nats.token, Redacted.value)),
      },
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
