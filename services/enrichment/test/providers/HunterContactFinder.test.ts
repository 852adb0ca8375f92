import { fakeHunterEmail, type HunterFake, startHunterFake } from "@leadflow/testkit/fakes";
import { Effect, Either } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import type { ContactLookupInput } from "../../src/contacts/ContactFinder.js";
import { makeHunterContactFinder } from "../../src/contacts/HunterContactFinder.js";
import { HttpTest, settings } from "./support.js";

let fake: HunterFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const company: ContactLookupInput = { name: "Acme Foods", domain: "AcmeFoods.com", website: null };

const emails = [
  fakeHunterEmail({
    value: "sam.sales@acmefoods.com",
    first_name: "Sam",
    last_name: "Sales",
    position: "Sales Representative",
    confidence: 97,
  }),
  fakeHunterEmail({
    value: "fiona.fix@acmefoods.com",
    first_name: "Fiona",
    last_name: "Fix",
    position: "Facilities Manager",
    confidence: 88,
    linkedin: "https://www.linkedin.com/in/fiona-fix",
    phone_number: "+1 716 555 0188",
  }),
  fakeHunterEmail({ value: "info@acmefoods.com", type: "generic", confidence: 99 }),
];

const find = (f: HunterFake, c: ContactLookupInput = company, apiKey = f.apiKey) =>
  Effect.runPromise(
    makeHunterContactFinder(settings(f.url, apiKey)).pipe(
      Effect.flatMap((finder) => Effect.either(finder.find(c))),
      Effect.provide(HttpTest),
    ),
  );

const leftOf = <E>(r: Either.Either<unknown, E>) =>
  Either.getLeft(r).pipe((o) => (o._tag === "Some" ? o.value : undefined));

describe("Hunter contact finder", () => {
  it("searches the domain for personal addresses and ranks by title relevance", async () => {
    fake = await startHunterFake({ domains: { "acmefoods.com": emails } });
    const contacts = Either.getOrThrow(await find(fake));
    expect(contacts.map((c) => c.email)).toEqual(["fiona.fix@acmefoods.com", "sam.sales@acmefoods.com"]);
    expect(contacts[0]).toEqual({
      fullName: "Fiona Fix",
      firstName: "Fiona",
      lastName: "Fix",
      title: "Facilities Manager",
      email: "fiona.fix@acmefoods.com",
      phone: "+1 716 555 0188",
      source: "hunter",
      confidence: 88,
      linkedinUrl: "https://www.linkedin.com/in/fiona-fix",
    });
    const query = fake.server.requests[0]?.query;
    expect(query?.get("domain")).toBe("acmefoods.com");
    expect(query?.get("type")).toBe("personal");
    expect(query?.get("limit")).toBe("10");
    expect(query?.get("api_key")).toBe(fake.apiKey);
  });

  it("answers [] for a domain Hunter knows nothing about", async () => {
    fake = await startHunterFake({ domains: { "acmefoods.com": [] } });
    expect(Either.getOrThrow(await find(fake))).toEqual([]);
    expect(fake.creditsUsed()).toBe(0);
  });

  it("makes no call without a company domain (or with a platform's)", async () => {
    fake = await startHunterFake();
    expect(Either.getOrThrow(await find(fake, { name: "X", domain: null, website: null }))).toEqual([]);
    const facebook = { name: "X", domain: null, website: "https://www.facebook.com/acme" };
    expect(Either.getOrThrow(await find(fake, facebook))).toEqual([]);
    expect(fake.calls()).toBe(0);
  });

  it("waits out a rate-limit 403 with Retry-After, then succeeds", async () => {
    fake = await startHunterFake({ domains: { "acmefoods.com": emails } });
    fake.rateLimitNext(1, 1);
    const started = performance.now();
    expect(Either.getOrThrow(await find(fake))).toHaveLength(2);
    expect(fake.calls()).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it("a 429 (monthly plan used up) is rate_limited and not retried", async () => {
    fake = await startHunterFake({ domains: { "acmefoods.com": emails } });
    fake.quotaExhaustedNext();
    const error = leftOf(await find(fake));
    expect(error).toMatchObject({ source: "hunter", kind: "rate_limited", status: 429, retryable: false });
    expect(error?.message).toContain("usage limit");
    expect(fake.calls()).toBe(1);
  });

  it("retries a 500, then succeeds", async () => {
    fake = await startHunterFake({ domains: { "acmefoods.com": emails } });
    fake.serverErrorNext(1);
    expect(Either.getOrThrow(await find(fake))).toHaveLength(2);
    expect(fake.calls()).toBe(2);
  });

  it("a malformed body is a clear error", async () => {
    fake = await startHunterFake();
    fake.malformedNext();
    const error = leftOf(await find(fake));
    expect(error).toMatchObject({ kind: "invalid_response", retryable: false });
    expect(error?.message).toContain("not JSON");
  });

  it("a bad key is unauthorized, names HUNTER_API_KEY and never shows the key", async () => {
    fake = await startHunterFake();
    const error = leftOf(await find(fake, company, "secret-wrong-key"));
    expect(error).toMatchObject({ kind: "unauthorized", status: 401, credential: "HUNTER_API_KEY" });
    expect(error?.message).toContain("HUNTER_API_KEY");
    expect(error?.message).toContain("No user found for the API key supplied");
    expect(error?.message).not.toContain("secret-wrong-key");
    expect(fake.calls()).toBe(1);
  });
});
