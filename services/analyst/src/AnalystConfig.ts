import { Config, type ConfigError, Context, Layer } from "effect";
import { AUDIT_SAVINGS_SHARE_ASSUMPTION, OTHER_UTILITIES_MULTIPLIER_ASSUMPTION } from "./Facts.js";

/** The analyst model's knobs. Plain data, so the model functions stay pure and easy to test. */
export interface AnalystModelConfig {
  /** Recorded with every score so a score can be traced to the model that made it. */
  readonly modelVersion: string;
  /** Maximum points per factor; they sum to 100 by default. */
  readonly weights: {
    readonly spend: number;
    readonly intensity: number;
    readonly price: number;
    readonly sites: number;
    readonly contact: number;
    readonly dataQuality: number;
  };
  /** Score thresholds: `high` if score ≥ high, `medium` if score ≥ medium, else `low`. */
  readonly tiers: { readonly high: number; readonly medium: number };
  /** Share of annual utility spend an audit is expected to save (assumptions). */
  readonly savingsShare: { readonly low: number; readonly mid: number; readonly high: number };
  /** Multiplier on electricity + gas spend for the other utilities (water/sewer, waste, telecom). */
  readonly utilityOverheadMultiplier: number;
  /** Annual spend (USD) scored 0 points and full points; log-scaled in between. */
  readonly spendScale: { readonly floorUsd: number; readonly ceilingUsd: number };
}

/** The defaults, as plain data (tests and tools use them without an Effect runtime). */
export const defaultAnalystConfig: AnalystModelConfig = {
  modelVersion: "analyst-v1 (CBECS 2012, EIA EPA 2023)",
  weights: { spend: 40, intensity: 20, price: 15, sites: 10, contact: 10, dataQuality: 5 },
  tiers: { high: 70, medium: 40 },
  savingsShare: { ...AUDIT_SAVINGS_SHARE_ASSUMPTION },
  utilityOverheadMultiplier: OTHER_UTILITIES_MULTIPLIER_ASSUMPTION,
  spendScale: { floorUsd: 10_000, ceilingUsd: 5_000_000 },
};

const d = defaultAnalystConfig;

const nonNegative = (name: string, fallback: number) =>
  Config.number(name).pipe(
    Config.withDefault(fallback),
    Config.validate({
      message: `${name} must be a finite number ≥ 0`,
      validation: (n) => Number.isFinite(n) && n >= 0,
    }),
  );

const share = (name: string, fallback: number) =>
  Config.number(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name} must be between 0 and 1`, validation: (n) => n >= 0 && n <= 1 }),
  );

/**
 * The model's configuration from the environment (ANALYST_*), defaults as in `defaultAnalystConfig`.
 * Cross-field rules: tier medium ≤ high ≤ 100, savings shares low ≤ mid ≤ high, spend floor < ceiling.
 */
export const analystConfig: Config.Config<AnalystModelConfig> = Config.all({
  modelVersion: Config.string("ANALYST_MODEL_VERSION").pipe(Config.withDefault(d.modelVersion)),
  weights: Config.all({
    spend: nonNegative("ANALYST_WEIGHT_SPEND", d.weights.spend),
    intensity: nonNegative("ANALYST_WEIGHT_INTENSITY", d.weights.intensity),
    price: nonNegative("ANALYST_WEIGHT_PRICE", d.weights.price),
    sites: nonNegative("ANALYST_WEIGHT_SITES", d.weights.sites),
    contact: nonNegative("ANALYST_WEIGHT_CONTACT", d.weights.contact),
    dataQuality: nonNegative("ANALYST_WEIGHT_DATA_QUALITY", d.weights.dataQuality),
  }),
  tiers: Config.all({
    high: Config.integer("ANALYST_TIER_HIGH").pipe(Config.withDefault(d.tiers.high)),
    medium: Config.integer("ANALYST_TIER_MEDIUM").pipe(Config.withDefault(d.tiers.medium)),
  }).pipe(
    Config.validate({
      message: "ANALYST_TIER_MEDIUM and ANALYST_TIER_HIGH must satisfy 0 ≤ medium ≤ high ≤ 100",
      validation: (t) => t.medium >= 0 && t.medium <= t.high && t.high <= 100,
    }),
  ),
  savingsShare: Config.all({
    low: share("ANALYST_SAVINGS_SHARE_LOW", d.savingsShare.low),
    mid: share("ANALYST_SAVINGS_SHARE_MID", d.savingsShare.mid),
    high: share("ANALYST_SAVINGS_SHARE_HIGH", d.savingsShare.high),
  }).pipe(
    Config.validate({
      message: "ANALYST_SAVINGS_SHARE_* must satisfy low ≤ mid ≤ high",
      validation: (s) => s.low <= s.mid && s.mid <= s.high,
    }),
  ),
  utilityOverheadMultiplier: Config.number("ANALYST_UTILITY_OVERHEAD_MULTIPLIER").pipe(
    Config.withDefault(d.utilityOverheadMultiplier),
    Config.validate({
      message: "ANALYST_UTILITY_OVERHEAD_MULTIPLIER must be between 1 and 5",
      validation: (n) => n >= 1 && n <= 5,
    }),
  ),
  spendScale: Config.all({
    floorUsd: nonNegative("ANALYST_SPEND_FLOOR_USD", d.spendScale.floorUsd),
    ceilingUsd: nonNegative("ANALYST_SPEND_CEILING_USD", d.spendScale.ceilingUsd),
  }).pipe(
    Config.validate({
      message: "ANALYST_SPEND_FLOOR_USD must be > 0 and below ANALYST_SPEND_CEILING_USD",
      validation: (s) => s.floorUsd > 0 && s.floorUsd < s.ceilingUsd,
    }),
  ),
});

/** The analyst model's configuration as a service. */
export class AnalystConfig extends Context.Tag("leadflow/Analyst/AnalystConfig")<
  AnalystConfig,
  AnalystModelConfig
>() {}

/** Reads `analystConfig` once, at layer construction. */
export const AnalystConfigLive: Layer.Layer<AnalystConfig, ConfigError.ConfigError> = Layer.effect(
  AnalystConfig,
  analystConfig,
);
