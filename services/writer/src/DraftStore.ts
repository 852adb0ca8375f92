import { jsonRows, query, type Tx, textRows } from "@leadflow/runtime";
import { Effect } from "effect";
import type { Sql } from "postgres";
import type { Draft, DraftInput } from "./DraftInput.js";

/** The SQL the writer owns: what a draft is written from, and `email_drafts`. */

interface InputRow {
  id: string;
  name: string;
  industry: string;
  city: string | null;
  state: string | null;
  website: string | null;
  annual_utility_spend: string;
  savings_low: string;
  savings_mid: string;
  savings_high: string;
  sites: number;
  electricity_price_kwh: string;
  industry_key: string;
  score: number;
  tier: "high" | "medium" | "low";
  reasons: Array<{ factor: string; points: number; detail: string }>;
  contact_id: string | null;
  full_name: string | null;
  first_name: string | null;
  title: string | null;
  email: string | null;
}

export interface WriterJob {
  readonly contactId: string | null;
  readonly input: Omit<DraftInput, "sender">;
}

/**
 * The approved companies of the command that have no draft yet, each with its features, the
 * run's score and its best contact (highest confidence). Read without a transaction: the LLM
 * calls that follow take network time.
 */
export const loadJobs = (sql: Sql, runId: string, ids: ReadonlyArray<string>) =>
  query(sql<InputRow[]>`
    select c.id, c.name, c.industry, c.city, c.state, c.website,
      f.annual_utility_spend, f.savings_low, f.savings_mid, f.savings_high, f.sites,
      f.electricity_price_kwh, f.industry_key,
      s.score, s.tier, s.reasons,
      ct.id as contact_id, ct.full_name, ct.first_name, ct.title, ct.email
    from companies c
    join company_features f on f.company_id = c.id
    join lead_scores s on s.company_id = c.id and s.run_id = ${runId}
    left join lateral (
      select id, full_name, first_name, title, email from contacts
      where company_id = c.id and email is not null
      order by confidence desc nulls last, created_at limit 1
    ) ct on true
    where c.id = any(${ids as string[]}::uuid[])
      and not exists (select 1 from email_drafts d where d.company_id = c.id and d.sequence = 0)`).pipe(
    Effect.map((rows) =>
      rows.map(
        (r): WriterJob => ({
          contactId: r.contact_id,
          input: {
            companyId: r.id,
            company: { name: r.name, industry: r.industry, city: r.city, state: r.state, website: r.website },
            contact: r.email
              ? { fullName: r.full_name, firstName: r.first_name, title: r.title, email: r.email }
              : null,
            features: {
              annualUtilitySpend: Number(r.annual_utility_spend),
              savingsLow: Number(r.savings_low),
              savingsMid: Number(r.savings_mid),
              savingsHigh: Number(r.savings_high),
              sites: r.sites,
              electricityPriceKwh: Number(r.electricity_price_kwh),
              industryKey: r.industry_key,
            },
            score: { score: r.score, tier: r.tier, reasons: r.reasons },
          },
        }),
      ),
    ),
  );

export interface WrittenDraft {
  readonly job: WriterJob;
  readonly draft: Draft;
}

/**
 * Stores the drafts (one first email per company: a repeat is a no-op); returns how many were new.
 * The rendered HTML (≈ 7 KB each) goes as its own text parameter (`textRows`), not inside the
 * JSON of the other columns.
 */
export const saveDrafts = (tx: Tx, runId: string, drafts: ReadonlyArray<WrittenDraft>) =>
  drafts.length === 0
    ? Effect.succeed(0)
    : query(tx<{ id: string }[]>`
        insert into email_drafts (company_id, contact_id, run_id, sequence, to_email, to_name, subject,
          body_text, backend, is_fallback, body_html)
        select * from rows from (
          jsonb_to_recordset(${jsonRows(
            tx,
            drafts.map(({ job, draft }) => ({
              company_id: job.input.companyId,
              contact_id: job.contactId,
              run_id: runId,
              sequence: 0,
              to_email: job.input.contact?.email ?? null,
              to_name: job.input.contact?.fullName ?? null,
              subject: draft.subject,
              body_text: draft.bodyText,
              backend: draft.backend,
              is_fallback: draft.isFallback,
            })),
          )}) as (company_id uuid, contact_id uuid, run_id text, sequence integer, to_email text,
            to_name text, subject text, body_text text, backend text, is_fallback boolean),
          ${textRows(
            tx,
            drafts.map(({ draft }) => draft.bodyHtml),
          )})
        on conflict (company_id, sequence) do nothing
        returning id`).pipe(Effect.map((rows) => rows.length));
