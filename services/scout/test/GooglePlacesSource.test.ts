import { MetricsTest, ProviderHttpLive } from "@leadflow/runtime";
import { type GooglePlacesFake, startGooglePlacesFake } from "@leadflow/testkit/fakes";
import { Effect, Either, Redacted } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import type { SourceError } from "../src/Source.js";
import { makeGooglePlacesSource } from "../src/sources/GooglePlacesSource.js";

let fake: GooglePlacesFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const limits = { ratePerSec: 50, concurrency: 4, timeoutMs: 2_000 };
const query = { industry: "hospital", location: "Buffalo, NY", count: 45, seed: "run-1" };

const search = (f: GooglePlacesFake, q = query, apiKey = f.apiKey, overrides: Partial<typeof limits> = {}) =>
  Effect.runPromise(
    makeGooglePlacesSource({
      apiKey: Redacted.make(apiKey),
      baseUrl: f.url,
      limits: { ...limits, ...overrides },
      retryBaseMs: 10,
    }).pipe(
      Effect.flatMap((source) => Effect.either(source.search(q))),
      Effect.provide(ProviderHttpLive),
      Effect.provide(MetricsTest),
    ),
  );

const left = (r: Either.Either<unknown, SourceError>) =>
  Either.getLeft(r).pipe((o) => (o._tag === "Some" ? o.value : undefined));

describe("Google Places source", () => {
  it("pages with nextPageToken and maps places", async () => {
    fake = await startGooglePlacesFake({ total: 45 });
    const result = await search(fake);
    const companies = Either.getOrThrow(result);
    // place 7 is CLOSED_PERMANENTLY
    expect(companies).toHaveLength(44);
    expect(fake.calls()).toBe(3);
    const bodies = fake.searches();
    expect(bodies[0]).toEqual({
      textQuery: "hospital in Buffalo, NY",
      pageSize: 20,
      regionCode: "US",
      languageCode: "en",
    });
    expect(bodies[1]?.pageToken).toEqual(expect.any(String));
    const headers = fake.server.requests[0]?.headers ?? {};
    expect(headers["x-goog-fieldmask"]).toContain("nextPageToken");
    expect(headers["x-goog-fieldmask"]).toContain("places.websiteUri");
    expect(companies[0]).toMatchObject({
      name: "Abbott Hospital",
      industry: "hospital",
      city: "Buffalo",
      state: "NY",
      postalCode: expect.stringMatching(/^\d{5}$/),
      country: "US",
      phone: "(716) 555-0100",
      website: "https://www.abbotthospital.example/",
      source: "google_places",
      sourceRef: expect.stringMatching(/^ChIJ/),
      isSample: false,
    });
    expect(companies[0]?.address).toMatch(/^\d+ Main St$/);
    expect(companies[0]?.latitude).toEqual(expect.any(Number));
    expect(companies[4]?.website).toBeNull();
  });

  it("stops paging once count is reached", async () => {
    fake = await startGooglePlacesFake({ total: 60 });
    const companies = Either.getOrThrow(await search(fake, { ...query, count: 5 }));
    expect(companies).toHaveLength(5);
    expect(fake.calls()).toBe(1);
    expect(fake.searches()[0]?.pageSize).toBe(5);
  });

  it("waits out a 429 RESOURCE_EXHAUSTED with Retry-After, then succeeds", async () => {
    fake = await startGooglePlacesFake({ total: 10 });
    fake.rateLimitNext(1, 1);
    const started = performance.now();
    const companies = Either.getOrThrow(await search(fake, { ...query, count: 10 }));
    expect(companies).toHaveLength(9);
    expect(fake.calls()).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it("retries a 503, then succeeds", async () => {
    fake = await startGooglePlacesFake({ total: 10 });
    fake.serverErrorNext(2);
    const companies = Either.getOrThrow(await search(fake, { ...query, count: 10 }));
    expect(companies).toHaveLength(9);
    expect(fake.calls()).toBe(3);
  });

  it("a malformed body is a clear, non-retryable error", async () => {
    fake = await startGooglePlacesFake();
    fake.malformedNext();
    const error = left(await search(fake));
    expect(error).toMatchObject({ source: "google_places", retryable: false });
    expect(error?.message).toContain("not JSON");
    expect(fake.calls()).toBe(1);
  });

  it("an invalid key says so and is not retried", async () => {
    fake = await startGooglePlacesFake();
    const error = left(await search(fake, query, "wrong-key"));
    expect(error?.retryable).toBe(false);
    expect(error?.message).toContain("rejected the credentials");
    expect(error?.message).toContain("API key not valid");
    expect(error?.message).toContain("GOOGLE_PLACES_API_KEY");
    expect(error?.message).not.toContain("wrong-key");
    expect(fake.calls()).toBe(1);
  });

  it("a key without the Places API enabled is unauthorized too", async () => {
    fake = await startGooglePlacesFake({ disabledKeys: ["no-places"] });
    const error = left(await search(fake, query, "no-places"));
    expect(error?.message).toContain("PERMISSION_DENIED");
    expect(error?.message).toContain("GOOGLE_PLACES_API_KEY");
    expect(error?.retryable).toBe(false);
  });

  it("keeps the first pages when a later page keeps failing", async () => {
    fake = await startGooglePlacesFake({ total: 45 });
    fake.server.route("POST", "/v1/places:searchText", (req) => {
      const body = JSON.parse(req.body) as { pageToken?: string };
      if (body.pageToken !== undefined)
        return {
          status: 500,
          json: { error: { code: 500, message: "Internal error encountered.", status: "INTERNAL" } },
        };
      return {
        json: {
          places: [
            {
              id: "p1",
              displayName: { text: "Only One" },
              formattedAddress: "1 A St, Buffalo, NY 14201, USA",
            },
          ],
          nextPageToken: "t",
        },
      };
    });
    const companies = Either.getOrThrow(await search(fake));
    expect(companies.map((c) => c.name)).toEqual(["Only One"]);
  });

  it("stays under the provider's rate limit with concurrent searches", async () => {
    fake = await startGooglePlacesFake({ total: 60, rateLimit: { limit: 5, windowMs: 1000 } });
    const f = fake;
    const results = await Effect.runPromise(
      makeGooglePlacesSource({
        apiKey: Redacted.make(f.apiKey),
        baseUrl: f.url,
        limits: { ratePerSec: 4, concurrency: 4, timeoutMs: 2_000 },
        retryBaseMs: 10,
      }).pipe(
        Effect.flatMap((source) =>
          Effect.forEach([1, 2, 3], (i) => source.search({ ...query, count: 60, seed: `r${i}` }), {
            concurrency: "unbounded",
          }),
        ),
        Effect.provide(ProviderHttpLive),
        Effect.provide(MetricsTest),
      ),
    );
    expect(results.map((r) => r.length)).toEqual([59, 59, 59]);
    expect(f.calls()).toBe(9);
    expect(f.server.rateLimitViolations()).toBe(0);
  });
});
