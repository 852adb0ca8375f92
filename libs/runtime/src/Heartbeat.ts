import { hostname } from "node:os";
import { Kvm } from "@nats-io/kv";
import { type Duration, Effect, Schedule, Schema } from "effect";
import { NatsError } from "./Errors.js";
import { Nats } from "./Nats.js";

/** The KV bucket services write their heartbeats to; entries expire after a minute. */
export const HeartbeatBucket = "leadflow_heartbeats";

export const Heartbeat = Schema.Struct({
  service: Schema.String,
  instance: Schema.String,
  version: Schema.String,
  pid: Schema.Number,
  host: Schema.String,
  startedAt: Schema.String,
  at: Schema.String,
});
export type Heartbeat = typeof Heartbeat.Type;

/** Opens (or creates) the heartbeat bucket. */
export const openHeartbeatBucket = Effect.flatMap(Nats, ({ nc }) =>
  Effect.tryPromise({
    // `ttl` is the bucket's max age (ms): a service that stops beating disappears from it
    try: () => new Kvm(nc).create(HeartbeatBucket, { ttl: 60_000, history: 1 }),
    catch: (cause) => new NatsError({ message: "cannot open the heartbeat bucket", cause }),
  }),
);

/** Writes `<service>.<instance>` every `interval` for as long as the scope lives. */
export const runHeartbeats = (
  services: ReadonlyArray<string>,
  instance: string,
  version: string,
  interval: Duration.DurationInput = "10 seconds",
) =>
  Effect.gen(function* () {
    const kv = yield* openHeartbeatBucket.pipe(
      Effect.retry(Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(10)))),
    );
    const startedAt = new Date().toISOString();
    const beat = Effect.forEach(
      services,
      (service) =>
        Effect.tryPromise(() =>
          kv.put(
            `${service}.${instance}`,
            JSON.stringify({
              service,
              instance,
              version,
              pid: process.pid,
              host: hostname(),
              startedAt,
              at: new Date().toISOString(),
            } satisfies Heartbeat),
          ),
        ),
      { discard: true },
    ).pipe(Effect.catchAll((e) => Effect.logWarning("heartbeat failed", String(e.error))));
    yield* Effect.forkScoped(beat.pipe(Effect.repeat(Schedule.spaced(interval))));
    yield* Effect.addFinalizer(() =>
      Effect.forEach(
        services,
        (service) => Effect.tryPromise(() => kv.delete(`${service}.${instance}`)).pipe(Effect.ignore),
        {
          discard: true,
        },
      ),
    );
  });

/**
 * A JetStream request of a heartbeat read, given 600 ms and three tries: nats-server 2.9 may
 * leave a request unanswered for a while after a restart, and the client's own timeout (5 s)
 * would spend a health probe's whole budget on it.
 */
const patiently = <A, E, R>(request: Effect.Effect<A, E, R>) =>
  request.pipe(
    Effect.timeout("600 millis"),
    Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(2)))),
  );

/**
 * Every live heartbeat in the bucket. The keys come from the stream's count per subject (one
 * stream info request), not from `kv.keys()`, whose ordered consumer waits for the server with
 * no time limit: after a nats-server restart a health check reading heartbeats hung for over
 * 15 s that way (24 Nov, nats-server 2.9.10). No consumer is created per read either.
 */
export const readHeartbeats = Effect.gen(function* () {
  const { jsm } = yield* Nats;
  const kv = yield* patiently(openHeartbeatBucket);
  const prefix = `$KV.${HeartbeatBucket}.`;
  const keys = yield* patiently(
    Effect.tryPromise({
      try: async () => {
        const info = await jsm.streams.info(`KV_${HeartbeatBucket}`, { subjects_filter: `${prefix}>` });
        return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
      },
      catch: (cause) => new NatsError({ message: "cannot list heartbeats", cause }),
    }),
  );
  const entries = yield* Effect.forEach(
    keys,
    (key) =>
      // a get that fails on a loaded server is tried again before the beat counts as missing
      patiently(Effect.tryPromise(() => kv.get(key))).pipe(
        Effect.tapError((e) => Effect.logWarning(`cannot read heartbeat ${key}`, String(e))),
        Effect.orElseSucceed(() => null),
      ),
    { concurrency: "unbounded" },
  );
  const beats: Heartbeat[] = [];
  for (const entry of entries) {
    if (entry?.operation !== "PUT") continue;
    const decoded = Schema.decodeUnknownOption(Schema.parseJson(Heartbeat))(entry.string());
    if (decoded._tag === "Some") beats.push(decoded.value);
  }
  return beats;
});
