import type { FakeReply, RecordedRequest } from "./FakeHttpServer.js";
import { type FakeListing, searchDirectory, usPhoneForms } from "./PhoneDirectory.js";
import { type FakeYelpBusiness, startYelpFake, type YelpFake } from "./YelpFake.js";

export interface YelpPhoneFakeOptions {
  /** The only key accepted. Default `test-yelp-key`. */
  readonly apiKey?: string;
  /** The businesses search can find. */
  readonly directory?: ReadonlyArray<FakeListing>;
  /** Put an unrelated business with a phone first in every non-empty answer (default true). */
  readonly decoyFirst?: boolean;
  /** Enforce a request rate, answering Yelp's 429 TOO_MANY_REQUESTS_PER_SECOND when exceeded. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs?: number };
}

export interface YelpPhoneFake extends YelpFake {
  /** Adds businesses to the directory. */
  readonly add: (...listings: ReadonlyArray<FakeListing>) => void;
  /** The `term` and `location` of each search, in order. */
  readonly searches: () => ReadonlyArray<{ readonly term: string; readonly location: string }>;
}

const yelpError = (status: number, code: string, description: string): FakeReply => ({
  status,
  json: { error: { code, description } },
});

const toBusiness = (listing: FakeListing, i: number): FakeYelpBusiness => {
  const alias = `${listing.name}-${listing.city}`.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const phone = usPhoneForms(listing.phone);
  const street = listing.street ?? "1 Main St";
  return {
    id: `yelp${String(i).padStart(6, "0")}${alias.slice(0, 10)}`,
    alias,
    name: listing.name,
    image_url: `https://s3-media1.fl.yelpcdn.com/bphoto/${alias}/o.jpg`,
    is_closed: false,
    url: `https://www.yelp.com/biz/${alias}?adjust_creative=fake&utm_source=yelp_api_v3`,
    review_count: 12,
    categories: [{ alias: "localservices", title: "Local Services" }],
    rating: 4.5,
    coordinates: { latitude: 42.8864, longitude: -78.8784 },
    transactions: [],
    location: {
      address1: street,
      address2: "",
      address3: null,
      city: listing.city,
      zip_code: "14201",
      country: "US",
      state: listing.state,
      display_address: [street, `${listing.city}, ${listing.state} 14201`],
    },
    // Yelp sends "" when a business has no phone
    phone: phone?.e164 ?? "",
    display_phone: phone?.national ?? "",
    distance: 100 + i,
  };
};

/**
 * Yelp Fusion business search over a directory of businesses, for phone lookups by `term` =
 * name and `location` = "City, ST": Bearer key checks, `limit` ≤ 50, daily-limit headers and
 * Yelp's error bodies; the namesakes (after a decoy) in that city. Faults and the rate limit come
 * from the underlying Yelp fake.
 */
export const startYelpPhoneFake = async (options: YelpPhoneFakeOptions = {}): Promise<YelpPhoneFake> => {
  const base = await startYelpFake({
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    ...(options.rateLimit !== undefined ? { rateLimit: options.rateLimit } : {}),
  });
  const directory: Array<FakeListing> = [...(options.directory ?? [])];
  const searches: Array<{ term: string; location: string }> = [];
  let remaining = 5000;

  const handle = (req: RecordedRequest): FakeReply => {
    const auth = req.headers.authorization;
    if (auth === undefined || auth.trim() === "") {
      return yelpError(
        401,
        "TOKEN_MISSING",
        "An access token must be supplied in order to use this endpoint.",
      );
    }
    if (auth !== `Bearer ${base.apiKey}`) {
      return yelpError(401, "TOKEN_INVALID", "Invalid access token or authorization header.");
    }
    const term = req.query.get("term") ?? "";
    const location = req.query.get("location");
    if (location === null || location.trim() === "") {
      return yelpError(400, "VALIDATION_ERROR", "Please specify a location or a latitude and longitude");
    }
    const limit = Number(req.query.get("limit") ?? 20);
    if (!Number.isInteger(limit) || limit < 0 || limit > 50) {
      return yelpError(
        400,
        "VALIDATION_ERROR",
        `${req.query.get("limit")} is greater than the maximum of 50`,
      );
    }
    searches.push({ term, location });
    const city = location.split(",")[0]?.trim() ?? location;
    const found = searchDirectory(directory, term, city).map((l) => toBusiness(l, directory.indexOf(l)));
    const decoy =
      found.length > 0 && options.decoyFirst !== false
        ? [
            toBusiness(
              {
                name: `${city} Parking Garage`,
                city,
                state: found[0]?.location.state ?? "NY",
                phone: "7165550000",
              },
              999_999,
            ),
          ]
        : [];
    const businesses = [...decoy, ...found];
    remaining = Math.max(0, remaining - 1);
    return {
      status: 200,
      headers: {
        "ratelimit-dailylimit": "5000",
        "ratelimit-remaining": String(remaining),
        "ratelimit-resettime": new Date(Date.UTC(2030, 0, 1)).toISOString(),
      },
      json: {
        businesses: businesses.slice(0, limit),
        total: businesses.length,
        region: { center: { longitude: -78.8784, latitude: 42.8864 } },
      },
    };
  };

  base.server.route("GET", "/v3/businesses/search", handle);
  return {
    ...base,
    searches: () => searches,
    add: (...listings) => {
      directory.push(...listings);
    },
  };
};
