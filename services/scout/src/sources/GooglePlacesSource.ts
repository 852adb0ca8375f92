import { baseUrlConfig, googlePlacesClassifier, type ProviderError, ProviderHttp } from "@leadflow/runtime";
import { Config, Effect, Layer, type Redacted, Schema } from "effect";
import { dedupeCompanies } from "../Dedupe.js";
import { parseUsAddress } from "../Location.js";
import { type FoundCompany, type ScoutSource, ScoutSources, SourceError } from "../Source.js";
import { type ProviderLimits, providerLimitsConfig, providerRetryConfig } from "./ProviderLimits.js";

const SOURCE = "google_places";

/** Billing follows the costliest field: phone and website put this at the Enterprise tier. */
const FIELD_MASK = [
  "places.id",
  "places.displayName",
  "places.formattedAddress",
  "places.location",
  "places.types",
  "places.businessStatus",
  "places.nationalPhoneNumber",
  "places.internationalPhoneNumber",
  "places.websiteUri",
  "nextPageToken",
].join(",");

const PAGE_SIZE = 20;
/** Text Search serves at most 60 results over 3 pages; a few more guard against a looping token. */
const MAX_PAGES = 5;

const Place = Schema.Struct({
  id: Schema.String,
  displayName: Schema.optional(
    Schema.Struct({ text: Schema.String, languageCode: Schema.optional(Schema.String) }),
  ),
  formattedAddress: Schema.optional(Schema.String),
  nationalPhoneNumber: Schema.optional(Schema.String),
  internationalPhoneNumber: Schema.optional(Schema.String),
  websiteUri: Schema.optional(Schema.String),
  types: Schema.optional(Schema.Array(Schema.String)),
  businessStatus: Schema.optional(Schema.String),
  location: Schema.optional(Schema.Struct({ latitude: Schema.Number, longitude: Schema.Number })),
});
type Place = typeof Place.Type;

const SearchTextResponse = Schema.Struct({
  places: Schema.optionalWith(Schema.Array(Place), { default: () => [] }),
  nextPageToken: Schema.optional(Schema.String),
});

/** An invalid key is a 400 with reason API_KEY_INVALID, not a 401. */
const classify = googlePlacesClassifier;

const toCompany = (place: Place, industry: string): FoundCompany => {
  const parsed = parseUsAddress(place.formattedAddress ?? "");
  return {
    name: place.displayName?.text ?? "",
    industry,
    address: parsed.address,
    city: parsed.city,
    state: parsed.state,
    postalCode: parsed.postalCode,
    country: parsed.country ?? "US",
    phone: place.nationalPhoneNumber ?? place.internationalPhoneNumber ?? null,
    website: place.websiteUri ?? null,
    latitude: place.location?.latitude ?? null,
    longitude: place.location?.longitude ?? null,
    employeeCount: null,
    sites: null,
    source: SOURCE,
    sourceRef: place.id,
    isSample: false,
    raw: place,
  };
};

const toSourceError = (e: ProviderError) =>
  new SourceError({ source: SOURCE, message: e.message, retryable: e.retryable, cause: e });

export interface GooglePlacesSourceOptions {
  readonly apiKey: Redacted.Redacted;
  readonly baseUrl: string;
  readonly limits: ProviderLimits;
  /** Attempts per call (tests lower the backoff through `retryBaseMs`). */
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
}

/** Google Places API (New) Text Search: "<industry> in <location>", paged by `nextPageToken`. */
export const makeGooglePlacesSource = (options: GooglePlacesSourceOptions) =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp;
    const client = yield* http.client({
      provider: SOURCE,
      baseUrl: options.baseUrl,
      headers: { "X-Goog-Api-Key": options.apiKey, "X-Goog-FieldMask": FIELD_MASK },
      limits: options.limits,
      credentialHint: "GOOGLE_PLACES_API_KEY",
      classify,
      maxAttempts: options.maxAttempts,
      retryBaseMs: options.retryBaseMs,
    });

    const source: ScoutSource = {
      name: SOURCE,
      search: (q) =>
        Effect.gen(function* () {
          const textQuery = `${q.industry} in ${q.location}`;
          // keep pageSize fixed across pages: a page token is tied to the request that issued it
          const pageSize = Math.min(PAGE_SIZE, Math.max(1, q.count));
          const found: Array<FoundCompany> = [];
          let pageToken: string | undefined;
          for (let page = 0; page < MAX_PAGES && found.length < q.count; page++) {
            const result = yield* Effect.either(
              client.json({
                method: "POST",
                path: "/v1/places:searchText",
                json: {
                  textQuery,
                  pageSize,
                  regionCode: "US",
                  languageCode: "en",
                  ...(pageToken ? { pageToken } : {}),
                },
                schema: SearchTextResponse,
              }),
            );
            if (result._tag === "Left") {
              if (page === 0) return yield* toSourceError(result.left);
              // later pages are a bonus: keep what the first pages gave
              yield* Effect.logWarning("Google Places paging stopped early").pipe(
                Effect.annotateLogs({ page, error: result.left.message }),
              );
              break;
            }
            for (const place of result.right.places) {
              if (place.businessStatus === "CLOSED_PERMANENTLY" || !place.displayName?.text) continue;
              found.push(toCompany(place, q.industry));
            }
            pageToken = result.right.nextPageToken;
            if (pageToken === undefined || pageToken === "") break;
          }
          return dedupeCompanies(found).slice(0, q.count);
        }).pipe(Effect.withSpan("GooglePlacesSource.search")),
    };
    return source;
  });

/** The Google Places source's settings. */
export const googlePlacesSourceConfig = Config.all({
  apiKey: Config.redacted("GOOGLE_PLACES_API_KEY"),
  baseUrl: baseUrlConfig("GOOGLE_PLACES_BASE_URL", "https://places.googleapis.com"),
  limits: providerLimitsConfig("GOOGLE_PLACES", { ratePerSec: 5, concurrency: 2, timeoutMs: 10_000 }),
  retry: providerRetryConfig("GOOGLE_PLACES"),
}).pipe(Config.map(({ retry, ...s }) => ({ ...s, ...retry })));

/** The Google Places source built from configuration. */
export const googlePlacesSourceFromConfig = Effect.flatMap(googlePlacesSourceConfig, makeGooglePlacesSource);

/** Only the Google Places source. */
export const GooglePlacesSourceLive = Layer.effect(
  ScoutSources,
  Effect.map(googlePlacesSourceFromConfig, (s) => [s]),
);
