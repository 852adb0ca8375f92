import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { type Heartbeat, Nats, type NatsShape, query, readHeartbeats } from "@leadflow/runtime";
import { Duration, Effect, Option, Redacted } from "effect";
import type { Sql } from "postgres";
import { type MonitorSettings, ProviderKeys, type ProviderName } from "./MonitorConfig.js";

export type CheckStatus = "ok" | "warning" | "error";

export interface Check {
  readonly status: CheckStatus;
  readonly message: string;
}

export interface ServiceCheck extends Check {
  readonly instances: number;
  readonly lastSeen: string | null;
  readonly ageSeconds: number | null;
  readonly version: string | null;
}

export interface HealthReport {
  readonly status: CheckStatus;
  readonly checkedAt: string;
  readonly checks: {
    readonly postgres: Check;
    readonly nats: Check;
    readonly llm: Check;
    readonly email: Check;
    readonly alert_email: Check;
  };
  readonly services: Record<string, ServiceCheck>;
  readonly providers: Record<ProviderName, Check>;
}

const ok = (message: string): Check => ({ status: "ok", message });
const warning = (message: string): Check => ({ status: "warning", message });
const error = (message: string): Check => ({ status: "error", message });

/** The worst of the statuses: error beats warning beats ok. */
export const worst = (statuses: Iterable<CheckStatus>): CheckStatus => {
  let out: CheckStatus = "ok";
  for (const s of statuses) {
    if (s === "error") return "error";
    if (s === "warning") out = "warning";
  }
  return out;
};

const reason = (e: unknown): string => {
  const x = e as { message?: string; cause?: { message?: string; code?: string } } | undefined;
  return x?.cause?.code ?? x?.cause?.message ?? x?.message ?? String(e);
};

/** Runs a probe with a time limit; its failure or timeout becomes an `error` check. */
/** `effect`'s check, or an error check when it fails or times out (prefixed with `what`, if given). */
const probe = (
  timeout: Duration.Duration,
  effect: Effect.Effect<Check, unknown>,
  what?: string,
): Effect.Effect<Check> =>
  effect.pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () => `no answer within ${Duration.format(timeout)}`,
    }),
    Effect.catchAll((e) => {
      const why = typeof e === "string" ? e : reason(e);
      return Effect.succeed(error(what ? `${what}: ${why}` : why));
    }),
  );

const elapsed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.timed(effect), ([d, a]) => [Math.round(Duration.toMillis(d)), a] as const);

export const postgresCheck = (sql: Sql, timeout: Duration.Duration) =>
  probe(timeout, elapsed(query(() => sql`select 1`)).pipe(Effect.map(([ms]) => ok(`answered in ${ms} ms`))));

export const natsCheck = (nats: NatsShape, timeout: Duration.Duration) =>
  probe(
    timeout,
    Effect.gen(function* () {
      if (nats.nc.isClosed()) return error("connection closed");
      const [ms, info] = yield* elapsed(Effect.tryPromise(() => nats.jsm.getAccountInfo()));
      return ok(`JetStream answered in ${ms} ms (${info.streams} streams, ${info.consumers} consumers)`);
    }),
  );

/**
 * One entry per expected service and per service seen: instances with a live heartbeat, the
 * newest beat, its version. Missing → error; newest beat older than `stale` → warning.
 */
export const serviceChecks = (
  beats: ReadonlyArray<Heartbeat>,
  expected: ReadonlyArray<string>,
  now: Date,
  stale: Duration.Duration,
): Record<string, ServiceCheck> => {
  const names = [...new Set([...expected, ...beats.map((b) => b.service)])];
  return Object.fromEntries(
    names.map((name) => {
      const mine = beats.filter((b) => b.service === name);
      if (mine.length === 0) {
        return [
          name,
          {
            ...error("no heartbeat: the service is not running"),
            instances: 0,
            lastSeen: null,
            ageSeconds: null,
            version: null,
          },
        ];
      }
      const newest = mine.reduce((a, b) => (Date.parse(b.at) > Date.parse(a.at) ? b : a));
      const ageSeconds = Math.max(0, (now.getTime() - Date.parse(newest.at)) / 1000);
      const versions = [...new Set(mine.map((b) => b.version))];
      const check =
        ageSeconds * 1000 > Duration.toMillis(stale)
          ? warning(`last heartbeat ${Math.round(ageSeconds)} s ago`)
          : ok(`${mine.length} instance${mine.length === 1 ? "" : "s"}, version ${versions.join(", ")}`);
      return [
        name,
        { ...check, instances: mine.length, lastSeen: newest.at, ageSeconds, version: newest.version },
      ];
    }),
  );
};

const httpProbe = (url: string, timeout: Duration.Duration, headers: Record<string, string> = {}) =>
  Effect.tryPromise(async () => {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(Duration.toMillis(timeout)) });
    const body = (await response.json().catch(() => null)) as { models?: unknown[]; data?: unknown[] } | null;
    return { status: response.status, body };
  });

/** Which writer backend runs, mirroring the writer's choice, and whether its endpoint answers. */
export const llmCheck = (llm: MonitorSettings["llm"], timeout: Duration.Duration): Effect.Effect<Check> => {
  const explicit = Option.getOrUndefined(llm.writerBackend);
  const backend =
    explicit ??
    (Option.isSome(llm.ollamaBaseUrl) ? "ollama" : Option.isSome(llm.openaiBaseUrl) ? "openai" : "template");
  if (backend === "ollama") {
    const base = Option.getOrElse(llm.ollamaBaseUrl, () => "http://127.0.0.1:11434").replace(/\/+$/, "");
    return probe(
      timeout,
      httpProbe(`${base}/api/tags`, timeout).pipe(
        Effect.map(({ status, body }) =>
          status === 200
            ? ok(`Ollama at ${base} answered (${body?.models?.length ?? 0} models)`)
            : error(`Ollama at ${base} answered ${status}`),
        ),
      ),
      `Ollama at ${base}`,
    );
  }
  if (backend === "openai") {
    const base = Option.getOrElse(llm.openaiBaseUrl, () => "https://api.openai.com").replace(/\/+$/, "");
    const key = Option.map(llm.openaiApiKey, Redacted.value);
    return probe(
      timeout,
      httpProbe(
        `${base}/v1/models`,
        timeout,
        Option.isSome(key) ? { authorization: `Bearer ${key.value}` } : {},
      ).pipe(
        Effect.map(({ status, body }) =>
          status === 200
            ? ok(`OpenAI-compatible endpoint at ${base} answered (${body?.data?.length ?? 0} models)`)
            : error(`OpenAI-compatible endpoint at ${base} answered ${status}`),
        ),
      ),
      `OpenAI-compatible endpoint at ${base}`,
    );
  }
  return Effect.succeed(warning("no LLM endpoint configured: template writer in use"));
};

/** Connects and waits for the server's `220` greeting, then says QUIT. */
const smtpGreeting = (url: URL, timeout: Duration.Duration) =>
  Effect.async<string, Error>((resume) => {
    const secure = url.protocol === "smtps:";
    const port = Number(url.port || (secure ? 465 : 587));
    const host = url.hostname;
    const socket: Socket = secure ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
    socket.setTimeout(Duration.toMillis(timeout));
    let buffer = "";
    const done = (result: Effect.Effect<string, Error>) => {
      socket.removeAllListeners("data");
      socket.end();
      socket.destroySoon?.();
      resume(result);
    };
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("latin1");
      const line = buffer.split("\r\n")[0] ?? "";
      if (!buffer.includes("\r\n")) return;
      if (line.startsWith("220")) {
        socket.write("QUIT\r\n");
        done(Effect.succeed(`${host}:${port}`));
      } else
        done(Effect.fail(new Error(`SMTP server at ${host}:${port} greeted with "${line.slice(0, 80)}"`)));
    });
    socket.on("timeout", () => {
      socket.destroy();
      resume(Effect.fail(new Error(`SMTP server at ${host}:${port} did not greet`)));
    });
    socket.on("error", (e) => resume(Effect.fail(new Error(`SMTP server at ${host}:${port}: ${reason(e)}`))));
    return Effect.sync(() => socket.destroy());
  });

/** SMTP (connect and greet), else SendGrid (key present; not called), else the file outbox. */
export const emailCheck = (
  email: MonitorSettings["email"],
  timeout: Duration.Duration,
): Effect.Effect<Check> => {
  if (Option.isSome(email.smtpUrl)) {
    const raw = Redacted.value(email.smtpUrl.value);
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    if (!url || (url.protocol !== "smtp:" && url.protocol !== "smtps:")) {
      return Effect.succeed(error("SMTP_URL is not an smtp:// or smtps:// URL"));
    }
    return probe(
      timeout,
      smtpGreeting(url, timeout).pipe(Effect.map((where) => ok(`SMTP server at ${where} answered`))),
    );
  }
  if (Option.isSome(email.sendgridApiKey)) return Effect.succeed(ok("SendGrid API key configured"));
  return Effect.succeed(warning("no SMTP_URL or SENDGRID_API_KEY: emails go to the file outbox"));
};

/** Keys the original checks that no stage here uses yet: unset is not worth a warning. */
const reservedKeys: ReadonlySet<ProviderName> = new Set(["tavily"]);

export const providerChecks = (providers: MonitorSettings["providers"]): Record<ProviderName, Check> =>
  Object.fromEntries(
    (Object.keys(ProviderKeys) as ProviderName[]).map((p) => [
      p,
      providers[p]
        ? ok(`${ProviderKeys[p]} configured`)
        : reservedKeys.has(p)
          ? ok(`${ProviderKeys[p]} not set (reserved: no stage uses it yet)`)
          : warning(`${ProviderKeys[p]} not set`),
    ]),
  ) as Record<ProviderName, Check>;

export const alertEmailCheck = (alertEmail: Option.Option<string>): Check =>
  Option.match(alertEmail, {
    onNone: () => warning("ALERT_EMAIL not set: approval requests reach no one"),
    onSome: () => ok("ALERT_EMAIL set"),
  });

/** Every check at once (each bounded by the probe timeout), and the overall status. */
export const healthReport = (sql: Sql, nats: NatsShape, config: MonitorSettings, now: Date) =>
  Effect.gen(function* () {
    const timeout = config.probeTimeout;
    const heartbeats = readHeartbeats.pipe(Effect.provideService(Nats, nats));
    const [postgres, natsStatus, llm, email, beats] = yield* Effect.all(
      [
        postgresCheck(sql, timeout),
        natsCheck(nats, timeout),
        llmCheck(config.llm, timeout),
        emailCheck(config.email, timeout),
        heartbeats.pipe(Effect.timeout(timeout), Effect.either),
      ],
      { concurrency: "unbounded" },
    );
    const services =
      beats._tag === "Right"
        ? serviceChecks(beats.right, config.expectedServices, now, config.heartbeatStale)
        : Object.fromEntries(
            config.expectedServices.map((name) => [
              name,
              {
                ...error(`heartbeats unreadable: ${reason(beats.left)}`),
                instances: 0,
                lastSeen: null,
                ageSeconds: null,
                version: null,
              } satisfies ServiceCheck,
            ]),
          );
    const checks = {
      postgres,
      nats: natsStatus,
      llm,
      email,
      alert_email: alertEmailCheck(config.alertEmail),
    };
    const providers = providerChecks(config.providers);
    const status = worst([
      ...Object.values(checks).map((c) => c.status),
      ...Object.values(services).map((c) => c.status),
      ...Object.values(providers).map((c) => c.status),
    ]);
    return {
      status,
      checkedAt: now.toISOString(),
      checks,
      services,
      providers,
    } satisfies HealthReport;
  }).pipe(Effect.withSpan("Health.report"));
