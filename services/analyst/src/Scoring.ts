import type { LeadTier } from "@leadflow/contracts";
import type { AnalystModelConfig } from "./AnalystConfig.js";
import { INDUSTRY_FACTS, normaliseState, US_AVERAGE_COMMERCIAL_PRICE_CENTS_2023 } from "./Facts.js";
import { type CompanyInput, type Features, isUsableCount } from "./Features.js";

/** One line of a score's explanation; the points of all reasons sum to the score. */
export interface ScoreReason {
  readonly factor: string;
  readonly points: number;
  readonly detail: string;
}

export interface LeadScore {
  /** Integer 0..100. */
  readonly score: number;
  readonly tier: LeadTier;
  readonly reasons: ReadonlyArray<ScoreReason>;
}

/** 1 therm = 29.31 kWh: gas and electricity on one scale for the intensity factor. */
const KWH_PER_THERM = 29.31;
/** Combined intensity (kWh-equivalent/sqft/year) scored 0 and full points, log scale in between. */
const INTENSITY_FLOOR = 8;
const INTENSITY_CEILING = 80;
/** State price ÷ US average scored 0 and full points, linear in between. */
const PRICE_RATIO_FLOOR = 0.75;
const PRICE_RATIO_CEILING = 1.5;
/** Number of sites that earns full multi-site points (log scale from 1). */
const SITES_CEILING = 10;

/** Clamps to [0, 1]; NaN becomes 0, so a broken input earns nothing rather than poisoning the sum. */
const clamp01 = (x: number): number => (x > 0 ? Math.min(x, 1) : 0);

/** log(value/floor) / log(ceiling/floor), clamped to [0, 1]. */
const logFraction = (value: number, floor: number, ceiling: number): number =>
  clamp01(Math.log(value / floor) / Math.log(ceiling / floor));

const THOUSANDS = /\B(?=(\d{3})+(?!\d))/g;
const usd = (n: number): string => `$${String(Math.round(n)).replace(THOUSANDS, ",")}`;
const oneDecimal = (n: number): string => String(Math.round(n * 10) / 10);

const present = (s: string | null): boolean => s !== null && s.trim() !== "";

/** The tier of a score: `high` at or above `tiers.high`, `medium` at or above `tiers.medium`, else `low`. */
export const tierFor = (score: number, tiers: AnalystModelConfig["tiers"]): LeadTier =>
  score >= tiers.high ? "high" : score >= tiers.medium ? "medium" : "low";

/**
 * Scores a lead 0–100 from its features, transparently: each factor earns whole points up to its
 * weight, and the reasons list every factor with its points, so the reasons sum to the score.
 * When the weights are configured to sum above 100 and a lead earns more than 100, a `cap`
 * reason with negative points brings the sum back to 100. Sample data is flagged with a
 * zero-point reason and is not penalised, so demo runs show every tier.
 */
export const scoreLead = (
  company: CompanyInput,
  features: Features,
  config: AnalystModelConfig,
): LeadScore => {
  const w = config.weights;
  const reasons: Array<ScoreReason> = [];
  let total = 0;
  const add = (factor: string, points: number, detail: string): void => {
    reasons.push({ factor, points, detail });
    total += points;
  };

  const spend = features.annualUtilitySpend;
  add(
    "annual_spend",
    Math.round(w.spend * logFraction(spend, config.spendScale.floorUsd, config.spendScale.ceilingUsd)),
    `Estimated annual utility spend ${usd(spend)} (log scale: ${usd(config.spendScale.floorUsd)} → 0, ` +
      `${usd(config.spendScale.ceilingUsd)} → ${w.spend} points)`,
  );

  const facts = INDUSTRY_FACTS[features.industryKey];
  const combined = features.energyIntensityKwhSqft + facts.gasThermsPerSqft * KWH_PER_THERM;
  add(
    "energy_intensity",
    Math.round(w.intensity * logFraction(combined, INTENSITY_FLOOR, INTENSITY_CEILING)),
    `${facts.label}: ~${oneDecimal(features.energyIntensityKwhSqft)} kWh + ${oneDecimal(facts.gasThermsPerSqft)} ` +
      `therms per sqft/year (≈${Math.round(combined)} kWh-eq; ${INTENSITY_FLOOR} → 0, ${INTENSITY_CEILING} → ${w.intensity} points)`,
  );

  const cents = features.electricityPriceKwh * 100;
  const ratio = cents / US_AVERAGE_COMMERCIAL_PRICE_CENTS_2023;
  const stateCode = normaliseState(company.state);
  add(
    "electricity_price",
    Math.round(w.price * clamp01((ratio - PRICE_RATIO_FLOOR) / (PRICE_RATIO_CEILING - PRICE_RATIO_FLOOR))),
    `${stateCode ?? "Unknown state (US average)"} commercial electricity ${cents.toFixed(2)}¢/kWh is ` +
      `${ratio.toFixed(2)}× the US average ${US_AVERAGE_COMMERCIAL_PRICE_CENTS_2023}¢ ` +
      `(${PRICE_RATIO_FLOOR}× → 0, ${PRICE_RATIO_CEILING}× → ${w.price} points)`,
  );

  const sitesGiven = isUsableCount(company.sites);
  add(
    "multi_site",
    Math.round(w.sites * logFraction(features.sites, 1, SITES_CEILING)),
    sitesGiven
      ? `${features.sites} site(s) (1 → 0, ${SITES_CEILING}+ → ${w.sites} points)`
      : "Number of sites unknown; one site assumed",
  );

  const hasWebsite = present(company.website);
  const hasPhone = present(company.phone);
  add(
    "contactability",
    Math.round((w.contact / 2) * ((hasWebsite ? 1 : 0) + (hasPhone ? 1 : 0))),
    hasWebsite && hasPhone
      ? "Website and phone on record"
      : hasWebsite
        ? "Website on record, no phone"
        : hasPhone
          ? "Phone on record, no website"
          : "No website or phone on record",
  );

  const employeesGiven = isUsableCount(company.employeeCount);
  const stateKnown = stateCode !== null;
  add(
    "data_quality",
    Math.round((w.dataQuality / 2) * ((employeesGiven ? 1 : 0) + (stateKnown ? 1 : 0))),
    `Employee count ${employeesGiven ? "given" : "estimated"}; state ${stateKnown ? "known" : "unknown"}`,
  );

  if (company.isSample) add("sample_data", 0, "Sample (demo) data: flagged, not penalised");

  if (total > 100) add("cap", 100 - total, "Configured weights exceed 100; score capped at 100");
  else if (total < 0) add("floor", -total, "Score raised to the minimum of 0");

  return { score: total, tier: tierFor(total, config.tiers), reasons };
};
