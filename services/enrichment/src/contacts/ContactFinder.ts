import { Data, type Effect, Schema } from "effect";
import type { ContactSourceName } from "../EnrichmentConfig.js";
import { cacheKey } from "../ProviderCache.js";
import type { LookupErrorKind } from "../phones/PhoneSource.js";

export type { ContactSourceName } from "../EnrichmentConfig.js";

/** What the contact chain knows about a company. */
export interface ContactLookupInput {
  readonly name: string;
  readonly domain: string | null;
  readonly website: string | null;
}

export const ContactHit = Schema.Struct({
  fullName: Schema.NullOr(Schema.String),
  firstName: Schema.NullOr(Schema.String),
  lastName: Schema.NullOr(Schema.String),
  title: Schema.NullOr(Schema.String),
  email: Schema.NullOr(Schema.String),
  phone: Schema.NullOr(Schema.String),
  source: Schema.Literal("hunter", "apollo", "website"),
  /** 0..100: how sure the source is of the email. */
  confidence: Schema.Number,
  linkedinUrl: Schema.optional(Schema.NullOr(Schema.String)),
});
export type ContactHit = typeof ContactHit.Type;

/** A source's answer as the cache stores it (`[]` = nobody found, cached too). */
export const ContactHits = Schema.Array(ContactHit);

/** One contact source failed for one company (after the in-process retries). */
export class ContactLookupError extends Data.TaggedError("ContactLookupError")<{
  readonly source: ContactSourceName;
  readonly kind: LookupErrorKind;
  readonly status: number | null;
  readonly message: string;
  readonly retryable: boolean;
  /** The variable holding the key, set on `unauthorized`. */
  readonly credential?: string;
  readonly cause?: unknown;
}> {}

/** A contact source: one company in, the people it knows there out (best first). */
export interface ContactFinder {
  readonly name: ContactSourceName;
  /** `provider_cache` namespace for this source's answers; null when it caches its own I/O (the website scan). */
  readonly cacheAs: string | null;
  /** The normalised cache key, or null when the source cannot look this company up (reason in `missing`). */
  readonly keyOf: (company: ContactLookupInput) => string | null;
  readonly missing: (company: ContactLookupInput) => string;
  readonly find: (
    company: ContactLookupInput,
  ) => Effect.Effect<ReadonlyArray<ContactHit>, ContactLookupError>;
}

/** Hosts that are platforms, not the company: searching them finds the platform's staff. */
const SHARED_DOMAINS = new Set([
  "facebook.com",
  "instagram.com",
  "linkedin.com",
  "twitter.com",
  "x.com",
  "yelp.com",
  "google.com",
  "business.site",
  "sites.google.com",
  "gmail.com",
  "yahoo.com",
  "hotmail.com",
  "outlook.com",
  "aol.com",
  "icloud.com",
  "wixsite.com",
  "squarespace.com",
  "godaddysites.com",
]);

const isShared = (domain: string): boolean =>
  SHARED_DOMAINS.has(domain) || [...SHARED_DOMAINS].some((d) => domain.endsWith(`.${d}`));

/** The company's own domain (from `domain`, else the website's host), or null. */
export const companyDomain = (company: ContactLookupInput): string | null => {
  const raw = company.domain?.trim() || company.website?.trim() || "";
  if (raw === "") return null;
  const domain = cacheKey.domain(raw);
  return domain.includes(".") && !isShared(domain) ? domain : null;
};

/** Why `companyDomain` is null. */
export const missingDomain = (company: ContactLookupInput): string => {
  const raw = company.domain?.trim() || company.website?.trim() || "";
  return raw === "" ? "no domain or website" : `no company domain (${cacheKey.domain(raw)})`;
};

const EMAIL = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Addresses nobody reads, placeholders (Apollo's `email_not_unlocked@…`), template text. */
const JUNK_LOCAL =
  /^(no-?reply|do-?not-?reply|donotreply|mailer-daemon|postmaster|bounces?|abuse|email_not_unlocked|example|test|user|name|your-?name|your\.?email|youremail|email|someone|firstname\.?lastname|first\.?last)$/;
const JUNK_DOMAIN =
  /(^|\.)(example\.(com|org|net)|domain\.com|email\.com|yourdomain\.com|yoursite\.com|test\.com|sentry\.io|wixpress\.com|localhost)$/;
/** `logo@2x.png`: an image name scraped as an address. */
const FILE_TLD = /\.(png|jpe?g|gif|svg|webp|ico|css|js|pdf)$/;

/** `Mailto:Jane@Acme.com?subject=x` → `jane@acme.com`. */
export const normaliseEmail = (email: string): string =>
  email
    .trim()
    .replace(/^mailto:/i, "")
    .split("?", 1)[0]!
    .trim()
    .toLowerCase();

/** A well-formed address someone may read: not a no-reply, placeholder or scraped file name. */
export const isUsableEmail = (email: string | null | undefined): boolean => {
  if (email === null || email === undefined) return false;
  const e = normaliseEmail(email);
  if (e.length > 254 || !EMAIL.test(e)) return false;
  const [local = "", domain = ""] = e.split("@");
  return !JUNK_LOCAL.test(local) && !JUNK_DOMAIN.test(domain) && !FILE_TLD.test(domain);
};

const ROLE_LOCAL =
  /^(info|contact|office|hello|hi|sales|admin|support|service|services|team|enquiries|inquiries|enquiry|inquiry|mail|general|reception|help|billing|accounts?|accounting|hr|jobs|careers|marketing|webmaster|customerservice|frontdesk)$/;

/** `info@`, `contact@`, …: a shared mailbox rather than a person. */
export const isRoleMailbox = (email: string): boolean =>
  ROLE_LOCAL.test(normaliseEmail(email).split("@")[0] ?? "");

/** A contact worth writing to: has a usable email. */
export const isUsableContact = (contact: ContactHit): boolean => isUsableEmail(contact.email);

/** Title patterns by how close the role is to the utility bill, best first. */
const TITLE_TIERS: ReadonlyArray<readonly [RegExp, number]> = [
  [/\b(energy|facilit(y|ies)|plant manager|sustainab\w*|building (services|operations)|maintenance)\b/, 1],
  [/\b(cfo|chief financial|controller|comptroller|finance|financial|treasurer)\b/, 0.9],
  [
    /\b(owner|(?<!vice[\s-])president|ceo|chief executive|founder|co-founder|principal|general manager|coo|chief operating|operations|procurement|purchasing)\b/,
    0.8,
  ],
  [/\b(director|manager|head|vp|vice president|partner)\b/, 0.5],
];

/** How likely someone with this title decides on utility costs, 0..1 (0 when unknown). */
export const titleRelevance = (title: string | null | undefined): number => {
  if (title === null || title === undefined || title.trim() === "") return 0;
  const t = title.toLowerCase();
  for (const [pattern, score] of TITLE_TIERS) if (pattern.test(t)) return score;
  return 0.2;
};

/** Ranking score 0..100: title relevance weighs more than the source's email confidence. */
export const contactScore = (contact: ContactHit): number =>
  titleRelevance(contact.title) * 60 + Math.max(0, Math.min(100, contact.confidence)) * 0.4;

/** Usable contacts first, then by score; one entry per email address. */
export const rankContacts = (contacts: ReadonlyArray<ContactHit>): ReadonlyArray<ContactHit> => {
  const seen = new Set<string>();
  const unique: Array<ContactHit> = [];
  for (const c of contacts) {
    const email = c.email === null ? null : normaliseEmail(c.email);
    if (email !== null && seen.has(email)) continue;
    if (email !== null) seen.add(email);
    unique.push(email === null ? c : { ...c, email });
  }
  return unique
    .map((c, i) => ({ c, i, usable: isUsableContact(c), score: contactScore(c) }))
    .sort((a, b) => Number(b.usable) - Number(a.usable) || b.score - a.score || a.i - b.i)
    .map((x) => x.c);
};

/** `Jane`, `Doe` → `Jane Doe`; null when both are missing. */
export const joinName = (
  first: string | null | undefined,
  last: string | null | undefined,
): string | null => {
  const name = [first, last]
    .map((s) => s?.trim() ?? "")
    .filter((s) => s !== "")
    .join(" ");
  return name === "" ? null : name;
};

/** `Jane Q. Doe` → first `Jane`, last `Doe`. */
export const splitName = (
  full: string,
): { readonly firstName: string | null; readonly lastName: string | null } => {
  const parts = full
    .trim()
    .split(/\s+/)
    .filter((p) => p !== "");
  if (parts.length === 0) return { firstName: null, lastName: null };
  if (parts.length === 1) return { firstName: parts[0] ?? null, lastName: null };
  return { firstName: parts[0] ?? null, lastName: parts[parts.length - 1] ?? null };
};
