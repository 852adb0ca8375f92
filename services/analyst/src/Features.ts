import type { AnalystModelConfig } from "./AnalystConfig.js";
import {
  INDUSTRY_FACTS,
  type IndustryKey,
  matchIndustry,
  normaliseState,
  type SizeBand,
  STATE_COMMERCIAL_PRICE_CENTS_2023,
  sizeBandFor,
  US_AVERAGE_COMMERCIAL_PRICE_CENTS_2023,
  US_COMMERCIAL_GAS_PRICE_PER_THERM_2023,
} from "./Facts.js";

/** What the analyst knows about a company (a row of `companies`). */
export interface CompanyInput {
  readonly id: string;
  readonly name: string;
  readonly industry: string;
  readonly city: string | null;
  readonly state: string | null;
  readonly employeeCount: number | null;
  readonly sites: number | null;
  readonly website: string | null;
  readonly phone: string | null;
  readonly isSample: boolean;
}

/** The model's estimate for one company (a row of `company_features`). Money in whole USD. */
export interface Features {
  readonly industryKey: IndustryKey;
  readonly employeesEstimate: number;
  readonly sizeBand: SizeBand;
  readonly sites: number;
  readonly floorAreaSqft: number;
  /** Electricity only, kWh per sqft per year. */
  readonly energyIntensityKwhSqft: number;
  /** USD per kWh. */
  readonly electricityPriceKwh: number;
  readonly annualKwh: number;
  /** Electricity + gas + other utilities, USD per year. */
  readonly annualUtilitySpend: number;
  readonly savingsLow: number;
  readonly savingsMid: number;
  readonly savingsHigh: number;
  /** Every input and where it came from ('given' vs 'estimated' / 'assumed'). */
  readonly assumptions: Record<string, string | number>;
}

/** Guards against absurd inputs (a typo of 1e12 employees) while allowing the largest employers. */
const MAX_EMPLOYEES = 5_000_000;
const MAX_SITES = 100_000;
/** Every site has some floor area even when the workforce is tiny (assumption). */
const MIN_SQFT_PER_SITE = 1_000;

/** FNV-1a 32-bit hash mapped to [0, 1): a stable pseudo-random spread per company. */
const unitHash = (text: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 4_294_967_296;
};

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Whether a given employee or site count can be used as is (finite and at least 1). */
export const isUsableCount = (n: number | null): n is number => n !== null && Number.isFinite(n) && n >= 1;

/**
 * Estimates a company's size, floor area, energy use, utility spend and savings range from its
 * industry, state, employees and sites, recording every input and its source in `assumptions`.
 * Unknown employee counts are estimated from the industry's typical establishment, spread by a
 * hash of the company id (stable for the same input) and scaled by the number of sites.
 */
export const computeFeatures = (company: CompanyInput, config: AnalystModelConfig): Features => {
  const match = matchIndustry(company.industry);
  const facts = INDUSTRY_FACTS[match.key];

  const sitesGiven = isUsableCount(company.sites);
  const sites = sitesGiven ? Math.min(Math.floor(company.sites), MAX_SITES) : 1;

  let employees: number;
  let employeesSource: string;
  let employeesBasis: string;
  if (isUsableCount(company.employeeCount)) {
    employees = Math.min(Math.round(company.employeeCount), MAX_EMPLOYEES);
    employeesSource = "given";
    employeesBasis = "employee count from the company record";
  } else {
    const spread = 0.5 + unitHash(company.id === "" ? company.name : company.id);
    employees = Math.min(Math.max(1, Math.round(facts.typicalEmployees * spread * sites)), MAX_EMPLOYEES);
    employeesSource = "estimated";
    employeesBasis =
      `typical ${match.key} establishment ${facts.typicalEmployees} × spread ${round2(spread)} (hash of id)` +
      ` × ${sites} site(s)` +
      (company.employeeCount === null ? "" : `; given value ${company.employeeCount} ignored`);
  }

  const floorAreaSqft = Math.round(Math.max(employees * facts.sqftPerEmployee, sites * MIN_SQFT_PER_SITE));
  const annualKwh = Math.round(floorAreaSqft * facts.electricityKwhPerSqft);

  const stateCode = normaliseState(company.state);
  const stateCents = stateCode === null ? undefined : STATE_COMMERCIAL_PRICE_CENTS_2023[stateCode];
  const priceCents = stateCents ?? US_AVERAGE_COMMERCIAL_PRICE_CENTS_2023;
  const priceSource =
    stateCents !== undefined
      ? `EIA Electric Power Annual 2023 Table 2.10, commercial, ${stateCode}`
      : `US average commercial price, EIA 2023 (state unknown: ${company.state === null ? "none" : JSON.stringify(company.state)})`;
  const electricityPriceKwh = priceCents / 100;

  const annualGasTherms = Math.round(floorAreaSqft * facts.gasThermsPerSqft);
  const annualElectricitySpend = annualKwh * electricityPriceKwh;
  const annualGasSpend = annualGasTherms * US_COMMERCIAL_GAS_PRICE_PER_THERM_2023;
  const annualUtilitySpend = Math.round(
    (annualElectricitySpend + annualGasSpend) * config.utilityOverheadMultiplier,
  );

  return {
    industryKey: match.key,
    employeesEstimate: employees,
    sizeBand: sizeBandFor(employees),
    sites,
    floorAreaSqft,
    energyIntensityKwhSqft: facts.electricityKwhPerSqft,
    electricityPriceKwh,
    annualKwh,
    annualUtilitySpend,
    savingsLow: Math.round(annualUtilitySpend * config.savingsShare.low),
    savingsMid: Math.round(annualUtilitySpend * config.savingsShare.mid),
    savingsHigh: Math.round(annualUtilitySpend * config.savingsShare.high),
    assumptions: {
      modelVersion: config.modelVersion,
      industryInput: company.industry,
      industryKey: match.key,
      industryMatch: match.keyword === null ? "fallback (no keyword matched)" : `keyword "${match.keyword}"`,
      industrySource: facts.source,
      employees,
      employeesSource,
      employeesBasis,
      sites,
      sitesSource: sitesGiven ? "given" : "assumed (1 site)",
      sqftPerEmployee: facts.sqftPerEmployee,
      floorAreaSource: `max(employees × ${facts.sqftPerEmployee} sqft, sites × ${MIN_SQFT_PER_SITE} sqft)`,
      electricityKwhPerSqft: facts.electricityKwhPerSqft,
      state: stateCode ?? "unknown",
      electricityPriceCentsKwh: priceCents,
      electricityPriceSource: priceSource,
      gasThermsPerSqft: facts.gasThermsPerSqft,
      annualGasTherms,
      gasPricePerTherm: US_COMMERCIAL_GAS_PRICE_PER_THERM_2023,
      gasPriceSource: "US average commercial natural gas price, EIA 2023 (approximation)",
      annualElectricitySpend: Math.round(annualElectricitySpend),
      annualGasSpend: Math.round(annualGasSpend),
      utilityOverheadMultiplier: config.utilityOverheadMultiplier,
      savingsShareLow: config.savingsShare.low,
      savingsShareMid: config.savingsShare.mid,
      savingsShareHigh: config.savingsShare.high,
      savingsSource: "assumed share of annual utility spend (config)",
      sampleData: company.isSample ? "yes" : "no",
    },
  };
};
