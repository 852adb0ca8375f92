import { Db, Nats } from "@leadflow/runtime";
import { Clock, Context, Duration, Effect, Layer, Option, Ref } from "effect";
import { healthReport } from "./Health.js";
import { MonitorConfig } from "./MonitorConfig.js";
import {
  type PipelineValue,
  pipelineValue,
  recentActivity,
  statusCounts,
  stuckCounts,
} from "./PipelineStore.js";
import { runView } from "./RunView.js";
import { SenderService, stuckChecks, stuckCutoffs } from "./Stuck.js";
import { type ReportRange, weeklyReport } from "./WeeklyReport.js";

/** The current time from Effect's Clock: a test swaps the clock to probe the stuck boundaries. */
export const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms));

const make = Effect.gen(function* () {
  const { sql } = yield* Db;
  const nats = yield* Nats;
  const config = yield* MonitorConfig;
  // the pipeline value as the gauge refresh last computed it (at most one interval old)
  const lastValue = yield* Ref.make(Option.none<{ readonly value: PipelineValue; readonly at: Date }>());
  const value = Effect.gen(function* () {
    const v = yield* pipelineValue(sql, config.contingencyFee);
    return { value: v, at: yield* now };
  });
  const freshLimit = Duration.toMillis(config.refreshInterval) * 2;
  /**
   * The weekly report's value: the refreshed one when it is recent (the live aggregate reads
   * every high-tier lead, hundreds of ms at a million companies), else computed now.
   */
  const recentValue = Effect.gen(function* () {
    const at = yield* now;
    const last = yield* Ref.get(lastValue);
    if (Option.isSome(last) && at.getTime() - last.value.at.getTime() <= freshLimit) return last.value;
    return yield* value;
  });
  return {
    config,
    counts: Effect.suspend(() => statusCounts(sql)).pipe(Effect.withSpan("Monitor.counts")),
    value: Effect.map(value, (v) => v.value).pipe(Effect.withSpan("Monitor.value")),
    /** The value for the gauges; kept for the weekly report. */
    refreshValue: Effect.tap(value, (v) => Ref.set(lastValue, Option.some(v))).pipe(
      Effect.map((v) => v.value),
      Effect.withSpan("Monitor.refreshValue"),
    ),
    health: Effect.flatMap(now, (at) => healthReport(sql, nats, config, at)),
    stuck: Effect.gen(function* () {
      const cutoffs = stuckCutoffs(yield* now, config.stuck);
      const counts = yield* stuckCounts(sql, cutoffs);
      const sender = config.expectedServices.includes(SenderService);
      return {
        checkedAt: cutoffs.now.toISOString(),
        checks: stuckChecks(counts, cutoffs, config.stuck, sender),
      };
    }).pipe(Effect.withSpan("Monitor.stuck")),
    activity: Effect.fn("Monitor.activity")((limit: number) => recentActivity(sql, limit)),
    weekly: Effect.fn("Monitor.weekly")((range: ReportRange) => weeklyReport(sql, range, recentValue)),
    run: Effect.fn("Monitor.run")((runId: string) => runView(sql, runId)),
  };
});

export type MonitorShape = Effect.Effect.Success<typeof make>;

/** The monitor's questions over Postgres and NATS, shared by the HTTP API, the gauges and the CLI. */
export class Monitor extends Context.Tag("leadflow/Monitor/Monitor")<Monitor, MonitorShape>() {}

export const makeMonitor = make;

export const MonitorLive = Layer.effect(Monitor, make);
