import { allowedFrom, cleanLine } from "@leadflow/contracts";
import { jsonRows, query, type Tx } from "@leadflow/runtime";
import { Effect } from "effect";
import type { Sql } from "postgres";
import type { ContactHit } from "./contacts/ContactFinder.js";
import type { PhoneHit } from "./phones/PhoneSource.js";

/** The SQL the enrichment stage owns: its companies' phones, contacts and auto-approvals. */

export interface CompanyRow {
  id: string;
  name: string;
  city: string | null;
  state: string | null;
  website: string | null;
  domain: string | null;
  phone: string | null;
  phone_source: string | null;
  is_sample: boolean;
}

/** Read without a transaction: the lookups that follow take network time. */
export const loadCompanies = (sql: Sql, ids: ReadonlyArray<string>) =>
  query(sql<CompanyRow[]>`
    select id, name, city, state, website, domain, phone, phone_source, is_sample
    from companies where id = any(${ids as string[]}::uuid[])`);

export interface CompanyResult {
  readonly companyId: string;
  readonly phone: PhoneHit | null;
  readonly contacts: ReadonlyArray<ContactHit>;
}

/**
 * Writes what the lookups found, in one transaction: new phones (never overwriting one the
 * company has), contacts (upserted on company + email), and the automatic approval of every
 * company with a usable contact — `approved_by = 'system (contact found)'`, as the original.
 * The companies written are locked first, in id order, as by every bulk writer of companies:
 * runs overlap in companies, and rows locked in different orders deadlock.
 */
export const saveResults = (tx: Tx, runId: string, results: ReadonlyArray<CompanyResult>) =>
  Effect.gen(function* () {
    const phones = results.filter((r) => r.phone !== null);
    const written = results.filter((r) => r.phone !== null || r.contacts.some((c) => c.email !== null));
    if (written.length > 0) {
      yield* query(tx`
        select id from companies where id = any(${written.map((r) => r.companyId)}::uuid[])
        order by id for no key update`);
    }
    if (phones.length > 0) {
      yield* query(tx`
        update companies c set phone = p.phone, phone_source = p.source, updated_at = now()
        from unnest(
          ${phones.map((r) => r.companyId)}::uuid[],
          ${phones.map((r) => r.phone!.national)}::text[],
          ${phones.map((r) => r.phone!.source)}::text[]
        ) as p(id, phone, source)
        where c.id = p.id and c.phone is null`);
    }
    const contacts = results.flatMap((r) =>
      r.contacts
        .filter((c) => c.email !== null)
        .map((c) => ({
          company_id: r.companyId,
          // a provider's text as one clean line each (control characters would reach the
          // draft's recipient name and the CLI's output)
          full_name: cleanLine(c.fullName),
          first_name: cleanLine(c.firstName),
          last_name: cleanLine(c.lastName),
          title: cleanLine(c.title),
          email: c.email!.toLowerCase(),
          phone: c.phone,
          source: c.source,
          confidence: Math.max(0, Math.min(100, Math.round(c.confidence))),
          linkedin_url: c.linkedinUrl ?? null,
        })),
    );
    if (contacts.length > 0) {
      yield* query(tx`
        insert into contacts (company_id, full_name, first_name, last_name, title, email, phone, source,
          confidence, linkedin_url)
        select * from jsonb_to_recordset(${jsonRows(tx, contacts)}) as r(company_id uuid, full_name text,
          first_name text, last_name text, title text, email text, phone text, source text,
          confidence integer, linkedin_url text)
        order by company_id, email
        on conflict (company_id, email) do update set
          full_name = coalesce(excluded.full_name, contacts.full_name),
          title = coalesce(excluded.title, contacts.title),
          confidence = greatest(excluded.confidence, contacts.confidence)`);
    }
    const approve = [...new Set(contacts.map((c) => c.company_id))];
    if (approve.length === 0) return 0;
    const approved = yield* query(tx<{ company_id: string }[]>`
      update lead_scores set approved_human = true, approved_by = 'system (contact found)', approved_at = now()
      where run_id = ${runId} and company_id = any(${approve}::uuid[]) and not approved_human
      returning company_id`);
    yield* query(tx`
      update companies set status = 'approved', updated_at = now()
      where id = any(${approve}::uuid[]) and status = any(${allowedFrom("approved") as string[]})`);
    return approved.length;
  });
