import { randomUUID } from "node:crypto";
import {
  Cause,
  Config,
  ConfigError,
  ConfigProvider,
  Context,
  type Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Option,
  Ref,
  Scope,
} from "effect";
import { runConsumer } from "./Consumer.js";
import { Db, type DbOptions, makeDb } from "./Db.js";
import type { NatsError } from "./Errors.js";
import { runHeartbeats } from "./Heartbeat.js";
import { HousekeepingConfig, type HousekeepingOptions, runHousekeeping } from "./Housekeeping.js";
import { makeHealthApp, serveHttp } from "./Http.js";
import { Metrics, makeMetrics } from "./Metrics.js";
import { makeNats, Nats, type NatsOptions } from "./Nats.js";
import { makeOutboxRelay, OutboxRelay, type RelayOptions } from "./Outbox.js";
import type { AnyPlugin, RuntimeServices } from "./Plugin.js";

export interface HostOptions {
  /** The process's name: a service name, or `dev` for all of them. */
  readonly name: string;
  readonly db: DbOptions;
  readonly nats: NatsOptions;
  /** HTTP port for health/metrics (0 = any free port; undefined = no HTTP server). */
  readonly port?: number;
  readonly host?: string;
  readonly version?: string;
  readonly relay?: RelayOptions;
  readonly heartbeatInterval?: Duration.DurationInput;
  /**
   * Retention sweeps of the inbox and outbox (`Housekeeping.ts`); default from the environment
   * (`INBOX_RETENTION`, `OUTBOX_RETENTION`, `HOUSEKEEPING_INTERVAL`); `false` runs none.
   */
  readonly housekeeping?: HousekeepingOptions | false;
}

export interface RunningHost {
  readonly port: number | undefined;
  readonly context: Context.Context<RuntimeServices>;
}

/** The runtime's own services, built in the caller's scope. */
export const makeRuntimeContext = (options: Pick<HostOptions, "name" | "db" | "nats" | "relay">) =>
  Effect.gen(function* () {
    const db = yield* makeDb(options.db);
    const nats = yield* makeNats({ name: options.name, ...options.nats });
    const metrics = makeMetrics(options.name);
    const base = Context.make(Db, db).pipe(Context.add(Nats, nats), Context.add(Metrics, metrics));
    const relay = yield* makeOutboxRelay(options.relay).pipe(Effect.provide(base));
    return Context.add(base, OutboxRelay, relay);
  });

/**
 * Runs plugins in this process for the life of the scope: infrastructure, the outbox relay,
 * each plugin's layer, consumers and background work, heartbeats and the HTTP server.
 * Closing the scope shuts down in reverse: stop pulling and finish in-flight work, flush the
 * outbox, drain NATS, close Postgres.
 */
export const startHost = (plugins: ReadonlyArray<AnyPlugin>, options: HostOptions) =>
  Effect.gen(function* () {
    // configuration first: a bad value stops the host before it connects to anything
    const housekeeping = options.housekeeping ?? (yield* HousekeepingConfig);
    const context = yield* makeRuntimeContext(options);
    const instance = randomUUID().slice(0, 8);
    const running: Array<Ref.Ref<boolean>> = [];
    const stops: Array<Effect.Effect<void>> = [];
    const routes: Array<(app: import("hono").Hono) => void> = [];
    for (const { _plugin: plugin } of plugins) {
      const scope = yield* Scope.Scope;
      const pluginContext = plugin.layer
        ? yield* Layer.buildWithScope(plugin.layer, scope).pipe(Effect.provide(context), Effect.orDie)
        : (Context.empty() as Context.Context<unknown>);
      const full = Context.merge(context, pluginContext);
      for (const spec of plugin.consumers) {
        const runner = yield* runConsumer(plugin.name, spec).pipe(Effect.provide(full)) as Effect.Effect<
          { running: Ref.Ref<boolean>; stop: Effect.Effect<void> },
          NatsError
        >;
        running.push(runner.running);
        stops.push(runner.stop);
      }
      for (const job of plugin.background ?? []) {
        yield* Effect.forkScoped(job.pipe(Effect.provide(full)) as Effect.Effect<void, never, Scope.Scope>);
      }
      if (plugin.routes) {
        const add = plugin.routes;
        const runtime = yield* Effect.runtime<unknown>().pipe(Effect.provide(full));
        routes.push((app) => add(app, runtime));
      }
      yield* Effect.logInfo("plugin started").pipe(
        Effect.annotateLogs({ plugin: plugin.name, consumers: plugin.consumers.length }),
      );
    }
    // every consumer stops pulling at once and they wait for their in-flight work together: one
    // after another (each its own finalizer), the later ones would pull on while the earlier
    // drain, and their budgets would add up past the process's shutdown deadline
    yield* Effect.addFinalizer(() => Effect.all(stops, { concurrency: "unbounded", discard: true }));
    yield* runHeartbeats(
      plugins.length > 0 ? plugins.map((p) => p.name) : [options.name],
      instance,
      options.version ?? "0.1.0",
      options.heartbeatInterval,
    ).pipe(Effect.provide(context));
    if (housekeeping) yield* Effect.forkScoped(runHousekeeping(housekeeping).pipe(Effect.provide(context)));
    let port: number | undefined;
    if (options.port !== undefined) {
      const app = yield* makeHealthApp([
        {
          name: "consumers",
          check: Effect.map(Effect.forEach(running, Ref.get), (states) => states.every(Boolean)),
        },
      ]).pipe(Effect.provide(context));
      for (const add of routes) add(app);
      const server = yield* serveHttp(app, options.port, options.host);
      port = server.port;
    }
    return { port, context } satisfies RunningHost;
  });

/**
 * The process's environment as configuration, where a blank variable counts as unset
 * (`SMTP_URL=` is no SMTP, `PORT=` the default port), as the README promises for every setting:
 * Effect's own `fromEnv` reads `""` as a value (a blank number is 0, a blank list is empty).
 * The variables as they are when this is called.
 */
export const envConfigProvider = (
  env: Readonly<Record<string, string | undefined>> = process.env,
): ConfigProvider.ConfigProvider =>
  ConfigProvider.fromMap(new Map(Object.entries(setEnv(env)) as Array<[string, string]>), {
    pathDelim: "_",
    seqDelim: ",",
  });

/**
 * The environment with blank variables left out, for code that reads variables directly (the
 * CLI's connection lookup): the same rule as `envConfigProvider`.
 */
export const setEnv = (
  env: Readonly<Record<string, string | undefined>> = process.env,
): Readonly<Record<string, string | undefined>> =>
  Object.fromEntries(Object.entries(env).filter(([, value]) => (value?.trim() ?? "") !== ""));

/** JSON log lines at `LOG_LEVEL` (default info). */
export const LoggingLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const level = yield* Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info));
    return Layer.merge(Logger.json, Logger.minimumLogLevel(level));
  }),
);

/**
 * A failure's message, with its cause's when that adds the reason (`cannot connect …: ECONNREFUSED`);
 * a configuration error names its variable (`PORT: Expected an integer value but received "eighty"`).
 */
export const failureLine = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) return configErrorLine(error);
  const message = (error as { message?: unknown })?.message;
  const text = typeof message === "string" && message !== "" ? message : String(error);
  const cause = (error as { cause?: { message?: unknown } })?.cause?.message;
  return typeof cause === "string" && cause !== "" && !text.includes(cause) ? `${text}: ${cause}` : text;
};

// Effect's own text for an unparsable value leaves the variable out ("Expected an integer value
// but received …"): the path is the variable (`pathDelim` "_"), put in front unless named already
const configErrorLine = (error: ConfigError.ConfigError): string => {
  switch (error._op) {
    case "And":
    case "Or":
      return `${configErrorLine(error.left)}; ${configErrorLine(error.right)}`;
    default: {
      const name = error.path.join("_");
      return name === "" || error.message.includes(name) ? error.message : `${name}: ${error.message}`;
    }
  }
};

/**
 * Runs a long-lived program as the process's main: SIGTERM/SIGINT interrupt it (running its
 * finalizers, i.e. the graceful shutdown), a second signal or the deadline exits at once.
 */
export const launch = <E>(program: Effect.Effect<unknown, E, Scope.Scope>, shutdownTimeoutMs = 25_000) => {
  const fiber = Effect.runFork(
    Effect.scoped(program).pipe(Effect.provide(LoggingLive), Effect.withConfigProvider(envConfigProvider())),
  );
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    Effect.runFork(Effect.logInfo(`${signal}: shutting down`).pipe(Effect.provide(LoggingLive)));
    setTimeout(() => process.exit(1), shutdownTimeoutMs).unref();
    Effect.runFork(Fiber.interrupt(fiber));
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  fiber.addObserver((exit) => {
    if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) {
      // an expected failure (configuration, a server not there) is one line with its reason; a
      // defect keeps its stack trace
      // a plugin's layer that fails is a defect to the host (`orDie`), but one that failed on its
      // configuration is as expected as any other setting
      const failure = Option.orElse(Cause.failureOption(exit.cause), () =>
        Option.filter(Cause.dieOption(exit.cause), ConfigError.isConfigError),
      );
      const message = failure._tag === "Some" ? failureLine(failure.value) : Cause.pretty(exit.cause);
      process.stderr.write(`${JSON.stringify({ level: "FATAL", message })}\n`);
      process.exit(1);
    }
    process.exit(0);
  });
};
