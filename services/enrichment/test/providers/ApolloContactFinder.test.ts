import { type ApolloFake, fakeApolloPerson, startApolloFake } from "@leadflow/testkit/fakes";
import { Effect, Either } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { makeApolloContactFinder } from "../../src/contacts/ApolloContactFinder.js";
import type { ContactLookupInput } from "../../src/contacts/ContactFinder.js";
import { DefaultApolloTitles } from "../../src/EnrichmentConfig.js";
import { HttpTest, settings } from "./support.js";

let fake: ApolloFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const company: ContactLookupInput = {
  name: "Acme Foods",
  domain: null,
  website: "https://www.acmefoods.com/",
};

const people = [
  fakeApolloPerson({ domain: "acmefoods.com", first_name: "Oscar", last_name: "Owner", title: "Owner" }),
  fakeApolloPerson({
    domain: "acmefoods.com",
    first_name: "Dana",
    last_name: "Doyle",
    title: "Director of Facilities",
    email_status: "verified",
  }),
  fakeApolloPerson({
    domain: "acmefoods.com",
    first_name: "Mia",
    last_name: "Moss",
    title: "Marketing Manager",
  }),
];

const find = (f: ApolloFake, c: ContactLookupInput = company, apiKey = f.apiKey) =>
  Effect.runPromise(
    makeApolloContactFinder(settings(f.url, apiKey)).pipe(
      Effect.flatMap((finder) => Effect.either(finder.find(c))),
      Effect.provide(HttpTest),
    ),
  );

const leftOf = <E>(r: Either.Either<unknown, E>) =>
  Either.getLeft(r).pipe((o) => (o._tag === "Some" ? o.value : undefined));

describe("Apollo contact finder", () => {
  it("searches the domain for decision-maker titles, then matches the best-titled person for the email", async () => {
    fake = await startApolloFake({ people: { "acmefoods.com": people } });
    const contacts = Either.getOrThrow(await find(fake));
    expect(contacts).toEqual([
      {
        fullName: "Dana Doyle",
        firstName: "Dana",
        lastName: "Doyle",
        title: "Director of Facilities",
        email: "dana.doyle@acmefoods.com",
        phone: null,
        source: "apollo",
        confidence: 90,
        linkedinUrl: "http://www.linkedin.com/in/dana-doyle",
      },
    ]);
    expect(fake.searches()[0]).toMatchObject({
      q_organization_domains_list: ["acmefoods.com"],
      person_titles: DefaultApolloTitles,
    });
    expect(fake.server.requests[0]?.headers["x-api-key"]).toBe(fake.apiKey);
    // one match (a credit) only: the first candidate had an email
    expect(fake.matches()).toEqual([
      { id: people[1]?.id, reveal_personal_emails: "false", reveal_phone_number: "false" },
    ]);
    expect(fake.creditsUsed()).toBe(1);
  });

  it("tries the next candidate when the best one has no unlocked email", async () => {
    const locked = fakeApolloPerson({
      domain: "acmefoods.com",
      first_name: "Dana",
      last_name: "Doyle",
      title: "Energy Manager",
      email: "email_not_unlocked@domain.com",
    });
    fake = await startApolloFake({ people: { "acmefoods.com": [locked, people[0]!] } });
    const contacts = Either.getOrThrow(await find(fake));
    expect(fake.matchCalls()).toBe(2);
    expect(contacts[0]?.email).toBe("oscar.owner@acmefoods.com");
  });

  it("answers [] when nobody with those titles works there", async () => {
    fake = await startApolloFake({ people: { "acmefoods.com": [people[2]!] } });
    expect(Either.getOrThrow(await find(fake))).toEqual([]);
    expect(fake.matchCalls()).toBe(0);
  });

  it("waits out a 429 with Retry-After, then succeeds", async () => {
    fake = await startApolloFake({ people: { "acmefoods.com": people } });
    fake.rateLimitNext(1, 1);
    const started = performance.now();
    expect(Either.getOrThrow(await find(fake))).toHaveLength(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(fake.calls()).toBe(3);
  });

  it("retries a 500, then succeeds", async () => {
    fake = await startApolloFake({ people: { "acmefoods.com": people } });
    fake.serverErrorNext(1);
    expect(Either.getOrThrow(await find(fake))).toHaveLength(1);
    expect(fake.calls()).toBe(3);
  });

  it("a malformed body is a clear error", async () => {
    fake = await startApolloFake();
    fake.malformedNext();
    const error = leftOf(await find(fake));
    expect(error).toMatchObject({ source: "apollo", kind: "invalid_response", retryable: false });
    expect(error?.message).toContain("not JSON");
  });

  it("a bad key is unauthorized and names APOLLO_API_KEY", async () => {
    fake = await startApolloFake();
    const error = leftOf(await find(fake, company, "bad"));
    expect(error).toMatchObject({ kind: "unauthorized", status: 401, credential: "APOLLO_API_KEY" });
    expect(error?.message).toContain("APOLLO_API_KEY");
    expect(error?.message).toContain("Invalid access credentials");
    expect(fake.calls()).toBe(1);
  });

  it("a free-plan key (403 API_INACCESSIBLE) is reported as a key problem", async () => {
    fake = await startApolloFake({ freePlanKeys: ["free-key"] });
    const error = leftOf(await find(fake, company, "free-key"));
    expect(error).toMatchObject({ kind: "unauthorized", status: 403 });
    expect(error?.message).toContain("free plan");
  });
});
