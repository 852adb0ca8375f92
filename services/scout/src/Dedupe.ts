import type { FoundCompany } from "./Source.js";

/**
 * Hosts that many unrelated businesses share (social profiles, directories, site builders'
 * apexes): a website there says nothing about identity, so such companies key by name.
 */
const SHARED_HOSTS = new Set([
  "facebook.com",
  "m.facebook.com",
  "fb.com",
  "instagram.com",
  "linkedin.com",
  "twitter.com",
  "x.com",
  "youtube.com",
  "tiktok.com",
  "yelp.com",
  "google.com",
  "sites.google.com",
  "business.site",
  "linktr.ee",
  "wixsite.com",
  "squarespace.com",
  "godaddysites.com",
  "weebly.com",
  "wordpress.com",
  "blogspot.com",
  "yellowpages.com",
  "bbb.org",
  "mapquest.com",
  "foursquare.com",
  "tripadvisor.com",
]);

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/**
 * A website (URL or bare host) → its registrable-looking host: lowercase, no scheme, `www.`,
 * port, path or trailing dot. IP addresses, `localhost`, single labels and garbage → null.
 */
export const normalizeDomain = (website: string | null | undefined): string | null => {
  if (website === null || website === undefined) return null;
  const trimmed = website.trim();
  if (trimmed === "" || /\s/.test(trimmed)) return null;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let host: string;
  try {
    const url = new URL(withScheme);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    // "mailto:x@host" parses as user:password@host once given a scheme
    if (url.username !== "" || url.password !== "") return null;
    host = url.hostname.toLowerCase().replace(/\.$/, "");
  } catch {
    return null;
  }
  if (host.startsWith("[") || /^\d+(\.\d+){3}$/.test(host)) return null;
  host = host.replace(/^www\d*\./, "");
  const labels = host.split(".");
  if (labels.length < 2 || host.length > 253) return null;
  if (!labels.every((l) => LABEL.test(l))) return null;
  if (!TLD.test(labels[labels.length - 1] ?? "")) return null;
  if (host === "localhost" || host.endsWith(".localhost")) return null;
  return host;
};

/** Whether a normalised domain is a shared platform host (see SHARED_HOSTS). */
export const isSharedHost = (domain: string): boolean => SHARED_HOSTS.has(domain);

const LEGAL_SUFFIXES = new Set([
  "inc",
  "incorporated",
  "llc",
  "lc",
  "llp",
  "lp",
  "pllc",
  "pc",
  "corp",
  "corporation",
  "co",
  "company",
  "ltd",
  "limited",
  "plc",
  "and",
]);

/**
 * A company name → a comparison key: lowercase, accents and punctuation gone, `&` → `and`,
 * `the` and trailing legal suffixes (inc, llc, corp, co, ltd …) removed, spaces collapsed.
 */
export const normalizeName = (name: string): string => {
  // NFKD only when needed: it dominates the cost for the (common) plain-ASCII name
  const ascii = /^[\x20-\x7e]*$/.test(name) ? name : name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  const base = ascii
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/['’.]/g, "")
    .replace(/[^a-z0-9]+/g, " ")
    .trim();
  const words = base.split(" ").filter((w) => w !== "" && w !== "the");
  while (words.length > 1 && LEGAL_SUFFIXES.has(words[words.length - 1] ?? "")) words.pop();
  const key = words.join(" ");
  return key === "" ? base : key;
};

const normalizePlace = (s: string | null): string =>
  (s ?? "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim();

type KeyFields = Pick<FoundCompany, "name" | "website" | "city" | "state">;

const nameKey = (c: KeyFields): string =>
  `name:${normalizeName(c.name)}|${normalizePlace(c.city)}|${(c.state ?? "").trim().toUpperCase()}`;

const domainKey = (c: KeyFields): string | null => {
  const domain = normalizeDomain(c.website);
  return domain !== null && !isSharedHost(domain) ? `domain:${domain}` : null;
};

/** The identity of a company across runs: `domain:<domain>`, else `name:<name>|<city>|<state>`. */
export const dedupeKey = (c: KeyFields): string => domainKey(c) ?? nameKey(c);

/**
 * Remembers companies already taken. A company is a duplicate when its domain key or its
 * name + place key was seen, so a record with a website still matches one without.
 */
export const makeDeduper = () => {
  const seen = new Set<string>();
  return {
    /** True (and remembered) when `c` is new. */
    add: (c: KeyFields): boolean => {
      const byDomain = domainKey(c);
      const byName = nameKey(c);
      if ((byDomain !== null && seen.has(byDomain)) || seen.has(byName)) return false;
      if (byDomain !== null) seen.add(byDomain);
      seen.add(byName);
      return true;
    },
  };
};

/** The list without duplicates, first occurrence kept. */
export const dedupeCompanies = <C extends KeyFields>(companies: ReadonlyArray<C>): ReadonlyArray<C> => {
  const deduper = makeDeduper();
  return companies.filter((c) => deduper.add(c));
};
