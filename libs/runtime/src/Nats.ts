import { type StreamKey, Streams } from "@leadflow/contracts";
import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { connect, errors, type NatsConnection } from "@nats-io/transport-node";
import { Config, Context, Effect, Layer, Option, Redacted } from "effect";
import { isUnreachable, NatsError } from "./Errors.js";
import { waitForDependency } from "./StartupWait.js";

export interface NatsShape {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** The concrete stream name for a stream key. */
  readonly stream: (key: StreamKey) => string;
}

export class Nats extends Context.Tag("leadflow/runtime/Nats")<Nats, NatsShape>() {}

export interface NatsOptions {
  readonly servers: string;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  readonly name?: string;
  /**
   * Epoch milliseconds until which a first connection that finds no server is tried again
   * (`STARTUP_WAIT_MS`, for services); default: not at all, the command-line tools answer at once.
   */
  readonly waitUntil?: number;
}

const nanos = (ms: number) => ms * 1_000_000;
const day = 24 * 60 * 60 * 1000;

/** Stream settings (DESIGN section 4). */
export const streamConfigs = {
  cmd: {
    retention: RetentionPolicy.Workqueue,
    max_age: nanos(7 * day),
    duplicate_window: nanos(2 * 60 * 1000),
  },
  evt: {
    retention: RetentionPolicy.Limits,
    max_age: nanos(14 * day),
    duplicate_window: nanos(2 * 60 * 1000),
  },
  dlq: {
    retention: RetentionPolicy.Limits,
    max_age: nanos(30 * day),
    duplicate_window: nanos(2 * 60 * 1000),
  },
} as const;

/** Creates the three streams, or updates them to this configuration; safe to run concurrently. */
export const provisionStreams = (jsm: JetStreamManager) =>
  Effect.forEach(
    Object.keys(Streams) as StreamKey[],
    (key) =>
      Effect.tryPromise({
        try: async () => {
          const config = {
            name: Streams[key].name,
            subjects: [Streams[key].subjects],
            storage: StorageType.File,
            num_replicas: 1,
            ...streamConfigs[key],
          };
          try {
            await jsm.streams.info(config.name);
            await jsm.streams.update(config.name, config);
          } catch (error) {
            if (!isNotFound(error)) throw error;
            try {
              await jsm.streams.add(config);
            } catch (addError) {
              // another process created it between our info and add
              if (!String(addError).includes("already in use")) throw addError;
            }
          }
        },
        catch: (cause) => new NatsError({ message: `cannot provision stream ${Streams[key].name}`, cause }),
      }),
    { discard: true },
  ).pipe(Effect.withSpan("Nats.provisionStreams"));

export const isNotFound = (error: unknown): boolean => {
  const e = error as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return (
    e?.api_error?.err_code === 10059 ||
    e?.api_error?.err_code === 10014 ||
    e?.code === "404" ||
    /not found/i.test(String(e?.message ?? ""))
  );
};

/**
 * Whether waiting may heal a failed first connection: no server there (yet), or one that did not
 * answer in time. A refused login (`AuthorizationError`) or anything else the server said will not.
 */
export const isTransientNatsError = (error: unknown): boolean =>
  error instanceof errors.ConnectionError || error instanceof errors.TimeoutError || isUnreachable(error);

const connectOnce = (options: NatsOptions) =>
  Effect.tryPromise({
    try: () =>
      connect({
        servers: options.servers.split(","),
        name: options.name ?? "leadflow",
        user: options.user,
        pass: options.pass,
        token: options.token,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        pingInterval: 10_000,
        timeout: 10_000,
        // no stack-trace Error per request: a large share of publish CPU otherwise
        noAsyncTraces: true,
      }),
    catch: (cause) => cause,
  });

/** A failed connect in one line, with the socket's reason where nats.js wraps it (`connection refused (connect ECONNREFUSED …)`). */
const describeNatsError = (error: unknown): string => {
  const e = error as { message?: unknown; cause?: { message?: unknown } } | undefined;
  const message = typeof e?.message === "string" && e.message !== "" ? e.message : String(error);
  const inner = e?.cause?.message;
  return typeof inner === "string" && inner !== "" && !message.includes(inner)
    ? `${message} (${inner})`
    : message;
};

/**
 * Connects (waiting for a server that is not there yet until `waitUntil`, if given; once
 * connected, reconnecting forever in the background), provisions the streams, and drains the
 * connection with a bound on scope exit.
 */
export const makeNats = (options: NatsOptions) =>
  Effect.acquireRelease(
    waitForDependency(connectOnce(options), {
      dependency: "NATS",
      deadline: options.waitUntil ?? 0,
      transient: isTransientNatsError,
      reason: describeNatsError,
      fail: (cause, waited) =>
        new NatsError({
          message:
            waited === undefined
              ? `cannot connect to NATS at ${options.servers}`
              : `NATS at ${options.servers} did not answer within STARTUP_WAIT_MS (gave up after ${Math.round(waited.waitedMs / 1000)} s, ${waited.attempts} attempts)`,
          cause,
        }),
    }),
    (nc) =>
      Effect.promise(() => nc.drain().catch(() => nc.close())).pipe(
        Effect.timeout("5 seconds"),
        Effect.ignore,
        Effect.zipRight(Effect.promise(() => nc.close().catch(() => undefined))),
      ),
  ).pipe(
    Effect.flatMap((nc) =>
      Effect.gen(function* () {
        const jsm = yield* Effect.tryPromise({
          try: () => jetstreamManager(nc),
          catch: (cause) => new NatsError({ message: "JetStream is not enabled on the NATS server", cause }),
        });
        yield* provisionStreams(jsm);
        return {
          nc,
          js: jetstream(nc),
          jsm,
          stream: (key: StreamKey) => Streams[key].name,
        } satisfies NatsShape;
      }),
    ),
    Effect.withSpan("Nats.make"),
  );

/** `NATS_URL` (default nats://127.0.0.1:4222), optional `NATS_USER`/`NATS_PASSWORD`/`NATS_TOKEN`. */
export const NatsConfig = Config.all({
  servers: Config.string("NATS_URL").pipe(Config.withDefault("nats://127.0.0.1:4222")),
  user: Config.option(Config.string("NATS_USER")),
  pass: Config.option(Config.redacted("NATS_PASSWORD")),
  token: Config.option(Config.redacted("NATS_TOKEN")),
});

/**
 * The connection options from the environment: `NATS_URL` (or `servers`, where the caller found
 * the server some other way, e.g. the dev stack's file) with the credentials.
 */
export const natsOptionsFromConfig = (servers?: string, name?: string) =>
  Effect.map(
    NatsConfig,
    (c): NatsOptions => ({
      servers: servers ?? c.servers,
      name,
      user: Option.getOrUndefined(c.user),
      pass: Option.getOrUndefined(Option.map(c.pass, Redacted.value)),
      token: Option.getOrUndefined(Option.map(c.token, Redacted.value)),
    }),
  );

export const NatsLive = (name?: string) =>
  Layer.scoped(Nats, Effect.flatMap(natsOptionsFromConfig(undefined, name), makeNats));

export const natsLayer = (options: NatsOptions) => Layer.scoped(Nats, makeNats(options));
