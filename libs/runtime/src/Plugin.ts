import type { Effect, Layer, Runtime, Scope } from "effect";
import type { Hono } from "hono";
import type { ConsumerSpec } from "./Consumer.js";
import type { Db } from "./Db.js";
import type { Metrics } from "./Metrics.js";
import type { Nats } from "./Nats.js";
import type { OutboxRelay } from "./Outbox.js";

/** What the runtime provides to every plugin. */
export type RuntimeServices = Db | Nats | Metrics | OutboxRelay;

/**
 * A service is a plugin: what it consumes, the services its handlers need (built from the
 * runtime's), background work (timers, sweepers) and extra HTTP routes. The runtime runs it
 * alone (`leadflow service <name>`) or beside the others (`leadflow dev`).
 */
export interface Plugin<R = never> {
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: a plugin's consumers carry different message types
  readonly consumers: ReadonlyArray<ConsumerSpec<any, any, R | RuntimeServices, any>>;
  readonly layer?: Layer.Layer<R, unknown, RuntimeServices>;
  readonly background?: ReadonlyArray<Effect.Effect<void, never, R | RuntimeServices | Scope.Scope>>;
  /** Extra HTTP routes; `runtime` runs the plugin's effects (its layer and the runtime's services). */
  readonly routes?: (app: Hono, runtime: Runtime.Runtime<R | RuntimeServices>) => void;
}

/** A plugin with its requirements checked and erased, ready for the host. */
export interface AnyPlugin {
  readonly name: string;
  readonly _plugin: Plugin<unknown>;
}

/**
 * Declares a plugin: `R` is checked here (every consumer, job and route gets what the layer
 * provides), then erased so plugins with different needs sit in one list.
 */
export const definePlugin = <R = never>(plugin: Plugin<R>): AnyPlugin => ({
  name: plugin.name,
  _plugin: plugin as unknown as Plugin<unknown>,
});
