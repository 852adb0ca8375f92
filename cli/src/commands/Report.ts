import { now, parseRange, type WeeklyReport } from "@leadflow/monitor";
import { Console, Data, Effect } from "effect";
import { getJson, monitorSource } from "./MonitorSource.js";

export type ReportFormat = "table" | "json" | "csv";

export class ReportUsageError extends Data.TaggedError("ReportUsageError")<{ readonly message: string }> {}

/** Every leaf of the report as `path,value` lines (arrays indexed from 1). */
export const formatCsv = (report: WeeklyReport): string => {
  const lines: string[] = ["metric,value"];
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const walk = (path: string, v: unknown) => {
    if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(`${path}.${i + 1}`, x);
    else if (v !== null && typeof v === "object")
      for (const [k, x] of Object.entries(v)) walk(path ? `${path}.${k}` : k, x);
    else lines.push(`${cell(path)},${cell(v)}`);
  };
  walk("", report);
  return lines.join("\n");
};

const money = (x: number) => `$${x.toLocaleString("en-US", { maximumFractionDigits: 0 })}`;
const counts = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ") || "-";

/** The report as a person reads it. */
export const formatTable = (r: WeeklyReport): string => {
  const lines = [
    `Weekly report ${r.period.start} – ${r.period.end}`,
    "",
    `companies found   ${r.companies_found.total}`,
    `  by industry     ${counts(r.companies_found.by_industry)}`,
    `  by state        ${counts(r.companies_found.by_state)}`,
    `leads scored      ${r.leads_by_tier.total}: high ${r.leads_by_tier.high}, medium ${r.leads_by_tier.medium}, low ${r.leads_by_tier.low}`,
    `emails sent       ${r.emails.total_sent} (${r.emails.sent} first, ${r.emails.followups} follow-ups)`,
    `  opened          ${r.emails.opened} (${r.emails.open_rate_pct} %)`,
    `  clicked         ${r.emails.clicked} (${r.emails.click_rate_pct} %)`,
    `replies           ${r.replies.total} (${r.replies.reply_rate_pct} %): ${counts(r.replies.by_sentiment)}`,
    `unsubscribes      ${r.replies.unsubscribes}`,
    `pipeline value    ${r.pipeline_value.companies} active high-tier companies, savings ${money(r.pipeline_value.savings.low)} – ${money(r.pipeline_value.savings.high)} (mid ${money(r.pipeline_value.savings.mid)})`,
    `est. revenue      ${money(r.pipeline_value.estimatedRevenue)} at a ${r.pipeline_value.contingencyFee * 100} % fee`,
    "",
    "top leads",
  ];
  if (r.top_leads.length === 0) lines.push("  (none)");
  r.top_leads.forEach((l, i) => {
    const where = [l.city, l.state].filter(Boolean).join(", ");
    lines.push(
      `  ${String(i + 1).padStart(2)}. ${String(l.score).padStart(3)}  ${l.name}${where ? ` (${where})` : ""}  ${money(l.savings.low)} – ${money(l.savings.high)}`,
    );
  });
  return lines.join("\n");
};

/** `leadflow report [--start YYYY-MM-DD] [--end YYYY-MM-DD] [--format table|json|csv]`. */
export const report = (options: { start?: string; end?: string; format: string }) =>
  Effect.gen(function* () {
    const format = options.format;
    if (format !== "table" && format !== "json" && format !== "csv") {
      return yield* new ReportUsageError({ message: `--format must be table, json or csv, got "${format}"` });
    }
    // checked here first, so a typo fails before any connection is opened
    const range = yield* parseRange(options.start, options.end, yield* now);
    const source = yield* monitorSource;
    let r: WeeklyReport;
    if (source._tag === "Http") {
      const q = new URLSearchParams();
      if (options.start !== undefined) q.set("start", options.start);
      if (options.end !== undefined) q.set("end", options.end);
      r = yield* getJson<WeeklyReport>(source.baseUrl, `/api/reports/weekly${q.size > 0 ? `?${q}` : ""}`);
    } else {
      r = yield* source.monitor.weekly(range);
    }
    yield* Console.log(
      format === "json" ? JSON.stringify(r) : format === "csv" ? formatCsv(r) : formatTable(r),
    );
  });
