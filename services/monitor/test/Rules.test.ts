import { Duration, Either } from "effect";
import { describe, expect, it } from "vitest";
import { parseLimit, parseRange, parseRunId } from "../src/index.js";
import { percent } from "../src/Rates.js";
import { isWeekday, stuckChecks, stuckCutoffs } from "../src/Stuck.js";

const thresholds = {
  newCompany: Duration.hours(24),
  unapprovedLead: Duration.hours(48),
  unsentDraft: Duration.hours(6),
};

describe("stuck rules", () => {
  it("cutoffs are the thresholds before now; today starts at midnight UTC", () => {
    const c = stuckCutoffs(new Date("2026-11-18T12:00:00Z"), thresholds);
    expect(c.newBefore.toISOString()).toBe("2026-11-17T12:00:00.000Z");
    expect(c.unapprovedBefore.toISOString()).toBe("2026-11-16T12:00:00.000Z");
    expect(c.unsentBefore.toISOString()).toBe("2026-11-18T06:00:00.000Z");
    expect(c.dayStart.toISOString()).toBe("2026-11-18T00:00:00.000Z");
  });

  it("weekdays are Monday to Friday in UTC", () => {
    expect(isWeekday(new Date("2026-11-20T23:59:59Z"))).toBe(true); // Friday
    expect(isWeekday(new Date("2026-11-21T00:00:00Z"))).toBe(false); // Saturday
    expect(isWeekday(new Date("2026-11-22T23:59:59Z"))).toBe(false); // Sunday
    expect(isWeekday(new Date("2026-11-23T00:00:00Z"))).toBe(true); // Monday
  });

  it("a check fires only with a positive count; no-email only on a weekday with nothing sent", () => {
    const weekday = stuckCutoffs(new Date("2026-11-18T12:00:00Z"), thresholds);
    const counts = { newCompanies: 0, unapprovedLeads: 3, unsentDrafts: 0, emailsSentToday: 0 };
    const checks = stuckChecks(counts, weekday, thresholds, true);
    expect(checks.map((c) => [c.check, c.count, c.stuck])).toEqual([
      ["new_over_24h", 0, false],
      ["unapproved_over_48h", 3, true],
      ["drafts_unsent_over_6h", 0, false],
      ["no_email_today", 1, true],
    ]);
    const weekend = stuckCutoffs(new Date("2026-11-21T12:00:00Z"), thresholds);
    expect(stuckChecks(counts, weekend, thresholds, true)[3]).toMatchObject({ count: 0, stuck: false });
  });

  it("no-email stays quiet where no sender runs: nothing can go out, so nothing is late", () => {
    const weekday = stuckCutoffs(new Date("2026-11-18T12:00:00Z"), thresholds);
    const counts = { newCompanies: 0, unapprovedLeads: 0, unsentDrafts: 0, emailsSentToday: 0 };
    expect(stuckChecks(counts, weekday, thresholds, false)[3]).toEqual({
      check: "no_email_today",
      count: 0,
      stuck: false,
      message: "no email sender here (outreach is not among MONITOR_EXPECTED_SERVICES): no email expected",
    });
  });
});

describe("parameters", () => {
  const now = new Date("2026-11-18T15:00:00Z");
  const range = (s?: string, e?: string) => parseRange(s, e, now);

  it("defaults to the 7 days ending today; one bound alone spans 7 days", () => {
    expect(range()).toEqual(Either.right({ start: "2026-11-12", end: "2026-11-18" }));
    expect(range("2026-01-01")).toEqual(Either.right({ start: "2026-01-01", end: "2026-01-07" }));
    expect(range(undefined, "2026-03-01")).toEqual(Either.right({ start: "2026-02-23", end: "2026-03-01" }));
  });

  it("rejects impossible dates, reversed ranges and ranges over 366 days, naming the parameter", () => {
    const param = (e: ReturnType<typeof range>) => (Either.isLeft(e) ? e.left.param : "accepted");
    expect(param(range("2026-02-29"))).toBe("start"); // 2026 is not a leap year
    expect(param(range("2024-02-29", "2024-03-01"))).toBe("accepted");
    expect(param(range("2026-11-02", "2026-11-01"))).toBe("start");
    expect(param(range("2025-01-01", "2026-01-01"))).toBe("accepted"); // 366 days
    expect(param(range("2025-01-01", "2026-01-02"))).toBe("end");
    expect(param(range(undefined, "20261101"))).toBe("end");
  });

  it("limit is an integer 1–100, default 10; run ids follow the requestId rule", () => {
    expect(parseLimit(undefined)).toEqual(Either.right(10));
    expect(parseLimit("100")).toEqual(Either.right(100));
    for (const bad of ["0", "101", "-1", "2.5", "ten", " "])
      expect(Either.isLeft(parseLimit(bad))).toBe(true);
    expect(Either.isRight(parseRunId("buffalo-2026_11"))).toBe(true);
    expect(Either.isLeft(parseRunId("a/b"))).toBe(true);
  });

  it("rates are percentages with two decimals and 0 for a zero denominator", () => {
    expect(percent(1, 3)).toBe(33.33);
    expect(percent(0, 0)).toBe(0);
    expect(percent(5, 0)).toBe(0);
  });
});
