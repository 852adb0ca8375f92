export { type Check, type CheckStatus, type HealthReport, type ServiceCheck, worst } from "./Health.js";
export { Monitor, MonitorLive, type MonitorShape, makeMonitor, now } from "./Monitor.js";
export { MonitorConfig, MonitorConfigLive, type MonitorSettings, monitorConfig } from "./MonitorConfig.js";
export { MonitorGauges, MonitorGaugesLive, makeRefresh } from "./MonitorMetrics.js";
export { MonitorPlugin } from "./MonitorPlugin.js";
export { BadParam, parseLimit, parseRange, parseRunId } from "./Params.js";
export { monitorRoutes } from "./Routes.js";
export { isWeekday, StuckCheckNames, stuckChecks, stuckCutoffs } from "./Stuck.js";
export type { ReportRange, WeeklyReport } from "./WeeklyReport.js";
