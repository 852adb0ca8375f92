import { randomUUID } from "node:crypto";
import type { Sql } from "postgres";

/** Rows a review page or an approval email is about, written straight into a test database. */

export interface SeedLead {
  readonly name: string;
  readonly tier: "high" | "medium" | "low";
  readonly score: number;
  readonly contact?: { readonly name: string; readonly email: string };
  readonly phone?: string;
}

export interface SeededLeads {
  readonly runId: string;
  readonly approvalId: string;
  readonly companyIds: ReadonlyArray<string>;
}

const ensureRun = async (sql: Sql, runId: string) => {
  await sql`
    insert into runs (id, industry, location, requested_count, request, status)
    values (${runId}, 'hospital', 'Buffalo, NY', 10, ${sql.json({ industry: "hospital" })}, 'awaiting_approval')
    on conflict (id) do nothing`;
};

/** A run, its companies with features and scores, and a pending `leads` request over them. */
export const seedLeadRequest = async (
  sql: Sql,
  leads: ReadonlyArray<SeedLead>,
  runId = `run-${randomUUID().slice(0, 8)}`,
): Promise<SeededLeads> => {
  await ensureRun(sql, runId);
  const companyIds: Array<string> = [];
  for (const [i, lead] of leads.entries()) {
    const id = randomUUID();
    companyIds.push(id);
    await sql`
      insert into companies (id, name, industry, city, state, phone, dedupe_key, source, status, first_run_id)
      values (${id}, ${lead.name}, 'hospital', 'Buffalo', 'NY', ${lead.phone ?? null}, ${`seed:${id}`}, 'csv', 'scored', ${runId})`;
    await sql`insert into run_companies (run_id, company_id, position, is_new, source) values (${runId}, ${id}, ${i}, true, 'csv')`;
    await sql`
      insert into company_features (company_id, run_id, industry_key, employees_estimate, size_band, sites,
        floor_area_sqft, energy_intensity_kwh_sqft, electricity_price_kwh, annual_kwh, annual_utility_spend,
        savings_low, savings_mid, savings_high, assumptions, model_version)
      values (${id}, ${runId}, 'hospital', 900, 'large', 2, 400000, 27.5, 0.19, 11000000, 2400000,
        ${96000 + i}, ${192000 + i}, ${360000 + i}, ${sql.json({})}, 'test')`;
    await sql`
      insert into lead_scores (company_id, run_id, score, tier, reasons, model_version)
      values (${id}, ${runId}, ${lead.score}, ${lead.tier},
        ${sql.json([{ factor: "spend", points: 30, detail: `spend of <b>${lead.name}</b>` }])}, 'test')`;
    if (lead.contact) {
      await sql`
        insert into contacts (company_id, full_name, email, source, confidence)
        values (${id}, ${lead.contact.name}, ${lead.contact.email}, 'hunter', 90)`;
    }
  }
  const approvalId = randomUUID();
  await sql`
    insert into human_approval_requests (id, run_id, approval_type, item_ids, summary, dedupe_key, expires_at)
    values (${approvalId}, ${runId}, 'leads', ${companyIds}::uuid[], ${sql.json({})}, ${`leads:${runId}`},
      now() + interval '7 days')`;
  return { runId, approvalId, companyIds };
};

export interface SeedDraft {
  readonly company: string;
  readonly subject: string;
  readonly body: string;
  readonly toEmail?: string;
}

export interface SeededDrafts {
  readonly runId: string;
  readonly approvalId: string;
  readonly draftIds: ReadonlyArray<string>;
}

/** A run, companies, their drafts and a pending `emails` request over the drafts. */
export const seedDraftRequest = async (
  sql: Sql,
  drafts: ReadonlyArray<SeedDraft>,
  runId = `run-${randomUUID().slice(0, 8)}`,
): Promise<SeededDrafts> => {
  const { companyIds } = await seedLeadRequest(
    sql,
    drafts.map((d) => ({ name: d.company, tier: "high" as const, score: 80 })),
    runId,
  );
  const approvalId = randomUUID();
  const draftIds: Array<string> = [];
  for (const [i, d] of drafts.entries()) {
    const id = randomUUID();
    draftIds.push(id);
    await sql`
      insert into email_drafts (id, company_id, run_id, sequence, to_email, to_name, subject, body_text, body_html, backend)
      values (${id}, ${companyIds[i]!}, ${runId}, 0, ${d.toEmail ?? null}, ${null}, ${d.subject}, ${d.body}, ${"<p>rendered</p>"}, 'template')`;
  }
  await sql`
    insert into human_approval_requests (id, run_id, approval_type, item_ids, summary, dedupe_key, expires_at)
    values (${approvalId}, ${runId}, 'emails', ${draftIds}::uuid[], ${sql.json({ drafts: drafts.length })}, ${`emails:${approvalId}`},
      now() + interval '7 days')`;
  await sql`update email_drafts set approval_id = ${approvalId} where id = any(${draftIds}::uuid[])`;
  return { runId, approvalId, draftIds };
};

/** The `approval.requested` body the orchestrator would publish for a request. */
export const requestedEvent = (
  approvalId: string,
  runId: string,
  type: "leads" | "emails",
  items: number,
) => ({
  approvalId,
  runId,
  type,
  items,
  summary: {},
  requestedAt: new Date().toISOString(),
});
