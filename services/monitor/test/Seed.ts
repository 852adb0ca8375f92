import { randomUUID } from "node:crypto";
import type { Sql } from "postgres";

/** Rows for the monitor's tests, with every timestamp given explicitly. */

export const seedRun = async (sql: Sql, id = `run-${randomUUID().slice(0, 8)}`) => {
  await sql`insert into runs (id, industry, location, requested_count, request, status)
    values (${id}, 'hospital', 'Buffalo, NY', 10, ${sql.json({ industry: "hospital", location: "Buffalo, NY", count: 10 })}, 'awaiting_approval')`;
  return id;
};

export interface CompanySeed {
  readonly name?: string;
  readonly status?: string;
  readonly industry?: string;
  readonly state?: string | null;
  readonly foundAt?: Date;
  readonly updatedAt?: Date;
  readonly savings?: readonly [number, number, number];
}

export const seedCompany = async (sql: Sql, c: CompanySeed = {}) => {
  const id = randomUUID();
  const found = c.foundAt ?? new Date();
  await sql`insert into companies (id, name, industry, state, dedupe_key, source, status, date_found, updated_at)
    values (${id}, ${c.name ?? `Company ${id.slice(0, 6)}`}, ${c.industry ?? "hospital"}, ${c.state === undefined ? "NY" : c.state},
      ${id}, 'test', ${c.status ?? "new"}, ${found}, ${c.updatedAt ?? found})`;
  if (c.savings) {
    const [low, mid, high] = c.savings;
    await sql`insert into company_features (company_id, industry_key, employees_estimate, size_band, sites,
        floor_area_sqft, energy_intensity_kwh_sqft, electricity_price_kwh, annual_kwh, annual_utility_spend,
        savings_low, savings_mid, savings_high, assumptions, model_version)
      values (${id}, 'hospital', 100, 'medium', 1, 10000, 20, 0.12, 200000, 100000,
        ${low}, ${mid}, ${high}, '{}'::jsonb, 'test')`;
  }
  return id;
};

export const seedScore = async (
  sql: Sql,
  s: {
    companyId: string;
    runId: string;
    tier: "high" | "medium" | "low";
    score: number;
    scoredAt?: Date;
    approved?: boolean;
    /** When a human rejected it on the review page. */
    rejectedAt?: Date;
  },
) => {
  await sql`insert into lead_scores (company_id, run_id, score, tier, reasons, model_version, scored_at, approved_human, rejected_human_at, rejected_by)
    values (${s.companyId}, ${s.runId}, ${s.score}, ${s.tier}, '[]'::jsonb, 'test', ${s.scoredAt ?? new Date()}, ${s.approved ?? false},
      ${s.rejectedAt ?? null}, ${s.rejectedAt ? "reviewer@example.test" : null})`;
};

export const seedContact = async (sql: Sql, companyId: string, name: string, email: string) => {
  const id = randomUUID();
  await sql`insert into contacts (id, company_id, full_name, email, source) values (${id}, ${companyId}, ${name}, ${email}, 'test')`;
  return id;
};

export const seedDraft = async (
  sql: Sql,
  d: { companyId: string; status: string; approvedAt?: Date | null; sequence?: number },
) => {
  const id = randomUUID();
  await sql`insert into email_drafts (id, company_id, sequence, subject, body_text, body_html, backend, status, approved_at)
    values (${id}, ${d.companyId}, ${d.sequence ?? 0}, 'Hello', 'text', '<p>html</p>', 'template', ${d.status}, ${d.approvedAt ?? null})`;
  return id;
};

export const seedEvent = async (
  sql: Sql,
  e: { type: string; at: Date; companyId?: string; contactId?: string; sentiment?: string },
) => {
  const id = randomUUID();
  await sql`insert into outreach_events (id, company_id, contact_id, event_type, reply_sentiment, event_at)
    values (${id}, ${e.companyId ?? null}, ${e.contactId ?? null}, ${e.type}, ${e.sentiment ?? null}, ${e.at})`;
  return id;
};

/** Empties the tables the monitor reads, between tests of one file. */
export const clearPipeline = async (sql: Sql) => {
  await sql`truncate outreach_events, email_drafts, contacts, lead_scores, company_features, companies, tasks, runs, human_approval_requests cascade`;
};
