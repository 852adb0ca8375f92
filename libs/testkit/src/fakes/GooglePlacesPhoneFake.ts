import type { FakeReply, RecordedRequest } from "./FakeHttpServer.js";
import { type GooglePlacesFake, startGooglePlacesFake } from "./GooglePlacesFake.js";
import { type FakeListing, searchDirectory, usPhoneForms } from "./PhoneDirectory.js";

export interface GooglePlacesPhoneFakeOptions {
  /** The only key accepted. Default `test-google-key`. */
  readonly apiKey?: string;
  /** The businesses Text Search can find. */
  readonly directory?: ReadonlyArray<FakeListing>;
  /** Put an unrelated place with a phone first in every non-empty answer (default true), as a ranking would. */
  readonly decoyFirst?: boolean;
  /** Enforce a request rate, answering Google's 429 RESOURCE_EXHAUSTED when exceeded. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs?: number };
}

export interface GooglePlacesPhoneFake extends GooglePlacesFake {
  /** Adds businesses to the directory. */
  readonly add: (...listings: ReadonlyArray<FakeListing>) => void;
}

const googleError = (code: number, status: string, message: string, reason?: string): FakeReply => ({
  status: code,
  json: {
    error: {
      code,
      message,
      status,
      ...(reason !== undefined
        ? {
            details: [
              { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "googleapis.com" },
            ],
          }
        : {}),
    },
  },
});

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, "");

const toPlace = (listing: FakeListing): Record<string, unknown> => {
  const phone = usPhoneForms(listing.phone);
  return {
    id: `ChIJ${slug(listing.name).slice(0, 16)}${slug(listing.city).slice(0, 6)}`,
    displayName: { text: listing.name, languageCode: "en" },
    formattedAddress: `${listing.street ?? "1 Main St"}, ${listing.city}, ${listing.state} 14201, USA`,
    ...(phone !== null
      ? { nationalPhoneNumber: phone.national, internationalPhoneNumber: phone.international }
      : {}),
    ...(listing.website !== undefined ? { websiteUri: listing.website } : {}),
  };
};

const decoy = (city: string): Record<string, unknown> => ({
  id: "ChIJvisitorcenter0000",
  displayName: { text: `${city} Visitor Center`, languageCode: "en" },
  formattedAddress: `1 Visitor Way, ${city}, NY 14201, USA`,
  nationalPhoneNumber: "(716) 555-0000",
  internationalPhoneNumber: "+1 716-555-0000",
});

/** Keeps only the fields the mask names. */
const applyMask = (place: Record<string, unknown>, mask: ReadonlyArray<string>): Record<string, unknown> => {
  if (mask.includes("*") || mask.includes("places.*") || mask.includes("places")) return place;
  const out: Record<string, unknown> = {};
  for (const field of mask) {
    if (!field.startsWith("places.")) continue;
    const key = field.slice("places.".length).split(".")[0] ?? "";
    if (place[key] !== undefined) out[key] = place[key];
  }
  return out;
};

/**
 * Places API (New) Text Search over a directory of businesses, for phone lookups by
 * "<name> <city> <state>": the key and field-mask checks and error bodies of the real API, the
 * namesake among the results (after a decoy), `{}` when nothing matches. Faults and the rate
 * limit come from the underlying Google Places fake.
 */
export const startGooglePlacesPhoneFake = async (
  options: GooglePlacesPhoneFakeOptions = {},
): Promise<GooglePlacesPhoneFake> => {
  const base = await startGooglePlacesFake({
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    ...(options.rateLimit !== undefined ? { rateLimit: options.rateLimit } : {}),
  });
  const directory: Array<FakeListing> = [...(options.directory ?? [])];
  const searches: Array<Record<string, unknown>> = [];

  const handle = (req: RecordedRequest): FakeReply => {
    const key = req.headers["x-goog-api-key"];
    if (typeof key !== "string" || key === "") {
      return googleError(403, "PERMISSION_DENIED", "The request is missing a valid API key.");
    }
    if (key !== base.apiKey) {
      return googleError(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        "API_KEY_INVALID",
      );
    }
    const maskHeader = req.headers["x-goog-fieldmask"];
    if (typeof maskHeader !== "string" || maskHeader.trim() === "") {
      return googleError(
        400,
        "INVALID_ARGUMENT",
        "FieldMask is a required parameter. See https://cloud.google.com/apis/docs/system-parameters on how to provide it.",
      );
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(req.body) as Record<string, unknown>;
    } catch {
      return googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    searches.push(body);
    const textQuery = body.textQuery;
    if (typeof textQuery !== "string" || textQuery.trim() === "") {
      return googleError(400, "INVALID_ARGUMENT", "Empty text_query.");
    }
    const pageSize = Math.min(20, Math.max(1, Number(body.pageSize ?? 20) || 20));
    const found = searchDirectory(directory, textQuery, null).filter((l) =>
      textQuery.toLowerCase().includes(l.city.toLowerCase()),
    );
    if (found.length === 0) return { status: 200, json: {} };
    const first = found[0] as FakeListing;
    const places = [...(options.decoyFirst === false ? [] : [decoy(first.city)]), ...found.map(toPlace)];
    const mask = maskHeader.split(",").map((f) => f.trim());
    return { status: 200, json: { places: places.slice(0, pageSize).map((p) => applyMask(p, mask)) } };
  };

  base.server.route("POST", "/v1/places:searchText", handle);
  return {
    ...base,
    searches: () => searches,
    add: (...listings) => {
      directory.push(...listings);
    },
  };
};
