import { join } from "node:path";
import { migrate } from "@leadflow/db";
import { startHost } from "@leadflow/runtime";
import { NatsServerProcess, startEmbeddedPostgresProcess } from "@leadflow/runtime/embedded";
import { Console, Effect } from "effect";
import postgres from "postgres";
import { Services } from "../Plugins.js";
import { defaultDataDir, removeStackFile, writeStackFile } from "../StackFile.js";

/**
 * `leadflow dev`: every service in one process. Postgres is `DATABASE_URL`, else embedded
 * PGlite under `.data/pg`; NATS is `NATS_URL`, else a `nats-server` child under `.data/nats`.
 */
export const dev = (options: { port: number }) =>
  Effect.gen(function* () {
    const dataDir = defaultDataDir();
    const env = process.env;
    const embeddedPg = !env.DATABASE_URL;
    const embeddedNats = !env.NATS_URL;

    const databaseUrl = embeddedPg
      ? yield* Effect.acquireRelease(
          Effect.promise(() => startEmbeddedPostgresProcess({ dataDir: join(dataDir, "pg") })),
          (pg) => Effect.promise(() => pg.stop()),
        ).pipe(Effect.map((pg) => pg.url))
      : env.DATABASE_URL!;
    const natsUrl = embeddedNats
      ? yield* Effect.acquireRelease(
          Effect.promise(() => NatsServerProcess.create({ dataDir: join(dataDir, "nats") })),
          (nats) => Effect.promise(() => nats.stop()),
        ).pipe(Effect.map((n) => n.url))
      : env.NATS_URL!;

    const migrated = yield* Effect.acquireUseRelease(
      Effect.sync(() => postgres(databaseUrl, { max: 1, onnotice: () => undefined })),
      (sql) => migrate(sql),
      (sql) => Effect.promise(() => sql.end({ timeout: 5 })),
    );

    const host = yield* startHost(
      Object.values(Services).map((s) => s.plugin),
      {
        name: "dev",
        db: { url: databaseUrl, singleConnection: embeddedPg, listen: true },
        nats: { servers: natsUrl },
        port: options.port,
        host: "127.0.0.1",
      },
    );
    const base = `http://127.0.0.1:${host.port}`;
    yield* writeStackFile(dataDir, {
      pid: process.pid,
      startedAt: new Date(),
      databaseUrl,
      natsUrl,
      http: Object.fromEntries(Object.keys(Services).map((name) => [name, base])),
      embedded: { postgres: embeddedPg, nats: embeddedNats },
    });
    yield* Effect.addFinalizer(() =>
      removeStackFile(dataDir, { onlyIfPid: process.pid }).pipe(Effect.ignore),
    );

    yield* Console.log(
      [
        "",
        "Leadflow dev stack is running (Ctrl-C to stop)",
        `  postgres   ${embeddedPg ? `embedded PGlite in a child process (${join(dataDir, "pg")}) at ${databaseUrl}` : "DATABASE_URL"}`,
        `  nats       ${embeddedNats ? `nats-server child at ${natsUrl} (store ${join(dataDir, "nats")})` : natsUrl}`,
        `  services   ${Object.keys(Services).join(", ")}`,
        `  http       ${base}/healthz  ${base}/readyz  ${base}/metrics`,
        `  migrations ${migrated.applied.length > 0 ? `applied ${migrated.applied.join(", ")}` : "up to date"}`,
        "",
        'Try: npx leadflow run --industry hospital --location "Buffalo, NY" --count 50 --wait',
        "",
      ].join("\n"),
    );
    return yield* Effect.never;
  });
