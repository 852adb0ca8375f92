import { createTestDatabase, createTestNats, type TestDatabase, type TestNats } from "@leadflow/testkit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { manualClock, monitorApp } from "./Harness.js";
import { clearPipeline, seedCompany, seedContact, seedDraft, seedEvent, seedRun, seedScore } from "./Seed.js";

// Wednesday 18 November 2026, noon UTC
const NOW = new Date("2026-11-18T12:00:00Z");
const HOUR = 3_600_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms);

let db: TestDatabase;
let nats: TestNats;
let api: Awaited<ReturnType<typeof monitorApp>>;
const clock = manualClock(NOW);

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  api = await monitorApp({ databaseUrl: db.url, natsUrl: nats.url, clock: clock.clock });
});

afterAll(async () => {
  await api?.close();
  await Promise.all([db?.drop(), nats?.stop()]);
});

beforeEach(async () => {
  clock.set(NOW);
  await clearPipeline(db.sql);
});

describe("GET /api/pipeline/counts", () => {
  it("counts companies per status, all 11 present", async () => {
    for (const [status, n] of [
      ["new", 3],
      ["scored", 2],
      ["won", 1],
      ["archived", 4],
    ] as const) {
      for (let i = 0; i < n; i++) await seedCompany(db.sql, { status });
    }
    const { status, body } = await api.get<{ counts: Record<string, number>; total: number }>(
      "/api/pipeline/counts",
    );
    expect(status).toBe(200);
    expect(body.counts).toEqual({
      new: 3,
      enriched: 0,
      scored: 2,
      approved: 0,
      contacted: 0,
      replied: 0,
      meeting_booked: 0,
      won: 1,
      lost: 0,
      no_response: 0,
      archived: 4,
    });
    expect(body.total).toBe(10);
  });
});

describe("GET /api/pipeline/value", () => {
  it("sums savings of active high-tier companies by their latest score; revenue = 0.24 × mid", async () => {
    const run1 = await seedRun(db.sql, "run-one");
    const run2 = await seedRun(db.sql, "run-two");
    const a = await seedCompany(db.sql, { status: "scored", savings: [1000, 2000, 3000] });
    const b = await seedCompany(db.sql, { status: "contacted", savings: [100.25, 200.5, 300.75] });
    const lost = await seedCompany(db.sql, { status: "lost", savings: [9e6, 9e6, 9e6] });
    const medium = await seedCompany(db.sql, { status: "scored", savings: [7e6, 7e6, 7e6] });
    const downgraded = await seedCompany(db.sql, { status: "scored", savings: [5e6, 5e6, 5e6] });
    const upgraded = await seedCompany(db.sql, { status: "approved", savings: [10, 20, 30] });
    await seedScore(db.sql, { companyId: a, runId: run1, tier: "high", score: 90 });
    await seedScore(db.sql, { companyId: b, runId: run1, tier: "high", score: 75 });
    await seedScore(db.sql, { companyId: lost, runId: run1, tier: "high", score: 99 });
    await seedScore(db.sql, { companyId: medium, runId: run1, tier: "medium", score: 50 });
    await seedScore(db.sql, {
      companyId: downgraded,
      runId: run1,
      tier: "high",
      score: 80,
      scoredAt: ago(48 * HOUR),
    });
    await seedScore(db.sql, {
      companyId: downgraded,
      runId: run2,
      tier: "medium",
      score: 60,
      scoredAt: ago(HOUR),
    });
    await seedScore(db.sql, {
      companyId: upgraded,
      runId: run1,
      tier: "low",
      score: 20,
      scoredAt: ago(48 * HOUR),
    });
    await seedScore(db.sql, {
      companyId: upgraded,
      runId: run2,
      tier: "high",
      score: 71,
      scoredAt: ago(HOUR),
    });

    const { status, body } = await api.get("/api/pipeline/value");
    expect(status).toBe(200);
    expect(body).toEqual({
      companies: 3,
      savings: { low: 1110.25, mid: 2220.5, high: 3330.75 },
      contingencyFee: 0.24,
      estimatedRevenue: 532.92,
    });
  });

  it("is zero with no companies", async () => {
    const { body } = await api.get("/api/pipeline/value");
    expect(body).toMatchObject({ companies: 0, savings: { low: 0, mid: 0, high: 0 }, estimatedRevenue: 0 });
  });

  it("uses CONTINGENCY_FEE from the configuration", async () => {
    const other = await monitorApp({
      databaseUrl: db.url,
      natsUrl: nats.url,
      env: { CONTINGENCY_FEE: "0.3" },
    });
    try {
      const run = await seedRun(db.sql);
      const c = await seedCompany(db.sql, { status: "scored", savings: [100, 1000, 2000] });
      await seedScore(db.sql, { companyId: c, runId: run, tier: "high", score: 80 });
      const { body } = await other.get("/api/pipeline/value");
      expect(body).toMatchObject({ contingencyFee: 0.3, estimatedRevenue: 300 });
    } finally {
      await other.close();
    }
  });
});

type Stuck = { checks: Array<{ check: string; count: number; stuck: boolean; message: string }> };
const stuckOf = async (check: string) => {
  const { status, body } = await api.get<Stuck>("/api/pipeline/stuck");
  expect(status).toBe(200);
  return body.checks.find((c) => c.check === check)!;
};

describe("GET /api/pipeline/stuck", () => {
  it("new companies: strictly over 24 h in status new", async () => {
    await seedCompany(db.sql, { status: "new", updatedAt: ago(24 * HOUR) });
    await seedCompany(db.sql, { status: "new", updatedAt: ago(24 * HOUR + 1000) });
    await seedCompany(db.sql, { status: "new", updatedAt: ago(30 * HOUR) });
    await seedCompany(db.sql, { status: "scored", updatedAt: ago(90 * HOUR) });
    const c = await stuckOf("new_over_24h");
    expect(c).toMatchObject({ count: 2, stuck: true });
    expect(c.message).toBe("2 companies found but not yet analyzed (new for over 24 h)");
    // an hour later the one at exactly 24 h is over too
    clock.set(new Date(NOW.getTime() + HOUR));
    expect((await stuckOf("new_over_24h")).count).toBe(3);
  });

  it("high-tier leads unapproved over 48 h, by the latest score, active companies only, not the rejected", async () => {
    const run = await seedRun(db.sql, "r1");
    const run2 = await seedRun(db.sql, "r2");
    const at48 = await seedCompany(db.sql, { status: "scored" });
    const over = await seedCompany(db.sql, { status: "scored" });
    const approved = await seedCompany(db.sql, { status: "approved" });
    const medium = await seedCompany(db.sql, { status: "scored" });
    const archived = await seedCompany(db.sql, { status: "archived" });
    const rescored = await seedCompany(db.sql, { status: "scored" });
    const rejected = await seedCompany(db.sql, { status: "scored" });
    await seedScore(db.sql, {
      companyId: at48,
      runId: run,
      tier: "high",
      score: 80,
      scoredAt: ago(48 * HOUR),
    });
    await seedScore(db.sql, {
      companyId: over,
      runId: run,
      tier: "high",
      score: 80,
      scoredAt: ago(48 * HOUR + 1000),
    });
    await seedScore(db.sql, {
      companyId: approved,
      runId: run,
      tier: "high",
      score: 80,
      scoredAt: ago(99 * HOUR),
      approved: true,
    });
    await seedScore(db.sql, {
      companyId: medium,
      runId: run,
      tier: "medium",
      score: 50,
      scoredAt: ago(99 * HOUR),
    });
    await seedScore(db.sql, {
      companyId: archived,
      runId: run,
      tier: "high",
      score: 90,
      scoredAt: ago(99 * HOUR),
    });
    // scored high long ago, re-scored high yesterday: waiting since yesterday only
    await seedScore(db.sql, {
      companyId: rescored,
      runId: run,
      tier: "high",
      score: 90,
      scoredAt: ago(99 * HOUR),
    });
    await seedScore(db.sql, {
      companyId: rescored,
      runId: run2,
      tier: "high",
      score: 91,
      scoredAt: ago(20 * HOUR),
    });
    // rejected on the review page: decided, not waiting
    await seedScore(db.sql, {
      companyId: rejected,
      runId: run,
      tier: "high",
      score: 95,
      scoredAt: ago(99 * HOUR),
      rejectedAt: ago(50 * HOUR),
    });
    const c = await stuckOf("unapproved_over_48h");
    expect(c).toMatchObject({
      count: 1,
      stuck: true,
      message: "1 high-score lead waiting approval for over 48 h",
    });
  });

  it("approved drafts unsent over 6 h", async () => {
    const c = await seedCompany(db.sql, { status: "approved" });
    await seedDraft(db.sql, { companyId: c, status: "approved", approvedAt: ago(6 * HOUR), sequence: 0 });
    await seedDraft(db.sql, {
      companyId: c,
      status: "approved",
      approvedAt: ago(6 * HOUR + 1000),
      sequence: 1,
    });
    await seedDraft(db.sql, { companyId: c, status: "sent", approvedAt: ago(20 * HOUR), sequence: 2 });
    await seedDraft(db.sql, { companyId: c, status: "draft", sequence: 3 });
    // the default expected services have no sender (outreach): told, not an alert
    expect(await stuckOf("drafts_unsent_over_6h")).toMatchObject({
      count: 0,
      stuck: false,
      message:
        "no email sender here (outreach is not among MONITOR_EXPECTED_SERVICES): 1 approved email waits for one (over 6 h)",
    });
    const withSender = await monitorApp({
      databaseUrl: db.url,
      natsUrl: nats.url,
      env: { MONITOR_EXPECTED_SERVICES: "orchestrator,notifier,outreach,monitor" },
      clock: clock.clock,
    });
    try {
      const { status, body } = await withSender.get<Stuck>("/api/pipeline/stuck");
      expect(status).toBe(200);
      expect(body.checks.find((x) => x.check === "drafts_unsent_over_6h")).toMatchObject({
        count: 1,
        stuck: true,
        message: "1 approved email not yet sent after 6 h",
      });
    } finally {
      await withSender.close();
    }
  });

  it("no email sent today: fires on a weekday, not at the weekend, and not once one went out", async () => {
    await seedEvent(db.sql, { type: "sent", at: new Date("2026-11-17T23:59:59Z") }); // yesterday
    await seedEvent(db.sql, { type: "opened", at: ago(HOUR) }); // not a send
    // the default expected services have no sender (outreach): nothing is expected to go out
    expect(await stuckOf("no_email_today")).toMatchObject({
      count: 0,
      stuck: false,
      message: "no email sender here (outreach is not among MONITOR_EXPECTED_SERVICES): no email expected",
    });
    const withSender = await monitorApp({
      databaseUrl: db.url,
      natsUrl: nats.url,
      env: { MONITOR_EXPECTED_SERVICES: "orchestrator,notifier,outreach,monitor" },
      clock: clock.clock,
    });
    const senderStuckOf = async (check: string) => {
      const { status, body } = await withSender.get<Stuck>("/api/pipeline/stuck");
      expect(status).toBe(200);
      return body.checks.find((c) => c.check === check)!;
    };
    try {
      await noEmailChecks(senderStuckOf);
    } finally {
      await withSender.close();
    }
  });

  const noEmailChecks = async (stuckOf: (check: string) => Promise<Stuck["checks"][number]>) => {
    expect(await stuckOf("no_email_today")).toMatchObject({
      count: 1,
      stuck: true,
      message: "No emails sent today — check outreach agent",
    });
    clock.set(new Date("2026-11-21T12:00:00Z")); // Saturday
    expect(await stuckOf("no_email_today")).toMatchObject({
      count: 0,
      stuck: false,
      message: "weekend: no email expected",
    });
    clock.set(new Date("2026-11-22T23:00:00Z")); // Sunday
    expect((await stuckOf("no_email_today")).count).toBe(0);
    clock.set(new Date("2026-11-23T00:30:00Z")); // Monday just after midnight
    expect((await stuckOf("no_email_today")).count).toBe(1);
    clock.set(NOW);
    await seedEvent(db.sql, { type: "followup_sent", at: new Date("2026-11-18T00:00:00Z") });
    expect(await stuckOf("no_email_today")).toMatchObject({
      count: 0,
      stuck: false,
      message: "1 email sent today",
    });
  };

  it("thresholds come from the configuration", async () => {
    const other = await monitorApp({
      databaseUrl: db.url,
      natsUrl: nats.url,
      env: { STUCK_NEW_AFTER: "2 hours" },
      clock: clock.clock,
    });
    try {
      await seedCompany(db.sql, { status: "new", updatedAt: ago(3 * HOUR) });
      const { body } = await other.get<Stuck>("/api/pipeline/stuck");
      expect(body.checks.find((c) => c.check === "new_over_24h")).toMatchObject({
        count: 1,
        message: "1 company found but not yet analyzed (new for over 2 h)",
      });
    } finally {
      await other.close();
    }
  });
});

describe("GET /api/activity", () => {
  it("lists the latest events first with company and contact names, up to limit", async () => {
    const acme = await seedCompany(db.sql, { name: "Acme Hospital", status: "contacted" });
    const ann = await seedContact(db.sql, acme, "Ann Smith", "ann@acme.example");
    await seedEvent(db.sql, { type: "sent", at: ago(3 * HOUR), companyId: acme, contactId: ann });
    await seedEvent(db.sql, { type: "opened", at: ago(2 * HOUR), companyId: acme, contactId: ann });
    await seedEvent(db.sql, {
      type: "replied",
      at: ago(HOUR),
      companyId: acme,
      contactId: ann,
      sentiment: "positive",
    });
    await seedEvent(db.sql, { type: "bounced", at: ago(4 * HOUR) });
    const { status, body } = await api.get<{
      limit: number;
      events: Array<{
        eventType: string;
        replySentiment: string | null;
        at: string;
        company: { name: string } | null;
        contact: { name: string; email: string } | null;
      }>;
    }>("/api/activity?limit=3");
    expect(status).toBe(200);
    expect(body.limit).toBe(3);
    expect(body.events.map((e) => e.eventType)).toEqual(["replied", "opened", "sent"]);
    expect(body.events[0]).toMatchObject({
      replySentiment: "positive",
      at: ago(HOUR).toISOString(),
      company: { name: "Acme Hospital" },
      contact: { name: "Ann Smith", email: "ann@acme.example" },
    });
    const all = await api.get<{ events: Array<{ company: unknown }> }>("/api/activity");
    expect(all.body.events).toHaveLength(4);
    expect(all.body.events[3]!.company).toBeNull();
  });

  it.each(["0", "101", "abc", "1.5", ""])("answers 400 naming limit for limit=%s", async (limit) => {
    const { status, body } = await api.get<{ error: string; param: string }>(`/api/activity?limit=${limit}`);
    expect(status).toBe(400);
    expect(body.param).toBe("limit");
    expect(body.error).toContain("limit");
  });
});

type Report = {
  period: { start: string; end: string };
  companies_found: {
    total: number;
    by_industry: Record<string, number>;
    by_state: Record<string, number>;
    by_industry_and_state: Array<{ industry: string; state: string | null; count: number }>;
  };
  leads_by_tier: Record<string, number>;
  emails: Record<string, number>;
  replies: {
    total: number;
    by_sentiment: Record<string, number>;
    reply_rate_pct: number;
    unsubscribes: number;
  };
  pipeline_value: { companies: number; savings: { mid: number }; estimatedRevenue: number };
  top_leads: Array<{ name: string; score: number; savings: { low: number; mid: number; high: number } }>;
};

describe("GET /api/reports/weekly", () => {
  it("reports the period's numbers and rates, the current value and the top leads", async () => {
    const inside = new Date("2026-11-12T10:00:00Z");
    const outside = new Date("2026-11-09T23:59:59Z");
    const run = await seedRun(db.sql);
    await seedCompany(db.sql, { industry: "hospital", state: "NY", foundAt: inside });
    await seedCompany(db.sql, {
      industry: "hospital",
      state: "NY",
      foundAt: new Date("2026-11-10T00:00:00Z"),
    });
    await seedCompany(db.sql, { industry: "hotel", state: "PA", foundAt: new Date("2026-11-16T23:59:59Z") });
    await seedCompany(db.sql, { industry: "hotel", state: null, foundAt: inside });
    await seedCompany(db.sql, { industry: "hotel", state: "NY", foundAt: outside });
    await seedCompany(db.sql, { industry: "hotel", state: "NY", foundAt: new Date("2026-11-17T00:00:00Z") });
    // twelve high-tier leads, scores 60..93 step 3; the top ten by score are reported
    for (let i = 0; i < 12; i++) {
      const c = await seedCompany(db.sql, {
        name: `Lead ${i}`,
        status: "scored",
        foundAt: outside,
        savings: [i * 10, i * 20, i * 30],
      });
      await seedScore(db.sql, {
        companyId: c,
        runId: run,
        tier: "high",
        score: 60 + 3 * i,
        scoredAt: inside,
      });
    }
    const m = await seedCompany(db.sql, { status: "scored", foundAt: outside });
    await seedScore(db.sql, { companyId: m, runId: run, tier: "medium", score: 50, scoredAt: outside });
    for (const [type, n] of [
      ["sent", 8],
      ["followup_sent", 2],
      ["opened", 4],
      ["clicked", 1],
      ["unsubscribed", 1],
      ["bounced", 3],
    ] as const) {
      for (let i = 0; i < n; i++) await seedEvent(db.sql, { type, at: inside });
    }
    await seedEvent(db.sql, { type: "replied", at: inside, sentiment: "positive" });
    await seedEvent(db.sql, { type: "replied", at: inside, sentiment: "positive" });
    await seedEvent(db.sql, { type: "replied", at: inside, sentiment: "negative" });
    await seedEvent(db.sql, { type: "sent", at: outside });
    await seedEvent(db.sql, { type: "opened", at: new Date("2026-11-17T00:00:00Z") });

    const { status, body } = await api.get<Report>("/api/reports/weekly?start=2026-11-10&end=2026-11-16");
    expect(status).toBe(200);
    expect(body.period).toEqual({ start: "2026-11-10", end: "2026-11-16" });
    expect(body.companies_found.total).toBe(4);
    expect(body.companies_found.by_industry).toEqual({ hospital: 2, hotel: 2 });
    expect(body.companies_found.by_state).toEqual({ NY: 2, PA: 1, unknown: 1 });
    expect(body.companies_found.by_industry_and_state[0]).toEqual({
      industry: "hospital",
      state: "NY",
      count: 2,
    });
    expect(body.leads_by_tier).toEqual({ high: 12, medium: 0, low: 0, total: 12 });
    expect(body.emails).toEqual({
      sent: 8,
      followups: 2,
      total_sent: 10,
      opened: 4,
      clicked: 1,
      open_rate_pct: 40,
      click_rate_pct: 10,
    });
    expect(body.replies).toEqual({
      total: 3,
      by_sentiment: { positive: 2, neutral: 0, negative: 1, unclassified: 0 },
      reply_rate_pct: 30,
      unsubscribes: 1,
    });
    // 0+…+11 = 66: low 660, mid 1320, high 1980
    expect(body.pipeline_value).toMatchObject({
      companies: 12,
      savings: { mid: 1320 },
      estimatedRevenue: 316.8,
      as_of: NOW.toISOString(),
    });
    expect(body.top_leads.map((l) => l.score)).toEqual([93, 90, 87, 84, 81, 78, 75, 72, 69, 66]);
    expect(body.top_leads[0]).toMatchObject({ name: "Lead 11", savings: { low: 110, mid: 220, high: 330 } });
  });

  it("rates are 0, not NaN, when nothing was sent; the default period is the last 7 days", async () => {
    await seedEvent(db.sql, { type: "opened", at: ago(HOUR) });
    await seedEvent(db.sql, { type: "replied", at: ago(HOUR), sentiment: "neutral" });
    const { status, body } = await api.get<Report>("/api/reports/weekly");
    expect(status).toBe(200);
    expect(body.period).toEqual({ start: "2026-11-12", end: "2026-11-18" });
    expect(body.emails).toMatchObject({ total_sent: 0, opened: 1, open_rate_pct: 0, click_rate_pct: 0 });
    expect(body.replies).toMatchObject({ total: 1, reply_rate_pct: 0 });
    expect(body.top_leads).toEqual([]);
  });

  it.each([
    ["start=2026-13-01&end=2026-12-01", "start"],
    ["start=2026-02-30", "start"],
    ["start=yesterday", "start"],
    ["end=2026-1-5", "end"],
    ["start=2026-11-10&end=2026-11-09", "start"],
    ["start=2025-01-01&end=2026-01-02", "end"],
  ])("answers 400 for %s naming %s", async (qs, param) => {
    const { status, body } = await api.get<{ error: string; param: string }>(`/api/reports/weekly?${qs}`);
    expect(status).toBe(400);
    expect(body.param).toBe(param);
    expect(body.error).toContain(param);
  });

  it("accepts a range of exactly 366 days", async () => {
    const { status } = await api.get("/api/reports/weekly?start=2024-01-01&end=2024-12-31");
    expect(status).toBe(200);
  });
});

describe("GET /api/runs/:runId", () => {
  it("returns the run, its stages, tasks and summary", async () => {
    const runId = await seedRun(db.sql, "buffalo-2026");
    await db.sql`insert into tasks (id, run_id, agent, chunk, attempt, params, status, started_at, ended_at, duration_ms, error)
      values (gen_random_uuid(), ${runId}, 'scout', 0, 1, '{}'::jsonb, 'failed', ${ago(2 * HOUR)}, ${ago(2 * HOUR - 500)}, 500, 'boom'),
             (gen_random_uuid(), ${runId}, 'scout', 0, 2, '{}'::jsonb, 'completed', ${ago(HOUR)}, ${ago(HOUR - 1500)}, 1500, null)`;
    const { status, body } = await api.get<{
      run: { id: string; status: string; industry: string };
      stages: Record<string, { tasks: number; completedTasks: number; attempts: number }>;
      tasks: Array<{ attempt: number; status: string; error: string | null }>;
      summary: { runId: string; request: { count: number } };
    }>(`/api/runs/${runId}`);
    expect(status).toBe(200);
    expect(body.run).toMatchObject({ id: runId, status: "awaiting_approval", industry: "hospital" });
    expect(body.stages.scout).toMatchObject({ tasks: 1, completedTasks: 1, attempts: 2 });
    expect(body.tasks.map((t) => [t.attempt, t.status, t.error])).toEqual([
      [1, "failed", "boom"],
      [2, "completed", null],
    ]);
    expect(body.summary).toMatchObject({ runId, request: { count: 10 } });
  });

  it("answers 404 for an unknown run and 400 for a malformed id", async () => {
    const missing = await api.get<{ error: string }>("/api/runs/no-such-run");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain("no-such-run");
    const bad = await api.get<{ param: string }>(`/api/runs/${"x".repeat(65)}`);
    expect(bad.status).toBe(400);
    expect(bad.body.param).toBe("runId");
    const bad2 = await api.get<{ param: string }>("/api/runs/a%20b");
    expect(bad2.status).toBe(400);
  });
});
