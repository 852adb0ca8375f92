import { MetricsTest, ProviderHttpLive } from "@leadflow/runtime";
import { type OverpassFake, type OverpassFakeOptions, startOverpassFake } from "@leadflow/testkit/fakes";
import { Effect, Either } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import type { SourceError } from "../src/Source.js";
import { buildOverpassQuery, makeOverpassSource, osmTagsFor } from "../src/sources/OverpassSource.js";

let fake: OverpassFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const query = { industry: "hospital", location: "Buffalo, NY", count: 20, seed: "run-1" };
const UA = "leadflow-test/1.0 (tests@example.com)";

const start = async (options: OverpassFakeOptions = {}) => {
  fake = await startOverpassFake(options);
  return fake;
};

const search = (f: OverpassFake, q = query) =>
  Effect.runPromise(
    makeOverpassSource({
      baseUrl: f.url,
      userAgent: UA,
      limits: { ratePerSec: 50, concurrency: 1, timeoutMs: 2_000 },
      retryBaseMs: 10,
    }).pipe(
      Effect.flatMap((source) => Effect.either(source.search(q))),
      Effect.provide(ProviderHttpLive),
      Effect.provide(MetricsTest),
    ),
  );

const left = (r: Either.Either<unknown, SourceError>) =>
  Either.getLeft(r).pipe((o) => (o._tag === "Some" ? o.value : undefined));

describe("buildOverpassQuery", () => {
  it("looks the city up inside its state and filters by the industry's tags", () => {
    const ql = buildOverpassQuery("hospital", "Buffalo, NY", 40);
    expect(ql).toContain("[out:json]");
    expect(ql).toContain('area["ISO3166-2"="US-NY"]["admin_level"="4"]->.state;');
    expect(ql).toContain('rel(area.state)["boundary"="administrative"]["name"="Buffalo"];');
    expect(ql).toContain('nwr["amenity"="hospital"](area.searchArea);');
    expect(ql).toContain('nwr["healthcare"="hospital"](area.searchArea);');
    expect(ql).toContain("out tags center 40;");
  });

  it("maps known industries and falls back to a name match, escaped", () => {
    expect(osmTagsFor("Grocery stores")).toEqual([
      { key: "shop", value: "supermarket" },
      { key: "shop", value: "grocery" },
    ]);
    expect(osmTagsFor("hotels")?.[0]).toEqual({ key: "tourism", value: "hotel" });
    expect(osmTagsFor("school")?.[0]).toEqual({ key: "amenity", value: "school" });
    const ql = buildOverpassQuery('Bob\'s "best" bakery (24h)', "Texas", 10) ?? "";
    expect(ql).toContain('nwr["name"~"Bob\'s \\"best\\" bakery \\\\(24h\\\\)",i](area.state);');
    expect(ql).not.toContain("searchArea");
  });

  it("needs a city or a state", () => {
    expect(buildOverpassQuery("hospital", "", 10)).toBeNull();
  });
});

describe("Overpass source", () => {
  it("posts the query with a descriptive User-Agent and maps named elements", async () => {
    const f = await start({ total: 30 });
    const companies = Either.getOrThrow(await search(f));
    expect(companies).toHaveLength(20);
    const req = f.server.requests[0];
    expect(req?.headers["user-agent"]).toBe(UA);
    expect(req?.headers["content-type"]).toContain("application/x-www-form-urlencoded");
    expect(f.queries()[0]).toMatchObject({
      areaName: "Buffalo",
      stateIso: "US-NY",
      filters: [
        { key: "amenity", op: "=", value: "hospital" },
        { key: "healthcare", op: "=", value: "hospital" },
      ],
      limit: 40,
    });
    expect(companies.every((c) => c.name !== "" && c.source === "overpass" && c.state === "NY")).toBe(true);
    expect(companies[0]).toMatchObject({
      name: "Abbott Hospital",
      city: "Buffalo",
      address: expect.stringMatching(/^\d+ Main St$/),
      sourceRef: "node/1000000",
      latitude: expect.any(Number),
      website: "https://abbotthospital.example",
    });
    expect(companies[1]?.sourceRef).toBe("way/2000001");
    expect(companies[1]?.latitude).toEqual(expect.any(Number));
  });

  it("waits out a 429 (HTML body) with Retry-After, then succeeds", async () => {
    const f = await start();
    f.rateLimitNext(1, 1);
    const started = performance.now();
    expect(Either.getOrThrow(await search(f))).toHaveLength(20);
    expect(f.calls()).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it("retries a 504, then succeeds", async () => {
    const f = await start();
    f.serverErrorNext(1);
    expect(Either.getOrThrow(await search(f))).toHaveLength(20);
    expect(f.calls()).toBe(2);
  });

  it("reports the Overpass error text from an HTML error page", async () => {
    const f = await start();
    f.serverErrorNext(3);
    const error = left(await search(f));
    expect(error?.retryable).toBe(true);
    expect(error?.message).toContain("504");
    expect(error?.message).toContain("The server is probably too busy");
  });

  it("a runtime error remark is a retryable error", async () => {
    const f = await start({
      remark: 'runtime error: Query timed out in "query" at line 5 after 26 seconds.',
    });
    const error = left(await search(f));
    expect(error?.retryable).toBe(true);
    expect(error?.message).toContain("Query timed out");
  });

  it("a malformed body is a clear error", async () => {
    const f = await start();
    f.malformedNext();
    const error = left(await search(f));
    expect(error?.retryable).toBe(false);
    expect(error?.message).toContain("not JSON");
  });

  it("refuses a location it cannot place, without calling", async () => {
    const f = await start();
    const error = left(await search(f, { ...query, location: "  " }));
    expect(error?.retryable).toBe(false);
    expect(f.calls()).toBe(0);
  });
});
