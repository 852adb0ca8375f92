import type { CheckStatus, HealthReport } from "@leadflow/monitor";
import { Console, Effect } from "effect";
import { getJson, monitorSource, useColour } from "./MonitorSource.js";

const colours: Record<CheckStatus, string> = { ok: "\x1b[32m", warning: "\x1b[33m", error: "\x1b[31m" };

/** The health report as a table: one line per check, the overall status last. */
export const formatHealth = (report: HealthReport, colour: boolean): string => {
  const paint = (s: CheckStatus) => (colour ? `${colours[s]}${s.padEnd(7)}\x1b[0m` : s.padEnd(7));
  const rows: Array<[string, CheckStatus, string]> = [
    ...Object.entries(report.checks).map(
      ([name, c]) => [name, c.status, c.message] as [string, CheckStatus, string],
    ),
    ...Object.entries(report.services).map(
      ([name, c]) => [`service ${name}`, c.status, c.message] as [string, CheckStatus, string],
    ),
    ...Object.entries(report.providers).map(
      ([name, c]) => [`provider ${name}`, c.status, c.message] as [string, CheckStatus, string],
    ),
  ];
  const width = Math.max(5, ...rows.map(([n]) => n.length));
  return [
    `${"CHECK".padEnd(width)}  STATUS   MESSAGE`,
    ...rows.map(([name, status, message]) => `${name.padEnd(width)}  ${paint(status)}  ${message}`),
    "",
    `overall: ${paint(report.status).trimEnd()}  (checked ${report.checkedAt})`,
  ].join("\n");
};

/** `leadflow health [--json]`: exit code 1 when any check is `error`. */
export const health = (json: boolean) =>
  Effect.gen(function* () {
    const source = yield* monitorSource;
    const report =
      source._tag === "Http"
        ? yield* getJson<HealthReport>(source.baseUrl, "/api/health")
        : yield* source.monitor.health;
    yield* Console.log(json ? JSON.stringify(report) : formatHealth(report, useColour()));
    if (report.status === "error") process.exitCode = 1;
  });
