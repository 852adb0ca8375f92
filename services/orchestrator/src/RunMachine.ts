import type { ApprovalType, RunStatus, Stage } from "@leadflow/contracts";

/**
 * The run state machine as a pure decision function: `(run, event) → (run', commands)`.
 * No I/O here: the shell (Orchestrator.ts) loads the run, asks `decide`, and carries out
 * the commands in one transaction.
 *
 *   requested → scouting → analyzing → [enriching → writing] → awaiting_approval → completed
 *        ↘ rejected (bad request)            any stage ↘ failed (after retries, with stage and error)
 *
 * At the gate, human decisions drive the rest: approved leads send the run back to `writing`
 * (then to the gate again with an `emails` request); the run is `completed` once no approval
 * request of it is pending.
 */

export interface RunView {
  readonly id: string;
  readonly status: RunStatus;
  readonly stage: Stage | null;
}

export interface MachineConfig {
  /** The automated stages a run goes through, in order (enrichment and writer join later). */
  readonly pipeline: ReadonlyArray<Stage>;
  /** Attempts per task (chunk) before the run fails. */
  readonly maxAttempts: number;
}

export type RunInput =
  | { readonly _tag: "Start" }
  | {
      readonly _tag: "TaskCompleted";
      readonly stage: Stage;
      /** Chunks of this stage not yet completed, after this one. */
      readonly openChunks: number;
      /** What the stage produced, for the decision to skip what follows (e.g. nothing found). */
      readonly produced: number;
    }
  | {
      readonly _tag: "TaskFailed";
      readonly stage: Stage;
      readonly chunk: number;
      readonly attempt: number;
      readonly error: string;
      /** Delay before the next attempt, from the retry schedule (computed by the shell). */
      readonly retryDelayMs: number;
    }
  | {
      readonly _tag: "ApprovalDecided";
      readonly approvalId: string;
      readonly approvalType: ApprovalType;
      readonly decision: "approved" | "rejected";
      readonly decidedBy: string;
      /** Approved companies of the run with no draft and no open writer task (leads only). */
      readonly toDraft: ReadonlyArray<string>;
      /** Whether a writer task was already dispatched for this decision (a repeated event). */
      readonly dispatched: boolean;
      /** The run's approval requests still pending, this one excluded. */
      readonly otherPending: number;
    };

export type RunCommand =
  | {
      readonly _tag: "DispatchStage";
      readonly stage: Stage;
      /** The companies to work on, when a decision names them (else the stage's own query). */
      readonly companyIds?: ReadonlyArray<string>;
      /** The approval request this dispatch answers, kept with the tasks. */
      readonly approvalId?: string;
    }
  | {
      readonly _tag: "RetryTask";
      readonly stage: Stage;
      readonly chunk: number;
      readonly attempt: number;
      readonly delayMs: number;
    }
  | { readonly _tag: "RequestLeadApproval" }
  | { readonly _tag: "RequestEmailApproval" }
  | { readonly _tag: "Announce" }
  | { readonly _tag: "Note"; readonly message: string };

export interface Decision {
  readonly run: RunView & { readonly error?: { readonly stage: Stage; readonly message: string } };
  readonly commands: ReadonlyArray<RunCommand>;
}

export const stageStatus: Record<Stage, RunStatus> = {
  scout: "scouting",
  analyst: "analyzing",
  enrichment: "enriching",
  writer: "writing",
};

const terminal: ReadonlyArray<RunStatus> = ["completed", "failed", "rejected"];

const nothing = (run: RunView): Decision => ({ run, commands: [] });

const enterStage = (run: RunView, stage: Stage): Decision => ({
  run: { ...run, status: stageStatus[stage], stage },
  commands: [{ _tag: "DispatchStage", stage }, { _tag: "Announce" }],
});

/** What follows a stage's completion, besides the next stage: the approval requests. */
const afterStage: Partial<Record<Stage, RunCommand>> = {
  analyst: { _tag: "RequestLeadApproval" },
  writer: { _tag: "RequestEmailApproval" },
};

/** Where the automated part of a run ends: the approval gate(s). */
const toApprovalGate = (run: RunView, extra: ReadonlyArray<RunCommand>): Decision => ({
  run: { ...run, status: "awaiting_approval", stage: null },
  commands: [...extra, { _tag: "Announce" }],
});

export const decide = (run: RunView, input: RunInput, config: MachineConfig): Decision => {
  if (terminal.includes(run.status)) return nothing(run);
  switch (input._tag) {
    case "Start": {
      if (run.status !== "requested") return nothing(run);
      const first = config.pipeline[0];
      return first ? enterStage(run, first) : toApprovalGate(run, []);
    }
    case "TaskCompleted": {
      // a late completion of a stage the run has already left changes nothing
      if (run.stage !== input.stage || input.openChunks > 0) return nothing(run);
      if (input.stage === "scout" && input.produced === 0) {
        return {
          run: { ...run, status: "completed", stage: null },
          commands: [
            { _tag: "Note", message: "no companies found: nothing to analyse" },
            { _tag: "Announce" },
          ],
        };
      }
      const next = config.pipeline[config.pipeline.indexOf(input.stage) + 1];
      const after = afterStage[input.stage];
      const extra = after ? [after] : [];
      if (!next) return toApprovalGate(run, extra);
      const entered = enterStage(run, next);
      return { run: entered.run, commands: [...extra, ...entered.commands] };
    }
    case "ApprovalDecided":
      return decideApproval(run, input);
    case "TaskFailed": {
      if (run.stage !== input.stage) return nothing(run);
      if (input.attempt < config.maxAttempts) {
        return {
          run,
          commands: [
            {
              _tag: "RetryTask",
              stage: input.stage,
              chunk: input.chunk,
              attempt: input.attempt + 1,
              delayMs: input.retryDelayMs,
            },
          ],
        };
      }
      return {
        run: {
          ...run,
          status: "failed",
          error: { stage: input.stage, message: `${input.error} (after ${input.attempt} attempts)` },
        },
        commands: [{ _tag: "Announce" }],
      };
    }
  }
};

type ApprovalInput = Extract<RunInput, { _tag: "ApprovalDecided" }>;

/** The gate is done when no approval request of the run is pending: the run is complete. */
const closeGateIfDone = (run: RunView, input: ApprovalInput, notes: ReadonlyArray<RunCommand>): Decision =>
  run.status === "awaiting_approval" && input.otherPending === 0
    ? { run: { ...run, status: "completed", stage: null }, commands: [...notes, { _tag: "Announce" }] }
    : { run, commands: notes };

const decideApproval = (run: RunView, input: ApprovalInput): Decision => {
  if (input.approvalType === "emails") return closeGateIfDone(run, input, []);
  if (input.decision === "rejected") {
    return closeGateIfDone(run, input, [
      { _tag: "Note", message: `leads rejected by ${input.decidedBy}: nothing drafted` },
    ]);
  }
  if (input.dispatched) return nothing(run); // the same decision again
  if (input.toDraft.length === 0) {
    return closeGateIfDone(run, input, [
      {
        _tag: "Note",
        message: `leads approved by ${input.decidedBy}: nothing to draft (every approved company has a draft)`,
      },
    ]);
  }
  const dispatch: RunCommand = {
    _tag: "DispatchStage",
    stage: "writer",
    companyIds: input.toDraft,
    approvalId: input.approvalId,
  };
  switch (run.status) {
    case "awaiting_approval":
      return {
        run: { ...run, status: "writing", stage: "writer" },
        commands: [dispatch, { _tag: "Announce" }],
      };
    case "writing":
      // more chunks for the stage under way: the run moves on when all of them are done
      return { run, commands: [dispatch] };
    default:
      // before the writer stage: it drafts every approved company without a draft when it starts
      return nothing(run);
  }
};
