import { baseUrlConfig, type ProviderError, ProviderHttp, yelpClassifier } from "@leadflow/runtime";
import { Config, Effect, Layer, Redacted, Schema } from "effect";
import { dedupeCompanies } from "../Dedupe.js";
import { stateCode } from "../Location.js";
import { type FoundCompany, type ScoutSource, ScoutSources, SourceError } from "../Source.js";
import { type ProviderLimits, providerLimitsConfig, providerRetryConfig } from "./ProviderLimits.js";

const SOURCE = "yelp";
const PAGE_LIMIT = 50;

const NullableString = Schema.optional(Schema.NullOr(Schema.String));

const Business = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  url: NullableString,
  is_closed: Schema.optional(Schema.Boolean),
  phone: NullableString,
  display_phone: NullableString,
  categories: Schema.optional(Schema.Array(Schema.Struct({ alias: Schema.String, title: Schema.String }))),
  coordinates: Schema.optional(
    Schema.NullOr(
      Schema.Struct({
        latitude: Schema.optional(Schema.NullOr(Schema.Number)),
        longitude: Schema.optional(Schema.NullOr(Schema.Number)),
      }),
    ),
  ),
  location: Schema.optional(
    Schema.NullOr(
      Schema.Struct({
        address1: NullableString,
        address2: NullableString,
        address3: NullableString,
        city: NullableString,
        zip_code: NullableString,
        country: NullableString,
        state: NullableString,
      }),
    ),
  ),
});
type Business = typeof Business.Type;

const SearchResponse = Schema.Struct({
  businesses: Schema.Array(Business),
  total: Schema.optionalWith(Schema.Number, { default: () => 0 }),
});

/** The daily cap (ACCESS_LIMIT_REACHED) is a 429 too, but waiting seconds will not lift it. */
const classify = yelpClassifier;

const text = (s: string | null | undefined): string | null =>
  s === null || s === undefined || s.trim() === "" ? null : s.trim();

const toCompany = (b: Business, industry: string): FoundCompany => {
  const loc = b.location ?? null;
  const street = [loc?.address1, loc?.address2, loc?.address3].map(text).filter((s) => s !== null);
  const country = text(loc?.country) ?? "US";
  return {
    name: b.name,
    industry,
    address: street.length > 0 ? street.join(", ") : null,
    city: text(loc?.city),
    state: country === "US" && text(loc?.state) !== null ? stateCode(loc?.state ?? "") : null,
    postalCode: text(loc?.zip_code),
    country,
    phone: text(b.display_phone) ?? text(b.phone),
    // Yelp's `url` is its own listing page, not the business's website, which search does not return
    website: null,
    latitude: b.coordinates?.latitude ?? null,
    longitude: b.coordinates?.longitude ?? null,
    employeeCount: null,
    sites: null,
    source: SOURCE,
    sourceRef: b.id,
    isSample: false,
    raw: b,
  };
};

const toSourceError = (e: ProviderError) =>
  new SourceError({ source: SOURCE, message: e.message, retryable: e.retryable, cause: e });

export interface YelpSourceOptions {
  readonly apiKey: Redacted.Redacted;
  readonly baseUrl: string;
  readonly limits: ProviderLimits;
  /** How deep offset paging may go (`offset + limit` ≤ this); the API refuses more. */
  readonly maxResults: number;
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
}

/** Yelp Fusion business search, paged by offset until `count`, `total` or the reachable cap. */
export const makeYelpSource = (options: YelpSourceOptions) =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp;
    const client = yield* http.client({
      provider: SOURCE,
      baseUrl: options.baseUrl,
      headers: { Authorization: Redacted.make(`Bearer ${Redacted.value(options.apiKey)}`) },
      limits: options.limits,
      credentialHint: "YELP_API_KEY",
      classify,
      maxAttempts: options.maxAttempts,
      retryBaseMs: options.retryBaseMs,
    });

    const source: ScoutSource = {
      name: SOURCE,
      search: (q) =>
        Effect.gen(function* () {
          const found: Array<FoundCompany> = [];
          let offset = 0;
          let total = Number.POSITIVE_INFINITY;
          while (found.length < q.count && offset < total) {
            // full pages: each call counts against the daily cap, whatever its size
            const limit = Math.min(PAGE_LIMIT, options.maxResults - offset);
            if (limit <= 0) break;
            const result = yield* Effect.either(
              client.json({
                path: "/v3/businesses/search",
                query: { term: q.industry, location: q.location, limit, offset },
                schema: SearchResponse,
              }),
            );
            if (result._tag === "Left") {
              if (offset === 0) return yield* toSourceError(result.left);
              yield* Effect.logWarning("Yelp paging stopped early").pipe(
                Effect.annotateLogs({ offset, error: result.left.message }),
              );
              break;
            }
            const page = result.right;
            total = page.total;
            for (const b of page.businesses) if (b.is_closed !== true) found.push(toCompany(b, q.industry));
            if (page.businesses.length < limit) break;
            offset += page.businesses.length;
          }
          return dedupeCompanies(found).slice(0, q.count);
        }).pipe(Effect.withSpan("YelpSource.search")),
    };
    return source;
  });

/** The Yelp source's settings. */
export const yelpSourceConfig = Config.all({
  apiKey: Config.redacted("YELP_API_KEY"),
  baseUrl: baseUrlConfig("YELP_BASE_URL", "https://api.yelp.com"),
  limits: providerLimitsConfig("YELP", { ratePerSec: 5, concurrency: 2, timeoutMs: 10_000 }),
  maxResults: Config.integer("YELP_MAX_RESULTS").pipe(
    Config.validate({ message: "must be between 1 and 1000", validation: (n) => n >= 1 && n <= 1000 }),
    Config.withDefault(240),
  ),
  retry: providerRetryConfig("YELP"),
}).pipe(Config.map(({ retry, ...s }) => ({ ...s, ...retry })));

/** The Yelp source built from configuration. */
export const yelpSourceFromConfig = Effect.flatMap(yelpSourceConfig, makeYelpSource);

/** Only the Yelp source. */
export const YelpSourceLive = Layer.effect(
  ScoutSources,
  Effect.map(yelpSourceFromConfig, (s) => [s]),
);
