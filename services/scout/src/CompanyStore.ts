import { jsonRows, query, type Tx } from "@leadflow/runtime";
import { Effect } from "effect";
import { dedupeKey, normalizeDomain } from "./Dedupe.js";
import type { FoundCompany } from "./Source.js";

/**
 * The companies linked to a run: every one, whichever attempt of the scout stage linked it (a
 * retried attempt after a deadline may find them all linked by the first one, which committed
 * late), and of those the ones that were new to the database when the run found them.
 */
export interface StoredCompanies {
  readonly found: number;
  readonly created: number;
  readonly duplicates: number;
}

/**
 * Stores a run's companies: companies are inserted on their de-duplication key (a company an
 * earlier run found is reused, not copied), then linked to the run in the order the sources
 * returned them. Repeating it for the same run is harmless, and reports what the run has, not
 * what this call added. A run never has more than `count`: a retried attempt whose sources
 * answered differently (a provider's results change) only fills what the earlier one left short.
 *
 * Concurrent runs find many of the same companies, each in its own order, so the insert takes
 * its keys in one order (sorted, each once) and leaves a company that exists alone: no row
 * lock on it (an update, even of nothing, would take one in key order, against the analyst's
 * and the others' locks in id order: a deadlock), and its `updated_at`, which the monitor
 * reads as the time it entered its status (`new` for over 24 h), keeps its clock.
 */
export const storeCompanies = (
  tx: Tx,
  runId: string,
  companies: ReadonlyArray<FoundCompany>,
  count: number,
) =>
  Effect.gen(function* () {
    if (companies.length > 0) yield* link(tx, runId, companies, count);
    const [counts] = yield* query(tx<{ found: number; created: number }[]>`
      select count(*)::int as found, count(*) filter (where is_new)::int as created
      from run_companies where run_id = ${runId}`);
    const { found, created } = counts ?? { found: 0, created: 0 };
    return { found, created, duplicates: found - created } satisfies StoredCompanies;
  });

/** A found company as a row of `companies` (`first_run_id` the run that found it first). */
export const companyRow = (runId: string | null, c: FoundCompany) => ({
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
  raw: c.raw === undefined ? null : c.raw,
});

const link = (tx: Tx, runId: string, companies: ReadonlyArray<FoundCompany>, count: number) =>
  Effect.gen(function* () {
    // what an earlier attempt linked stays linked; this one adds at most what is missing
    const linked = yield* query(tx<{ dedupe_key: string; position: number }[]>`
      select c.dedupe_key, rc.position from run_companies rc join companies c on c.id = rc.company_id
      where rc.run_id = ${runId}`);
    const have = new Set(linked.map((r) => r.dedupe_key));
    const room = Math.max(0, count - linked.length);
    const after = linked.reduce((max, r) => Math.max(max, r.position + 1), 0);
    // the first company the sources returned for a key is the one stored and linked
    const byKey = new Map<string, ReturnType<typeof companyRow>>();
    for (const c of companies) {
      if (byKey.size >= room) break;
      const row = companyRow(runId, c);
      if (!have.has(row.dedupe_key) && !byKey.has(row.dedupe_key)) byKey.set(row.dedupe_key, row);
    }
    const rows = [...byKey.values()];
    if (rows.length === 0) return;
    const inserted = yield* query(tx<{ id: string; dedupe_key: string }[]>`
      insert into companies (name, industry, address, city, state, postal_code, country, phone,
        phone_source, website, domain, dedupe_key, source, source_ref, is_sample, employee_count,
        sites, latitude, longitude, first_run_id, raw)
      select * from jsonb_to_recordset(${jsonRows(tx, rows)}) as r(name text, industry text,
        address text, city text, state text, postal_code text, country text, phone text,
        phone_source text, website text, domain text, dedupe_key text, source text, source_ref text,
        is_sample boolean, employee_count integer, sites integer, latitude double precision,
        longitude double precision, first_run_id text, raw jsonb)
      order by dedupe_key
      on conflict (dedupe_key) do nothing
      returning id, dedupe_key`);
    const isNew = new Set(inserted.map((r) => r.dedupe_key));
    const known = rows.filter((r) => !isNew.has(r.dedupe_key)).map((r) => r.dedupe_key);
    // read after the insert: a company another run inserted meanwhile has committed by now
    const existing =
      known.length === 0
        ? []
        : yield* query(tx<{ id: string; dedupe_key: string }[]>`
            select id, dedupe_key from companies where dedupe_key = any(${known}::text[])`);
    const idByKey = new Map([...inserted, ...existing].map((r) => [r.dedupe_key, r.id]));
    const links = rows.map((r, position) => ({
      run_id: runId,
      company_id: idByKey.get(r.dedupe_key),
      position: after + position,
      is_new: isNew.has(r.dedupe_key),
      source: r.source,
    }));
    if (links.some((l) => l.company_id === undefined)) {
      return yield* Effect.dieMessage(`a company of run ${runId} vanished while it was being stored`);
    }
    // a company an earlier attempt linked keeps that link (and whether it was new then)
    yield* query(tx`
      insert into run_companies (run_id, company_id, position, is_new, source)
      select * from jsonb_to_recordset(${jsonRows(tx, links)})
        as r(run_id text, company_id uuid, position integer, is_new boolean, source text)
      order by company_id
      on conflict do nothing`);
  });
