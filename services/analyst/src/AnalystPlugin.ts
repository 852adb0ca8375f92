import {
  type AnalystCommand,
  AnalystCompletedEvent,
  AnalystFailedEvent,
  AnalystScore,
} from "@leadflow/contracts";
import { definePlugin, type HandlerContext, stageFailureHook } from "@leadflow/runtime";
import { Effect } from "effect";
import { AnalystConfig, AnalystConfigLive } from "./AnalystConfig.js";
import { loadCompanies, saveAnalyses } from "./LeadStore.js";
import { analyze } from "./Model.js";

const score = (command: AnalystCommand, ctx: HandlerContext) =>
  Effect.gen(function* () {
    const config = yield* AnalystConfig;
    const companies = yield* loadCompanies(ctx.tx, command.companyIds);
    const results = companies.map((company) => ({ company, analysis: analyze(company, config) }));
    yield* saveAnalyses(ctx.tx, command.runId, config.modelVersion, results);
    const tiers = { high: 0, medium: 0, low: 0 };
    for (const r of results) tiers[r.analysis.score.tier]++;
    if (companies.length < command.companyIds.length) {
      yield* Effect.logWarning("analyst: some companies no longer exist").pipe(
        Effect.annotateLogs({ runId: command.runId, missing: command.companyIds.length - companies.length }),
      );
    }
    ctx.publish(AnalystCompletedEvent, {
      runId: command.runId,
      taskId: command.taskId,
      attempt: command.attempt,
      scored: results.length,
      tiers,
    });
  });

/** The analyst: features, savings estimate, score and tier for a chunk of a run's companies. */
export const AnalystPlugin = definePlugin({
  name: "analyst",
  layer: AnalystConfigLive,
  consumers: [
    {
      contract: AnalystScore,
      concurrency: 2,
      maxDeliver: 3,
      // a chunk is a few hundred companies: one per transaction keeps both workers busy
      maxGroup: 1,
      handle: score,
      onDeadLetter: stageFailureHook(AnalystFailedEvent),
    },
  ],
});
