import { CompanyStatuses, LeadTiers } from "@leadflow/contracts";
import { Db, Metrics, Nats, readHeartbeats } from "@leadflow/runtime";
import { Context, Duration, Effect, Layer, Schedule } from "effect";
import { Counter, Gauge } from "prom-client";
import { serviceChecks } from "./Health.js";
import { Monitor, now } from "./Monitor.js";
import { compactStatusDeltas, currentTierCounts, pendingApprovals } from "./PipelineStore.js";
import { consumerLag, makeDeadLetterCounter } from "./StreamStats.js";

const gauges = (registers: ConstructorParameters<typeof Gauge>[0]["registers"]) => ({
  companies: new Gauge({
    name: "leadflow_companies",
    help: "Companies by pipeline status (all 11 statuses)",
    labelNames: ["status"],
    registers,
  }),
  leads: new Gauge({
    name: "leadflow_leads",
    help: "Companies by the tier of their latest score",
    labelNames: ["tier"],
    registers,
  }),
  pipelineValue: new Gauge({
    name: "leadflow_pipeline_value_dollars",
    help: "Estimated yearly savings of active high-tier companies, by estimate bound",
    labelNames: ["bound"],
    registers,
  }),
  revenue: new Gauge({
    name: "leadflow_estimated_revenue_dollars",
    help: "CONTINGENCY_FEE times the mid savings of active high-tier companies",
    registers,
  }),
  stuck: new Gauge({
    name: "leadflow_stuck_items",
    help: "Items each stuck check finds (no_email_today: 1 when it fires)",
    labelNames: ["check"],
    registers,
  }),
  approvals: new Gauge({
    name: "leadflow_approvals_pending",
    help: "Approval requests waiting for a decision, by type",
    labelNames: ["type"],
    registers,
  }),
  lag: new Gauge({
    name: "leadflow_consumer_lag_messages",
    help: "Messages a durable consumer has not finished: num_pending + num_ack_pending",
    labelNames: ["stream", "consumer"],
    registers,
  }),
  deadLetters: new Gauge({
    name: "leadflow_dead_letter_messages",
    help: "Messages in the dead-letter stream, by the stream they came from",
    labelNames: ["stream"],
    registers,
  }),
  heartbeatAge: new Gauge({
    name: "leadflow_service_heartbeat_age_seconds",
    help: "Seconds since the newest heartbeat of a service (+Inf: an expected service has none)",
    labelNames: ["service"],
    registers,
  }),
  refreshErrors: new Counter({
    name: "leadflow_monitor_refresh_errors_total",
    help: "Parts of the monitor's gauge refresh that failed (the gauges keep their last values)",
    registers,
  }),
});

export type MonitorGaugesShape = ReturnType<typeof gauges>;

/** The monitor's business gauges, on the process's registry. */
export class MonitorGauges extends Context.Tag("leadflow/Monitor/MonitorGauges")<
  MonitorGauges,
  MonitorGaugesShape
>() {}

export const MonitorGaugesLive = Layer.effect(
  MonitorGauges,
  Effect.map(Metrics, ({ registry }) => gauges([registry])),
);

/**
 * Builds the refresh: running it recomputes every gauge once. Parts fail on their own (NATS down leaves the SQL gauges
 * fresh and the reverse), each failure counted and logged; a failed part keeps its last values.
 */
export const makeRefresh = Effect.gen(function* () {
  const g = yield* MonitorGauges;
  const monitor = yield* Monitor;
  const { sql } = yield* Db;
  const nats = yield* Nats;
  const deadLetters = makeDeadLetterCounter(nats);
  const part = <A, E, R>(name: string, effect: Effect.Effect<A, E, R>, set: (a: A) => void) =>
    effect.pipe(
      Effect.timeout(Duration.seconds(30)),
      Effect.tap((a) => Effect.sync(() => set(a))),
      Effect.catchAllCause((cause) =>
        Effect.sync(() => g.refreshErrors.inc()).pipe(
          Effect.zipRight(Effect.logWarning(`monitor refresh of ${name} failed`, cause)),
        ),
      ),
    );
  return Effect.all(
    [
      part("companies", Effect.zipRight(compactStatusDeltas(sql), monitor.counts), (counts) => {
        for (const s of CompanyStatuses) g.companies.set({ status: s }, counts[s]);
      }),
      part("leads", currentTierCounts(sql), (counts) => {
        for (const t of LeadTiers) g.leads.set({ tier: t }, counts[t]);
      }),
      part("pipeline value", monitor.refreshValue, (v) => {
        g.pipelineValue.set({ bound: "low" }, v.savings.low);
        g.pipelineValue.set({ bound: "mid" }, v.savings.mid);
        g.pipelineValue.set({ bound: "high" }, v.savings.high);
        g.revenue.set(v.estimatedRevenue);
      }),
      part("stuck checks", monitor.stuck, ({ checks }) => {
        for (const c of checks) g.stuck.set({ check: c.check }, c.count);
      }),
      part("approvals", pendingApprovals(sql), (a) => {
        g.approvals.set({ type: "leads" }, a.leads);
        g.approvals.set({ type: "emails" }, a.emails);
      }),
      part("consumer lag", consumerLag(nats), (lags) => {
        // a deleted consumer must not linger with its last value
        g.lag.reset();
        for (const l of lags) g.lag.set({ stream: l.stream, consumer: l.consumer }, l.lag);
      }),
      part("dead letters", deadLetters, (counts) => {
        for (const [stream, n] of Object.entries(counts)) g.deadLetters.set({ stream }, n);
      }),
      part(
        "heartbeats",
        Effect.zip(readHeartbeats, now).pipe(Effect.provideService(Nats, nats)),
        ([beats, at]) => {
          g.heartbeatAge.reset();
          const checks = serviceChecks(
            beats,
            monitor.config.expectedServices,
            at,
            monitor.config.heartbeatStale,
          );
          for (const [service, c] of Object.entries(checks)) {
            g.heartbeatAge.set({ service }, c.ageSeconds ?? Number.POSITIVE_INFINITY);
          }
        },
      ),
    ],
    { concurrency: 4, discard: true },
  );
});

/** The plugin's background job: refresh now, then every `MONITOR_REFRESH_INTERVAL`. */
export const refreshLoop = Effect.gen(function* () {
  const { config } = yield* Monitor;
  const refresh = yield* makeRefresh;
  yield* refresh.pipe(Effect.repeat(Schedule.spaced(config.refreshInterval)));
}).pipe(Effect.asVoid);
