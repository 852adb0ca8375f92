import { type FakeReply, type RecordedRequest, startFakeHttpServer } from "./FakeHttpServer.js";
import { FAKE_STREETS, FAKE_SURNAMES, type ProviderFake, seeded, titleCase } from "./ProviderFake.js";

/** An OSM element as Overpass `[out:json]` returns it with `out tags center`. */
export interface FakeOsmElement {
  readonly type: "node" | "way" | "relation";
  readonly id: number;
  readonly lat?: number;
  readonly lon?: number;
  readonly center?: { readonly lat: number; readonly lon: number };
  readonly tags: Readonly<Record<string, string>>;
}

export interface OverpassFakeOptions {
  /** Fixed elements for every query; default `total` generated from the query's filters. */
  readonly elements?: ReadonlyArray<FakeOsmElement>;
  /** Generated elements per query (a few without a name, as in real OSM data). Default 30. */
  readonly total?: number;
  /** Answer every query with a 200 whose `remark` carries this runtime error. */
  readonly remark?: string;
}

/** What the fake understood of a query, for assertions. */
export interface ParsedOverpassQuery {
  readonly raw: string;
  readonly areaName: string | null;
  readonly stateIso: string | null;
  readonly filters: ReadonlyArray<{
    readonly key: string;
    readonly op: "=" | "~" | "exists";
    readonly value: string;
  }>;
  readonly limit: number | null;
}

export interface OverpassFake extends ProviderFake {
  readonly queries: () => ReadonlyArray<ParsedOverpassQuery>;
}

const html = (message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
<head><meta http-equiv="content-type" content="text/html; charset=utf-8" lang="en"/><title>OSM3S Response</title></head>
<body>
<p>The data included in this document is from www.openstreetmap.org. The data is made available under ODbL.</p>
<p><strong style="color:#FF0000">Error</strong>: ${message} </p>
</body>
</html>
`;

const htmlReply = (status: number, message: string): FakeReply => ({
  status,
  headers: { "content-type": "text/html; charset=utf-8" },
  body: html(message),
});

const unescapeQl = (s: string): string => s.replace(/\\(.)/g, "$1");

/** Reads the parts of an Overpass QL query the scout sends: area name, state, tag filters, limit. */
export const parseOverpassQuery = (ql: string): ParsedOverpassQuery => {
  const str = String.raw`"((?:[^"\\]|\\.)*)"`;
  const area = new RegExp(String.raw`(?:area|rel)[^;]*\["name"=${str}\]`).exec(ql);
  const state = /\["ISO3166-2"="([^"]+)"\]/.exec(ql);
  const filters: Array<{ key: string; op: "=" | "~" | "exists"; value: string }> = [];
  for (const stmt of ql.split(";")) {
    const body = stmt.replace(/^[\s(]+/, "");
    if (!/^(nwr|node|way|relation)\b/.test(body) || !/\(area(\.\w+)?\)/.test(body)) continue;
    const re = new RegExp(String.raw`\[${str}(?:(=|~)${str}(?:,i)?)?\]`, "g");
    for (const m of body.matchAll(re)) {
      filters.push({
        key: unescapeQl(m[1] ?? ""),
        op: (m[2] as "=" | "~" | undefined) ?? "exists",
        value: unescapeQl(m[3] ?? ""),
      });
    }
  }
  const limit = /out[^;]*?\s(\d+)\s*;/.exec(ql);
  return {
    raw: ql,
    areaName: area ? unescapeQl(area[1] ?? "") : null,
    stateIso: state?.[1] ?? null,
    filters,
    limit: limit ? Number(limit[1]) : null,
  };
};

/** Builds elements that match the query's first filter, inside its area. */
export const generateOsmElements = (q: ParsedOverpassQuery, total: number): ReadonlyArray<FakeOsmElement> => {
  const city = q.areaName ?? "Buffalo";
  const state = q.stateIso?.replace(/^US-/, "") ?? "NY";
  const filter = q.filters[0] ?? { key: "amenity", op: "=", value: "place" };
  const label =
    filter.op === "=" ? filter.value.replace(/_/g, " ") : filter.op === "~" ? filter.value : filter.key;
  const rand = seeded(`osm|${q.raw}`);
  return Array.from({ length: total }, (_, i) => {
    const name = `${FAKE_SURNAMES[(i * 3) % FAKE_SURNAMES.length]} ${titleCase(label)}${i >= FAKE_SURNAMES.length ? ` ${i}` : ""}`;
    const tags: Record<string, string> = {
      ...(filter.op === "="
        ? { [filter.key]: filter.value }
        : filter.op === "exists"
          ? { [filter.key]: "yes" }
          : {}),
      ...(i % 10 === 9 ? {} : { name }),
      "addr:housenumber": String(1 + Math.floor(rand() * 999)),
      "addr:street": FAKE_STREETS[i % FAKE_STREETS.length] ?? "Main St",
      ...(i % 4 === 0 ? {} : { "addr:city": city, "addr:state": state, "addr:postcode": `14${200 + i}` }),
      ...(i % 3 === 0 ? { phone: `+1 716 555 01${String(i % 100).padStart(2, "0")}` } : {}),
      ...(i % 2 === 0 ? { website: `https://${name.toLowerCase().replace(/[^a-z0-9]+/g, "")}.example` } : {}),
    };
    const lat = 42.88 + rand() / 10;
    const lon = -78.88 + rand() / 10;
    return i % 2 === 0
      ? { type: "node", id: 1_000_000 + i, lat, lon, tags }
      : { type: "way", id: 2_000_000 + i, center: { lat, lon }, tags };
  });
};

/**
 * A fake of the Overpass API interpreter (`POST /api/interpreter`, form field `data` or a raw
 * body): `[out:json]` envelopes with `elements`, HTML error pages for 400/429/504, and the
 * 200-with-`remark` runtime errors.
 */
export const startOverpassFake = async (options: OverpassFakeOptions = {}): Promise<OverpassFake> => {
  const server = await startFakeHttpServer({ notFound: htmlReply(404, "Unknown request") });
  const queries: Array<ParsedOverpassQuery> = [];

  const handle = (req: RecordedRequest): FakeReply => {
    const contentType = String(req.headers["content-type"] ?? "");
    const ql = contentType.includes("application/x-www-form-urlencoded")
      ? (new URLSearchParams(req.body).get("data") ?? "")
      : req.body;
    if (!/\[out:json\]/.test(ql)) {
      return htmlReply(400, "line 1: parse error: the scout fake only answers [out:json] queries");
    }
    const parsed = parseOverpassQuery(ql);
    queries.push(parsed);
    const envelope = {
      version: 0.6,
      generator: "Overpass API 0.7.62.1 084b4234",
      osm3s: {
        timestamp_osm_base: "2025-01-01T00:00:00Z",
        timestamp_areas_base: "2025-01-01T00:00:00Z",
        copyright:
          "The data included in this document is from www.openstreetmap.org. The data is made available under ODbL.",
      },
    };
    if (options.remark !== undefined)
      return { status: 200, json: { ...envelope, elements: [], remark: options.remark } };
    const all = options.elements ?? generateOsmElements(parsed, options.total ?? 30);
    return { status: 200, json: { ...envelope, elements: all.slice(0, parsed.limit ?? all.length) } };
  };

  server.route("POST", "/api/interpreter", handle);
  return {
    server,
    url: server.url,
    queries: () => queries,
    rateLimitNext: (times = 1, retryAfterSeconds) =>
      server.inject(
        {
          type: "status",
          status: 429,
          ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}),
          body: html(
            "runtime error: open64: 0 Success /osm3s_osm_base Dispatcher_Client::request_read_and_idx::rate_limited. Please check /api/status for the quota of your IP address.",
          ),
        },
        times,
      ),
    serverErrorNext: (times = 1) =>
      server.inject(
        {
          type: "status",
          status: 504,
          body: html(
            "runtime error: open64: 0 Success /osm3s_osm_base Dispatcher_Client::request_read_and_idx::timeout. The server is probably too busy to handle your request.",
          ),
        },
        times,
      ),
    malformedNext: (times = 1) => server.inject({ type: "malformed" }, times),
    calls: () => server.requests.filter((r) => r.path === "/api/interpreter").length,
    close: server.close,
  };
};
