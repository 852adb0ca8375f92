import { type GooglePlacesPhoneFake, startGooglePlacesPhoneFake } from "@leadflow/testkit/fakes";
import { Effect, Either } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { makeGooglePlacesPhoneSource } from "../../src/phones/GooglePlacesPhoneSource.js";
import type { PhoneLookupInput } from "../../src/phones/PhoneSource.js";
import { HttpTest, settings } from "./support.js";

let fake: GooglePlacesPhoneFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const company: PhoneLookupInput = {
  name: "Abbott Hotel",
  city: "Buffalo",
  state: "NY",
  website: null,
  domain: null,
};

const lookup = (f: GooglePlacesPhoneFake, c: PhoneLookupInput = company, apiKey = f.apiKey) =>
  Effect.runPromise(
    makeGooglePlacesPhoneSource(settings(f.url, apiKey)).pipe(
      Effect.flatMap((source) => Effect.either(source.lookup(c))),
      Effect.provide(HttpTest),
    ),
  );

const directory = [
  { name: "Abbott Hotel & Suites Parking", city: "Buffalo", state: "NY", phone: "716-555-0111" },
  { name: "Abbott Hotel", city: "Buffalo", state: "NY", phone: "(716) 555-0123", street: "12 Main St" },
  { name: "Abbott Hotel", city: "Rochester", state: "NY", phone: "585-555-0100" },
];

describe("Google Places phone source", () => {
  it("asks Text Search for '<name> <city> <state>' with the phone field mask and picks the namesake", async () => {
    fake = await startGooglePlacesPhoneFake({ directory });
    const hit = Either.getOrThrow(await lookup(fake));
    expect(hit).toMatchObject({
      e164: "+17165550123",
      national: "(716) 555-0123",
      source: "google_places",
      raw: { name: "Abbott Hotel" },
    });
    expect(hit?.confidence).toBeGreaterThanOrEqual(80);
    const request = fake.server.requests[0];
    expect(request?.headers["x-goog-fieldmask"]).toBe(
      "places.id,places.displayName,places.formattedAddress,places.nationalPhoneNumber,places.internationalPhoneNumber",
    );
    expect(request?.headers["x-goog-api-key"]).toBe(fake.apiKey);
    expect(fake.searches()[0]).toMatchObject({ textQuery: "Abbott Hotel Buffalo NY" });
  });

  it("does not take the first result when its name does not match", async () => {
    // the fake puts "Buffalo Visitor Center" first
    fake = await startGooglePlacesPhoneFake({ directory });
    const hit = Either.getOrThrow(await lookup(fake));
    expect(hit?.e164).not.toBe("+17165550000");
  });

  it("answers null when no result matches the name", async () => {
    fake = await startGooglePlacesPhoneFake({
      directory: [{ name: "Abbott Plumbing", city: "Buffalo", state: "NY", phone: "7165550150" }],
    });
    expect(Either.getOrThrow(await lookup(fake))).toBeNull();
    expect(fake.calls()).toBe(1);
  });

  it("answers null when Google finds nothing at all ({})", async () => {
    fake = await startGooglePlacesPhoneFake({ directory: [] });
    expect(Either.getOrThrow(await lookup(fake))).toBeNull();
  });

  it("waits out a 429 with Retry-After, then succeeds", async () => {
    fake = await startGooglePlacesPhoneFake({ directory });
    fake.rateLimitNext(1, 1);
    const started = performance.now();
    expect(Either.getOrThrow(await lookup(fake))?.e164).toBe("+17165550123");
    expect(fake.calls()).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it("retries a 503, then succeeds", async () => {
    fake = await startGooglePlacesPhoneFake({ directory });
    fake.serverErrorNext(1);
    expect(Either.getOrThrow(await lookup(fake))?.e164).toBe("+17165550123");
    expect(fake.calls()).toBe(2);
  });

  it("a malformed body is a clear, non-retryable error", async () => {
    fake = await startGooglePlacesPhoneFake({ directory });
    fake.malformedNext();
    const result = await lookup(fake);
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toMatchObject({
      _tag: "PhoneLookupError",
      source: "google_places",
      kind: "invalid_response",
    });
    expect(error?.retryable).toBe(false);
    expect(error?.message).toContain("not JSON");
    expect(fake.calls()).toBe(1);
  });

  it("a bad key is unauthorized, names GOOGLE_PLACES_API_KEY and is not retried", async () => {
    fake = await startGooglePlacesPhoneFake({ directory });
    const result = await lookup(fake, company, "wrong-key");
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toMatchObject({ kind: "unauthorized", status: 400, credential: "GOOGLE_PLACES_API_KEY" });
    expect(error?.message).toContain("GOOGLE_PLACES_API_KEY");
    expect(error?.message).toContain("API key not valid");
    expect(fake.calls()).toBe(1);
  });
});
