import {
  type CompanyStatus,
  CompanyStatuses,
  InactiveStatuses,
  type LeadTier,
  LeadTiers,
} from "@leadflow/contracts";
import { query } from "@leadflow/runtime";
import { Effect } from "effect";
import type { Sql } from "postgres";
import { cents } from "./Rates.js";
import type { StuckCounts, StuckCutoffs } from "./Stuck.js";

/**
 * The monitor's read-only SQL over the pipeline tables. A company's tier is the tier of its
 * latest score (companies found again by a later run are re-scored); "active" means not lost,
 * archived or no_response, as in the original.
 */

const inactive = [...InactiveStatuses];

/**
 * The latest score of each company (ties on `scored_at` broken by id, so a company counts once).
 * For a few rows (top leads) the planner probes `lead_scores_company_id_run_id_key` per row; for
 * many (value, stuck) it hash-anti-joins against every score, ~1 s at a million scores.
 */
const latestScore = (sql: Sql, alias: string) =>
  sql`not exists (
    select 1 from lead_scores newer
    where newer.company_id = ${sql(alias)}.company_id
      and (newer.scored_at, newer.id) > (${sql(alias)}.scored_at, ${sql(alias)}.id))`;

export type StatusCounts = Record<CompanyStatus, number>;

/**
 * Folds the status deltas into one row per status, in one statement: rows committed meanwhile
 * are not in the delete's snapshot and stay, and a second monitor folding at the same time
 * finds the rows already gone (so nothing counts twice).
 */
export const compactStatusDeltas = (sql: Sql) =>
  query(
    () => sql`
    with gone as (delete from company_status_deltas returning status, delta)
    insert into company_status_deltas (status, delta)
    select status, sum(delta) from gone group by status having sum(delta) <> 0`,
  ).pipe(Effect.asVoid);

/**
 * Companies per status, every status present (zero-filled), exact: the sum of the deltas the
 * `companies` triggers keep (0004), a few dozen rows once compacted, instead of counting a
 * million companies (the same `count(*) … group by status` is the benchmark's baseline).
 */
export const statusCounts = (sql: Sql) =>
  query(
    () => sql<{ status: CompanyStatus; n: number }[]>`
    select status, sum(delta)::int as n from company_status_deltas group by status`,
  ).pipe(
    Effect.map((rows) => {
      const counts = Object.fromEntries(CompanyStatuses.map((s) => [s, 0])) as StatusCounts;
      for (const r of rows) counts[r.status] = r.n;
      return counts;
    }),
  );

export interface PipelineValue {
  readonly companies: number;
  readonly savings: { readonly low: number; readonly mid: number; readonly high: number };
  readonly contingencyFee: number;
  readonly estimatedRevenue: number;
}

/**
 * Savings of active high-tier companies and the fee on the mid estimate. Reads the high-tier
 * scores index-only from `lead_scores_high_idx` (0003); with a million companies the planner
 * then hash-joins companies and anti-joins all scores in parallel (EXPLAIN: ~1 s on 2 busy
 * cores, ~160k high-tier rows). That cost is why the gauges refresh on an interval and the
 * weekly report reuses the refreshed value.
 */
export const pipelineValue = (sql: Sql, contingencyFee: number) =>
  query(
    () => sql<{ n: number; low: number; mid: number; high: number }[]>`
    select count(*)::int as n,
      coalesce(sum(f.savings_low), 0)::float8 as low,
      coalesce(sum(f.savings_mid), 0)::float8 as mid,
      coalesce(sum(f.savings_high), 0)::float8 as high
    from lead_scores s
    join companies c on c.id = s.company_id
    join company_features f on f.company_id = s.company_id
    where s.tier = 'high' and c.status <> all(${inactive}::text[]) and ${latestScore(sql, "s")}`,
  ).pipe(
    Effect.map(
      ([r]): PipelineValue => ({
        companies: r?.n ?? 0,
        savings: { low: cents(r?.low ?? 0), mid: cents(r?.mid ?? 0), high: cents(r?.high ?? 0) },
        contingencyFee,
        estimatedRevenue: cents((r?.mid ?? 0) * contingencyFee),
      }),
    ),
  );

/** Companies by the tier of their latest score (the `leadflow_leads` gauge). */
export const currentTierCounts = (sql: Sql) =>
  query(
    () => sql<{ tier: LeadTier; n: number }[]>`
    select s.tier, count(*)::int as n from lead_scores s where ${latestScore(sql, "s")} group by s.tier`,
  ).pipe(
    Effect.map((rows) => {
      const counts = Object.fromEntries(LeadTiers.map((t) => [t, 0])) as Record<LeadTier, number>;
      for (const r of rows) counts[r.tier] = r.n;
      return counts;
    }),
  );

/** Pending approval requests by type (`leads`, `emails`). */
export const pendingApprovals = (sql: Sql) =>
  query(
    () => sql<{ type: "leads" | "emails"; n: number }[]>`
    select approval_type as type, count(*)::int as n from human_approval_requests
    where status = 'pending' group by approval_type`,
  ).pipe(
    Effect.map((rows) => {
      const counts = { leads: 0, emails: 0 };
      for (const r of rows) counts[r.type] = r.n;
      return counts;
    }),
  );

/**
 * The numbers behind the stuck checks, in one round trip. Each subquery is an index range:
 * `companies_status_idx (status, updated_at)`, `lead_scores_high_unapproved_idx` (0008: a lead a
 * human rejected is decided, not waiting),
 * `email_drafts_status_idx (status, approved_at)`, `outreach_events_type_at_idx`.
 */
export const stuckCounts = (sql: Sql, c: StuckCutoffs) =>
  query(
    () => sql<{ new_companies: number; unapproved: number; unsent: number; sent_today: number }[]>`
    select
      (select count(*)::int from companies where status = 'new' and updated_at < ${c.newBefore}) as new_companies,
      (select count(*)::int from lead_scores s join companies co on co.id = s.company_id
        where s.tier = 'high' and not s.approved_human and s.rejected_human_at is null
          and s.scored_at < ${c.unapprovedBefore}
          and co.status <> all(${inactive}::text[]) and ${latestScore(sql, "s")}) as unapproved,
      (select count(*)::int from email_drafts where status = 'approved' and approved_at < ${c.unsentBefore}) as unsent,
      (select count(*)::int from (
        select 1 from outreach_events
        where event_type in ('sent', 'followup_sent') and event_at >= ${c.dayStart} and event_at <= ${c.now}
        limit 1) today) as sent_today`,
  ).pipe(
    Effect.map(
      ([r]): StuckCounts => ({
        newCompanies: r?.new_companies ?? 0,
        unapprovedLeads: r?.unapproved ?? 0,
        unsentDrafts: r?.unsent ?? 0,
        emailsSentToday: r?.sent_today ?? 0,
      }),
    ),
  );

export interface ActivityItem {
  readonly id: string;
  readonly eventType: string;
  readonly replySentiment: string | null;
  readonly at: string;
  readonly company: { readonly id: string; readonly name: string } | null;
  readonly contact: {
    readonly id: string;
    readonly name: string | null;
    readonly email: string | null;
  } | null;
}

/** The latest outreach events with company and contact names (`outreach_events_at_idx`). */
export const recentActivity = (sql: Sql, limit: number) =>
  query(
    () => sql<
      {
        id: string;
        event_type: string;
        reply_sentiment: string | null;
        event_at: Date;
        company_id: string | null;
        company_name: string | null;
        contact_id: string | null;
        contact_name: string | null;
        contact_email: string | null;
      }[]
    >`
    select e.id, e.event_type, e.reply_sentiment, e.event_at,
      c.id as company_id, c.name as company_name,
      ct.id as contact_id, coalesce(ct.full_name, nullif(concat_ws(' ', ct.first_name, ct.last_name), '')) as contact_name,
      ct.email as contact_email
    from outreach_events e
    left join companies c on c.id = e.company_id
    left join contacts ct on ct.id = e.contact_id
    order by e.event_at desc, e.id desc
    limit ${limit}`,
  ).pipe(
    Effect.map((rows) =>
      rows.map(
        (r): ActivityItem => ({
          id: r.id,
          eventType: r.event_type,
          replySentiment: r.reply_sentiment,
          at: r.event_at.toISOString(),
          company: r.company_id ? { id: r.company_id, name: r.company_name ?? "" } : null,
          contact: r.contact_id ? { id: r.contact_id, name: r.contact_name, email: r.contact_email } : null,
        }),
      ),
    ),
  );

export interface TopLead {
  readonly companyId: string;
  readonly name: string;
  readonly industry: string;
  readonly city: string | null;
  readonly state: string | null;
  readonly status: CompanyStatus;
  readonly score: number;
  readonly savings: { readonly low: number; readonly mid: number; readonly high: number };
}

/**
 * The best active high-tier leads by score. Walks `lead_scores_high_idx` in score order and
 * stops after `limit` rows that pass the latest-score and active filters.
 */
export const topLeads = (sql: Sql, limit: number) =>
  query(
    () => sql<
      {
        company_id: string;
        name: string;
        industry: string;
        city: string | null;
        state: string | null;
        status: CompanyStatus;
        score: number;
        low: number;
        mid: number;
        high: number;
      }[]
    >`
    select s.company_id, c.name, c.industry, c.city, c.state, c.status, s.score,
      f.savings_low::float8 as low, f.savings_mid::float8 as mid, f.savings_high::float8 as high
    from lead_scores s
    join companies c on c.id = s.company_id
    join company_features f on f.company_id = s.company_id
    where s.tier = 'high' and c.status <> all(${inactive}::text[]) and ${latestScore(sql, "s")}
    order by s.score desc, s.scored_at desc, s.id desc
    limit ${limit}`,
  ).pipe(
    Effect.map((rows) =>
      rows.map(
        (r): TopLead => ({
          companyId: r.company_id,
          name: r.name,
          industry: r.industry,
          city: r.city,
          state: r.state,
          status: r.status,
          score: r.score,
          savings: { low: cents(r.low), mid: cents(r.mid), high: cents(r.high) },
        }),
      ),
    ),
  );
