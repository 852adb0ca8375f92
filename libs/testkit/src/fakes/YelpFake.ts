import { type FakeReply, type RecordedRequest, startFakeHttpServer } from "./FakeHttpServer.js";
import { FAKE_STREETS, FAKE_SURNAMES, type ProviderFake, seeded, titleCase } from "./ProviderFake.js";

/** A business as Yelp Fusion `/v3/businesses/search` returns it. */
export interface FakeYelpBusiness {
  readonly id: string;
  readonly alias: string;
  readonly name: string;
  readonly image_url: string;
  readonly is_closed: boolean;
  readonly url: string;
  readonly review_count: number;
  readonly categories: ReadonlyArray<{ readonly alias: string; readonly title: string }>;
  readonly rating: number;
  readonly coordinates: { readonly latitude: number | null; readonly longitude: number | null };
  readonly transactions: ReadonlyArray<string>;
  readonly location: {
    readonly address1: string | null;
    readonly address2: string | null;
    readonly address3: string | null;
    readonly city: string;
    readonly zip_code: string;
    readonly country: string;
    readonly state: string;
    readonly display_address: ReadonlyArray<string>;
  };
  readonly phone: string;
  readonly display_phone: string;
  readonly distance: number;
}

export interface YelpFakeOptions {
  /** The only key accepted. Default `test-yelp-key`. */
  readonly apiKey?: string;
  /** Fixed results for every query; default `total` generated from term + location. */
  readonly businesses?: ReadonlyArray<FakeYelpBusiness>;
  /** Generated businesses per query. Default 120. */
  readonly total?: number;
  /** `offset + limit` above this is a VALIDATION_ERROR (the API's reachable-results cap). Default 240. */
  readonly maxResults?: number;
  /** Locations the fake cannot resolve (LOCATION_NOT_FOUND). */
  readonly unknownLocations?: ReadonlyArray<string>;
  /** Enforce a request rate, answering Yelp's 429 TOO_MANY_REQUESTS_PER_SECOND when exceeded. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs?: number };
}

export interface YelpFake extends ProviderFake {
  readonly apiKey: string;
}

const yelpError = (status: number, code: string, description: string): FakeReply => ({
  status,
  json: { error: { code, description } },
});

const TOO_MANY = {
  error: {
    code: "TOO_MANY_REQUESTS_PER_SECOND",
    description:
      "You have exceeded the queries-per-second limit for this endpoint. Try reducing the rate at which you make queries.",
  },
};

/** Builds plausible businesses for a term in "City, ST". */
export const generateYelpBusinesses = (
  term: string,
  location: string,
  total: number,
): ReadonlyArray<FakeYelpBusiness> => {
  const [cityRaw, stateRaw] = location.split(/,\s*/);
  const city = titleCase((cityRaw ?? "Buffalo").trim());
  const state = (stateRaw ?? "NY").trim().slice(0, 2).toUpperCase();
  const rand = seeded(`yelp|${term}|${location}`);
  const category = term.toLowerCase().replace(/[^a-z]+/g, "");
  return Array.from({ length: total }, (_, i) => {
    const surname = FAKE_SURNAMES[(i * 7) % FAKE_SURNAMES.length] ?? "Acme";
    const name = `${surname} ${titleCase(term)}${i >= FAKE_SURNAMES.length ? ` ${Math.floor(i / FAKE_SURNAMES.length) + 1}` : ""}`;
    const alias = `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${city.toLowerCase().replace(/\s+/g, "-")}`;
    const line = `01${String(i % 100).padStart(2, "0")}`;
    const address1 = `${10 + Math.floor(rand() * 990)} ${FAKE_STREETS[i % FAKE_STREETS.length]}`;
    const zip = `14${String(200 + (i % 50)).padStart(3, "0")}`;
    return {
      id: `yelp${String(i).padStart(6, "0")}${alias.slice(0, 8)}`,
      alias,
      name,
      image_url: `https://s3-media1.fl.yelpcdn.com/bphoto/${alias}/o.jpg`,
      is_closed: i === 3,
      url: `https://www.yelp.com/biz/${alias}?adjust_creative=fake&utm_source=yelp_api_v3`,
      review_count: Math.floor(rand() * 400),
      categories: [{ alias: category, title: titleCase(term) }],
      rating: Math.round((2.5 + rand() * 2.5) * 2) / 2,
      coordinates: { latitude: 42.88 + rand() / 10, longitude: -78.88 + rand() / 10 },
      transactions: [],
      location: {
        address1,
        address2: i % 6 === 0 ? "Suite 200" : "",
        address3: null,
        city,
        zip_code: zip,
        country: "US",
        state,
        display_address: [address1, `${city}, ${state} ${zip}`],
      },
      // Yelp sends "" when a business has no phone
      phone: i % 9 === 8 ? "" : `+1716555${line}`,
      display_phone: i % 9 === 8 ? "" : `(716) 555-${line}`,
      distance: rand() * 10_000,
    };
  });
};

/**
 * A fake of Yelp Fusion business search (`GET /v3/businesses/search`): Bearer key, `limit` ≤ 50,
 * offset paging with the reachable-results cap, `total`, daily-limit headers, Yelp's error bodies.
 */
export const startYelpFake = async (options: YelpFakeOptions = {}): Promise<YelpFake> => {
  const apiKey = options.apiKey ?? "test-yelp-key";
  const maxResults = options.maxResults ?? 240;
  const server = await startFakeHttpServer({
    ...(options.rateLimit
      ? { rateLimit: { ...options.rateLimit, reply: { status: 429, json: TOO_MANY } } }
      : {}),
    notFound: yelpError(404, "NOT_FOUND", "Resource could not be found."),
  });
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
    if (auth !== `Bearer ${apiKey}`) {
      return yelpError(401, "TOKEN_INVALID", "Invalid access token or authorization header.");
    }
    const term = req.query.get("term") ?? "";
    const location = req.query.get("location");
    if (location === null || location.trim() === "") {
      return yelpError(400, "VALIDATION_ERROR", "Please specify a location or a latitude and longitude");
    }
    if (options.unknownLocations?.includes(location)) {
      return yelpError(
        400,
        "LOCATION_NOT_FOUND",
        "Could not execute search, try specifying a more exact location.",
      );
    }
    const limit = Number(req.query.get("limit") ?? 20);
    const offset = Number(req.query.get("offset") ?? 0);
    if (!Number.isInteger(limit) || limit < 0 || limit > 50) {
      return yelpError(
        400,
        "VALIDATION_ERROR",
        `${req.query.get("limit")} is greater than the maximum of 50`,
      );
    }
    if (!Number.isInteger(offset) || offset < 0) {
      return yelpError(400, "VALIDATION_ERROR", `${req.query.get("offset")} is less than the minimum of 0`);
    }
    if (offset + limit > maxResults) {
      return yelpError(
        400,
        "VALIDATION_ERROR",
        `Too many results requested, limit+offset must be <= ${maxResults}.`,
      );
    }
    const all = options.businesses ?? generateYelpBusinesses(term, location, options.total ?? 120);
    remaining = Math.max(0, remaining - 1);
    return {
      status: 200,
      headers: {
        "ratelimit-dailylimit": "5000",
        "ratelimit-remaining": String(remaining),
        "ratelimit-resettime": new Date(Date.UTC(2030, 0, 1)).toISOString(),
      },
      json: {
        businesses: all.slice(offset, offset + limit),
        total: all.length,
        region: { center: { longitude: -78.8784, latitude: 42.8864 } },
      },
    };
  };

  server.route("GET", "/v3/businesses/search", handle);
  return {
    server,
    url: server.url,
    apiKey,
    rateLimitNext: (times = 1, retryAfterSeconds) =>
      server.inject(
        {
          type: "status",
          status: 429,
          ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}),
          json: TOO_MANY,
        },
        times,
      ),
    serverErrorNext: (times = 1) =>
      server.inject(
        {
          type: "status",
          status: 500,
          json: {
            error: {
              code: "INTERNAL_ERROR",
              description: "Something went wrong internally, please try again later.",
            },
          },
        },
        times,
      ),
    malformedNext: (times = 1) => server.inject({ type: "malformed" }, times),
    calls: () => server.requests.filter((r) => r.path === "/v3/businesses/search").length,
    close: server.close,
  };
};
