import {
  type WriterCommand,
  WriterCompletedEvent,
  WriterDraft,
  WriterFailedEvent,
} from "@leadflow/contracts";
import { Db, definePlugin, type HandlerContext, ProviderHttpLive, stageFailureHook } from "@leadflow/runtime";
import { Config, Context, Effect, Layer } from "effect";
import { loadJobs, saveDrafts, type WrittenDraft } from "./DraftStore.js";
import { Sender, SenderLive } from "./SenderConfig.js";
import { Writer, WriterFromConfigLive } from "./Writer.js";

/** Drafts written at once per task (LLM calls; the backend's own limits still bound them). */
export const writerConcurrencyConfig = Config.integer("WRITER_CONCURRENCY").pipe(
  Config.validate({ message: "must be between 1 and 64", validation: (n) => n >= 1 && n <= 64 }),
  Config.withDefault(4),
);

/** `WRITER_CONCURRENCY`, read once when the writer starts (a bad value stops it there). */
class WriterConcurrency extends Context.Tag("leadflow/writer/WriterConcurrency")<
  WriterConcurrency,
  number
>() {}

/** The drafts, written outside any transaction (LLM calls take seconds). */
const writeDrafts = (command: WriterCommand) =>
  Effect.gen(function* () {
    const { sql } = yield* Db;
    const writer = yield* Writer;
    const sender = yield* Sender;
    const concurrency = yield* WriterConcurrency;
    const jobs = yield* loadJobs(sql, command.runId, command.companyIds);
    return yield* Effect.forEach(
      jobs,
      (job) => Effect.map(writer.write({ ...job.input, sender }), (draft): WrittenDraft => ({ job, draft })),
      { concurrency },
    );
  }).pipe(
    Effect.withSpan("Writer.writeDrafts", {
      attributes: { runId: command.runId, taskId: command.taskId, companies: command.companyIds.length },
    }),
  );

const save = (command: WriterCommand, ctx: HandlerContext, drafts: ReadonlyArray<WrittenDraft>) =>
  Effect.gen(function* () {
    const drafted = yield* saveDrafts(ctx.tx, command.runId, drafts);
    const byBackend: Record<string, number> = {};
    for (const { draft } of drafts) byBackend[draft.backend] = (byBackend[draft.backend] ?? 0) + 1;
    ctx.publish(WriterCompletedEvent, {
      runId: command.runId,
      taskId: command.taskId,
      attempt: command.attempt,
      drafted,
      byBackend,
      fallbacks: drafts.filter((d) => d.draft.isFallback).length,
    });
  });

/** The writer: a first email per approved company that has none, through an LLM or the template. */
export const WriterPlugin = definePlugin({
  name: "writer",
  layer: Layer.mergeAll(
    WriterFromConfigLive.pipe(Layer.provide(ProviderHttpLive)),
    SenderLive,
    Layer.effect(WriterConcurrency, writerConcurrencyConfig),
  ),
  consumers: [
    {
      contract: WriterDraft,
      concurrency: 2,
      maxDeliver: 3,
      prepare: writeDrafts,
      handle: save,
      onDeadLetter: stageFailureHook(WriterFailedEvent),
    },
  ],
});
