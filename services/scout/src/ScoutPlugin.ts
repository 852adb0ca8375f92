import { type ScoutCommand, ScoutCompletedEvent, ScoutFailedEvent, ScoutSearch } from "@leadflow/contracts";
import { definePlugin, type HandlerContext, ProviderHttpLive, stageFailureHook } from "@leadflow/runtime";
import { Effect, Either, Layer } from "effect";
import { storeCompanies } from "./CompanyStore.js";
import { gather } from "./Scout.js";
import { ScoutSources } from "./Source.js";
import { ScoutSourcesLive } from "./Sources.js";

const search = (command: ScoutCommand, ctx: HandlerContext) =>
  Effect.gen(function* () {
    const sources = yield* ScoutSources;
    const gathered = yield* Effect.either(
      gather(sources, {
        industry: command.industry,
        location: command.location,
        count: command.count,
        seed: command.runId,
      }),
    );
    if (Either.isLeft(gathered)) {
      // Every source failed, each after its own retries: a provider call is retried in process
      // (429 with Retry-After, 5xx, timeouts), and a redelivery of the command would retry all of
      // that again, twice more (STYLE 5: never both on the same failure; 27 calls for one
      // outage). The failure is the stage's outcome: the orchestrator's retry chain dispatches
      // the stage again on its own, longer schedule, or fails the run.
      const e = gathered.left;
      ctx.publish(ScoutFailedEvent, {
        runId: command.runId,
        taskId: command.taskId,
        attempt: command.attempt,
        // a provider's message already starts with its name
        error: {
          tag: e._tag,
          message: e.message.startsWith(`${e.source}:`) ? e.message : `${e.source}: ${e.message}`,
        },
        deliveries: ctx.meta.deliveries,
        failedAt: new Date().toISOString(),
      });
      yield* Effect.logWarning("scout: every source failed").pipe(
        Effect.annotateLogs({
          runId: command.runId,
          taskId: command.taskId,
          source: e.source,
          retryable: e.retryable,
          error: e.message,
        }),
      );
      return;
    }
    const result = gathered.right;
    const stored = yield* storeCompanies(ctx.tx, command.runId, result.companies, command.count);
    ctx.publish(ScoutCompletedEvent, {
      runId: command.runId,
      taskId: command.taskId,
      attempt: command.attempt,
      ...stored,
      bySource: result.bySource,
      sampleData: result.sampleData,
      warnings: [...result.warnings],
    });
  });

/** The scout: searches the configured sources and stores what it finds. */
export const ScoutPlugin = definePlugin({
  name: "scout",
  layer: ScoutSourcesLive.pipe(Layer.provide(ProviderHttpLive)),
  consumers: [
    {
      contract: ScoutSearch,
      concurrency: 2,
      maxDeliver: 3,
      maxGroup: 1,
      ackWait: "2 minutes",
      handle: search,
      // what the handler could not report itself (a database that stayed away through every
      // delivery, a crash): the orchestrator's retry chain takes over from here too
      onDeadLetter: stageFailureHook(ScoutFailedEvent),
    },
  ],
});
