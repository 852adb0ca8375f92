import {
  type ApolloFake,
  fakeApolloPerson,
  fakeHunterEmail,
  type HunterFake,
  startApolloFake,
  startHunterFake,
} from "@leadflow/testkit/fakes";
import { ConfigProvider, Effect, Layer } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { makeApolloContactFinder } from "../../src/contacts/ApolloContactFinder.js";
import { ContactChain, ContactChainLive, makeContactChain } from "../../src/contacts/ContactChain.js";
import type { ContactLookupInput } from "../../src/contacts/ContactFinder.js";
import { makeHunterContactFinder } from "../../src/contacts/HunterContactFinder.js";
import { makeWebsiteContactFinder } from "../../src/contacts/WebsiteContactFinder.js";
import type { WebsiteFindings } from "../../src/web/Website.js";
import { emptyFindings, HttpTest, memoryCache, settings, ttl, websiteStub } from "./support.js";

let hunter: HunterFake | undefined;
let apollo: ApolloFake | undefined;
afterEach(async () => {
  await Promise.all([hunter?.close(), apollo?.close()]);
  hunter = undefined;
  apollo = undefined;
});

const company = (domain: string): ContactLookupInput => ({
  name: domain.split(".")[0] ?? domain,
  domain,
  website: `https://www.${domain}/`,
});

const start = async () => {
  hunter = await startHunterFake({ generate: false });
  apollo = await startApolloFake({ generate: false });
  return { hunter, apollo };
};

const roleMailboxSite = (url: string): WebsiteFindings => ({
  url,
  pagesScanned: 2,
  phones: [],
  emails: [{ email: "info@gamma.com", page: url, source: "mailto" }],
  people: [],
});

const chainOver = (
  fakes: { hunter: HunterFake; apollo: ApolloFake },
  sites: Parameters<typeof websiteStub>[0] = {},
  keys: { hunter?: string; apollo?: string } = {},
) => {
  const site = websiteStub(sites);
  const build = Effect.gen(function* () {
    const finders = [
      yield* makeHunterContactFinder(settings(fakes.hunter.url, keys.hunter ?? fakes.hunter.apiKey)),
      yield* makeApolloContactFinder(settings(fakes.apollo.url, keys.apollo ?? fakes.apollo.apiKey)),
      yield* makeWebsiteContactFinder({ ttl }),
    ];
    return yield* makeContactChain(finders, { ttl });
  });
  const layer = Layer.mergeAll(HttpTest, memoryCache().layer, site.layer);
  return {
    site,
    find: (...companies: ReadonlyArray<ContactLookupInput>) =>
      Effect.runPromise(
        build.pipe(
          Effect.flatMap((chain) => Effect.forEach(companies, (c) => chain.find(c))),
          Effect.provide(layer),
        ),
      ),
  };
};

describe("contact chain", () => {
  it("stops at Hunter when it has a usable contact, ranked best first", async () => {
    const fakes = await start();
    fakes.hunter.setDomain("alpha.com", [
      fakeHunterEmail({ value: "sam@alpha.com", first_name: "Sam", position: "Sales", confidence: 99 }),
      fakeHunterEmail({ value: "cfo@alpha.com", first_name: "Cleo", position: "CFO", confidence: 80 }),
    ]);
    const [result] = await chainOver(fakes).find(company("alpha.com"));
    expect(result?.source).toBe("hunter");
    expect(result?.contacts.map((c) => c.email)).toEqual(["cfo@alpha.com", "sam@alpha.com"]);
    expect(result?.best?.email).toBe("cfo@alpha.com");
    expect(result?.attempts).toEqual([{ source: "hunter", outcome: "hit", cached: false }]);
    expect(fakes.apollo.calls()).toBe(0);
  });

  it("goes on to Apollo when Hunter has nobody, or nobody usable", async () => {
    const fakes = await start();
    fakes.hunter.setDomain("beta.com", [fakeHunterEmail({ value: "noreply@beta.com", position: "Owner" })]);
    fakes.apollo.setPeople("beta.com", [
      fakeApolloPerson({
        domain: "beta.com",
        first_name: "Bo",
        last_name: "Bell",
        title: "Facilities Manager",
      }),
    ]);
    const [result] = await chainOver(fakes).find(company("beta.com"));
    expect(result?.source).toBe("apollo");
    expect(result?.best).toMatchObject({
      email: "bo.bell@beta.com",
      title: "Facilities Manager",
      source: "apollo",
    });
    expect(result?.attempts.map((a) => [a.source, a.outcome])).toEqual([
      ["hunter", "miss"],
      ["apollo", "hit"],
    ]);
  });

  it("records a provider's failure and falls back to the website's role mailbox", async () => {
    const fakes = await start();
    fakes.hunter.quotaExhaustedNext();
    const url = "https://www.gamma.com/";
    const chain = chainOver(fakes, { [url]: roleMailboxSite(url) });
    const [result] = await chain.find(company("gamma.com"));
    expect(result?.source).toBe("website");
    expect(result?.best).toMatchObject({ email: "info@gamma.com", confidence: 20, source: "website" });
    expect(result?.attempts).toEqual([
      {
        source: "hunter",
        outcome: "error",
        cached: false,
        error: expect.stringContaining("HTTP 429"),
        retryable: false,
      },
      { source: "apollo", outcome: "miss", cached: false },
      { source: "website", outcome: "hit", cached: false },
    ]);
  });

  it("reports a rejected Apollo key distinctly and asks Apollo no more", async () => {
    const fakes = await start();
    const sites = { "https://delta.com": emptyFindings("https://delta.com/") };
    const [first, second] = await chainOver(fakes, sites, { apollo: "expired" }).find(
      { ...company("delta.com"), website: null },
      { ...company("delta.com"), website: null },
    );
    const rejected = {
      source: "apollo",
      outcome: "unauthorized",
      cached: false,
      error: "APOLLO_API_KEY rejected (401)",
      retryable: false,
    };
    expect(first?.attempts[1]).toEqual(rejected);
    expect(second?.attempts[1]).toEqual(rejected);
    expect(fakes.apollo.calls()).toBe(1);
    expect(first?.contacts).toEqual([]);
    expect(first?.attempts[2]).toEqual({ source: "website", outcome: "miss", cached: false });
  });

  it("caches every answer: the same company again makes no call", async () => {
    const fakes = await start();
    const url = "https://www.gamma.com/";
    const chain = chainOver(fakes, { [url]: roleMailboxSite(url) });
    const [, again] = await chain.find(company("gamma.com"), company("GAMMA.com"));
    expect(again?.source).toBe("website");
    expect(again?.attempts.map((a) => [a.source, a.cached])).toEqual([
      ["hunter", true],
      ["apollo", true],
      ["website", false],
    ]);
    expect(fakes.hunter.calls()).toBe(1);
    expect(fakes.apollo.calls()).toBe(1);
    expect(chain.site.scanned).toHaveLength(1);
  });
});

describe("contact chain from configuration", () => {
  const layerFor = (env: Record<string, string>) => ({
    provide: <A, E>(effect: Effect.Effect<A, E, ContactChain>) =>
      effect.pipe(
        Effect.provide(
          ContactChainLive.pipe(
            Layer.provide(Layer.mergeAll(HttpTest, memoryCache().layer, websiteStub({}).layer)),
          ),
        ),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      ),
  });

  it("defaults to hunter, apollo, website and skips providers without a key", async () => {
    const chain = await Effect.runPromise(layerFor({ APOLLO_API_KEY: "k" }).provide(ContactChain));
    expect(chain.order).toEqual(["apollo", "website"]);
    expect(chain.skipped).toEqual([{ source: "hunter", reason: "HUNTER_API_KEY not set" }]);
  });

  it("follows ENRICHMENT_CONTACT_SOURCES, base URLs and APOLLO_PERSON_TITLES", async () => {
    const fakes = await start();
    fakes.apollo.setPeople("epsilon.com", [
      fakeApolloPerson({ domain: "epsilon.com", first_name: "Eve", last_name: "Ek", title: "Head Chef" }),
    ]);
    const env = {
      ENRICHMENT_CONTACT_SOURCES: "apollo,hunter",
      HUNTER_API_KEY: fakes.hunter.apiKey,
      HUNTER_BASE_URL: fakes.hunter.url,
      APOLLO_API_KEY: fakes.apollo.apiKey,
      APOLLO_BASE_URL: fakes.apollo.url,
      APOLLO_PERSON_TITLES: "head chef, sous chef",
    };
    const result = await Effect.runPromise(
      layerFor(env).provide(Effect.flatMap(ContactChain, (chain) => chain.find(company("epsilon.com")))),
    );
    expect(result.source).toBe("apollo");
    expect(result.best?.email).toBe("eve.ek@epsilon.com");
    expect(fakes.apollo.searches()[0]?.person_titles).toEqual(["head chef", "sous chef"]);
    expect(fakes.hunter.calls()).toBe(0);
  });
});
