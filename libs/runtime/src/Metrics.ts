import { Context, Effect, Layer } from "effect";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * The process's Prometheus registry and the runtime's own metrics. One registry per process,
 * injected, never prom-client's global default. Label values are bounded (service, consumer,
 * provider, outcome), never run or company ids.
 */
export interface MetricsShape {
  readonly registry: Registry;
  /** Messages handled, by consumer and outcome (`ok`, `skipped`, `retry`, `dead_letter`, `undecodable`). */
  readonly messagesHandled: Counter<"consumer" | "outcome">;
  readonly handlerDuration: Histogram<"consumer">;
  readonly outboxPublished: Counter<never>;
  readonly outboxBacklog: Gauge<never>;
  readonly waitingForDatabase: Gauge<"consumer">;
  readonly deadLetters: Counter<"consumer" | "reason">;
  /** Calls to third-party APIs, by provider and outcome (`ok`, `rate_limited`, `server_error`, `client_error`, `timeout`, `network_error`, `invalid_response`). */
  readonly providerCalls: Counter<"provider" | "outcome">;
  readonly providerDuration: Histogram<"provider">;
  /** Rows the housekeeping sweep deleted, by table (`inbox`, `outbox`). */
  readonly housekeepingDeleted: Counter<"table">;
  /** Housekeeping sweeps by outcome (`ok`, `skipped`: another process was sweeping, `failed`). */
  readonly housekeepingSweeps: Counter<"outcome">;
}

export class Metrics extends Context.Tag("leadflow/runtime/Metrics")<Metrics, MetricsShape>() {}

/** Builds a fresh registry with the runtime's metrics; `service` becomes a default label. */
export const makeMetrics = (service: string, options: { defaultMetrics?: boolean } = {}): MetricsShape => {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "leadflow_" });
  const registers = [registry];
  return {
    registry,
    messagesHandled: new Counter({
      name: "leadflow_messages_handled_total",
      help: "Messages handled by a consumer, by outcome",
      labelNames: ["consumer", "outcome"],
      registers,
    }),
    handlerDuration: new Histogram({
      name: "leadflow_handler_duration_seconds",
      help: "Time a handler took, including its transaction",
      labelNames: ["consumer"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    outboxPublished: new Counter({
      name: "leadflow_outbox_published_total",
      help: "Outbox rows published to JetStream",
      registers,
    }),
    outboxBacklog: new Gauge({
      name: "leadflow_outbox_backlog",
      help: "Outbox rows due and not yet published, as last seen by the relay",
      registers,
    }),
    waitingForDatabase: new Gauge({
      name: "leadflow_messages_waiting_for_database",
      help: "Messages held and tried again in place because PostgreSQL cannot be reached, by consumer",
      labelNames: ["consumer"],
      registers,
    }),
    deadLetters: new Counter({
      name: "leadflow_dead_letters_total",
      help: "Messages dead-lettered, by consumer and reason",
      labelNames: ["consumer", "reason"],
      registers,
    }),
    providerCalls: new Counter({
      name: "leadflow_provider_calls_total",
      help: "Calls to third-party APIs, by provider and outcome",
      labelNames: ["provider", "outcome"],
      registers,
    }),
    providerDuration: new Histogram({
      name: "leadflow_provider_call_duration_seconds",
      help: "Duration of third-party API calls",
      labelNames: ["provider"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    housekeepingDeleted: new Counter({
      name: "leadflow_housekeeping_deleted_rows_total",
      help: "Rows the housekeeping sweep deleted after their retention, by table",
      labelNames: ["table"],
      registers,
    }),
    housekeepingSweeps: new Counter({
      name: "leadflow_housekeeping_sweeps_total",
      help: "Housekeeping sweeps, by outcome (ok, skipped while another process swept, failed)",
      labelNames: ["outcome"],
      registers,
    }),
  };
};

/** A layer with a fresh registry for `service`. */
export const MetricsLive = (service: string, options?: { defaultMetrics?: boolean }) =>
  Layer.sync(Metrics, () => makeMetrics(service, options));

/** Metrics with no process-level collectors, for tests of one module. */
export const MetricsTest = Layer.sync(Metrics, () => makeMetrics("test", { defaultMetrics: false }));

export const metrics = Effect.map(Metrics, (m) => m);
