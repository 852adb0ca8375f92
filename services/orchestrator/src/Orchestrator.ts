import { randomBytes, randomUUID } from "node:crypto";
import {
  type ApprovalDecided,
  ApprovalDecidedEvent,
  ApprovalRequestedEvent,
  type Contract,
  RunEventContract,
  RunRejectedContract,
  type RunRequest,
  RunStartContract,
  type Stage,
  StageContracts,
  type StageFailed,
} from "@leadflow/contracts";
import {
  type DbError,
  definePlugin,
  type HandlerContext,
  type TxContext,
  transactional,
} from "@leadflow/runtime";
import { Chunk, Duration, Effect, Schedule } from "effect";
import {
  OrchestratorConfig,
  OrchestratorConfigLive,
  type OrchestratorSettings,
} from "./OrchestratorConfig.js";
import { type Decision, decide, type MachineConfig, type RunInput, type RunView } from "./RunMachine.js";
import * as Store from "./RunStore.js";

/** The automated stages of a run, in order. */
export const Pipeline: ReadonlyArray<Stage> = ["scout", "analyst", "enrichment", "writer"];

/** The retry chain's schedule: exponential from the base delay, with jitter. */
export const retrySchedule = (baseMs: number) =>
  Schedule.exponential(Duration.millis(baseMs), 2).pipe(Schedule.jittered);

/** The delay before attempt `attempt + 1`, stepped out of the schedule. */
export const retryDelayMs = (baseMs: number, attempt: number) =>
  Schedule.run(
    retrySchedule(baseMs),
    Date.now(),
    Array.from({ length: Math.max(1, attempt) }, () => undefined),
  ).pipe(Effect.map((out) => Duration.toMillis(Chunk.unsafeLast(out))));

const newRunId = () => `run_${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;

const machine = (settings: OrchestratorSettings): MachineConfig => ({
  pipeline: Pipeline,
  maxAttempts: settings.maxAttempts,
});

/** Publishes the stage command for a task. */
const publishCommand = (
  ctx: TxContext,
  task: Store.NewTask,
  request: { industry: string; location: string; requested_count: number },
) => {
  const base = { runId: task.runId, taskId: task.id, attempt: task.attempt };
  const options = { delay: Duration.millis(task.delayMs), correlationId: task.runId };
  if (task.agent === "scout") {
    ctx.publish(
      StageContracts.scout.command,
      { ...base, industry: request.industry, location: request.location, count: request.requested_count },
      options,
    );
  } else {
    const companyIds = (task.params.companyIds as string[]) ?? [];
    (ctx.publish as (c: Contract<unknown, unknown>, m: unknown, o: typeof options) => void)(
      StageContracts[task.agent].command as Contract<unknown, unknown>,
      { ...base, companyIds },
      options,
    );
  }
};

const logTask = (message: string, fields: Record<string, unknown>) =>
  Effect.logInfo(message).pipe(Effect.annotateLogs(fields));

/** Carries out a decision inside the caller's transaction. */
const apply = (
  ctx: TxContext,
  before: RunView,
  decision: Decision,
): Effect.Effect<void, DbError, OrchestratorConfig> =>
  Effect.gen(function* () {
    const settings = yield* OrchestratorConfig;
    const runId = before.id;
    const { run } = decision;
    if (run.status !== before.status || run.stage !== before.stage || run.error) {
      yield* Store.updateRun(ctx.tx, runId, run);
    }
    const request = yield* Store.getRunRequest(ctx.tx, runId);
    for (const command of decision.commands) {
      switch (command._tag) {
        case "DispatchStage": {
          const stage = command.stage;
          const tasks: Store.NewTask[] = [];
          if (stage === "scout") {
            tasks.push({
              id: randomUUID(),
              runId,
              agent: stage,
              chunk: 0,
              attempt: 1,
              params: {
                industry: request.industry,
                location: request.location,
                count: request.requested_count,
              },
              delayMs: 0,
              deadlineMs: settings.deadlineMs.scout,
            });
          } else {
            const ids =
              command.companyIds ?? (yield* Store.stageCompanyIds(ctx.tx, runId, stage)).map((r) => r.id);
            // a stage entered again (drafts after a decision) numbers its chunks after the earlier ones
            const first = yield* Store.nextChunk(ctx.tx, runId, stage);
            const from = command.approvalId ? { approvalId: command.approvalId } : {};
            for (let i = 0, chunk = first; i < ids.length; i += settings.chunkSize, chunk++) {
              tasks.push({
                id: randomUUID(),
                runId,
                agent: stage,
                chunk,
                attempt: 1,
                params: { companyIds: ids.slice(i, i + settings.chunkSize), ...from },
                delayMs: 0,
                deadlineMs: settings.deadlineMs[stage],
              });
            }
          }
          yield* Store.insertTasks(ctx.tx, tasks);
          for (const task of tasks) {
            publishCommand(ctx, task, request);
            yield* logTask("task dispatched", {
              runId,
              taskId: task.id,
              agent: stage,
              chunk: task.chunk,
              attempt: 1,
              params: summarizeParams(task.params),
            });
          }
          if (tasks.length === 0) {
            // nothing to do for this stage: say so, and treat it as done at once
            yield* Store.addNote(ctx.tx, runId, `${stage}: nothing to do (${nothingToDo[stage]})`);
            const next = decide(
              run,
              { _tag: "TaskCompleted", stage, openChunks: 0, produced: 0 },
              machine(settings),
            );
            // the decision for the next step announces the run; this one's remaining commands are moot
            return yield* apply(ctx, run, next);
          }
          break;
        }
        case "RetryTask": {
          const previous = yield* Effect.orDie(
            Effect.flatMap(Store.latestTask(ctx.tx, runId, command.stage, command.chunk), (row) =>
              row
                ? Effect.succeed(row)
                : Effect.dieMessage(`no task to retry for ${runId}/${command.stage}/${command.chunk}`),
            ),
          );
          const task: Store.NewTask = {
            id: randomUUID(),
            runId,
            agent: command.stage,
            chunk: command.chunk,
            attempt: command.attempt,
            params: previous.params,
            delayMs: command.delayMs,
            deadlineMs: settings.deadlineMs[command.stage],
          };
          yield* Store.insertTasks(ctx.tx, [task]);
          publishCommand(ctx, task, request);
          yield* logTask("task retried", {
            runId,
            taskId: task.id,
            agent: task.agent,
            chunk: task.chunk,
            attempt: task.attempt,
            params: summarizeParams(task.params),
            delayMs: command.delayMs,
          });
          break;
        }
        case "RequestLeadApproval": {
          const approval = yield* Store.insertLeadApproval(ctx.tx, runId, randomUUID());
          if (approval) {
            ctx.publish(
              ApprovalRequestedEvent,
              {
                approvalId: approval.id,
                runId,
                type: "leads",
                items: approval.items,
                summary: { high: approval.high, medium: approval.medium, low: approval.low },
                requestedAt: new Date().toISOString(),
              },
              { correlationId: runId },
            );
          }
          break;
        }
        case "RequestEmailApproval": {
          const approval = yield* Store.insertEmailApproval(ctx.tx, runId, randomUUID());
          if (approval) {
            ctx.publish(
              ApprovalRequestedEvent,
              {
                approvalId: approval.id,
                runId,
                type: "emails",
                items: approval.items,
                summary: { drafts: approval.items },
                requestedAt: new Date().toISOString(),
              },
              { correlationId: runId },
            );
          } else {
            yield* Store.addNote(ctx.tx, runId, "no drafts were written, so no email approval was requested");
          }
          break;
        }
        case "Note":
          yield* Store.addNote(ctx.tx, runId, command.message);
          break;
        case "Announce": {
          const summary = yield* Store.computeSummary(ctx.tx, runId);
          if (!summary) break;
          yield* Store.saveSummary(ctx.tx, runId, summary);
          ctx.publish(
            RunEventContract,
            {
              runId,
              status: summary.status,
              stage: summary.stage,
              summary,
              occurredAt: new Date().toISOString(),
            },
            { correlationId: runId },
          );
          yield* Effect.logInfo("run status").pipe(
            Effect.annotateLogs({ runId, status: summary.status, stage: summary.stage ?? "" }),
          );
          break;
        }
      }
    }
  });

const nothingToDo: Record<Stage, string> = {
  scout: "no search",
  analyst: "no companies found",
  enrichment: "no high-tier lead",
  writer: "no approved company without a draft",
};

const summarizeParams = (params: Record<string, unknown>) =>
  Array.isArray(params.companyIds) ? { companies: params.companyIds.length } : params;

/** Decides and applies one input for a run, with the run row locked. */
const step = (
  ctx: TxContext,
  runId: string,
  input: (run: RunView) => Effect.Effect<RunInput, DbError, OrchestratorConfig>,
) =>
  Effect.gen(function* () {
    const settings = yield* OrchestratorConfig;
    const run = yield* Store.lockRun(ctx.tx, runId);
    if (!run) return;
    const event = yield* input(run);
    yield* apply(ctx, run, decide(run, event, machine(settings)));
  });

const onRunStart = (request: RunRequest, ctx: HandlerContext) =>
  Effect.gen(function* () {
    const runId = request.requestId ?? newRunId();
    const created = yield* Store.insertRun(ctx.tx, runId, request);
    if (!created) {
      yield* Effect.logInfo("duplicate run request ignored").pipe(Effect.annotateLogs({ runId }));
      return;
    }
    yield* logTask("run requested", {
      runId,
      industry: request.industry,
      location: request.location,
      count: request.count,
    });
    yield* step(ctx, runId, () => Effect.succeed({ _tag: "Start" } as const));
  });

/** A trigger that does not fit: no run; `leadflow.evt.run.rejected` with the reasons. */
const onInvalidRunStart = (raw: Uint8Array, reasons: ReadonlyArray<string>, ctx: HandlerContext) =>
  Effect.gen(function* () {
    let requestId: string | null = null;
    try {
      const body = JSON.parse(new TextDecoder().decode(raw.byteLength <= 64 * 1024 ? raw : new Uint8Array()));
      if (typeof body?.requestId === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(body.requestId))
        requestId = body.requestId;
    } catch {
      requestId = null;
    }
    ctx.publish(RunRejectedContract, {
      requestId,
      reasons: [...reasons],
      bodyBytes: raw.byteLength,
      receivedAt: new Date().toISOString(),
    });
    yield* Effect.logWarning("run request rejected").pipe(
      Effect.annotateLogs({ requestId: requestId ?? "", reasons: reasons.join("; ") }),
    );
  });

/**
 * A human decision (written and announced by the notifier): the machine decides what follows
 * from facts the shell reads here — what is left to draft, and what is still pending.
 */
const onApprovalDecided = (event: ApprovalDecided, ctx: HandlerContext) =>
  Effect.gen(function* () {
    const approval = yield* Store.getApproval(ctx.tx, event.approvalId);
    if (approval?.run_id !== event.runId || approval.approval_type !== event.type) {
      yield* Effect.logWarning("decision for an unknown approval request ignored").pipe(
        Effect.annotateLogs({ runId: event.runId, approvalId: event.approvalId, type: event.type }),
      );
      return;
    }
    yield* logTask("approval decided", {
      runId: event.runId,
      approvalId: event.approvalId,
      type: event.type,
      decision: event.decision,
      approved: event.approvedIds.length,
      decidedBy: event.decidedBy,
    });
    const drafting = event.type === "leads" && event.decision === "approved";
    yield* step(ctx, event.runId, (run) =>
      Effect.gen(function* () {
        const otherPending = yield* Store.pendingApprovals(ctx.tx, run.id, event.approvalId);
        const dispatched = drafting ? yield* Store.dispatchedFor(ctx.tx, run.id, event.approvalId) : false;
        const toDraft =
          drafting && !dispatched
            ? yield* Store.companiesToDraft(ctx.tx, run.id, event.approvalId, event.approvedIds)
            : [];
        return {
          _tag: "ApprovalDecided",
          approvalId: event.approvalId,
          approvalType: event.type,
          decision: event.decision,
          decidedBy: event.decidedBy,
          toDraft,
          dispatched,
          otherPending,
        } as const;
      }),
    );
  });

type CompletedEvent = { runId: string; taskId: string; attempt: number } & Record<string, unknown>;

const producedBy = (stage: Stage, event: CompletedEvent): number => {
  const keys: Record<Stage, string> = {
    scout: "found",
    analyst: "scored",
    enrichment: "enriched",
    writer: "drafted",
  };
  const n = event[keys[stage]];
  return typeof n === "number" ? n : 0;
};

const onStageCompleted = (stage: Stage) => (event: CompletedEvent, ctx: HandlerContext) =>
  Effect.gen(function* () {
    const task = yield* Store.lockTask(ctx.tx, event.taskId);
    if (task?.status !== "running" || task.attempt !== event.attempt) return; // stale or repeated
    const { runId: _r, taskId: _t, attempt: _a, ...result } = event;
    const durationMs = yield* Store.finishTask(ctx.tx, task.id, "completed", result, null);
    yield* logTask("task completed", {
      runId: task.run_id,
      taskId: task.id,
      agent: stage,
      chunk: task.chunk,
      attempt: task.attempt,
      params: summarizeParams(task.params),
      result: JSON.stringify(result).slice(0, 500),
      durationMs,
    });
    yield* step(ctx, task.run_id, (run) =>
      Effect.map(
        Store.openChunks(ctx.tx, run.id, stage),
        (open) =>
          ({ _tag: "TaskCompleted", stage, openChunks: open, produced: producedBy(stage, event) }) as const,
      ),
    );
  });

const failTask = (ctx: TxContext, task: Store.TaskRow, status: "failed" | "timed_out", error: string) =>
  Effect.gen(function* () {
    const settings = yield* OrchestratorConfig;
    const durationMs = yield* Store.finishTask(ctx.tx, task.id, status, null, error);
    yield* Effect.logWarning(status === "timed_out" ? "task timed out" : "task failed").pipe(
      Effect.annotateLogs({
        runId: task.run_id,
        taskId: task.id,
        agent: task.agent,
        chunk: task.chunk,
        attempt: task.attempt,
        params: summarizeParams(task.params),
        error,
        durationMs,
      }),
    );
    yield* step(ctx, task.run_id, () =>
      Effect.map(retryDelayMs(settings.retryBaseMs, task.attempt), (delay) => ({
        _tag: "TaskFailed" as const,
        stage: task.agent,
        chunk: task.chunk,
        attempt: task.attempt,
        error,
        retryDelayMs: Math.round(delay),
      })),
    );
  });

const onStageFailed = (event: StageFailed, ctx: HandlerContext) =>
  Effect.gen(function* () {
    const task = yield* Store.lockTask(ctx.tx, event.taskId);
    if (task?.status !== "running" || task.attempt !== event.attempt) return;
    yield* failTask(ctx, task, "failed", `${event.error.tag}: ${event.error.message}`);
  });

/** A task past its deadline counts as failed; the retry chain takes it from there. */
const sweepDeadlines = Effect.gen(function* () {
  const settings = yield* OrchestratorConfig;
  const sweep = transactional((ctx) =>
    Effect.gen(function* () {
      const overdue = yield* Store.overdueTasks(ctx.tx, 100);
      for (const task of overdue)
        yield* failTask(
          ctx,
          task,
          "timed_out",
          `deadline passed after ${settings.deadlineMs[task.agent]} ms`,
        );
      return overdue.length;
    }),
  );
  yield* sweep.pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("deadline sweep failed", cause).pipe(Effect.as(0))),
    Effect.repeat(Schedule.spaced(Duration.millis(settings.sweepIntervalMs))),
  );
});

const stageConsumers = (stage: Stage) => [
  {
    contract: StageContracts[stage].completed as unknown as Contract<CompletedEvent, unknown>,
    concurrency: 4,
    // one event per transaction: a group would lock several runs' rows in no fixed order
    maxGroup: 1,
    handle: onStageCompleted(stage),
  },
  { contract: StageContracts[stage].failed, concurrency: 2, maxGroup: 1, handle: onStageFailed },
];

/** The orchestrator: the run state machine's I/O shell. */
export const OrchestratorPlugin = definePlugin({
  name: "orchestrator",
  layer: OrchestratorConfigLive,
  consumers: [
    {
      contract: RunStartContract,
      concurrency: 4,
      maxDeliver: 5,
      handle: onRunStart,
      onInvalid: onInvalidRunStart,
    },
    ...Pipeline.flatMap(stageConsumers),
    { contract: ApprovalDecidedEvent, concurrency: 2, maxGroup: 1, handle: onApprovalDecided },
  ],
  background: [sweepDeadlines],
});
