import { type Db, dbLayer, MetricsTest, natsLayer } from "@leadflow/runtime";
import { Clock, ConfigProvider, Effect, Layer, ManagedRuntime } from "effect";
import { Hono } from "hono";
import { type Monitor, MonitorConfigLive, MonitorLive, monitorRoutes } from "../src/index.js";

/** A clock the test moves by hand; sleeping still uses real time. */
export const manualClock = (start: Date) => {
  let now = start.getTime();
  const real = Clock.make();
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
    sleep: (d) => real.sleep(d),
  };
  const set = (d: Date) => {
    now = d.getTime();
  };
  return { clock, set };
};

/**
 * The monitor's routes on an in-process Hono app (`app.request`, no port) over the test's real
 * Postgres and NATS, with configuration from `env` (not the process's) and the given clock.
 */
export const monitorApp = async (options: {
  databaseUrl: string;
  natsUrl: string;
  env?: Record<string, string>;
  clock?: Clock.Clock;
}) => {
  const config = Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(options.env ?? {}))));
  const infra = Layer.mergeAll(
    dbLayer({ url: options.databaseUrl, max: 4 }),
    natsLayer({ servers: options.natsUrl, name: "monitor-test" }),
    MetricsTest,
  );
  const layer = Layer.mergeAll(
    MonitorLive.pipe(Layer.provide(MonitorConfigLive.pipe(Layer.provide(config)))),
    options.clock ? Layer.setClock(options.clock) : Layer.empty,
  ).pipe(Layer.provideMerge(infra));
  const runtime = ManagedRuntime.make(layer);
  const rt = await runtime.runtime();
  const app = new Hono();
  monitorRoutes(app, rt);
  const get = async <T = Record<string, unknown>>(path: string) => {
    const response = await app.request(path);
    return { status: response.status, body: (await response.json()) as T };
  };
  return {
    app,
    get,
    run: <A, E>(effect: Effect.Effect<A, E, Monitor | Db>) => runtime.runPromise(effect),
    close: () => runtime.dispose(),
  };
};
