import { startYelpPhoneFake, type YelpPhoneFake } from "@leadflow/testkit/fakes";
import { Effect, Either } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import type { PhoneLookupInput } from "../../src/phones/PhoneSource.js";
import { makeYelpPhoneSource } from "../../src/phones/YelpPhoneSource.js";
import { HttpTest, settings } from "./support.js";

let fake: YelpPhoneFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const company: PhoneLookupInput = {
  name: "Barrett Foods, Inc.",
  city: "Buffalo",
  state: "NY",
  website: null,
  domain: null,
};

const directory = [
  { name: "Barrett Bakery", city: "Buffalo", state: "NY", phone: "7165550140" },
  { name: "Barrett Foods", city: "Buffalo", state: "NY", phone: "7165550142" },
  { name: "Barrett Foods No Phone", city: "Buffalo", state: "NY" },
];

const lookup = (f: YelpPhoneFake, c: PhoneLookupInput = company, apiKey = f.apiKey) =>
  Effect.runPromise(
    makeYelpPhoneSource(settings(f.url, apiKey)).pipe(
      Effect.flatMap((source) => Effect.either(source.lookup(c))),
      Effect.provide(HttpTest),
    ),
  );

const leftOf = <E>(r: Either.Either<unknown, E>) =>
  Either.getLeft(r).pipe((o) => (o._tag === "Some" ? o.value : undefined));

describe("Yelp phone source", () => {
  it("searches term=<name>, location=<city, state>, limit=5 and takes the namesake's phone", async () => {
    fake = await startYelpPhoneFake({ directory });
    const hit = Either.getOrThrow(await lookup(fake));
    expect(hit).toMatchObject({ e164: "+17165550142", national: "(716) 555-0142", source: "yelp" });
    expect(Object.fromEntries(fake.server.requests[0]?.query ?? [])).toEqual({
      term: "Barrett Foods, Inc.",
      location: "Buffalo, NY",
      limit: "5",
    });
    expect(fake.server.requests[0]?.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
  });

  it("answers null when no business matches the name", async () => {
    fake = await startYelpPhoneFake({ directory: [directory[0]!] });
    expect(Either.getOrThrow(await lookup(fake))).toBeNull();
    expect(fake.calls()).toBe(1);
  });

  it("waits out a 429 with Retry-After, then succeeds", async () => {
    fake = await startYelpPhoneFake({ directory });
    fake.rateLimitNext(1, 1);
    const started = performance.now();
    expect(Either.getOrThrow(await lookup(fake))?.e164).toBe("+17165550142");
    expect(fake.calls()).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it("retries a 500, then succeeds", async () => {
    fake = await startYelpPhoneFake({ directory });
    fake.serverErrorNext(2);
    expect(Either.getOrThrow(await lookup(fake))?.e164).toBe("+17165550142");
    expect(fake.calls()).toBe(3);
  });

  it("a malformed body is a clear error", async () => {
    fake = await startYelpPhoneFake({ directory });
    fake.malformedNext();
    const error = leftOf(await lookup(fake));
    expect(error).toMatchObject({ source: "yelp", kind: "invalid_response", retryable: false });
    expect(error?.message).toContain("not JSON");
  });

  it("a bad key is unauthorized and names YELP_API_KEY", async () => {
    fake = await startYelpPhoneFake({ directory });
    const error = leftOf(await lookup(fake, company, "nope"));
    expect(error).toMatchObject({ kind: "unauthorized", status: 401, credential: "YELP_API_KEY" });
    expect(error?.message).toContain("TOKEN_INVALID");
    expect(error?.message).toContain("YELP_API_KEY");
    expect(fake.calls()).toBe(1);
  });
});
