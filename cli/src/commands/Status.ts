import type { RunSummary } from "@leadflow/contracts";
import { makeDb, query } from "@leadflow/runtime";
import { Console, Effect } from "effect";
import { resolveConnections } from "../Connections.js";

/** `leadflow status <runId> [--json]`. */
export const status = (runId: string, json: boolean) =>
  Effect.gen(function* () {
    const connections = yield* resolveConnections;
    const db = yield* makeDb({
      url: connections.databaseUrl,
      singleConnection: connections.singleConnection,
    });
    const rows = yield* query(db.sql<{ status: string; stage: string | null; summary: RunSummary }[]>`
      select status, stage, summary from runs where id = ${runId}`);
    const row = rows[0];
    if (!row) {
      process.exitCode = 2;
      return yield* Console.error(`no run ${runId}`);
    }
    yield* Console.log(
      json
        ? JSON.stringify({ runId, status: row.status, stage: row.stage, summary: row.summary })
        : formatSummary(row.summary),
    );
  });

const n = (x: number | undefined) => String(x ?? 0);

/** The run summary as a newcomer reads it. */
export const formatSummary = (s: RunSummary): string => {
  if (!s?.runId) return "(no summary yet)";
  const lines = [
    `Run ${s.runId}: ${s.status}${s.stage ? ` (stage ${s.stage})` : ""}`,
    `  request      ${s.request.count} × ${s.request.industry} in ${s.request.location}`,
    `  companies    found ${n(s.companies.found)} (new ${n(s.companies.new)}, already known ${n(s.companies.duplicates)})` +
      `  by source: ${
        Object.entries(s.companies.bySource)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ") || "-"
      }` +
      (s.companies.sampleData ? "  [sample data]" : ""),
    `  leads        scored ${n(s.leads.scored)}: high ${n(s.leads.high)}, medium ${n(s.leads.medium)}, low ${n(s.leads.low)}`,
  ];
  const counts = (r: Record<string, number>) =>
    Object.entries(r)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v}`)
      .join(", ") || "-";
  if (s.enrichment) {
    const e = s.enrichment;
    lines.push(
      `  enrichment   ${e.companies} companies; phones by source: ${counts(e.phonesBySource)}; ` +
        `contacts ${e.contacts} (${counts(e.contactsBySource)}); auto-approved ${e.autoApproved}`,
    );
    for (const skip of e.skipped) lines.push(`  skipped      ${skip}`);
    for (const pe of e.providerErrors) lines.push(`  provider     ${pe.provider}: ${pe.message}`);
  }
  if (s.drafts) {
    lines.push(
      `  drafts       ${s.drafts.drafted} (${counts(s.drafts.byBackend)}), template fallbacks ${s.drafts.fallbacks}`,
    );
  }
  for (const [stage, st] of Object.entries(s.stages)) {
    lines.push(
      `  ${stage.padEnd(12)} ${st.status}, ${st.completedTasks}/${st.tasks} tasks, attempts ${st.attempts}` +
        (st.durationMs !== null ? `, ${st.durationMs} ms` : "") +
        (st.error ? `, last error: ${st.error}` : ""),
    );
  }
  for (const a of s.approvals)
    lines.push(`  approval     ${a.type} ${a.status} (${a.items} items) id ${a.id}`);
  for (const w of s.warnings) lines.push(`  warning      ${w}`);
  for (const e of s.errors) lines.push(`  error        ${e.stage} attempt ${e.attempt}: ${e.error}`);
  if (s.durationMs !== null) lines.push(`  duration     ${s.durationMs} ms`);
  return lines.join("\n");
};
