/** Display formats shared by the email and the pages. */

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });

export const money = (n: number | null): string => (n === null || !Number.isFinite(n) ? "–" : usd.format(n));

export const moneyRange = (low: number | null, high: number | null): string =>
  low === null || high === null ? "–" : `${money(low)} – ${money(high)}`;

/** `2026-11-23 23:50 UTC`: unambiguous for a reviewer anywhere. */
export const utc = (d: Date): string => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;

export const place = (city: string | null, state: string | null): string =>
  [city, state].filter((s) => s !== null && s !== "").join(", ") || "–";

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Control characters, line breaks included, and bidi overrides: never in one line of text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL_IN_LINE = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;

/** The same, except tab and line breaks: never in multi-line text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;

const CONTROL_RUNS = new RegExp(`${CONTROL_IN_LINE.source}+`, "g");

/** One line, no control characters, at most `max` characters: safe for a mail header. */
export const headerText = (s: string, max = 200): string => {
  const flat = s.replace(CONTROL_RUNS, " ").replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
