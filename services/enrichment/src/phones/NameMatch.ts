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
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, to skip Unicode work for ASCII names
  (/^[\u0000-\u007f]*$/.test(name) ? name : name.normalize("NFKD").replace(/[\u0300-\u036f]/g, ""))
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
export const nameMatchScore = (a: string, b: string): number => tokenScore(nameTokens(a), nameTokens(b));

const tokenScore = (ta: ReadonlyArray<string>, tb: ReadonlyArray<string>): number => {
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
  const found = firstNameMatch(name, candidates, nameOf, bonus, (c) => c);
  return found === null ? null : { candidate: found.candidate, score: found.score };
};

/**
 * `bestNameMatch` among the candidates `accept` takes (non-null), asking `accept` in order of
 * match only until one is taken: the same answer as filtering every candidate first, without
 * the work (e.g. parsing a phone number) for those that lose on the name anyway.
 */
export const firstNameMatch = <T, R>(
  name: string,
  candidates: ReadonlyArray<T>,
  nameOf: (candidate: T) => string,
  bonus: (candidate: T) => number,
  accept: (candidate: T) => R | null,
): { readonly candidate: T; readonly value: R; readonly score: number } | null => {
  const tokens = nameTokens(name);
  const ranked: Array<{ candidate: T; score: number; rank: number; order: number }> = [];
  candidates.forEach((candidate, order) => {
    const score = tokenScore(tokens, nameTokens(nameOf(candidate)));
    if (score >= NAME_MATCH_THRESHOLD)
      ranked.push({ candidate, score, rank: score + bonus(candidate), order });
  });
  ranked.sort((a, b) => b.rank - a.rank || a.order - b.order);
  for (const r of ranked) {
    const value = accept(r.candidate);
    if (value !== null) return { candidate: r.candidate, value, score: r.score };
  }
  return null;
};
