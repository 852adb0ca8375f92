import type { ProviderError, ProviderErrorKind } from "@leadflow/runtime";
import { Data, type Effect, Schema } from "effect";
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js";
import type { PhoneSourceName } from "../EnrichmentConfig.js";
import type { WebsiteError } from "../web/Website.js";

export type { PhoneSourceName } from "../EnrichmentConfig.js";

/** What the phone chain knows about a company. */
export interface PhoneLookupInput {
  readonly name: string;
  readonly city: string | null;
  readonly state: string | null;
  readonly website: string | null;
  readonly domain: string | null;
  /** ISO 3166 alpha-2; default `US`. */
  readonly country?: string | null;
}

export const PhoneHit = Schema.Struct({
  /** `+17165550100` */
  e164: Schema.String,
  /** `(716) 555-0100` */
  national: Schema.String,
  source: Schema.Literal("google_places", "yelp", "website"),
  /** 0..100: how sure the source is that this is the company's number. */
  confidence: Schema.optional(Schema.Number),
  /** A small excerpt of the provider's record (ids, names), for auditing. */
  raw: Schema.optional(Schema.Unknown),
});
export type PhoneHit = typeof PhoneHit.Type;

/** `PhoneHit | null`, as the cache stores it ("not found" is cached too). */
export const PhoneAnswer = Schema.NullOr(PhoneHit);

/** Where a lookup failure came from: a provider API, or the website scan. */
export type LookupErrorKind = ProviderErrorKind | "website";

interface LookupErrorFields {
  readonly source: string;
  readonly kind: LookupErrorKind;
  /** HTTP status when the provider answered. */
  readonly status: number | null;
  readonly message: string;
  readonly retryable: boolean;
  /** The variable holding the key, set on `unauthorized`. */
  readonly credential?: string;
  readonly cause?: unknown;
}

/** One phone source failed for one company (after the in-process retries). */
export class PhoneLookupError extends Data.TaggedError("PhoneLookupError")<
  LookupErrorFields & { readonly source: PhoneSourceName }
> {}

/** A phone source: one company in, its number or null out. */
export interface PhoneSource {
  readonly name: PhoneSourceName;
  /** `provider_cache` namespace for this source's answers; null when it caches its own I/O (the website scan). */
  readonly cacheAs: string | null;
  /** The normalised cache key, or null when the source cannot look this company up (reason in `missing`). */
  readonly keyOf: (company: PhoneLookupInput) => string | null;
  /** Why `keyOf` gave null, for the attempt record (e.g. "no website"). */
  readonly missing: (company: PhoneLookupInput) => string;
  readonly lookup: (company: PhoneLookupInput) => Effect.Effect<PhoneHit | null, PhoneLookupError>;
}

/** Copies a ProviderError's routing fields into a lookup error's fields. */
export const fieldsFromProviderError = (error: ProviderError, credential: string) => ({
  kind: error.kind as LookupErrorKind,
  status: error.status,
  message: error.message,
  retryable: error.retryable,
  ...(error.kind === "unauthorized" ? { credential } : {}),
  cause: error,
});

/** Copies a WebsiteError's fields into a lookup error's fields. */
export const fieldsFromWebsiteError = (error: WebsiteError) => ({
  kind: "website" as const,
  status: null,
  message: `website ${error.url}: ${error.message}`,
  retryable: error.retryable,
  cause: error,
});

/**
 * Parses any written form of a phone number into E.164 and national format, or null when it is
 * not a valid number for `country` (or carries its own country code).
 */
export const normalisePhone = (
  text: string | null | undefined,
  country: string | null | undefined = "US",
): { readonly e164: string; readonly national: string } | null => {
  if (text === null || text === undefined || text.trim() === "") return null;
  const region = (country ?? "US").trim().toUpperCase();
  const parsed = parsePhoneNumberFromString(text.trim(), {
    ...(isSupportedCountry(region) ? { defaultCountry: region as CountryCode } : {}),
    extract: false,
  });
  if (parsed === undefined || !parsed.isValid()) return null;
  return { e164: parsed.number, national: parsed.formatNational() };
};

/** How one source did for one company, for the run summary. */
export interface LookupAttempt<S extends string> {
  readonly source: S;
  /** `hit`: answered with data; `miss`: nothing; `skipped`: not askable (see `error`); `error`/`unauthorized`: failed. */
  readonly outcome: "hit" | "miss" | "skipped" | "error" | "unauthorized";
  /** True when the answer came from `provider_cache` (no call made). */
  readonly cached: boolean;
  /** One line for the run summary, e.g. `GOOGLE_PLACES_API_KEY rejected (400)`. */
  readonly error?: string;
  readonly retryable?: boolean;
}

/** The attempt record of a failed lookup; a rejected key reads `<VARIABLE> rejected (<status>)`. */
export const failedAttempt = <S extends string>(source: S, error: LookupErrorFields): LookupAttempt<S> =>
  error.kind === "unauthorized"
    ? {
        source,
        outcome: "unauthorized",
        cached: false,
        error: `${error.credential ?? `${source} API key`} rejected (${error.status ?? "no status"})`,
        retryable: false,
      }
    : { source, outcome: "error", cached: false, error: error.message, retryable: error.retryable };
