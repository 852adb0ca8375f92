import { type FakeReply, type RecordedRequest, startFakeHttpServer } from "./FakeHttpServer.js";
import { FAKE_STREETS, FAKE_SURNAMES, type ProviderFake, seeded, titleCase } from "./ProviderFake.js";

/** A place as Places API (New) returns it (the fields a field mask can ask for). */
export interface FakePlace {
  readonly id: string;
  readonly displayName: { readonly text: string; readonly languageCode: string };
  readonly formattedAddress: string;
  readonly nationalPhoneNumber?: string;
  readonly internationalPhoneNumber?: string;
  readonly websiteUri?: string;
  readonly types: ReadonlyArray<string>;
  readonly primaryType?: string;
  readonly location: { readonly latitude: number; readonly longitude: number };
  readonly businessStatus: "OPERATIONAL" | "CLOSED_TEMPORARILY" | "CLOSED_PERMANENTLY";
}

export interface GooglePlacesFakeOptions {
  /** The only key accepted. Default `test-google-key`. */
  readonly apiKey?: string;
  /** Keys that exist but lack the Places API (403 PERMISSION_DENIED). */
  readonly disabledKeys?: ReadonlyArray<string>;
  /** Fixed results for every query; default: `total` places generated from the query. */
  readonly places?: ReadonlyArray<FakePlace>;
  /** Generated places per query (Text Search serves at most 60). Default 45. */
  readonly total?: number;
  /** Enforce a request rate, answering Google's 429 RESOURCE_EXHAUSTED when exceeded. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs?: number };
}

export interface GooglePlacesFake extends ProviderFake {
  readonly apiKey: string;
  /** The decoded JSON bodies of searchText calls, in order. */
  readonly searches: () => ReadonlyArray<Record<string, unknown>>;
}

const MAX_RESULTS = 60;

const QUOTA_EXCEEDED = {
  error: {
    code: 429,
    message:
      "Quota exceeded for quota metric 'Text Search requests' and limit 'Text Search requests per minute' of service 'places.googleapis.com' for consumer 'project_number:000000000000'.",
    status: "RESOURCE_EXHAUSTED",
  },
};

const googleError = (code: number, status: string, message: string, details?: unknown): FakeReply => ({
  status: code,
  json: { error: { code, message, status, ...(details !== undefined ? { details } : {}) } },
});

/** Builds plausible places for "<what> in <city>, <ST>". */
export const generatePlaces = (textQuery: string, total: number): ReadonlyArray<FakePlace> => {
  const match = /^(.*?)\s+in\s+(.+)$/i.exec(textQuery.trim());
  const what = (match?.[1] ?? textQuery).trim() || "business";
  const [cityRaw, stateRaw] = (match?.[2] ?? "Buffalo, NY").split(/,\s*/);
  const city = titleCase(cityRaw ?? "Buffalo");
  const state = (stateRaw ?? "NY").slice(0, 2).toUpperCase();
  const rand = seeded(`google|${textQuery}`);
  return Array.from({ length: total }, (_, i) => {
    const surname = FAKE_SURNAMES[i % FAKE_SURNAMES.length] ?? "Acme";
    const name = `${surname} ${titleCase(what)}${i >= FAKE_SURNAMES.length ? ` ${Math.floor(i / FAKE_SURNAMES.length) + 1}` : ""}`;
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "");
    const line = `01${String(i % 100).padStart(2, "0")}`;
    return {
      id: `ChIJ${slug.slice(0, 12)}${i}`,
      displayName: { text: name, languageCode: "en" },
      formattedAddress: `${100 + Math.floor(rand() * 900)} ${FAKE_STREETS[i % FAKE_STREETS.length]}, ${city}, ${state} 14${String(200 + i).slice(-3)}, USA`,
      nationalPhoneNumber: `(716) 555-${line}`,
      internationalPhoneNumber: `+1 716-555-${line}`,
      ...(i % 5 === 4 ? {} : { websiteUri: `https://www.${slug}.example/` }),
      types: [what.toLowerCase().replace(/\s+/g, "_"), "point_of_interest", "establishment"],
      primaryType: what.toLowerCase().replace(/\s+/g, "_"),
      location: { latitude: 42.88 + rand() / 10, longitude: -78.88 + rand() / 10 },
      businessStatus: i === 7 ? "CLOSED_PERMANENTLY" : "OPERATIONAL",
    };
  });
};

/** Keeps only the fields the mask names (`places.x`, `places.*`, `*`). */
const applyMask = (place: FakePlace, mask: ReadonlyArray<string>): Record<string, unknown> => {
  if (mask.includes("*") || mask.includes("places.*") || mask.includes("places")) return { ...place };
  const out: Record<string, unknown> = {};
  for (const field of mask) {
    if (!field.startsWith("places.")) continue;
    const key = field.slice("places.".length).split(".")[0] as keyof FakePlace;
    if (place[key] !== undefined) out[key] = place[key];
  }
  return out;
};

/**
 * A fake of Places API (New) Text Search (`POST /v1/places:searchText`): key and field-mask
 * checks, `pageSize` ≤ 20, `nextPageToken` paging up to 60 results, Google's error bodies.
 */
export const startGooglePlacesFake = async (
  options: GooglePlacesFakeOptions = {},
): Promise<GooglePlacesFake> => {
  const apiKey = options.apiKey ?? "test-google-key";
  const server = await startFakeHttpServer({
    ...(options.rateLimit
      ? { rateLimit: { ...options.rateLimit, reply: { status: 429, json: QUOTA_EXCEEDED } } }
      : {}),
    notFound: googleError(404, "NOT_FOUND", "Method not found."),
  });
  const searches: Array<Record<string, unknown>> = [];

  const handle = (req: RecordedRequest): FakeReply => {
    const key = req.headers["x-goog-api-key"];
    if (typeof key !== "string" || key === "") {
      return googleError(403, "PERMISSION_DENIED", "The request is missing a valid API key.");
    }
    if (options.disabledKeys?.includes(key)) {
      return googleError(
        403,
        "PERMISSION_DENIED",
        "Places API (New) has not been used in project 000000000000 before or it is disabled. Enable it by visiting the Google Cloud console then retry.",
        [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "SERVICE_DISABLED",
            domain: "googleapis.com",
          },
        ],
      );
    }
    if (key !== apiKey) {
      return googleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
        },
      ]);
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
    let offset = 0;
    if (body.pageToken !== undefined) {
      try {
        const token = JSON.parse(Buffer.from(String(body.pageToken), "base64url").toString("utf8")) as {
          q: string;
          o: number;
        };
        if (token.q !== textQuery) throw new Error("query changed");
        offset = token.o;
      } catch {
        return googleError(400, "INVALID_ARGUMENT", "Invalid page token.");
      }
    }
    const all = (options.places ?? generatePlaces(textQuery, options.total ?? 45)).slice(0, MAX_RESULTS);
    const page = all.slice(offset, offset + pageSize);
    const mask = maskHeader.split(",").map((f) => f.trim());
    const next = offset + pageSize < all.length;
    return {
      status: 200,
      json: {
        ...(page.length > 0 ? { places: page.map((p) => applyMask(p, mask)) } : {}),
        ...(next && mask.includes("nextPageToken")
          ? {
              nextPageToken: Buffer.from(JSON.stringify({ q: textQuery, o: offset + pageSize })).toString(
                "base64url",
              ),
            }
          : {}),
      },
    };
  };

  server.route("POST", "/v1/places:searchText", handle);
  return {
    server,
    url: server.url,
    apiKey,
    searches: () => searches,
    rateLimitNext: (times = 1, retryAfterSeconds) =>
      server.inject(
        {
          type: "status",
          status: 429,
          ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}),
          json: QUOTA_EXCEEDED,
        },
        times,
      ),
    serverErrorNext: (times = 1) =>
      server.inject(
        {
          type: "status",
          status: 503,
          json: {
            error: { code: 503, message: "The service is currently unavailable.", status: "UNAVAILABLE" },
          },
        },
        times,
      ),
    malformedNext: (times = 1) => server.inject({ type: "malformed" }, times),
    calls: () => server.requests.filter((r) => r.path === "/v1/places:searchText").length,
    close: server.close,
  };
};
