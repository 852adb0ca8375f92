import { baseUrlConfig, type ProviderError, ProviderHttp } from "@leadflow/runtime";
import { Config, Effect, Layer, Schema } from "effect";
import { dedupeCompanies } from "../Dedupe.js";
import { parseLocation, stateCode } from "../Location.js";
import { type FoundCompany, type ScoutSource, ScoutSources, SourceError } from "../Source.js";
import { type ProviderLimits, providerLimitsConfig, providerRetryConfig } from "./ProviderLimits.js";

const SOURCE = "overpass";

/** An OSM tag filter: `value: null` means "has the key". */
export interface OsmTag {
  readonly key: string;
  readonly value: string | null;
}

const tag = (key: string, value: string | null = null): OsmTag => ({ key, value });

/** Industry words → OSM tags (first match wins; order puts specific words first). */
const INDUSTRY_TAGS: ReadonlyArray<readonly [ReadonlyArray<string>, ReadonlyArray<OsmTag>]> = [
  [
    ["data center", "datacenter", "data centre"],
    [tag("telecom", "data_center"), tag("building", "data_center")],
  ],
  [["hospital"], [tag("amenity", "hospital"), tag("healthcare", "hospital")]],
  [
    ["clinic", "medical"],
    [tag("amenity", "clinic"), tag("healthcare", "clinic")],
  ],
  [
    ["nursing", "care home"],
    [tag("amenity", "nursing_home"), tag("social_facility", "nursing_home")],
  ],
  [
    ["university", "college"],
    [tag("amenity", "university"), tag("amenity", "college")],
  ],
  [["school", "academy"], [tag("amenity", "school")]],
  [
    ["hotel", "motel", "lodging"],
    [tag("tourism", "hotel"), tag("tourism", "motel")],
  ],
  [
    ["supermarket", "grocery", "grocer"],
    [tag("shop", "supermarket"), tag("shop", "grocery")],
  ],
  [["restaurant", "diner"], [tag("amenity", "restaurant")]],
  [
    ["warehouse", "logistics", "distribution"],
    [tag("building", "warehouse"), tag("industrial", "warehouse")],
  ],
  [
    ["manufactur", "factory", "plant"],
    [tag("man_made", "works"), tag("industrial", "factory")],
  ],
  [["office"], [tag("office")]],
  [["church", "place of worship"], [tag("amenity", "place_of_worship")]],
  [["gym", "fitness"], [tag("leisure", "fitness_centre")]],
  [["bank"], [tag("amenity", "bank")]],
  [
    ["retail", "department store", "mall"],
    [tag("shop", "department_store"), tag("shop", "mall")],
  ],
];

/** The tags for an industry, or null when only a name match is possible. */
export const osmTagsFor = (industry: string): ReadonlyArray<OsmTag> | null => {
  const lower = industry.toLowerCase();
  return INDUSTRY_TAGS.find(([words]) => words.some((w) => lower.includes(w)))?.[1] ?? null;
};

/** A QL string literal (quotes and backslashes escaped). */
const ql = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

const regexEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The Overpass QL query for an industry in a US location. A city is looked up as an
 * administrative boundary inside its state when the state is known.
 */
export const buildOverpassQuery = (industry: string, location: string, limit: number): string | null => {
  const where = parseLocation(location);
  if (where.city === null && where.state === null) return null;
  const lines = ["[out:json][timeout:25];"];
  if (where.state !== null)
    lines.push(`area["ISO3166-2"=${ql(`US-${where.state}`)}]["admin_level"="4"]->.state;`);
  if (where.city !== null) {
    if (where.state !== null) {
      lines.push(
        `rel(area.state)["boundary"="administrative"]["name"=${ql(where.city)}];`,
        "map_to_area->.searchArea;",
      );
    } else {
      lines.push(`area["boundary"="administrative"]["name"=${ql(where.city)}]->.searchArea;`);
    }
  }
  const area = where.city !== null ? "area.searchArea" : "area.state";
  const tags = osmTagsFor(industry);
  const filters =
    tags !== null
      ? tags.map((t) => `[${ql(t.key)}${t.value !== null ? `=${ql(t.value)}` : ""}]`)
      : [`["name"~${ql(regexEscape(industry.trim()))},i]`];
  lines.push("(", ...filters.map((f) => `  nwr${f}(${area});`), ");", `out tags center ${limit};`);
  return lines.join("\n");
};

const Element = Schema.Struct({
  type: Schema.Literal("node", "way", "relation"),
  id: Schema.Number,
  lat: Schema.optional(Schema.Number),
  lon: Schema.optional(Schema.Number),
  center: Schema.optional(Schema.Struct({ lat: Schema.Number, lon: Schema.Number })),
  tags: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), {
    default: () => ({}),
  }),
});
type Element = typeof Element.Type;

const InterpreterResponse = Schema.Struct({
  elements: Schema.Array(Element),
  remark: Schema.optional(Schema.String),
});

/** Overpass errors are HTML pages whose message follows a bold "Error". */
const describeError = (_body: unknown, text: string): string | undefined => {
  const m = /<strong[^>]*>\s*Error\s*<\/strong>\s*:?\s*([\s\S]*?)<\/p>/i.exec(text);
  return m?.[1]?.replace(/\s+/g, " ").trim();
};

const toCompany = (
  e: Element,
  industry: string,
  fallback: { city: string | null; state: string | null },
): FoundCompany | null => {
  const t = e.tags;
  const name = t.name?.trim();
  if (!name) return null;
  const street = [t["addr:housenumber"], t["addr:street"]]
    .filter((s) => s !== undefined && s !== "")
    .join(" ");
  const stateTag = t["addr:state"];
  return {
    name,
    industry,
    address: street !== "" ? street : (t["addr:full"] ?? null),
    // the element lies inside the searched area, so the area stands in for a missing addr:*
    city: t["addr:city"] ?? fallback.city,
    state: (stateTag !== undefined ? stateCode(stateTag) : null) ?? fallback.state,
    postalCode: t["addr:postcode"] ?? null,
    country: "US",
    phone: t.phone ?? t["contact:phone"] ?? null,
    website: t.website ?? t["contact:website"] ?? t.url ?? null,
    latitude: e.lat ?? e.center?.lat ?? null,
    longitude: e.lon ?? e.center?.lon ?? null,
    employeeCount: null,
    sites: null,
    source: SOURCE,
    sourceRef: `${e.type}/${e.id}`,
    isSample: false,
    raw: e,
  };
};

const toSourceError = (e: ProviderError) =>
  new SourceError({ source: SOURCE, message: e.message, retryable: e.retryable, cause: e });

export interface OverpassSourceOptions {
  readonly baseUrl: string;
  readonly userAgent: string;
  readonly limits: ProviderLimits;
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
}

/** OpenStreetMap through the Overpass API: one query per search, few and slow (fair use). */
export const makeOverpassSource = (options: OverpassSourceOptions) =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp;
    const client = yield* http.client({
      provider: SOURCE,
      baseUrl: options.baseUrl,
      headers: { "User-Agent": options.userAgent },
      limits: options.limits,
      describeError,
      maxAttempts: options.maxAttempts,
      retryBaseMs: options.retryBaseMs,
    });

    const source: ScoutSource = {
      name: SOURCE,
      search: (q) =>
        Effect.gen(function* () {
          // unnamed elements are dropped, so ask for some slack
          const limit = Math.min(2000, Math.ceil(q.count * 1.5) + 10);
          const query = buildOverpassQuery(q.industry, q.location, limit);
          if (query === null) {
            return yield* new SourceError({
              source: SOURCE,
              message: `overpass: cannot search "${q.location}": no US city or state recognised`,
              retryable: false,
            });
          }
          const body = yield* client
            .json({
              method: "POST",
              path: "/api/interpreter",
              form: { data: query },
              schema: InterpreterResponse,
            })
            .pipe(Effect.mapError(toSourceError));
          if (body.remark !== undefined && /error/i.test(body.remark)) {
            // runtime errors (query timeout, out of memory) arrive as 200 with a remark
            return yield* new SourceError({
              source: SOURCE,
              message: `overpass: ${body.remark}`,
              retryable: true,
            });
          }
          const where = parseLocation(q.location);
          const companies = body.elements
            .map((e) => toCompany(e, q.industry, where))
            .filter((c): c is FoundCompany => c !== null);
          return dedupeCompanies(companies).slice(0, q.count);
        }).pipe(Effect.withSpan("OverpassSource.search")),
    };
    return source;
  });

/** The Overpass source's settings. */
export const overpassSourceConfig = Config.all({
  baseUrl: baseUrlConfig("OVERPASS_BASE_URL", "https://overpass-api.de"),
  userAgent: Config.string("OVERPASS_USER_AGENT").pipe(
    Config.withDefault("leadflow-scout/0.1 (business lead research; contact: set OVERPASS_USER_AGENT)"),
  ),
  limits: providerLimitsConfig("OVERPASS", { ratePerSec: 0.5, concurrency: 1, timeoutMs: 60_000 }),
  retry: providerRetryConfig("OVERPASS"),
}).pipe(Config.map(({ retry, ...s }) => ({ ...s, ...retry })));

/** The Overpass source built from configuration. */
export const overpassSourceFromConfig = Effect.flatMap(overpassSourceConfig, makeOverpassSource);

/** Only the Overpass source. */
export const OverpassSourceLive = Layer.effect(
  ScoutSources,
  Effect.map(overpassSourceFromConfig, (s) => [s]),
);
