import { type ScoutCommand, ScoutCompletedEvent, ScoutFailedEvent, ScoutSearch } from "@leadflow/contracts";
import {
  definePlugin,
  type HandlerContext,
  PermanentError,
  ProviderHttpLive,
  RetryableError,
  stageFailureHook,
} from "@leadflow/runtime";
import { Effect, Layer } from "effect";
import { storeCompanies } from "./CompanyStore.js";
import { gather } from "./Scout.js";
import { ScoutSources } from "./Source.js";
import { ScoutSourcesLive } from "./Sources.js";

const search = (command: ScoutCommand, ctx: HandlerContext) =>
  Effect.gen(function* () {
    const sources = yield* ScoutSources;
    const result = yield* gather(sources, {
      industry: command.industry,
      location: command.location,
      count: command.count,
      seed: command.runId,
    }).pipe(
      Effect.mapError((e) =>
        e.retryable
          ? new RetryableError({ message: `${e.source}: ${e.message}`, cause: e })
          : new PermanentError({ message: `${e.source}: ${e.message}`, cause: e }),
      ),
    );
    const stored = yield* storeCompanies(ctx.tx, command.runId, result.companies);
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
      // the orchestrator's retry chain takes over from here
      onDeadLetter: stageFailureHook(ScoutFailedEvent),
    },
  ],
});
