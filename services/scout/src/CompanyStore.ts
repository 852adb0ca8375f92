import { query, type Tx } from "@leadflow/runtime";
import { Effect } from "effect";
import { dedupeKey, normalizeDomain } from "./Dedupe.js";
import type { FoundCompany } from "./Source.js";

/** What one scout task stored for its run. */
export interface StoredCompanies {
  readonly found: number;
  readonly created: number;
  readonly duplicates: number;
}

/**
 * Stores a run's companies in two statements: companies are upserted on their
 * de-duplication key (a company an earlier run found is reused, not copied), then linked to
 * the run in the order the sources returned them. Repeating it for the same run is harmless.
 */
export const storeCompanies = (tx: Tx, runId: string, companies: ReadonlyArray<FoundCompany>) =>
  Effect.gen(function* () {
    if (companies.length === 0) return { found: 0, created: 0, duplicates: 0 } satisfies StoredCompanies;
    const rows = companies.map((c) => ({
      name: c.name,
      industry: c.industry,
      address: c.address,
      city: c.city,
      state: c.state,
      postal_code: c.postalCode,
      country: c.country,
      phone: c.phone,
      phone_source: c.phone ? c.source : null,
      website: c.website,
      domain: normalizeDomain(c.website),
      dedupe_key: dedupeKey(c),
      source: c.source,
      source_ref: c.sourceRef,
      is_sample: c.isSample,
      employee_count: c.employeeCount,
      sites: c.sites,
      latitude: c.latitude,
      longitude: c.longitude,
      first_run_id: runId,
      raw: c.raw === undefined || c.raw === null ? null : tx.json(c.raw as never),
    }));
    const stored = yield* query(tx<{ id: string; dedupe_key: string; inserted: boolean }[]>`
      insert into companies ${tx(rows)}
      on conflict (dedupe_key) do update set updated_at = now()
      returning id, dedupe_key, (xmax = 0) as inserted`);
    const byKey = new Map(stored.map((r) => [r.dedupe_key, r]));
    const links = rows.map((r, position) => {
      const s = byKey.get(r.dedupe_key)!;
      return { run_id: runId, company_id: s.id, position, is_new: s.inserted, source: r.source };
    });
    const linked = yield* query(tx<{ is_new: boolean }[]>`
      insert into run_companies ${tx(links)} on conflict do nothing returning is_new`);
    const created = linked.filter((l) => l.is_new).length;
    return { found: linked.length, created, duplicates: linked.length - created } satisfies StoredCompanies;
  });
