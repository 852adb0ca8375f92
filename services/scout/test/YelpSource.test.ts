import { MetricsTest, ProviderHttpLive } from "@leadflow/runtime";
import { startYelpFake, type YelpFake } from "@leadflow/testkit/fakes";
import { Effect, Either, Redacted } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import type { SourceError } from "../src/Source.js";
import { makeYelpSource } from "../src/sources/YelpSource.js";

let fake: YelpFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const query = { industry: "hotel", location: "Buffalo, NY", count: 100, seed: "run-1" };

const search = (f: YelpFake, q = query, options: { apiKey?: string; maxResults?: number } = {}) =>
  Effect.runPromise(
    makeYelpSource({
      apiKey: Redacted.make(options.apiKey ?? f.apiKey),
      baseUrl: f.url,
      limits: { ratePerSec: 50, concurrency: 4, timeoutMs: 2_000 },
      maxResults: options.maxResults ?? 240,
      retryBaseMs: 10,
    }).pipe(
      Effect.flatMap((source) => Effect.either(source.search(q))),
      Effect.provide(ProviderHttpLive),
      Effect.provide(MetricsTest),
    ),
  );

const left = (r: Either.Either<unknown, SourceError>) =>
  Either.getLeft(r).pipe((o) => (o._tag === "Some" ? o.value : undefined));

describe("Yelp source", () => {
  it("pages by offset and maps businesses", async () => {
    fake = await startYelpFake({ total: 120 });
    const companies = Either.getOrThrow(await search(fake));
    expect(companies).toHaveLength(100);
    const params = fake.server.requests.map((r) => Object.fromEntries(r.query));
    expect(params).toEqual([
      { term: "hotel", location: "Buffalo, NY", limit: "50", offset: "0" },
      { term: "hotel", location: "Buffalo, NY", limit: "50", offset: "50" },
      { term: "hotel", location: "Buffalo, NY", limit: "50", offset: "100" },
    ]);
    expect(fake.server.requests[0]?.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    // business 3 is closed
    expect(companies.some((c) => c.sourceRef?.startsWith("yelp000003"))).toBe(false);
    expect(companies[0]).toMatchObject({
      name: "Abbott Hotel",
      industry: "hotel",
      city: "Buffalo",
      state: "NY",
      postalCode: "14200",
      country: "US",
      phone: "(716) 555-0100",
      website: null,
      source: "yelp",
      isSample: false,
    });
    expect(companies[0]?.address).toMatch(/^\d+ Main St, Suite 200$/);
    expect(companies.find((c) => c.sourceRef?.startsWith("yelp000008"))?.phone).toBeNull();
  });

  it("stops at total", async () => {
    fake = await startYelpFake({ total: 30 });
    const companies = Either.getOrThrow(await search(fake, { ...query, count: 500 }));
    expect(companies).toHaveLength(29);
    expect(fake.calls()).toBe(1);
  });

  it("stops at the reachable-results cap", async () => {
    fake = await startYelpFake({ total: 1000 });
    const companies = Either.getOrThrow(await search(fake, { ...query, count: 1000 }));
    expect(fake.calls()).toBe(5);
    expect(fake.server.requests.at(-1)?.query.get("limit")).toBe("40");
    expect(companies.length).toBeGreaterThan(200);
    expect(companies.length).toBeLessThanOrEqual(240);
  });

  it("keeps what it has when the API refuses a deeper page", async () => {
    fake = await startYelpFake({ total: 1000, maxResults: 100 });
    const companies = Either.getOrThrow(await search(fake, { ...query, count: 1000 }, { maxResults: 1000 }));
    expect(fake.calls()).toBe(3);
    expect(companies).toHaveLength(99);
  });

  it("waits out a 429 TOO_MANY_REQUESTS_PER_SECOND with Retry-After, then succeeds", async () => {
    fake = await startYelpFake({ total: 20 });
    fake.rateLimitNext(1, 1);
    const started = performance.now();
    const companies = Either.getOrThrow(await search(fake));
    expect(companies).toHaveLength(19);
    expect(fake.calls()).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it("retries a 500, then succeeds", async () => {
    fake = await startYelpFake({ total: 20 });
    fake.serverErrorNext(1);
    expect(Either.getOrThrow(await search(fake))).toHaveLength(19);
    expect(fake.calls()).toBe(2);
  });

  it("a malformed body is a clear error", async () => {
    fake = await startYelpFake();
    fake.malformedNext();
    const error = left(await search(fake));
    expect(error).toMatchObject({ source: "yelp", retryable: false });
    expect(error?.message).toContain("not JSON");
  });

  it("a bad key is unauthorized with a clear message and no retry", async () => {
    fake = await startYelpFake();
    const error = left(await search(fake, query, { apiKey: "nope" }));
    expect(error?.retryable).toBe(false);
    expect(error?.message).toContain("TOKEN_INVALID");
    expect(error?.message).toContain("YELP_API_KEY");
    expect(fake.calls()).toBe(1);
  });

  it("the daily cap is not retried in-process", async () => {
    fake = await startYelpFake();
    fake.server.inject(
      {
        type: "status",
        status: 429,
        json: {
          error: {
            code: "ACCESS_LIMIT_REACHED",
            description: "You've reached the access limit for this client.",
          },
        },
      },
      3,
    );
    const error = left(await search(fake));
    expect(error?.retryable).toBe(false);
    expect(error?.message).toContain("ACCESS_LIMIT_REACHED");
    expect(fake.calls()).toBe(1);
  });

  it("an unknown location is a non-retryable error", async () => {
    fake = await startYelpFake({ unknownLocations: ["Atlantis"] });
    const error = left(await search(fake, { ...query, location: "Atlantis" }));
    expect(error?.retryable).toBe(false);
    expect(error?.message).toContain("LOCATION_NOT_FOUND");
  });
});
