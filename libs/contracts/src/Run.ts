import { Schema } from "effect";
import { TierCounts } from "./Company.js";
import { contract } from "./Contract.js";

/** Text with no control characters (CR/LF/NUL would end up in logs, headers and emails). */
const Text = (max: number, label: string) =>
  Schema.String.pipe(
    Schema.filter((s) => s.trim().length > 0 || `${label} must not be empty`),
    Schema.filter((s) => s.length <= max || `${label} must be at most ${max} characters`),
    // biome-ignore lint/suspicious/noControlCharactersInRegex: this is the check for them
    Schema.filter((s) => !/[\u0000-\u001f\u007f]/.test(s) || `${label} must not contain control characters`),
  );

/** `requestId`: 1–64 characters of `[A-Za-z0-9_-]`; the idempotency key and the run id. */
export const RequestId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9_-]{1,64}$/, {
    message: () => "requestId must be 1-64 characters of A-Z, a-z, 0-9, _ or -",
  }),
);

export const RunId = RequestId.pipe(Schema.brand("RunId"));
export type RunId = typeof RunId.Type;

/** The largest trigger body the orchestrator reads; anything bigger is rejected unread. */
export const MaxRunRequestBytes = 16 * 1024;

/** The public trigger (DESIGN section 9). Unknown fields are refused, not ignored. */
export const RunRequest = Schema.Struct({
  industry: Text(100, "industry"),
  location: Text(200, "location"),
  count: Schema.Number.pipe(
    Schema.int({ message: () => "count must be an integer" }),
    Schema.between(1, 1000, { message: () => "count must be between 1 and 1000" }),
  ),
  requestId: Schema.optional(RequestId),
}).annotations({ parseOptions: { onExcessProperty: "error" } });
export type RunRequest = typeof RunRequest.Type;

export const RunStatuses = [
  "requested",
  "scouting",
  "analyzing",
  "enriching",
  "writing",
  "awaiting_approval",
  "completed",
  "failed",
  "rejected",
] as const;
export const RunStatus = Schema.Literal(...RunStatuses);
export type RunStatus = typeof RunStatus.Type;

/** Stages a run passes through, in order. */
export const Stages = ["scout", "analyst", "enrichment", "writer"] as const;
export const Stage = Schema.Literal(...Stages);
export type Stage = typeof Stage.Type;

export const StageSummary = Schema.Struct({
  status: Schema.Literal("pending", "running", "completed", "failed", "skipped"),
  tasks: Schema.NonNegativeInt,
  completedTasks: Schema.NonNegativeInt,
  attempts: Schema.NonNegativeInt,
  durationMs: Schema.NullOr(Schema.NonNegativeInt),
  error: Schema.NullOr(Schema.String),
  note: Schema.optional(Schema.String),
});
export type StageSummary = typeof StageSummary.Type;

/** The run summary (the original's `generate_run_summary`), stored on the run. */
export const RunSummary = Schema.Struct({
  runId: Schema.String,
  status: RunStatus,
  stage: Schema.NullOr(Stage),
  request: Schema.Struct({ industry: Schema.String, location: Schema.String, count: Schema.Number }),
  companies: Schema.Struct({
    found: Schema.NonNegativeInt,
    new: Schema.NonNegativeInt,
    duplicates: Schema.NonNegativeInt,
    bySource: Schema.Record({ key: Schema.String, value: Schema.NonNegativeInt }),
    sampleData: Schema.Boolean,
  }),
  leads: Schema.extend(TierCounts, Schema.Struct({ scored: Schema.NonNegativeInt })),
  /** Phones, contacts and auto-approvals from the enrichment stage (absent before it ran). */
  enrichment: Schema.optional(
    Schema.Struct({
      companies: Schema.NonNegativeInt,
      phonesBySource: Schema.Record({ key: Schema.String, value: Schema.NonNegativeInt }),
      contacts: Schema.NonNegativeInt,
      contactsBySource: Schema.Record({ key: Schema.String, value: Schema.NonNegativeInt }),
      autoApproved: Schema.NonNegativeInt,
      skipped: Schema.Array(Schema.String),
      providerErrors: Schema.Array(Schema.Struct({ provider: Schema.String, message: Schema.String })),
    }),
  ),
  /** Drafts from the writer stage (absent before it ran). */
  drafts: Schema.optional(
    Schema.Struct({
      drafted: Schema.NonNegativeInt,
      byBackend: Schema.Record({ key: Schema.String, value: Schema.NonNegativeInt }),
      fallbacks: Schema.NonNegativeInt,
    }),
  ),
  approvals: Schema.Array(
    Schema.Struct({
      id: Schema.String,
      type: Schema.String,
      status: Schema.String,
      items: Schema.Number,
      /** Once decided: who, when, how many items were approved, and the note. */
      decidedBy: Schema.optional(Schema.NullOr(Schema.String)),
      decidedAt: Schema.optional(Schema.String),
      approved: Schema.optional(Schema.NonNegativeInt),
      note: Schema.optional(Schema.NullOr(Schema.String)),
    }),
  ),
  stages: Schema.Record({ key: Schema.String, value: StageSummary }),
  warnings: Schema.Array(Schema.String),
  errors: Schema.Array(Schema.Struct({ stage: Schema.String, attempt: Schema.Number, error: Schema.String })),
  startedAt: Schema.String,
  endedAt: Schema.NullOr(Schema.String),
  durationMs: Schema.NullOr(Schema.NonNegativeInt),
});
export type RunSummary = typeof RunSummary.Type;

/** Run progress: `leadflow.evt.run.<runId>.<status>` with the summary so far. */
export const RunEvent = Schema.Struct({
  runId: Schema.String,
  status: RunStatus,
  stage: Schema.NullOr(Stage),
  summary: RunSummary,
  occurredAt: Schema.String,
});
export type RunEvent = typeof RunEvent.Type;

export const RunRejected = Schema.Struct({
  requestId: Schema.NullOr(Schema.String),
  reasons: Schema.Array(Schema.String),
  bodyBytes: Schema.NonNegativeInt,
  receivedAt: Schema.String,
});
export type RunRejected = typeof RunRejected.Type;

export const RunStartContract = contract({
  name: "run-start",
  stream: "cmd",
  filter: "leadflow.cmd.run.start",
  subject: () => "leadflow.cmd.run.start",
  schema: RunRequest,
  messageId: (r) => r.requestId ?? "",
  maxBytes: MaxRunRequestBytes,
});

export const RunEventContract = contract({
  name: "run-event",
  stream: "evt",
  filter: "leadflow.evt.run.*.*",
  subject: (e: RunEvent) => `leadflow.evt.run.${e.runId}.${e.status}`,
  schema: RunEvent,
  messageId: (e) => `run:${e.runId}:${e.status}:${e.occurredAt}`,
});

export const RunRejectedContract = contract({
  name: "run-rejected",
  stream: "evt",
  filter: "leadflow.evt.run.rejected",
  subject: () => "leadflow.evt.run.rejected",
  schema: RunRejected,
  messageId: (r) => `rejected:${r.requestId ?? ""}:${r.receivedAt}`,
});
