import { type LeadTier, LeadTiers } from "@leadflow/contracts";
import { query } from "@leadflow/runtime";
import { Effect } from "effect";
import type { Sql } from "postgres";
import { type PipelineValue, type TopLead, topLeads } from "./PipelineStore.js";
import { percent } from "./Rates.js";

/** A report period: whole UTC days from `start` to `end`, both included. */
export interface ReportRange {
  readonly start: string;
  readonly end: string;
}

export interface WeeklyReport {
  readonly period: { readonly start: string; readonly end: string };
  readonly companies_found: {
    readonly total: number;
    readonly by_industry: Record<string, number>;
    readonly by_state: Record<string, number>;
    readonly by_industry_and_state: ReadonlyArray<{ industry: string; state: string | null; count: number }>;
  };
  readonly leads_by_tier: Record<LeadTier, number> & { readonly total: number };
  readonly emails: {
    readonly sent: number;
    readonly followups: number;
    readonly total_sent: number;
    readonly opened: number;
    readonly clicked: number;
    readonly open_rate_pct: number;
    readonly click_rate_pct: number;
  };
  readonly replies: {
    readonly total: number;
    readonly by_sentiment: { positive: number; neutral: number; negative: number; unclassified: number };
    readonly reply_rate_pct: number;
    readonly unsubscribes: number;
  };
  /** The current value (not period-bound), as of `as_of`: at most two refresh intervals old. */
  readonly pipeline_value: PipelineValue & { readonly as_of: string };
  readonly top_leads: ReadonlyArray<TopLead>;
}

const dayAfter = (day: string) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d;
};

/**
 * The original's `generate_weekly_report`: what was found, scored, sent and answered in the
 * period, plus the pipeline's current value and best leads (those two are not period-bound,
 * as in the original). Rates are percentages of emails sent (first emails + follow-ups).
 */
export const weeklyReport = <E, R>(
  sql: Sql,
  range: ReportRange,
  currentValue: Effect.Effect<{ readonly value: PipelineValue; readonly at: Date }, E, R>,
) =>
  Effect.gen(function* () {
    const from = new Date(`${range.start}T00:00:00Z`);
    const to = dayAfter(range.end);
    const [found, tiers, events, sentiments, value, top] = yield* Effect.all(
      [
        // companies_found_idx range, index-only, grouped in memory by the executor
        query(
          () => sql<{ industry: string; state: string | null; n: number }[]>`
          select industry, state, count(*)::int as n from companies
          where date_found >= ${from} and date_found < ${to}
          group by industry, state order by n desc, industry, state`,
        ),
        query(
          () => sql<{ tier: LeadTier; n: number }[]>`
          select tier, count(*)::int as n from lead_scores
          where scored_at >= ${from} and scored_at < ${to} group by tier`,
        ),
        // outreach_events_type_at_idx: one index range per event type, index-only once vacuumed
        query(
          () => sql<{ event_type: string; n: number }[]>`
          select event_type, count(*)::int as n from outreach_events
          where event_type in ('sent', 'followup_sent', 'opened', 'clicked', 'replied', 'unsubscribed')
            and event_at >= ${from} and event_at < ${to}
          group by event_type`,
        ),
        // only the replies are read from the table, for their sentiment
        query(
          () => sql<{ sentiment: string | null; n: number }[]>`
          select reply_sentiment as sentiment, count(*)::int as n from outreach_events
          where event_type = 'replied' and event_at >= ${from} and event_at < ${to}
          group by reply_sentiment`,
        ),
        currentValue,
        topLeads(sql, 10),
      ],
      { concurrency: "unbounded" },
    );

    const byIndustry: Record<string, number> = {};
    const byState: Record<string, number> = {};
    let totalFound = 0;
    for (const r of found) {
      totalFound += r.n;
      byIndustry[r.industry] = (byIndustry[r.industry] ?? 0) + r.n;
      const state = r.state ?? "unknown";
      byState[state] = (byState[state] ?? 0) + r.n;
    }
    const leads = Object.fromEntries(LeadTiers.map((t) => [t, 0])) as Record<LeadTier, number>;
    for (const r of tiers) leads[r.tier] = r.n;

    const count = (type: string) => events.find((e) => e.event_type === type)?.n ?? 0;
    const sentiment = (s: string | null) => sentiments.find((e) => e.sentiment === s)?.n ?? 0;
    const sent = count("sent");
    const followups = count("followup_sent");
    const totalSent = sent + followups;
    const opened = count("opened");
    const clicked = count("clicked");
    const replies = count("replied");

    return {
      period: range,
      companies_found: {
        total: totalFound,
        by_industry: byIndustry,
        by_state: byState,
        by_industry_and_state: found.map((r) => ({ industry: r.industry, state: r.state, count: r.n })),
      },
      leads_by_tier: { ...leads, total: leads.high + leads.medium + leads.low },
      emails: {
        sent,
        followups,
        total_sent: totalSent,
        opened,
        clicked,
        open_rate_pct: percent(opened, totalSent),
        click_rate_pct: percent(clicked, totalSent),
      },
      replies: {
        total: replies,
        by_sentiment: {
          positive: sentiment("positive"),
          neutral: sentiment("neutral"),
          negative: sentiment("negative"),
          unclassified: sentiment(null),
        },
        reply_rate_pct: percent(replies, totalSent),
        unsubscribes: count("unsubscribed"),
      },
      pipeline_value: { ...value.value, as_of: value.at.toISOString() },
      top_leads: top,
    } satisfies WeeklyReport;
  }).pipe(Effect.withSpan("WeeklyReport.generate"));
