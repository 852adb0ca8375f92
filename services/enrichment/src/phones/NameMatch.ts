/** Legal-form words and articles that say nothing about which business it is. */
const NOISE = new Set([
  "the",
  "inc",
  "incorporated",
  "llc",
  "llp",
  "lp",
  "ltd",
  "limited",
  "co",
  "corp",
  "corporation",
  "company",
  "plc",
  "pc",
  "pllc",
  "pa",
]);

/** Lower-case ASCII words of a business name, legal forms dropped, `&` read as `and`. */
export const nameTokens = (name: string): ReadonlyArray<string> =>
  name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/['’`]/g, "")
    .replace(/[^a-z0-9]+/g, " ")
    .trim()
    .split(" ")
    .filter((t) => t !== "" && !NOISE.has(t));

/** A comparable form of a business name: `The Abbott Hotel, Inc.` → `abbott hotel`. */
export const normaliseName = (name: string): string => nameTokens(name).join(" ");

/**
 * How alike two business names are, 0..1: 1 when equal after normalising (spacing ignored),
 * 0.8 when every word of the shorter name (two words or more) is in the longer one, else the
 * share of words in common (Jaccard).
 */
export const nameMatchScore = (a: string, b: string): number => {
  const ta = nameTokens(a);
  const tb = nameTokens(b);
  if (ta.length === 0 || tb.length === 0) return 0;
  if (ta.join("") === tb.join("")) return 1;
  const sa = new Set(ta);
  const sb = new Set(tb);
  let common = 0;
  for (const t of sa) if (sb.has(t)) common++;
  const jaccard = common / (sa.size + sb.size - common);
  const smaller = Math.min(sa.size, sb.size);
  if (common === smaller && smaller >= 2) return Math.max(0.8, jaccard);
  return jaccard;
};

/** The score above which two names are taken for the same business. */
export const NAME_MATCH_THRESHOLD = 0.75;

/**
 * The candidate whose name matches `name` best, or null when none reaches the threshold.
 * `bonus` (small) favours one of equally named candidates, e.g. the one in the right city;
 * on a full tie the earlier candidate wins.
 */
export const bestNameMatch = <T>(
  name: string,
  candidates: ReadonlyArray<T>,
  nameOf: (candidate: T) => string,
  bonus: (candidate: T) => number = () => 0,
): { readonly candidate: T; readonly score: number } | null => {
  let best: { candidate: T; score: number; rank: number } | null = null;
  for (const candidate of candidates) {
    const score = nameMatchScore(name, nameOf(candidate));
    if (score < NAME_MATCH_THRESHOLD) continue;
    const rank = score + bonus(candidate);
    if (best === null || rank > best.rank) best = { candidate, score, rank };
  }
  return best === null ? null : { candidate: best.candidate, score: best.score };
};
