import { Schema } from "effect";
import { TierCounts } from "./Company.js";
import { type Contract, contract } from "./Contract.js";
import type { Stage } from "./Run.js";

/** Fields every stage command and stage event carries: which run, which task, which try. */
const TaskRef = {
  runId: Schema.String,
  taskId: Schema.UUID,
  attempt: Schema.Int.pipe(Schema.positive()),
};

const CompanyIds = Schema.Array(Schema.UUID).pipe(Schema.maxItems(5000));

const Counts = Schema.Record({ key: Schema.String, value: Schema.NonNegativeInt });

/** A stage failure as reported by the runtime when it gives up on a command. */
export const StageFailed = Schema.Struct({
  ...TaskRef,
  error: Schema.Struct({ tag: Schema.String, message: Schema.String }),
  deliveries: Schema.NonNegativeInt,
  failedAt: Schema.String,
});
export type StageFailed = typeof StageFailed.Type;

const commandContract = <A extends { readonly taskId: string; readonly attempt: number }, I>(
  stage: Stage,
  verb: string,
  schema: Schema.Schema<A, I>,
): Contract<A, I> =>
  contract({
    name: `${stage}-${verb}`,
    stream: "cmd",
    filter: `leadflow.cmd.${stage}.${verb}`,
    subject: () => `leadflow.cmd.${stage}.${verb}`,
    schema,
    messageId: (c) => `task:${c.taskId}:${c.attempt}`,
  });

const eventContract = <A extends { readonly taskId: string; readonly attempt: number }, I>(
  stage: Stage,
  outcome: "completed" | "failed",
  schema: Schema.Schema<A, I>,
): Contract<A, I> =>
  contract({
    name: `${stage}-${outcome}`,
    stream: "evt",
    filter: `leadflow.evt.${stage}.${outcome}`,
    subject: () => `leadflow.evt.${stage}.${outcome}`,
    schema,
    messageId: (e) => `task:${e.taskId}:${e.attempt}:${outcome}`,
  });

// ── scout ────────────────────────────────────────────────────────────────────────────
export const ScoutCommand = Schema.Struct({
  ...TaskRef,
  industry: Schema.String,
  location: Schema.String,
  count: Schema.Int.pipe(Schema.between(1, 1000)),
});
export type ScoutCommand = typeof ScoutCommand.Type;

export const ScoutCompleted = Schema.Struct({
  ...TaskRef,
  found: Schema.NonNegativeInt,
  created: Schema.NonNegativeInt,
  duplicates: Schema.NonNegativeInt,
  bySource: Counts,
  sampleData: Schema.Boolean,
  warnings: Schema.Array(Schema.String),
});
export type ScoutCompleted = typeof ScoutCompleted.Type;

// ── analyst ──────────────────────────────────────────────────────────────────────────
export const AnalystCommand = Schema.Struct({ ...TaskRef, companyIds: CompanyIds });
export type AnalystCommand = typeof AnalystCommand.Type;

export const AnalystCompleted = Schema.Struct({
  ...TaskRef,
  scored: Schema.NonNegativeInt,
  tiers: TierCounts,
});
export type AnalystCompleted = typeof AnalystCompleted.Type;

// ── enrichment ───────────────────────────────────────────────────────────────────────
export const EnrichmentCommand = Schema.Struct({ ...TaskRef, companyIds: CompanyIds });
export type EnrichmentCommand = typeof EnrichmentCommand.Type;

export const EnrichmentCompleted = Schema.Struct({
  ...TaskRef,
  enriched: Schema.NonNegativeInt,
  phonesBySource: Counts,
  contacts: Schema.NonNegativeInt,
  contactsBySource: Counts,
  autoApproved: Schema.NonNegativeInt,
  skipped: Schema.Array(Schema.String),
  providerErrors: Schema.Array(Schema.Struct({ provider: Schema.String, message: Schema.String })),
});
export type EnrichmentCompleted = typeof EnrichmentCompleted.Type;

// ── writer ───────────────────────────────────────────────────────────────────────────
export const WriterCommand = Schema.Struct({ ...TaskRef, companyIds: CompanyIds });
export type WriterCommand = typeof WriterCommand.Type;

export const WriterCompleted = Schema.Struct({
  ...TaskRef,
  drafted: Schema.NonNegativeInt,
  byBackend: Counts,
  fallbacks: Schema.NonNegativeInt,
});
export type WriterCompleted = typeof WriterCompleted.Type;

export const ScoutSearch = commandContract("scout", "search", ScoutCommand);
export const ScoutCompletedEvent = eventContract("scout", "completed", ScoutCompleted);
export const ScoutFailedEvent = eventContract("scout", "failed", StageFailed);

export const AnalystScore = commandContract("analyst", "score", AnalystCommand);
export const AnalystCompletedEvent = eventContract("analyst", "completed", AnalystCompleted);
export const AnalystFailedEvent = eventContract("analyst", "failed", StageFailed);

export const EnrichmentEnrich = commandContract("enrichment", "enrich", EnrichmentCommand);
export const EnrichmentCompletedEvent = eventContract("enrichment", "completed", EnrichmentCompleted);
export const EnrichmentFailedEvent = eventContract("enrichment", "failed", StageFailed);

export const WriterDraft = commandContract("writer", "draft", WriterCommand);
export const WriterCompletedEvent = eventContract("writer", "completed", WriterCompleted);
export const WriterFailedEvent = eventContract("writer", "failed", StageFailed);

/** For each stage: its command, and the events the orchestrator waits for. */
export const StageContracts = {
  scout: { command: ScoutSearch, completed: ScoutCompletedEvent, failed: ScoutFailedEvent },
  analyst: { command: AnalystScore, completed: AnalystCompletedEvent, failed: AnalystFailedEvent },
  enrichment: {
    command: EnrichmentEnrich,
    completed: EnrichmentCompletedEvent,
    failed: EnrichmentFailedEvent,
  },
  writer: { command: WriterDraft, completed: WriterCompletedEvent, failed: WriterFailedEvent },
} as const;
