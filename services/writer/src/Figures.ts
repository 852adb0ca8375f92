import type { DraftInput } from "./DraftInput.js";

/**
 * The figures an email may quote about a company: the same list is given to the LLM (written
 * as `display`) and checked by the validator (matched on `value`), so what the model is told
 * and what is accepted cannot drift apart.
 *
 * - `money`: USD (savings low/mid/high, annual spend, electricity price per kWh);
 * - `percent`: percentage points (savings as a share of spend, derived from the same figures);
 * - `count`: whole things (sites).
 *
 * The lead score is deliberately not here: it is an internal ranking, not something to tell a
 * prospect, so a number equal to it is treated like any other invented figure.
 */
export type FigureKind = "money" | "percent" | "count";

export interface AllowedFigure {
  readonly label: string;
  readonly kind: FigureKind;
  readonly value: number;
  /** How the figure is written in prompts and templates, e.g. `$12k`, `8%`, `$0.13/kWh`. */
  readonly display: string;
}

const stripZeros = (s: string): string => (s.includes(".") ? s.replace(/\.?0+$/, "") : s);

/**
 * USD rounded to two significant figures at most, in the form people use in email:
 * `$850`, `$4.3k`, `$12k`, `$123k`, `$1.2M`. Always within 5 % of the exact value, which is
 * inside the validator's tolerance, so a rounded figure is still "the company's figure".
 */
export const formatMoney = (usd: number): string => {
  const n = Math.abs(usd);
  const sign = usd < 0 ? "-" : "";
  if (n < 1_000) return `${sign}$${Math.round(n)}`;
  if (n < 10_000) return `${sign}$${stripZeros((n / 1_000).toFixed(1))}k`;
  if (n < 999_500) return `${sign}$${Math.round(n / 1_000)}k`;
  if (n < 10_000_000) return `${sign}$${stripZeros((n / 1_000_000).toFixed(1))}M`;
  return `${sign}$${Math.round(n / 1_000_000)}M`;
};

/** Percentage points, whole when within 0.05 of a whole number, else one decimal: `8%`, `7.5%`. */
export const formatPercent = (points: number): string => {
  const whole = Math.round(points);
  return Math.abs(points - whole) < 0.05 ? `${whole}%` : `${stripZeros(points.toFixed(1))}%`;
};

/** USD per kWh with two or three decimals: `$0.13/kWh`, `$0.125/kWh`. */
export const formatPricePerKwh = (usdPerKwh: number): string => {
  const three = usdPerKwh.toFixed(3);
  const text = three.endsWith("0") ? usdPerKwh.toFixed(2) : three;
  return `$${text}/kWh`;
};

const finite = (n: number): boolean => Number.isFinite(n);

/** The figures of `input` an email may use, in the order the prompt lists them. */
export const allowedFigures = (input: DraftInput): ReadonlyArray<AllowedFigure> => {
  const f = input.features;
  const out: Array<AllowedFigure> = [];
  const money = (label: string, value: number) => {
    if (finite(value) && value >= 0) out.push({ label, kind: "money", value, display: formatMoney(value) });
  };
  money("estimated annual savings, low end", f.savingsLow);
  money("estimated annual savings, middle estimate", f.savingsMid);
  money("estimated annual savings, high end", f.savingsHigh);
  money("estimated annual utility spend", f.annualUtilitySpend);
  if (finite(f.annualUtilitySpend) && f.annualUtilitySpend > 0) {
    const share = (label: string, savings: number) => {
      if (!finite(savings) || savings < 0) return;
      const points = (savings / f.annualUtilitySpend) * 100;
      out.push({ label, kind: "percent", value: points, display: formatPercent(points) });
    };
    share("savings as a share of spend, low end", f.savingsLow);
    share("savings as a share of spend, middle estimate", f.savingsMid);
    share("savings as a share of spend, high end", f.savingsHigh);
  }
  if (finite(f.sites) && f.sites >= 1) {
    out.push({
      label: "number of sites",
      kind: "count",
      value: Math.floor(f.sites),
      display: String(Math.floor(f.sites)),
    });
  }
  if (finite(f.electricityPriceKwh) && f.electricityPriceKwh > 0) {
    out.push({
      label: "average commercial electricity price in the company's state",
      kind: "money",
      value: f.electricityPriceKwh,
      display: formatPricePerKwh(f.electricityPriceKwh),
    });
  }
  return out;
};
