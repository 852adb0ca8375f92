/** `part / whole` as a percentage with two decimals; 0 when `whole` is 0 (never NaN). */
export const percent = (part: number, whole: number): number =>
  whole > 0 ? Math.round((part / whole) * 10_000) / 100 : 0;

/** Dollars rounded to cents. */
export const cents = (x: number): number => Math.round(x * 100) / 100;
