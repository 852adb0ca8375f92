import { computeSummary } from "@leadflow/orchestrator";
import { query, withTransaction } from "@leadflow/runtime";
import { Effect } from "effect";
import type { Sql } from "postgres";

/**
 * A run as the monitor shows it: the run row, its stages and summary (the orchestrator's own
 * `computeSummary`, so the two never disagree) and the task log, read in one transaction so
 * the parts agree with each other. Undefined when there is no such run.
 */
export const runView = (sql: Sql, runId: string) =>
  withTransaction(sql, (tx) =>
    Effect.gen(function* () {
      const summary = yield* computeSummary(tx, runId);
      if (!summary) return undefined;
      const [run] = yield* query(tx<
        {
          id: string;
          status: string;
          stage: string | null;
          industry: string;
          location: string;
          requested_count: number;
          error: string | null;
          error_stage: string | null;
          notes: string[];
          created_at: Date;
          updated_at: Date;
          ended_at: Date | null;
        }[]
      >`select id, status, stage, industry, location, requested_count, error, error_stage, notes,
          created_at, updated_at, ended_at
        from runs where id = ${runId}`);
      const tasks = yield* query(tx<
        {
          id: string;
          agent: string;
          chunk: number;
          attempt: number;
          status: string;
          error: string | null;
          created_at: Date;
          started_at: Date | null;
          ended_at: Date | null;
          duration_ms: number | null;
        }[]
      >`select id, agent, chunk, attempt, status, error, created_at, started_at, ended_at, duration_ms
        from tasks where run_id = ${runId}
        order by created_at, agent, chunk, attempt`);
      const iso = (d: Date | null) => (d ? d.toISOString() : null);
      return {
        run: run
          ? {
              id: run.id,
              status: run.status,
              stage: run.stage,
              industry: run.industry,
              location: run.location,
              requestedCount: run.requested_count,
              error: run.error,
              errorStage: run.error_stage,
              notes: run.notes,
              createdAt: run.created_at.toISOString(),
              updatedAt: run.updated_at.toISOString(),
              endedAt: iso(run.ended_at),
            }
          : null,
        stages: summary.stages,
        tasks: tasks.map((t) => ({
          id: t.id,
          stage: t.agent,
          chunk: t.chunk,
          attempt: t.attempt,
          status: t.status,
          error: t.error,
          createdAt: t.created_at.toISOString(),
          startedAt: iso(t.started_at),
          endedAt: iso(t.ended_at),
          durationMs: t.duration_ms,
        })),
        summary,
      };
    }),
  );
