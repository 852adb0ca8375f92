import type { ApprovalStatus } from "@leadflow/contracts";
import { Either } from "effect";
import type { DecisionRecord, DraftEdit, DraftItem } from "./ApprovalStore.js";
import { CONTROL_IN_LINE, CONTROL_IN_TEXT } from "./Format.js";

/** Limits on what a review form may carry. */
export const Limits = {
  note: 1000,
  decidedBy: 100,
  subject: 150,
  body: 10_000,
  token: 200,
} as const;

/** A submitted review form, as strings (repeated fields as arrays). */
export type FormFields = Readonly<Record<string, string | ReadonlyArray<string>>>;

export type Action = DecisionRecord["action"];

/** A validated decision, ready to be written. */
export interface DecisionPlan {
  readonly status: Exclude<ApprovalStatus, "pending">;
  readonly record: DecisionRecord;
  readonly decidedBy: string;
  readonly note: string | null;
  readonly edits: ReadonlyArray<DraftEdit>;
}

/** A form problem, naming the field. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

const single = (fields: FormFields, name: string): string | undefined => {
  const v = fields[name];
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : v.length === 1 ? v[0] : undefined;
};

const many = (fields: FormFields, name: string): ReadonlyArray<string> => {
  const v = fields[name];
  return v === undefined ? [] : typeof v === "string" ? [v] : v;
};

/** One line of text: trimmed, no control or bidi-override characters, at most `max` characters. */
const oneLine = (field: string, raw: string | undefined, max: number): Either.Either<string, FieldError> => {
  const value = (raw ?? "").trim();
  if (value.length > max) return Either.left({ field, message: `at most ${max} characters` });
  if (CONTROL_IN_LINE.test(value)) return Either.left({ field, message: "must be one line of plain text" });
  return Either.right(value);
};

/** Multi-line text: line breaks normalised to \n, no other control characters. */
const multiLine = (
  field: string,
  raw: string | undefined,
  max: number,
): Either.Either<string, FieldError> => {
  const value = (raw ?? "").replace(/\r\n?/g, "\n").trim();
  if (value.length > max) return Either.left({ field, message: `at most ${max} characters` });
  if (CONTROL_IN_TEXT.test(value)) return Either.left({ field, message: "contains control characters" });
  return Either.right(value);
};

const ACTIONS: ReadonlyArray<Action> = ["approve_all", "approve_selected", "reject"];

/**
 * Turns a submitted form into a decision over `itemIds` (the request's items, nothing else):
 * the action, the selected ids (each must be an item of this request), the reviewer's name and
 * note, and for drafts the edited subjects and bodies of the approved ones. Pure.
 */
export const planDecision = (
  fields: FormFields,
  itemIds: ReadonlyArray<string>,
  drafts: ReadonlyArray<DraftItem> | null,
): Either.Either<DecisionPlan, FieldError> =>
  Either.gen(function* () {
    const action = single(fields, "action");
    if (action === undefined || !ACTIONS.includes(action as Action)) {
      return yield* Either.left({
        field: "action",
        message: "must be approve_all, approve_selected or reject",
      });
    }
    const note = yield* multiLine("note", single(fields, "note"), Limits.note);
    const name = yield* oneLine("decided_by", single(fields, "decided_by"), Limits.decidedBy);
    const known = new Set(itemIds.map((id) => id.toLowerCase()));
    const selected = many(fields, "ids").map((id) => id.trim().toLowerCase());
    for (const id of selected) {
      if (!known.has(id))
        return yield* Either.left({
          field: "ids",
          message: `${id.slice(0, 40)} is not an item of this request`,
        });
    }
    const chosen = new Set(selected);
    let approvedIds: ReadonlyArray<string>;
    switch (action as Action) {
      case "approve_all":
        approvedIds = itemIds;
        break;
      case "approve_selected":
        if (chosen.size === 0)
          return yield* Either.left({ field: "ids", message: "select at least one item to approve" });
        approvedIds = itemIds.filter((id) => chosen.has(id.toLowerCase()));
        break;
      case "reject":
        approvedIds = [];
        break;
    }
    const approvedSet = new Set(approvedIds);
    const rejectedIds = itemIds.filter((id) => !approvedSet.has(id));
    const edits: Array<DraftEdit> = [];
    for (const draft of drafts ?? []) {
      if (!approvedSet.has(draft.id)) continue;
      const rawSubject = single(fields, `subject_${draft.id}`);
      const rawBody = single(fields, `body_${draft.id}`);
      if (rawSubject === undefined && rawBody === undefined) continue;
      const subject = yield* oneLine(`subject_${draft.id}`, rawSubject ?? draft.subject, Limits.subject);
      const bodyText = yield* multiLine(`body_${draft.id}`, rawBody ?? draft.bodyText, Limits.body);
      if (subject === "")
        return yield* Either.left({ field: `subject_${draft.id}`, message: "must not be empty" });
      if (bodyText === "")
        return yield* Either.left({ field: `body_${draft.id}`, message: "must not be empty" });
      if (subject !== draft.subject || bodyText !== draft.bodyText.replace(/\r\n?/g, "\n").trim()) {
        edits.push({ id: draft.id, subject, bodyText });
      }
    }
    const status: DecisionPlan["status"] =
      approvedIds.length === 0 ? "rejected" : rejectedIds.length === 0 ? "approved" : "partially_approved";
    return {
      status,
      record: {
        action: action as Action,
        approvedIds,
        rejectedIds,
        ...(drafts !== null ? { editedIds: edits.map((e) => e.id) } : {}),
      },
      decidedBy: name === "" ? "reviewer (email link)" : name,
      note: note === "" ? null : note,
      edits,
    };
  });
