import { Either } from "effect";
import { describe, expect, it } from "vitest";
import type { DraftItem } from "../src/ApprovalStore.js";
import { Limits, planDecision } from "../src/Decision.js";

const ids = [
  "00000000-0000-4000-8000-000000000001",
  "00000000-0000-4000-8000-000000000002",
  "00000000-0000-4000-8000-000000000003",
];
const draft = (id: string): DraftItem => ({
  id,
  companyName: "Co",
  toEmail: null,
  toName: null,
  subject: "Hello",
  bodyText: "Line one\nLine two",
  status: "draft",
  edited: false,
  isFallback: false,
});

const left = (e: Either.Either<unknown, { field: string; message: string }>) =>
  Either.isLeft(e) ? e.left : undefined;

describe("planDecision", () => {
  it("approves the selected items and rejects the rest", () => {
    const plan = Either.getOrThrow(
      planDecision(
        { action: "approve_selected", ids: [ids[0]!, ids[2]!], decided_by: " Dana ", note: "ok" },
        ids,
        null,
      ),
    );
    expect(plan.status).toBe("partially_approved");
    expect(plan.record.approvedIds).toEqual([ids[0], ids[2]]);
    expect(plan.record.rejectedIds).toEqual([ids[1]]);
    expect(plan.decidedBy).toBe("Dana");
    expect(plan.note).toBe("ok");
  });

  it("approve all, reject all", () => {
    expect(Either.getOrThrow(planDecision({ action: "approve_all" }, ids, null)).status).toBe("approved");
    const rejected = Either.getOrThrow(planDecision({ action: "reject", ids: ids[0]! }, ids, null));
    expect(rejected.status).toBe("rejected");
    expect(rejected.record.approvedIds).toEqual([]);
    expect(rejected.decidedBy).toBe("reviewer (email link)");
  });

  it("names the field of every bad input", () => {
    expect(left(planDecision({}, ids, null))?.field).toBe("action");
    expect(left(planDecision({ action: "delete" }, ids, null))?.field).toBe("action");
    expect(left(planDecision({ action: "approve_selected" }, ids, null))?.message).toMatch(/at least one/);
    expect(
      left(
        planDecision({ action: "approve_selected", ids: "00000000-0000-4000-8000-000000000009" }, ids, null),
      )?.message,
    ).toMatch(/not an item/);
    expect(
      left(planDecision({ action: "reject", note: "x".repeat(Limits.note + 1) }, ids, null))?.field,
    ).toBe("note");
    expect(left(planDecision({ action: "reject", decided_by: "a\nb" }, ids, null))?.field).toBe("decided_by");
    expect(left(planDecision({ action: ["approve_all", "reject"] }, ids, null))?.field).toBe("action");
  });

  it("keeps changed subjects and bodies of approved drafts only, within their limits", () => {
    const drafts = ids.map(draft);
    const plan = Either.getOrThrow(
      planDecision(
        {
          action: "approve_selected",
          ids: [ids[0]!, ids[1]!],
          [`subject_${ids[0]}`]: "New subject",
          [`body_${ids[0]}`]: "Line one\r\nLine two",
          [`subject_${ids[1]}`]: "Hello",
          [`body_${ids[1]}`]: "Line one\r\nLine two",
          [`subject_${ids[2]}`]: "ignored: not approved",
        },
        ids,
        drafts,
      ),
    );
    expect(plan.edits).toEqual([{ id: ids[0], subject: "New subject", bodyText: "Line one\nLine two" }]);
    expect(plan.record.editedIds).toEqual([ids[0]]);
    const long = planDecision(
      { action: "approve_all", [`subject_${ids[0]}`]: "s".repeat(Limits.subject + 1) },
      ids,
      drafts,
    );
    expect(left(long)?.field).toBe(`subject_${ids[0]}`);
    const header = planDecision(
      { action: "approve_all", [`subject_${ids[0]}`]: "Hi\r\nBcc: x@example.com" },
      ids,
      drafts,
    );
    expect(left(header)?.field).toBe(`subject_${ids[0]}`);
    const empty = planDecision({ action: "approve_all", [`body_${ids[0]}`]: "   " }, ids, drafts);
    expect(left(empty)?.field).toBe(`body_${ids[0]}`);
  });
});
