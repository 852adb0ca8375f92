import { Schema } from "effect";

/** The 11 company statuses of the original pipeline, in funnel order. */
export const CompanyStatuses = [
  "new",
  "enriched",
  "scored",
  "approved",
  "contacted",
  "replied",
  "meeting_booked",
  "won",
  "lost",
  "no_response",
  "archived",
] as const;

export const CompanyStatus = Schema.Literal(...CompanyStatuses);
export type CompanyStatus = typeof CompanyStatus.Type;

/**
 * Allowed status transitions: `from → [to…]`. A status may always be written again
 * (idempotent redelivery), which is why each list implicitly includes its own key.
 * The SQL that changes a status filters on `allowedFrom(to)`, so the database never
 * holds a transition this table does not allow.
 */
export const CompanyTransitions: Readonly<Record<CompanyStatus, ReadonlyArray<CompanyStatus>>> = {
  new: ["enriched", "archived"],
  enriched: ["scored", "archived"],
  // a company found again by a later run is re-scored in place
  scored: ["approved", "enriched", "archived"],
  approved: ["contacted", "archived"],
  contacted: ["replied", "no_response", "lost", "archived"],
  replied: ["meeting_booked", "won", "lost", "archived"],
  meeting_booked: ["won", "lost", "archived"],
  won: ["archived"],
  lost: ["archived"],
  no_response: ["contacted", "lost", "archived"],
  archived: [],
};

/** Whether `from → to` is allowed (a status may always be written again). */
export const canTransition = (from: CompanyStatus, to: CompanyStatus): boolean =>
  from === to || CompanyTransitions[from].includes(to);

/** Every status a company may be in for a move to `to` to be allowed. */
export const allowedFrom = (to: CompanyStatus): ReadonlyArray<CompanyStatus> =>
  CompanyStatuses.filter((from) => canTransition(from, to));

/** Statuses that no longer count towards pipeline value. */
export const InactiveStatuses: ReadonlyArray<CompanyStatus> = ["lost", "archived", "no_response"];

export const LeadTiers = ["high", "medium", "low"] as const;
export const LeadTier = Schema.Literal(...LeadTiers);
export type LeadTier = typeof LeadTier.Type;

export const TierCounts = Schema.Struct({
  high: Schema.NonNegativeInt,
  medium: Schema.NonNegativeInt,
  low: Schema.NonNegativeInt,
});
export type TierCounts = typeof TierCounts.Type;
