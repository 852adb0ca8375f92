import type { RunRequest, RunStatus, RunSummary, Stage, StageSummary } from "@leadflow/contracts";
import { jsonRows, query, type Tx } from "@leadflow/runtime";
import { Effect } from "effect";
import type { RunView } from "./RunMachine.js";

/** The SQL the orchestrator owns: runs, tasks, and the run summary. */

export interface TaskRow {
  id: string;
  run_id: string;
  agent: Stage;
  chunk: number;
  attempt: number;
  params: Record<string, unknown>;
  status: "scheduled" | "running" | "completed" | "failed" | "timed_out";
  started_at: Date | null;
}

export const insertRun = (tx: Tx, id: string, request: RunRequest) =>
  query(tx<{ id: string }[]>`
    insert into runs (id, industry, location, requested_count, request, status)
    values (${id}, ${request.industry}, ${request.location}, ${request.count}, ${tx.json(request as never)}, 'requested')
    on conflict (id) do nothing
    returning id`).pipe(Effect.map((rows) => rows.length === 1));

/** Locks the run row: every decision about one run is taken one at a time. */
export const lockRun = (tx: Tx, id: string) =>
  query(tx<RunView[]>`select id, status, stage from runs where id = ${id} for no key update`).pipe(
    Effect.map((rows) => rows[0]),
  );

export const getRunRequest = (tx: Tx, id: string) =>
  query(tx<{ industry: string; location: string; requested_count: number }[]>`
    select industry, location, requested_count from runs where id = ${id}`).pipe(
    Effect.map((rows) => rows[0]!),
  );

export const updateRun = (
  tx: Tx,
  id: string,
  run: { status: RunStatus; stage: Stage | null; error?: { stage: Stage; message: string } },
) =>
  query(tx`
    update runs set
      status = ${run.status},
      stage = ${run.stage},
      error = coalesce(${run.error?.message ?? null}, error),
      error_stage = coalesce(${run.error?.stage ?? null}, error_stage),
      updated_at = now(),
      ended_at = case when ${run.status} in ('completed', 'failed', 'rejected', 'awaiting_approval') then now() else null end
    where id = ${id}`);

/** Adds a note once: the same note again (a repeated event) changes nothing. */
export const addNote = (tx: Tx, id: string, note: string) =>
  query(
    tx`update runs set notes = array_append(notes, ${note}) where id = ${id} and not (${note} = any(notes))`,
  );

/** Locks a task row; undefined when there is no such task. */
export const lockTask = (tx: Tx, id: string) =>
  query(tx<TaskRow[]>`
    select id, run_id, agent, chunk, attempt, params, status, started_at
    from tasks where id = ${id} for no key update`).pipe(Effect.map((rows) => rows[0]));

export const finishTask = (
  tx: Tx,
  id: string,
  status: "completed" | "failed" | "timed_out",
  result: Record<string, unknown> | null,
  error: string | null,
) =>
  query(tx<{ duration_ms: number }[]>`
    update tasks set
      status = ${status},
      result_summary = ${result === null ? null : tx.json(result as never)},
      error = ${error},
      ended_at = now(),
      duration_ms = greatest(0, (extract(epoch from (now() - coalesce(started_at, created_at))) * 1000)::int)
    where id = ${id}
    returning duration_ms`).pipe(Effect.map((rows) => rows[0]?.duration_ms ?? 0));

/** Chunks of a stage with no completed attempt yet. */
export const openChunks = (tx: Tx, runId: string, stage: Stage) =>
  query(tx<{ n: number }[]>`
    select count(*)::int as n from (
      select chunk from tasks where run_id = ${runId} and agent = ${stage}
      group by chunk having not bool_or(status = 'completed')
    ) open`).pipe(Effect.map((rows) => rows[0]?.n ?? 0));

export interface NewTask {
  readonly id: string;
  readonly runId: string;
  readonly agent: Stage;
  readonly chunk: number;
  readonly attempt: number;
  readonly params: Record<string, unknown>;
  readonly delayMs: number;
  readonly deadlineMs: number;
}

export const insertTasks = (tx: Tx, tasks: ReadonlyArray<NewTask>) =>
  tasks.length === 0
    ? Effect.void
    : query(tx`
        insert into tasks (id, run_id, agent, chunk, attempt, params, status, not_before, started_at,
          deadline_at)
        select * from jsonb_to_recordset(${jsonRows(
          tx,
          tasks.map((t) => ({
            id: t.id,
            run_id: t.runId,
            agent: t.agent,
            chunk: t.chunk,
            attempt: t.attempt,
            params: t.params,
            status: "running",
            not_before: new Date(Date.now() + t.delayMs),
            started_at: new Date(Date.now() + t.delayMs),
            deadline_at: new Date(Date.now() + t.delayMs + t.deadlineMs),
          })),
        )}) as r(id uuid, run_id text, agent text, chunk integer, attempt integer, params jsonb,
          status text, not_before timestamptz, started_at timestamptz, deadline_at timestamptz)`).pipe(
        Effect.asVoid,
      );

/** Tasks past their deadline, locked for this sweep (other replicas skip them). */
export const overdueTasks = (tx: Tx, limit: number) =>
  query(tx<TaskRow[]>`
    select id, run_id, agent, chunk, attempt, params, status, started_at
    from tasks
    where status in ('scheduled', 'running') and deadline_at < now()
    order by deadline_at
    limit ${limit}
    for update skip locked`);

/** The chunk number after the stage's last one (0 for a stage not yet entered). */
export const nextChunk = (tx: Tx, runId: string, stage: Stage) =>
  query(tx<{ n: number }[]>`
    select coalesce(max(chunk) + 1, 0)::int as n from tasks where run_id = ${runId} and agent = ${stage}`).pipe(
    Effect.map((rows) => rows[0]?.n ?? 0),
  );

export const getApproval = (tx: Tx, id: string) =>
  query(tx<{ id: string; run_id: string | null; approval_type: string; status: string }[]>`
    select id, run_id, approval_type, status from human_approval_requests where id = ${id}`).pipe(
    Effect.map((rows) => rows[0]),
  );

/** The run's approval requests still waiting for a human, `except` excluded. */
export const pendingApprovals = (tx: Tx, runId: string, except: string) =>
  query(tx<{ n: number }[]>`
    select count(*)::int as n from human_approval_requests
    where run_id = ${runId} and status = 'pending' and id <> ${except}`).pipe(
    Effect.map((rows) => rows[0]?.n ?? 0),
  );

/** Whether writer tasks were already dispatched for a decision. */
export const dispatchedFor = (tx: Tx, runId: string, approvalId: string) =>
  query(tx<{ n: number }[]>`
    select count(*)::int as n from tasks
    where run_id = ${runId} and agent = 'writer' and params->>'approvalId' = ${approvalId}`).pipe(
    Effect.map((rows) => (rows[0]?.n ?? 0) > 0),
  );

/**
 * The approved companies of a leads decision that still need a draft: covered by the request,
 * scored in this run, with no draft and in no open writer task (the auto-approved ones may be
 * drafted already or being drafted).
 */
export const companiesToDraft = (
  tx: Tx,
  runId: string,
  approvalId: string,
  approved: ReadonlyArray<string>,
) =>
  query(tx<{ id: string }[]>`
    select rc.company_id as id
    from run_companies rc
    join lead_scores s on s.run_id = rc.run_id and s.company_id = rc.company_id
    join human_approval_requests h on h.id = ${approvalId} and rc.company_id = any(h.item_ids)
    where rc.run_id = ${runId} and rc.company_id = any(${approved as string[]}::uuid[])
      and not exists (select 1 from email_drafts d where d.company_id = rc.company_id)
      and not exists (
        select 1 from tasks t
        where t.run_id = ${runId} and t.agent = 'writer' and t.status in ('scheduled', 'running')
          and t.params->'companyIds' ? rc.company_id::text)
    order by rc.position`).pipe(Effect.map((rows) => rows.map((r) => r.id)));

/** The companies a stage works on, in a stable order. */
export const stageCompanyIds = (tx: Tx, runId: string, stage: Stage) => {
  switch (stage) {
    case "analyst":
      return query(tx<{ id: string }[]>`
        select company_id as id from run_companies where run_id = ${runId} order by position`);
    case "enrichment":
      return query(tx<{ id: string }[]>`
        select s.company_id as id from lead_scores s join run_companies rc on rc.run_id = s.run_id and rc.company_id = s.company_id
        where s.run_id = ${runId} and s.tier = 'high' order by rc.position`);
    case "writer":
      return query(tx<{ id: string }[]>`
        select c.id from run_companies rc join companies c on c.id = rc.company_id
        where rc.run_id = ${runId} and c.status = 'approved'
          and not exists (select 1 from email_drafts d where d.company_id = c.id)
        order by rc.position`);
    case "scout":
      return Effect.succeed([] as { id: string }[]);
  }
};

export const insertLeadApproval = (tx: Tx, runId: string, approvalId: string) =>
  query(tx<{ id: string; items: number; high: number; medium: number; low: number }[]>`
    insert into human_approval_requests (id, run_id, approval_type, item_ids, summary, dedupe_key, expires_at)
    select ${approvalId}, ${runId}, 'leads', coalesce(array_agg(s.company_id order by s.score desc), '{}'),
      jsonb_build_object(
        'high', count(*) filter (where s.tier = 'high'),
        'medium', count(*) filter (where s.tier = 'medium'),
        'low', count(*) filter (where s.tier = 'low')),
      ${`leads:${runId}`}, now() + interval '7 days'
    from lead_scores s where s.run_id = ${runId}
    on conflict (dedupe_key) do nothing
    returning id, cardinality(item_ids) as items,
      (summary->>'high')::int as high, (summary->>'medium')::int as medium, (summary->>'low')::int as low`).pipe(
    Effect.map((rows) => rows[0]),
  );

/** The drafts a run's writer made that no approval request covers yet, as one `emails` request. */
export const insertEmailApproval = (tx: Tx, runId: string, approvalId: string) =>
  Effect.gen(function* () {
    const rows = yield* query(tx<{ id: string; items: number }[]>`
      with drafts as (
        select id from email_drafts where run_id = ${runId} and approval_id is null and status = 'draft'
      )
      insert into human_approval_requests (id, run_id, approval_type, item_ids, summary, dedupe_key, expires_at)
      select ${approvalId}, ${runId}, 'emails', array_agg(id), jsonb_build_object('drafts', count(*)),
        ${`emails:${approvalId}`}, now() + interval '7 days'
      from drafts having count(*) > 0
      returning id, cardinality(item_ids) as items`);
    const approval = rows[0];
    if (approval) {
      yield* query(tx`update email_drafts set approval_id = ${approval.id} where id = any(
        select unnest(item_ids) from human_approval_requests where id = ${approval.id})`);
    }
    return approval;
  });

const emptyStage = (): StageSummary => ({
  status: "pending",
  tasks: 0,
  completedTasks: 0,
  attempts: 0,
  durationMs: null,
  error: null,
});

const addCounts = (into: Record<string, number>, from: unknown) => {
  if (from && typeof from === "object") {
    for (const [k, v] of Object.entries(from)) if (typeof v === "number") into[k] = (into[k] ?? 0) + v;
  }
};
const num = (v: unknown) => (typeof v === "number" ? v : 0);

/** Adds up the enrichment tasks' results (one per chunk). */
const foldEnrichment = (results: ReadonlyArray<Record<string, unknown>>) => {
  if (results.length === 0) return undefined;
  const phonesBySource: Record<string, number> = {};
  const contactsBySource: Record<string, number> = {};
  const skipped = new Set<string>();
  const providerErrors = new Map<string, { provider: string; message: string }>();
  let companies = 0;
  let contacts = 0;
  let autoApproved = 0;
  for (const r of results) {
    companies += num(r.enriched);
    contacts += num(r.contacts);
    autoApproved += num(r.autoApproved);
    addCounts(phonesBySource, r.phonesBySource);
    addCounts(contactsBySource, r.contactsBySource);
    for (const s of Array.isArray(r.skipped) ? r.skipped : []) skipped.add(String(s));
    for (const e of Array.isArray(r.providerErrors) ? r.providerErrors : []) {
      const pe = e as { provider: string; message: string };
      providerErrors.set(`${pe.provider}:${pe.message}`, { provider: pe.provider, message: pe.message });
    }
  }
  return {
    companies,
    phonesBySource,
    contacts,
    contactsBySource,
    autoApproved,
    skipped: [...skipped],
    providerErrors: [...providerErrors.values()],
  };
};

/** Adds up the writer tasks' results. */
const foldDrafts = (results: ReadonlyArray<Record<string, unknown>>) => {
  if (results.length === 0) return undefined;
  const byBackend: Record<string, number> = {};
  let drafted = 0;
  let fallbacks = 0;
  for (const r of results) {
    drafted += num(r.drafted);
    fallbacks += num(r.fallbacks);
    addCounts(byBackend, r.byBackend);
  }
  return { drafted, byBackend, fallbacks };
};

/** The run summary (the original's `generate_run_summary`), from the database alone. */
export const computeSummary = (tx: Tx, runId: string) =>
  Effect.gen(function* () {
    // independent reads, sent together: one round trip on the transaction's connection, not seven
    const runQ = query(tx<
      {
        id: string;
        status: RunStatus;
        stage: Stage | null;
        industry: string;
        location: string;
        requested_count: number;
        notes: string[];
        error: string | null;
        error_stage: string | null;
        created_at: Date;
        ended_at: Date | null;
      }[]
    >`select id, status, stage, industry, location, requested_count, notes, error, error_stage, created_at, ended_at
      from runs where id = ${runId}`);
    const companiesQ = query(tx<{ source: string; n: number; fresh: number; sample: boolean }[]>`
      select rc.source, count(*)::int as n, count(*) filter (where rc.is_new)::int as fresh, bool_or(c.is_sample) as sample
      from run_companies rc join companies c on c.id = rc.company_id
      where rc.run_id = ${runId} group by rc.source`);
    const tiersQ = query(tx<{ tier: "high" | "medium" | "low"; n: number }[]>`
      select tier, count(*)::int as n from lead_scores where run_id = ${runId} group by tier`);
    // a decided request shows who, when, and how many items were approved (from the rows the decision wrote)
    const approvalsQ = query(tx<
      {
        id: string;
        type: string;
        status: string;
        items: number;
        decided_by: string | null;
        decided_at: Date | null;
        note: string | null;
        approved: number | null;
      }[]
    >`
      select h.id, h.approval_type as type, h.status, cardinality(h.item_ids) as items,
        h.decided_by, h.decided_at, h.decision_note as note,
        case
          when h.decided_at is null then null
          when h.approval_type = 'emails' then (
            select count(*)::int from email_drafts d
            where d.approval_id = h.id and (d.approved_human or d.status in ('approved', 'sent')))
          else (
            select count(*)::int from lead_scores s
            where s.run_id = h.run_id and s.company_id = any(h.item_ids)
              and s.approved_human and s.approved_by = h.decided_by)
        end as approved
      from human_approval_requests h where h.run_id = ${runId} order by h.requested_at`);
    const stagesQ = query(tx<
      {
        agent: Stage;
        tasks: number;
        completed: number;
        attempts: number;
        open: number;
        failed_for_good: number;
        first_start: Date | null;
        last_end: Date | null;
        last_error: string | null;
        warnings: string[] | null;
      }[]
    >`
      select agent,
        count(distinct chunk)::int as tasks,
        count(distinct chunk) filter (where status = 'completed')::int as completed,
        max(attempt)::int as attempts,
        count(*) filter (where status in ('scheduled', 'running'))::int as open,
        0 as failed_for_good,
        min(started_at) as first_start,
        max(ended_at) as last_end,
        (array_agg(error order by created_at desc) filter (where error is not null))[1] as last_error,
        array_remove(array_agg(distinct w.value), null) as warnings
      from tasks
      left join lateral jsonb_array_elements_text(coalesce(result_summary->'warnings', '[]'::jsonb)) w(value) on true
      where run_id = ${runId}
      group by agent`);
    const resultsQ = query(tx<{ agent: Stage; result: Record<string, unknown> }[]>`
      select agent, result_summary as result from tasks
      where run_id = ${runId} and status = 'completed' and agent in ('enrichment', 'writer')`);
    const errorsQ = query(tx<{ stage: string; attempt: number; error: string }[]>`
      select agent as stage, attempt, error from tasks
      where run_id = ${runId} and error is not null order by created_at limit 50`);
    const [[run], companies, tiers, approvalRows, stages, results, errors] = yield* Effect.all(
      [runQ, companiesQ, tiersQ, approvalsQ, stagesQ, resultsQ, errorsQ],
      { concurrency: "unbounded" },
    );
    if (!run) return undefined;
    const approvals = approvalRows.map(({ decided_by, decided_at, note, approved, ...a }) =>
      decided_at
        ? { ...a, decidedBy: decided_by, decidedAt: decided_at.toISOString(), approved: approved ?? 0, note }
        : a,
    );

    const bySource: Record<string, number> = {};
    let found = 0;
    let fresh = 0;
    let sample = false;
    for (const c of companies) {
      bySource[c.source] = c.n;
      found += c.n;
      fresh += c.fresh;
      sample ||= c.sample;
    }
    const tierCounts = { high: 0, medium: 0, low: 0 };
    for (const t of tiers) tierCounts[t.tier] = t.n;
    const stageSummaries: Record<string, StageSummary> = {};
    const warnings = [...run.notes];
    for (const s of stages) {
      const failed = run.status === "failed" && run.error_stage === s.agent;
      stageSummaries[s.agent] = {
        ...emptyStage(),
        status: failed ? "failed" : s.completed === s.tasks && s.open === 0 ? "completed" : "running",
        tasks: s.tasks,
        completedTasks: s.completed,
        attempts: s.attempts,
        durationMs:
          s.first_start && s.last_end ? Math.max(0, s.last_end.getTime() - s.first_start.getTime()) : null,
        error: s.last_error,
      };
      for (const w of s.warnings ?? []) warnings.push(`${s.agent}: ${w}`);
    }
    const endedAt = run.ended_at;
    const enrichment = foldEnrichment(results.filter((r) => r.agent === "enrichment").map((r) => r.result));
    const drafts = foldDrafts(results.filter((r) => r.agent === "writer").map((r) => r.result));
    return {
      runId: run.id,
      status: run.status,
      stage: run.stage,
      request: { industry: run.industry, location: run.location, count: run.requested_count },
      companies: { found, new: fresh, duplicates: found - fresh, bySource, sampleData: sample },
      leads: { ...tierCounts, scored: tierCounts.high + tierCounts.medium + tierCounts.low },
      ...(enrichment ? { enrichment } : {}),
      ...(drafts ? { drafts } : {}),
      approvals,
      stages: stageSummaries,
      warnings,
      errors: run.error
        ? [...errors, { stage: run.error_stage ?? "run", attempt: 0, error: run.error }]
        : errors,
      startedAt: run.created_at.toISOString(),
      endedAt: endedAt ? endedAt.toISOString() : null,
      durationMs: endedAt ? endedAt.getTime() - run.created_at.getTime() : null,
    } satisfies RunSummary;
  });

export const saveSummary = (tx: Tx, runId: string, summary: RunSummary) =>
  query(tx`update runs set summary = ${tx.json(summary as never)} where id = ${runId}`);

/** The latest attempt of a chunk (the one a retry copies its params from). */
export const latestTask = (tx: Tx, runId: string, stage: Stage, chunk: number) =>
  query(tx<TaskRow[]>`
    select id, run_id, agent, chunk, attempt, params, status, started_at
    from tasks where run_id = ${runId} and agent = ${stage} and chunk = ${chunk}
    order by attempt desc limit 1`).pipe(Effect.map((rows) => rows[0]));
