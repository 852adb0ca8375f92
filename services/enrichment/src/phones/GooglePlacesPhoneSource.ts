import { googlePlacesClassifier, ProviderHttp } from "@leadflow/runtime";
import { Effect, Schema } from "effect";
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

const SOURCE = "google_places";
const CREDENTIAL = "GOOGLE_PLACES_API_KEY";

/** Phone fields put the call in the Enterprise SKU; nothing else is asked for. */
const FIELD_MASK = [
  "places.id",
  "places.displayName",
  "places.formattedAddress",
  "places.nationalPhoneNumber",
  "places.internationalPhoneNumber",
].join(",");

/** A handful of candidates is enough to find the namesake; billing is per request anyway. */
const PAGE_SIZE = 5;

const Place = Schema.Struct({
  id: Schema.String,
  displayName: Schema.optional(Schema.Struct({ text: Schema.String })),
  formattedAddress: Schema.optional(Schema.String),
  nationalPhoneNumber: Schema.optional(Schema.String),
  internationalPhoneNumber: Schema.optional(Schema.String),
});
type Place = typeof Place.Type;

/** No results is `{}`: `places` is left out. */
const SearchTextResponse = Schema.Struct({
  places: Schema.optionalWith(Schema.Array(Place), { default: () => [] }),
});

/** An invalid key is a 400 with reason API_KEY_INVALID, not a 401. */
const classify = googlePlacesClassifier;

const hasLocation = (c: PhoneLookupInput): boolean => Boolean(c.city?.trim() || c.state?.trim());

const inCity = (place: Place, city: string | null): number =>
  city !== null && (place.formattedAddress ?? "").toLowerCase().includes(city.trim().toLowerCase())
    ? 0.01
    : 0;

/**
 * Google Places API (New) Text Search for "<name> <city> <state>": the result whose name matches
 * the company's (normalised), not merely the first, and its number.
 */
export const makeGooglePlacesPhoneSource = (settings: ProviderClientSettings) =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp;
    const client = yield* http.client({
      provider: SOURCE,
      baseUrl: settings.baseUrl,
      headers: { "X-Goog-Api-Key": settings.apiKey, "X-Goog-FieldMask": FIELD_MASK },
      limits: settings.limits,
      credentialHint: CREDENTIAL,
      classify,
      maxAttempts: settings.maxAttempts,
      retryBaseMs: settings.retryBaseMs,
    });

    const lookup = Effect.fnUntraced(
      function* (company: PhoneLookupInput) {
        const textQuery = [company.name, company.city, company.state]
          .map((s) => s?.trim() ?? "")
          .filter((s) => s !== "")
          .join(" ");
        const country = /^[a-z]{2}$/i.test(company.country?.trim() ?? "")
          ? company.country!.trim().toUpperCase()
          : "US";
        const { places } = yield* client
          .json({
            method: "POST",
            path: "/v1/places:searchText",
            json: { textQuery, pageSize: PAGE_SIZE, regionCode: country, languageCode: "en" },
            schema: SearchTextResponse,
          })
          .pipe(
            Effect.mapError(
              (e) => new PhoneLookupError({ source: SOURCE, ...fieldsFromProviderError(e, CREDENTIAL) }),
            ),
          );
        // names first: only the best-named place with a phone has its number parsed
        const best = firstNameMatch(
          company.name,
          places,
          (place) => place.displayName?.text ?? "",
          (place) => inCity(place, company.city),
          (place) =>
            place.displayName?.text
              ? (normalisePhone(place.internationalPhoneNumber, country) ??
                normalisePhone(place.nationalPhoneNumber, country))
              : null,
        );
        if (best === null) return null;
        const { candidate: place, value: phone } = best;
        const hit: PhoneHit = {
          ...phone,
          source: SOURCE,
          confidence: Math.round(best.score * 90),
          raw: { id: place.id, name: place.displayName?.text, address: place.formattedAddress ?? null },
        };
        return hit;
      },
      // no span per company (≈ 7 µs a call even with no tracer): the stage's task has one
    );

    const source: PhoneSource = {
      name: SOURCE,
      cacheAs: SOURCE,
      keyOf: (c) => (c.name.trim() !== "" && hasLocation(c) ? cacheKey.place(c.name, c.city, c.state) : null),
      missing: (c) => (c.name.trim() === "" ? "no company name" : "no city or state"),
      lookup,
    };
    return source;
  });
