import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { migrate } from "@leadflow/db";
import {
  DbPoolMaxConfig,
  envConfigProvider,
  isDatabaseUrl,
  natsOptionsFromConfig,
  setEnv,
  startHost,
} from "@leadflow/runtime";
import { NatsServerProcess, startEmbeddedPostgresProcess } from "@leadflow/runtime/embedded";
import { ConfigProvider, Console, Effect } from "effect";
import postgres from "postgres";
import { Services } from "../Plugins.js";
import { defaultDataDir, removeStackFile, writeStackFile } from "../StackFile.js";

/** Where `leadflow dev` keeps the notifier's link secret, so review links survive restarts. */
export const devLinkSecretFile = (dataDir: string): string => join(dataDir, "link-secret");

/** The secret from an earlier start, else a new one (readable by this user only). */
const devLinkSecret = (dataDir: string) =>
  Effect.promise(async () => {
    const file = devLinkSecretFile(dataDir);
    const existing = await readFile(file, "utf8").catch(() => "");
    if (existing.trim().length >= 32) return existing.trim();
    const secret = randomBytes(32).toString("hex");
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    return secret;
  });

/** A free port when asked for any (`--port 0`): review links need the port before the server starts. */
const resolvePort = (port: number) =>
  port !== 0
    ? Effect.succeed(port)
    : Effect.async<number>((resume) => {
        const probe = createServer();
        probe.listen(0, "127.0.0.1", () => {
          const address = probe.address();
          const free = typeof address === "object" && address !== null ? address.port : 8000;
          probe.close(() => resume(Effect.succeed(free)));
        });
      });

/**
 * The notifier's settings in dev, under whatever the environment sets: links to this stack's HTTP
 * port, a secret kept in `.data/`, the file outbox in `.data/outbox` (with a local recipient, so
 * the email is written even with no account) and every link printed on the console.
 */
const devNotifierDefaults = (
  env: Readonly<Record<string, string | undefined>>,
  dataDir: string,
  base: string,
  secret: string,
) => {
  const fileOutbox = !env.SMTP_URL && !env.SENDGRID_API_KEY;
  const candidates: ReadonlyArray<readonly [string, string]> = [
    ["PUBLIC_BASE_URL", base],
    ["LINK_SECRET", secret],
    ["NOTIFIER_OUTBOX_DIR", join(dataDir, "outbox")],
    ["NOTIFIER_PRINT_LINKS", "true"],
    ...(fileOutbox ? ([["ALERT_EMAIL", "reviewer@leadflow.localhost"]] as const) : []),
  ];
  // a default stands in only where the environment leaves the setting unset or blank
  const defaults = new Map(candidates.filter(([name]) => !env[name]));
  return ConfigProvider.fromMap(defaults).pipe(ConfigProvider.orElse(() => envConfigProvider(env)));
};

/**
 * `leadflow dev`: every service in one process. Postgres is `DATABASE_URL`, else embedded
 * PGlite under `.data/pg`; NATS is `NATS_URL`, else a `nats-server` child under `.data/nats`.
 */
export const dev = (options: { port: number }) =>
  Effect.gen(function* () {
    const dataDir = defaultDataDir();
    const env = setEnv();
    const embeddedPg = !env.DATABASE_URL;
    if (env.DATABASE_URL && !isDatabaseUrl(env.DATABASE_URL)) {
      return yield* Effect.fail(new Error("DATABASE_URL is not a postgres:// (or postgresql://) URL"));
    }
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

    const nats = yield* natsOptionsFromConfig(natsUrl, "dev");
    const poolMax = yield* DbPoolMaxConfig;
    const port = yield* resolvePort(options.port);
    const linkSecret = env.LINK_SECRET ? "" : yield* devLinkSecret(dataDir);
    const notifierConfig = devNotifierDefaults(env, dataDir, `http://127.0.0.1:${port}`, linkSecret);
    const host = yield* startHost(
      Object.values(Services).map((s) => s.plugin),
      {
        name: "dev",
        db: { url: databaseUrl, singleConnection: embeddedPg, listen: true, max: poolMax },
        nats,
        port,
        host: "127.0.0.1",
      },
    ).pipe(Effect.withConfigProvider(notifierConfig));
    const base = `http://127.0.0.1:${host.port}`;
    const emailVia = env.SMTP_URL
      ? `SMTP (SMTP_URL) to ${env.ALERT_EMAIL ?? "nobody: set ALERT_EMAIL"}`
      : env.SENDGRID_API_KEY
        ? `SendGrid to ${env.ALERT_EMAIL ?? "nobody: set ALERT_EMAIL"}`
        : `file outbox ${join(dataDir, "outbox")}`;
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
        `  approvals  emails via ${emailVia}; review links ${env.PUBLIC_BASE_URL ?? base}/approvals/… are printed here`,
        "             (`npx leadflow approvals --pending` lists them again)",
        `  migrations ${migrated.applied.length > 0 ? `applied ${migrated.applied.join(", ")}` : "up to date"}`,
        "",
        'Try: npx leadflow run --industry hospital --location "Buffalo, NY" --count 50 --wait',
        "",
      ].join("\n"),
    );
    return yield* Effect.never;
  });
