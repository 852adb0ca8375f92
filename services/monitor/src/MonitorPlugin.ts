import { definePlugin } from "@leadflow/runtime";
import { Layer } from "effect";
import { MonitorLive } from "./Monitor.js";
import { MonitorConfigLive } from "./MonitorConfig.js";
import { MonitorGaugesLive, refreshLoop } from "./MonitorMetrics.js";
import { monitorRoutes } from "./Routes.js";

/**
 * The monitor: the pipeline's numbers, health, stuck checks and weekly report under /api, and
 * business gauges on /metrics refreshed on an interval (never per scrape). It consumes nothing.
 */
export const MonitorPlugin = definePlugin({
  name: "monitor",
  consumers: [],
  layer: Layer.merge(MonitorLive.pipe(Layer.provide(MonitorConfigLive)), MonitorGaugesLive),
  background: [refreshLoop],
  routes: monitorRoutes,
});
