import { Either } from "effect";
import type { DraftInput, EmailContent } from "./DraftInput.js";
import { type AllowedFigure, allowedFigures } from "./Figures.js";

/**
 * Checks an LLM's answer before it can become a draft.
 *
 * Shape: one JSON object `{subject, body}` (code fences and chatter around the object are
 * tolerated), subject 5–120 characters on one line, body 40–2,000 characters of plain text, no
 * leftover placeholders (`[Name]`, `{{…}}`, `<…>`, `XXX`), no HTML or Markdown, no spam phrases.
 *
 * Figures — the rule that matters most, since a made-up saving in a first email is a false
 * claim sent in the consultancy's name. Every number in subject + body is extracted and
 * normalised to a value, a kind and a precision:
 *
 * - numerals `12`, `12,345`, `0.13`, `.5`; number words `fifteen`, `twenty-five`, `a hundred`;
 * - multipliers `k`, `thousand`, `million`/`M`/`mm`, `billion`/`bn` (`m`/`b` alone only after
 *   a currency sign, since `15m` may be minutes);
 * - kinds: money (`$`, `US$`, `USD`, `dollars`; `cents`/`¢` divide by 100), percent (`%`,
 *   `percent`, `per cent`, `pct`), sites (`3 sites`, `two hotel locations`), energy (`kWh`, `MWh`, `therms` — never allowed), duration
 *   (`minutes`, `hours`, `days`, `weeks`, `months`), clock time (`10am`, `2:30`), or bare;
 * - ranges share units: in `$12–23k` both ends are thousands of dollars, in `4 to 15 percent`
 *   both ends are percentages;
 * - precision is half a unit of the last significant digit as written, trailing zeros of a
 *   whole number not counting: `$120k` is ±$5k, `$123k` ±$500, `$0.13` ±$0.005, `8%` ±0.5.
 *
 * A number is accepted when it matches an allowed figure (`Figures.allowedFigures`) of its kind
 * within `min(its precision, 10 % of the figure)` — so `$120k` for $123,456 passes, `$100k` does
 * not; a count of sites must equal the sites figure — or when it is one of the harmless kinds: a bare whole number up to 10 (counting words
 * like "one of", "two sites"), a duration up to 60 (`a 15-minute call`), a clock time.
 * Bare numbers may also match any allowed figure by value (`savings of 12,000 a year`) or a
 * number printed in the company's or sender's own data (street numbers and ZIP codes of the
 * sender's postal address, a company called "Studio 54"); those strings are blanked before
 * scanning, so their digits are never read as figures. Everything else — years, phone numbers,
 * client counts, a different percentage — is an invented figure and fails the answer.
 */

export const SUBJECT_MIN = 5;
export const SUBJECT_MAX = 120;
export const BODY_MIN = 40;
export const BODY_MAX = 2_000;

/** Bare whole numbers up to this are counting words, not figures. */
const MAX_COUNTING_NUMBER = 10;
/** Durations up to this (in their own unit) are allowed: "a 15-minute call", "in 30 days". */
const MAX_DURATION = 60;
/** A figure may be rounded, but never by more than this share of its value. */
const MAX_RELATIVE_ROUNDING = 0.1;

const SPAM_PHRASES: ReadonlyArray<string> = [
  "act now",
  "as seen on",
  "click here",
  "guaranteed savings",
  "limited time",
  "risk-free",
  "risk free",
  "100% free",
  "once in a lifetime",
  "congratulations",
  "dear sir or madam",
  "as an ai",
];

export type NumberKind = "money" | "percent" | "sites" | "energy" | "duration" | "time" | "bare";

/** A number found in text, normalised. */
export interface FoundNumber {
  /** As written, including currency sign and unit. */
  readonly text: string;
  readonly kind: NumberKind;
  /** USD for money, percentage points for percent, the count for bare numbers. */
  readonly value: number;
  /** Half a unit of the last significant digit as written, in the same unit as `value`. */
  readonly halfUnit: number;
}

interface Token {
  start: number;
  end: number;
  kind: NumberKind;
  raw: number;
  multiplier: number;
  value: number;
  halfUnit: number;
}

const UNITS: Readonly<Record<string, number>> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
const SCALES: Readonly<Record<string, number>> = { thousand: 1e3, million: 1e6, billion: 1e9 };

const WORD = `(?:${[...Object.keys(UNITS), "hundred", ...Object.keys(SCALES)].join("|")})`;
/** A numeral, or a run of number words ("twenty-five", "a hundred and five", "fifteen thousand"). */
const NUMBER = new RegExp(
  `(?<![\\p{L}\\p{N}_.,])(\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?|\\d+(?:\\.\\d+)?|\\.\\d+)` +
    `|(?<![\\p{L}\\p{N}])((?:a\\s+(?=(?:hundred|thousand|million|billion)\\b))?${WORD}(?:(?:\\s+and\\s+|[\\s-]+)${WORD})*)(?![\\p{L}\\p{N}])`,
  "giu",
);

const CURRENCY_BEFORE = /(?:US\$|\$|USD|€|£)\s?$/i;
const CLOCK_AFTER = /^(?::\d{2}(?!\d)|\s?(?:a\.?m\.?|p\.?m\.?)(?![\p{L}]))/iu;
const MULTIPLIER_AFTER = /^\s?(thousand|million|billion|k|mm|mn|m|bn|b)(?![\p{L}\p{N}])/iu;
const PER_KWH_AFTER = /^\s?(?:\/\s?|per\s+)kwh\b/i;
const PERCENT_AFTER = /^\s?(?:%|percent\b|per\s?cent\b|pct\b)/i;
const CENTS_AFTER = /^\s?(?:¢|cents?\b)/i;
const DOLLARS_AFTER = /^\s?(?:dollars?|usd|bucks)\b/i;
const ENERGY_AFTER = /^\s?(?:kwh|mwh|gwh|kw|mw|therms?)\b/i;
const DURATION_AFTER = /^[\s-]?(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?)\b/i;
/** A count of the company's premises ("3 sites", "two hotel locations") must be the sites figure, however small. */
const SITES_AFTER =
  /^\s(?:[\p{L}-]+\s)?(?:sites?|locations?|properties|property|buildings?|facilit(?:y|ies)|stores?|branch(?:es)?|offices?|plants?|premises|outlets?)\b/iu;
const RANGE_BETWEEN = /^\s*(?:-|–|—|to|and|or)\s*$/i;

const MULTIPLIERS: Readonly<Record<string, number>> = {
  thousand: 1e3,
  k: 1e3,
  million: 1e6,
  mm: 1e6,
  mn: 1e6,
  m: 1e6,
  billion: 1e9,
  bn: 1e9,
  b: 1e9,
};

/** Half a unit of the last significant digit: decimals count, trailing zeros of a whole number do not. */
const halfUnitOfNumeral = (digits: string): number => {
  const dot = digits.indexOf(".");
  if (dot >= 0) return 0.5 * 10 ** -(digits.length - dot - 1);
  const trailing = /0*$/.exec(digits)?.[0].length ?? 0;
  return trailing >= digits.length ? 0.5 : 0.5 * 10 ** trailing;
};

const halfUnitOfInteger = (n: number): number => {
  if (n === 0) return 0.5;
  let unit = 1;
  while (n % (unit * 10) === 0) unit *= 10;
  return unit / 2;
};

const parseWords = (text: string): number => {
  let total = 0;
  let current = 0;
  for (const word of text.toLowerCase().split(/[\s-]+/)) {
    if (word === "and" || word === "") continue;
    if (word === "a") current += 1;
    else if (word === "hundred") current = (current || 1) * 100;
    else if (word in SCALES) {
      total += (current || 1) * (SCALES[word] ?? 1);
      current = 0;
    } else current += UNITS[word] ?? 0;
  }
  return total + current;
};

const scan = (text: string): Array<Token> => {
  const tokens: Array<Token> = [];
  NUMBER.lastIndex = 0;
  for (let m = NUMBER.exec(text); m !== null; m = NUMBER.exec(text)) {
    const numeral = m[1];
    let start = m.index;
    let end = m.index + m[0].length;
    let raw: number;
    let halfUnit: number;
    if (numeral !== undefined) {
      raw = Number(numeral.replace(/,/g, ""));
      halfUnit = halfUnitOfNumeral(numeral.replace(/,/g, ""));
    } else {
      raw = parseWords(m[0]);
      halfUnit = halfUnitOfInteger(raw);
    }
    const currencyBefore = CURRENCY_BEFORE.exec(text.slice(Math.max(0, start - 4), start));
    const hasCurrency = currencyBefore !== null;
    if (currencyBefore !== null) start -= currencyBefore[0].length;

    let kind: NumberKind = hasCurrency ? "money" : "bare";
    let multiplier = 1;
    const rest = () => text.slice(end, end + 40);
    const take = (re: RegExp): RegExpExecArray | null => {
      const hit = re.exec(rest());
      if (hit !== null) end += hit[0].length;
      return hit;
    };

    if (numeral !== undefined && take(CLOCK_AFTER) !== null) {
      kind = "time";
    } else {
      const mult = MULTIPLIER_AFTER.exec(rest());
      const word = mult?.[1]?.toLowerCase();
      // a lone m/b/mm after a bare number is more likely minutes or a model name than millions
      if (mult !== null && word !== undefined && (word.length > 2 || word === "k" || hasCurrency)) {
        end += mult[0].length;
        multiplier = MULTIPLIERS[word] ?? 1;
      }
      if (take(PERCENT_AFTER) !== null) kind = "percent";
      else if (take(CENTS_AFTER) !== null) {
        kind = "money";
        multiplier /= 100;
      } else if (take(DOLLARS_AFTER) !== null) kind = "money";
      else if (kind === "bare" && take(ENERGY_AFTER) !== null) kind = "energy";
      else if (kind === "bare" && multiplier === 1 && take(DURATION_AFTER) !== null) kind = "duration";
      else if (kind === "bare" && multiplier === 1 && SITES_AFTER.test(rest())) kind = "sites";
      if (kind === "money") take(PER_KWH_AFTER);
    }
    tokens.push({
      start,
      end,
      kind,
      raw,
      multiplier,
      value: raw * multiplier,
      halfUnit: halfUnit * multiplier,
    });
    NUMBER.lastIndex = end;
  }
  // ranges share their unit and scale: "$12–23k", "4 to 15 percent"
  for (let i = 0; i + 1 < tokens.length; i++) {
    const a = tokens[i]!;
    const b = tokens[i + 1]!;
    if (!RANGE_BETWEEN.test(text.slice(a.end, b.start))) continue;
    const shared = (k: NumberKind) => k === "money" || k === "percent";
    if (a.kind === "bare" && shared(b.kind)) a.kind = b.kind;
    else if (b.kind === "bare" && shared(a.kind)) b.kind = a.kind;
    if (a.multiplier === 1 && b.multiplier > 1 && a.raw < b.raw) {
      a.multiplier = b.multiplier;
      a.value = a.raw * b.multiplier;
      a.halfUnit *= b.multiplier;
    }
  }
  return tokens;
};

/** Every number in `text`, normalised (see the module comment for the rules). */
export const extractNumbers = (text: string): ReadonlyArray<FoundNumber> =>
  scan(text).map((t) => ({
    text: text.slice(t.start, t.end),
    kind: t.kind,
    value: t.value,
    halfUnit: t.halfUnit,
  }));

/** Whether a written number is a rounding of `figure` at the precision it was written with. */
export const matchesFigure = (n: FoundNumber, figure: number): boolean => {
  const tolerance = Math.min(n.halfUnit, MAX_RELATIVE_ROUNDING * Math.abs(figure));
  return Math.abs(n.value - figure) <= tolerance + 1e-9 * Math.max(1, Math.abs(figure));
};

/** The company's and sender's own strings: their digits and brackets are data, not figures. */
const knownStrings = (input: DraftInput): ReadonlyArray<string> => {
  const c = input.company;
  const website = c.website ?? "";
  const host = website
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/^www\./i, "")
    .replace(/[/?#].*$/, "");
  const values = [
    c.name,
    c.industry,
    c.city,
    c.website,
    host,
    input.contact?.fullName,
    input.contact?.firstName,
    input.contact?.title,
    input.contact?.email,
    input.sender.name,
    input.sender.company,
    input.sender.email,
    input.sender.postalAddress,
    ...input.sender.postalAddress.split(/\r?\n|,/),
    input.sender.unsubscribeUrl,
  ];
  const out = new Set<string>();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    for (const variant of [v.trim(), v.replace(/\s+/g, " ").trim()]) {
      if (variant.length >= 2 && /[\d<>[\]{}]/.test(variant)) out.add(variant);
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
};

/** Blanks the known strings (any case) so their digits and brackets are not read as figures or placeholders. */
const maskKnown = (text: string, known: ReadonlyArray<string>): string => {
  let out = text;
  for (const s of known) {
    const lower = out.toLowerCase();
    const needle = s.toLowerCase();
    // lower-casing changes the length of a few characters; then match the exact case instead
    const caseless = lower.length === out.length && needle.length === s.length;
    const haystack = caseless ? lower : out;
    const pin = caseless ? needle : s;
    let at = haystack.indexOf(pin);
    if (at < 0) continue;
    const parts: Array<string> = [];
    let last = 0;
    for (; at >= 0; at = haystack.indexOf(pin, at + pin.length)) {
      parts.push(out.slice(last, at), " ".repeat(pin.length));
      last = at + pin.length;
    }
    parts.push(out.slice(last));
    out = parts.join("");
  }
  return out;
};

/** Numbers printed in the company's or sender's data, usable as bare numbers however they are reformatted. */
const literalNumbers = (input: DraftInput): ReadonlySet<number> => {
  const sources = [input.sender.postalAddress, input.company.name, input.contact?.title ?? ""];
  const out = new Set<number>();
  for (const s of sources) for (const m of s.matchAll(/\d+(?:\.\d+)?/g)) out.add(Number(m[0]));
  return out;
};

const describeAllowed = (figures: ReadonlyArray<AllowedFigure>): string =>
  figures.length === 0 ? "no figures are allowed" : `allowed: ${figures.map((f) => f.display).join(", ")}`;

/** `checkFigures` on text whose known strings are already blanked. */
const figureReasons = (masked: string, input: DraftInput): ReadonlyArray<string> => {
  const figures = allowedFigures(input);
  const literals = literalNumbers(input);
  const reasons: Array<string> = [];
  const ofKind = (kind: AllowedFigure["kind"]) => figures.filter((f) => f.kind === kind);
  for (const n of extractNumbers(masked)) {
    let ok: boolean;
    switch (n.kind) {
      case "time":
        ok = true;
        break;
      case "duration":
        ok = n.value <= MAX_DURATION;
        break;
      case "energy":
        ok = false;
        break;
      case "money":
        ok = ofKind("money").some((f) => matchesFigure(n, f.value));
        break;
      case "percent":
        ok = ofKind("percent").some((f) => matchesFigure(n, f.value));
        break;
      case "sites":
        ok = ofKind("count").some((f) => n.value === f.value);
        break;
      case "bare":
        ok =
          (Number.isInteger(n.value) && n.value >= 0 && n.value <= MAX_COUNTING_NUMBER) ||
          literals.has(n.value) ||
          figures.some((f) => matchesFigure(n, f.value));
        break;
    }
    if (!ok)
      reasons.push(`figure "${n.text.trim()}" is not in the company's data (${describeAllowed(figures)})`);
  }
  return reasons;
};

/** Reasons for every number in `text` that is not one of `input`'s figures; empty when all are. */
export const checkFigures = (text: string, input: DraftInput): ReadonlyArray<string> =>
  figureReasons(maskKnown(text, knownStrings(input)), input);

const PLACEHOLDERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\[[^\]\n]{0,60}\]/, "bracketed placeholder"],
  [/\{\{[^}\n]{0,60}\}\}|\{[A-Za-z_ ]{1,40}\}/, "template placeholder"],
  [/<[^>\n]{1,200}>/, "HTML tag or <placeholder>"],
  [/\bX{2,}\b|\bx{3,}\b/, "XXX placeholder"],
  [/\b(?:TODO|TBD|INSERT|lorem ipsum)\b/i, "unfinished text"],
  [/&(?:[a-z]{2,8}|#\d{2,5});/i, "HTML entity"],
  [/\*\*[^*\n]+\*\*|^#{1,6}\s|\]\(https?:/m, "Markdown formatting"],
];

// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

const SIGN_OFF =
  /^(?:best|best regards|kind regards|warm regards|regards|thanks|thank you|many thanks|cheers|sincerely|all the best|yours sincerely|yours truly)[,.!]?$/i;

/** Drops a trailing sign-off the model added although told not to (the renderer adds the signature). */
const dropSignOff = (body: string, input: DraftInput): string => {
  const lines = body.split("\n");
  const senderFirstName = input.sender.name.trim().split(/\s+/)[0] ?? "";
  const sender = new Set(
    [input.sender.name, senderFirstName, input.sender.company, input.sender.email].map((s) =>
      s.trim().toLowerCase(),
    ),
  );
  let end = lines.length;
  while (
    end > 0 &&
    (lines[end - 1]?.trim() === "" || sender.has(lines[end - 1]?.trim().toLowerCase() ?? ""))
  ) {
    end--;
  }
  if (end > 0 && SIGN_OFF.test(lines[end - 1]?.trim() ?? ""))
    return lines
      .slice(0, end - 1)
      .join("\n")
      .trimEnd();
  return body;
};

/**
 * Parses the model's answer into `{subject, body}`: the whole text as JSON, else inside a code
 * fence, else the outermost `{…}`. Left: why it is not usable.
 */
export const parseAnswer = (
  raw: string,
): Either.Either<{ subject: string; body: string }, ReadonlyArray<string>> => {
  const text = raw.trim();
  if (text === "") return Either.left(["empty answer"]);
  const fenced = /^```[a-z]*\s*\n?([\s\S]*?)\n?```$/i.exec(text)?.[1];
  const first = text.indexOf("{");
  const last = text.lastIndexOf("}");
  const candidates = [text, fenced, first >= 0 && last > first ? text.slice(first, last + 1) : undefined];
  let value: unknown;
  let parsed = false;
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    try {
      value = JSON.parse(candidate);
      parsed = true;
      break;
    } catch {
      // try the next form
    }
  }
  if (!parsed) {
    const preview = text.replace(/\s+/g, " ").slice(0, 80);
    return Either.left([`answer is not JSON: "${preview}${text.length > 80 ? "…" : ""}"`]);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return Either.left(["answer is not a JSON object"]);
  }
  const { subject, body } = value as Record<string, unknown>;
  const reasons: Array<string> = [];
  if (typeof subject !== "string" || subject.trim() === "") reasons.push("subject missing");
  if (typeof body !== "string" || body.trim() === "") reasons.push("body missing");
  return reasons.length > 0
    ? Either.left(reasons)
    : Either.right({ subject: subject as string, body: body as string });
};

/**
 * Checks a written email against `input` (every rule but the JSON shape). Right: the email with
 * its body normalised (line endings, outer whitespace, a stray sign-off dropped).
 */
export const validateEmail = (
  email: EmailContent,
  input: DraftInput,
): Either.Either<EmailContent, ReadonlyArray<string>> => {
  const reasons: Array<string> = [];
  const subject = email.subject.trim();
  const body = dropSignOff(email.body.replace(/\r\n?/g, "\n").trim(), input);

  if (/[\r\n]/.test(subject)) reasons.push("subject has a line break");
  else if (CONTROL.test(subject)) reasons.push("subject has control characters");
  if (subject.length < SUBJECT_MIN || subject.length > SUBJECT_MAX) {
    reasons.push(`subject is ${subject.length} characters (allowed ${SUBJECT_MIN}–${SUBJECT_MAX})`);
  }
  if (body.length < BODY_MIN || body.length > BODY_MAX) {
    reasons.push(`body is ${body.length} characters (allowed ${BODY_MIN}–${BODY_MAX})`);
  }
  if (CONTROL.test(body)) reasons.push("body has control characters");

  const masked = maskKnown(`${subject}\n${body}`, knownStrings(input));
  for (const [re, what] of PLACEHOLDERS) {
    const hit = re.exec(masked);
    if (hit !== null) reasons.push(`${what}: "${hit[0].trim().slice(0, 60)}"`);
  }
  const lower = masked.toLowerCase();
  for (const phrase of SPAM_PHRASES) if (lower.includes(phrase)) reasons.push(`spam phrase: "${phrase}"`);
  reasons.push(...figureReasons(masked, input));

  return reasons.length > 0 ? Either.left(reasons) : Either.right({ subject, body });
};

/** `parseAnswer` then `validateEmail`: Right is a usable email, Left every reason it is not. */
export const validateAnswer = (
  raw: string,
  input: DraftInput,
): Either.Either<EmailContent, ReadonlyArray<string>> =>
  Either.flatMap(parseAnswer(raw), (email) => validateEmail(email, input));
