import { Schema } from "effect";
import { contract } from "./Contract.js";

export const ApprovalTypes = ["leads", "emails"] as const;
export const ApprovalType = Schema.Literal(...ApprovalTypes);
export type ApprovalType = typeof ApprovalType.Type;

export const ApprovalStatus = Schema.Literal("pending", "approved", "rejected", "partially_approved");
export type ApprovalStatus = typeof ApprovalStatus.Type;

export const ApprovalRequested = Schema.Struct({
  approvalId: Schema.UUID,
  runId: Schema.String,
  type: ApprovalType,
  items: Schema.NonNegativeInt,
  summary: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  requestedAt: Schema.String,
});
export type ApprovalRequested = typeof ApprovalRequested.Type;

export const ApprovalDecided = Schema.Struct({
  approvalId: Schema.UUID,
  runId: Schema.String,
  type: ApprovalType,
  decision: Schema.Literal("approved", "rejected"),
  /** Company ids (leads) or draft ids (emails) that were approved; empty when rejected. */
  approvedIds: Schema.Array(Schema.UUID),
  decidedBy: Schema.String,
  note: Schema.NullOr(Schema.String),
  decidedAt: Schema.String,
});
export type ApprovalDecided = typeof ApprovalDecided.Type;

export const ApprovalRequestedEvent = contract({
  name: "approval-requested",
  stream: "evt",
  filter: "leadflow.evt.approval.requested",
  subject: () => "leadflow.evt.approval.requested",
  schema: ApprovalRequested,
  messageId: (a) => `approval:${a.approvalId}:requested`,
});

export const ApprovalDecidedEvent = contract({
  name: "approval-decided",
  stream: "evt",
  filter: "leadflow.evt.approval.decided",
  subject: () => "leadflow.evt.approval.decided",
  schema: ApprovalDecided,
  messageId: (a) => `approval:${a.approvalId}:decided`,
});
