import type { Contract, StageFailed } from "@leadflow/contracts";
import { Effect } from "effect";
import type { HandlerContext } from "./Consumer.js";

/**
 * The `onDeadLetter` hook of a stage command consumer: when the runtime gives up on a
 * command, the stage's `failed` event is written with the dead letter, so the orchestrator's
 * retry chain hears of it instead of waiting for the deadline.
 */
export const stageFailureHook =
  <I>(failed: Contract<StageFailed, I>) =>
  (
    command: { readonly runId: string; readonly taskId: string; readonly attempt: number },
    error: { readonly tag: string; readonly message: string },
    ctx: HandlerContext,
  ) =>
    Effect.sync(() =>
      ctx.publish(failed, {
        runId: command.runId,
        taskId: command.taskId,
        attempt: command.attempt,
        error: { tag: error.tag, message: error.message },
        deliveries: ctx.meta.deliveries,
        failedAt: new Date().toISOString(),
      }),
    );
