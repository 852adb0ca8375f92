import { ProviderHttp, yelpClassifier } from "@leadflow/runtime";
import { Effect, Redacted, Schema } from "effect";
import type { ProviderClientSettings } from "../EnrichmentConfig.js";
import { cacheKey } from "../ProviderCache.js";
import { firstNameMatch } from "./NameMatch.js";
import {
  fieldsFromProviderError,
  normalisePhone,
  type PhoneHit,
  PhoneLookupError,
  type PhoneLookupInput,
  type PhoneSource,
} from "./PhoneSource.js";

const SOURCE = "yelp";
const CREDENTIAL = "YELP_API_KEY";
const LIMIT = 5;

const NullableString = Schema.optional(Schema.NullOr(Schema.String));

const Business = Schema.Struct({
  id: Schema.String,
  alias: NullableString,
  name: Schema.String,
  url: NullableString,
  is_closed: Schema.optional(Schema.Boolean),
  /** E.164, or "" when the business has none. */
  phone: NullableString,
  display_phone: NullableString,
  location: Schema.optional(
    Schema.NullOr(Schema.Struct({ city: NullableString, state: NullableString, country: NullableString })),
  ),
});
type Business = typeof Business.Type;

const SearchResponse = Schema.Struct({ businesses: Schema.Array(Business) });

/** The daily cap (ACCESS_LIMIT_REACHED) is a 429 too, but waiting seconds will not lift it. */
const classify = yelpClassifier;

const location = (c: PhoneLookupInput): string =>
  [c.city, c.state]
    .map((s) => s?.trim() ?? "")
    .filter((s) => s !== "")
    .join(", ");

const inCity = (b: Business, city: string | null): number =>
  city !== null && (b.location?.city ?? "").trim().toLowerCase() === city.trim().toLowerCase() ? 0.01 : 0;

/**
 * Yelp Fusion business search (`term` = name, `location` = "city, state", `limit` 5): the open
 * business whose name matches the company's, and its `phone`. Business Match would need a street
 * address, which companies often lack.
 */
export const makeYelpPhoneSource = (settings: ProviderClientSettings) =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp;
    const client = yield* http.client({
      provider: SOURCE,
      baseUrl: settings.baseUrl,
      headers: { Authorization: Redacted.make(`Bearer ${Redacted.value(settings.apiKey)}`) },
      limits: settings.limits,
      credentialHint: CREDENTIAL,
      classify,
      maxAttempts: settings.maxAttempts,
      retryBaseMs: settings.retryBaseMs,
    });

    const lookup = Effect.fnUntraced(
      function* (company: PhoneLookupInput) {
        const country = company.country ?? "US";
        const { businesses } = yield* client
          .json({
            path: "/v3/businesses/search",
            query: { term: company.name.trim(), location: location(company), limit: LIMIT },
            schema: SearchResponse,
          })
          .pipe(
            Effect.mapError(
              (e) => new PhoneLookupError({ source: SOURCE, ...fieldsFromProviderError(e, CREDENTIAL) }),
            ),
          );
        // names first: only the best-named open business has its number parsed
        const best = firstNameMatch(
          company.name,
          businesses,
          (business) => business.name,
          (business) => inCity(business, company.city),
          (business) =>
            business.is_closed === true
              ? null
              : (normalisePhone(business.phone, country) ?? normalisePhone(business.display_phone, country)),
        );
        if (best === null) return null;
        const { candidate: business, value: phone } = best;
        const hit: PhoneHit = {
          ...phone,
          source: SOURCE,
          confidence: Math.round(best.score * 85),
          raw: { id: business.id, name: business.name, url: business.url ?? null },
        };
        return hit;
      },
      // no span per company (≈ 7 µs a call even with no tracer): the stage's task has one
    );

    const source: PhoneSource = {
      name: SOURCE,
      cacheAs: SOURCE,
      keyOf: (c) =>
        c.name.trim() !== "" && location(c) !== "" ? cacheKey.place(c.name, c.city, c.state) : null,
      missing: (c) => (c.name.trim() === "" ? "no company name" : "no city or state"),
      lookup,
    };
    return source;
  });
