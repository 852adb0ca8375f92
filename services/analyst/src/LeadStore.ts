import { allowedFrom, canTransition } from "@leadflow/contracts";
import { jsonRows, query, type Tx } from "@leadflow/runtime";
import { Effect } from "effect";
import type { CompanyInput } from "./Features.js";
import type { Analysis } from "./Model.js";

/** Every status from which a company may be scored, directly or through `enriched`. */
const scoredFrom = [
  ...new Set([
    ...allowedFrom("scored"),
    ...(canTransition("enriched", "scored") ? allowedFrom("enriched") : []),
  ]),
];

/** Loads the companies of one analyst command. */
export const loadCompanies = (tx: Tx, ids: ReadonlyArray<string>) =>
  query(tx<
    {
      id: string;
      name: string;
      industry: string;
      city: string | null;
      state: string | null;
      employee_count: number | null;
      sites: number | null;
      website: string | null;
      phone: string | null;
      is_sample: boolean;
    }[]
  >`
    select id, name, industry, city, state, employee_count, sites, website, phone, is_sample
    from companies where id = any(${ids as string[]}::uuid[])`).pipe(
    Effect.map((rows) =>
      rows.map(
        (r): CompanyInput => ({
          id: r.id,
          name: r.name,
          industry: r.industry,
          city: r.city,
          state: r.state,
          employeeCount: r.employee_count,
          sites: r.sites,
          website: r.website,
          phone: r.phone,
          isSample: r.is_sample,
        }),
      ),
    ),
  );

/**
 * Writes features and scores for a batch in three multi-row statements, and moves the
 * companies `new → enriched → scored` where the transition table allows it (a company that
 * is already further down the funnel keeps its status; its score is refreshed).
 *
 * Runs overlap in companies: the companies' rows are locked first, in id order, and every
 * row after them is written in the same order, as every bulk writer of companies does, so two
 * transactions wait for each other at most, never both (a deadlock).
 */
export const saveAnalyses = (
  tx: Tx,
  runId: string,
  modelVersion: string,
  results: ReadonlyArray<{ company: CompanyInput; analysis: Analysis }>,
) =>
  Effect.gen(function* () {
    if (results.length === 0) return;
    const sorted = [...results].sort((a, b) =>
      a.company.id < b.company.id ? -1 : a.company.id > b.company.id ? 1 : 0,
    );
    const ids = sorted.map((r) => r.company.id);
    yield* query(tx`select id from companies where id = any(${ids}::uuid[]) order by id for no key update`);
    const features = sorted.map(({ company, analysis: { features: f } }) => ({
      company_id: company.id,
      run_id: runId,
      industry_key: f.industryKey,
      employees_estimate: f.employeesEstimate,
      size_band: f.sizeBand,
      sites: f.sites,
      floor_area_sqft: Math.round(f.floorAreaSqft),
      energy_intensity_kwh_sqft: f.energyIntensityKwhSqft,
      electricity_price_kwh: f.electricityPriceKwh,
      annual_kwh: f.annualKwh,
      annual_utility_spend: f.annualUtilitySpend,
      savings_low: f.savingsLow,
      savings_mid: f.savingsMid,
      savings_high: f.savingsHigh,
      assumptions: f.assumptions,
      model_version: modelVersion,
    }));
    yield* query(tx`
      insert into company_features (company_id, run_id, industry_key, employees_estimate, size_band,
        sites, floor_area_sqft, energy_intensity_kwh_sqft, electricity_price_kwh, annual_kwh,
        annual_utility_spend, savings_low, savings_mid, savings_high, assumptions, model_version)
      select * from jsonb_to_recordset(${jsonRows(tx, features)}) as r(company_id uuid, run_id text,
        industry_key text, employees_estimate integer, size_band text, sites integer,
        floor_area_sqft integer, energy_intensity_kwh_sqft numeric, electricity_price_kwh numeric,
        annual_kwh numeric, annual_utility_spend numeric, savings_low numeric, savings_mid numeric,
        savings_high numeric, assumptions jsonb, model_version text)
      on conflict (company_id) do update set
        run_id = excluded.run_id, industry_key = excluded.industry_key,
        employees_estimate = excluded.employees_estimate, size_band = excluded.size_band,
        sites = excluded.sites, floor_area_sqft = excluded.floor_area_sqft,
        energy_intensity_kwh_sqft = excluded.energy_intensity_kwh_sqft,
        electricity_price_kwh = excluded.electricity_price_kwh, annual_kwh = excluded.annual_kwh,
        annual_utility_spend = excluded.annual_utility_spend, savings_low = excluded.savings_low,
        savings_mid = excluded.savings_mid, savings_high = excluded.savings_high,
        assumptions = excluded.assumptions, model_version = excluded.model_version, computed_at = now()`);
    const scores = sorted.map(({ company, analysis: { score } }) => ({
      company_id: company.id,
      run_id: runId,
      score: score.score,
      tier: score.tier,
      reasons: score.reasons,
      model_version: modelVersion,
    }));
    yield* query(tx`
      insert into lead_scores (company_id, run_id, score, tier, reasons, model_version)
      select * from jsonb_to_recordset(${jsonRows(tx, scores)}) as r(company_id uuid, run_id text,
        score integer, tier text, reasons jsonb, model_version text)
      on conflict (company_id, run_id) do update set
        score = excluded.score, tier = excluded.tier, reasons = excluded.reasons,
        model_version = excluded.model_version, scored_at = now()`);
    // new → enriched → scored in one statement: allowed from wherever both steps are allowed
    yield* query(tx`
      update companies set status = 'scored', updated_at = now()
      where id = any(${ids}::uuid[]) and status = any(${scoredFrom as string[]})`);
  });
