import {
  type FakeListing,
  type GooglePlacesPhoneFake,
  startGooglePlacesPhoneFake,
  startYelpPhoneFake,
  type YelpPhoneFake,
} from "@leadflow/testkit/fakes";
import { ConfigProvider, Effect, Layer } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { makeGooglePlacesPhoneSource } from "../../src/phones/GooglePlacesPhoneSource.js";
import { makePhoneChain, PhoneChain, PhoneChainLive } from "../../src/phones/PhoneChain.js";
import type { PhoneLookupInput } from "../../src/phones/PhoneSource.js";
import { makeWebsitePhoneSource } from "../../src/phones/WebsitePhoneSource.js";
import { makeYelpPhoneSource } from "../../src/phones/YelpPhoneSource.js";
import type { WebsiteFindings } from "../../src/web/Website.js";
import { HttpTest, memoryCache, settings, ttl, websiteStub } from "./support.js";

let google: GooglePlacesPhoneFake | undefined;
let yelp: YelpPhoneFake | undefined;
afterEach(async () => {
  await Promise.all([google?.close(), yelp?.close()]);
  google = undefined;
  yelp = undefined;
});

const company = (name: string, extra: Partial<PhoneLookupInput> = {}): PhoneLookupInput => ({
  name,
  city: "Buffalo",
  state: "NY",
  website: `https://www.${name.toLowerCase().replace(/\W+/g, "")}.example/`,
  domain: null,
  ...extra,
});

const listing = (name: string, phone: string): FakeListing => ({ name, city: "Buffalo", state: "NY", phone });

const siteWithPhone = (url: string, e164: string, national: string): WebsiteFindings => ({
  url,
  pagesScanned: 1,
  phones: [{ e164, national, source: "tel_link", page: url }],
  emails: [],
  people: [],
});

const start = async (googleDir: ReadonlyArray<FakeListing>, yelpDir: ReadonlyArray<FakeListing>) => {
  google = await startGooglePlacesPhoneFake({ directory: googleDir });
  yelp = await startYelpPhoneFake({ directory: yelpDir });
  return { google, yelp };
};

/** The default chain (google_places, yelp, website) over the fakes, an in-memory cache and a website stub. */
const chainOver = (
  fakes: { google: GooglePlacesPhoneFake; yelp: YelpPhoneFake },
  sites: Parameters<typeof websiteStub>[0] = {},
  keys: { google?: string; yelp?: string } = {},
) => {
  const site = websiteStub(sites);
  const cache = memoryCache();
  const build = Effect.gen(function* () {
    const sources = [
      yield* makeGooglePlacesPhoneSource(settings(fakes.google.url, keys.google ?? fakes.google.apiKey)),
      yield* makeYelpPhoneSource(settings(fakes.yelp.url, keys.yelp ?? fakes.yelp.apiKey)),
      yield* makeWebsitePhoneSource({ ttl }),
    ];
    return yield* makePhoneChain(sources, { ttl });
  });
  const layer = Layer.mergeAll(HttpTest, cache.layer, site.layer);
  return {
    site,
    cache,
    /** Runs lookups one after another on one chain. */
    lookup: (...companies: ReadonlyArray<PhoneLookupInput>) =>
      Effect.runPromise(
        build.pipe(
          Effect.flatMap((chain) => Effect.forEach(companies, (c) => chain.lookup(c))),
          Effect.provide(layer),
        ),
      ),
  };
};

describe("phone chain", () => {
  it("asks Google Places first; the first hit wins and nothing else is asked", async () => {
    const fakes = await start(
      [listing("Abbott Hotel", "7165550101")],
      [listing("Abbott Hotel", "7165550202")],
    );
    const [result] = await chainOver(fakes).lookup(company("Abbott Hotel"));
    expect(result).toEqual({
      hit: expect.objectContaining({ e164: "+17165550101", source: "google_places" }),
      source: "google_places",
      attempts: [{ source: "google_places", outcome: "hit", cached: false }],
    });
    expect(fakes.yelp.calls()).toBe(0);
  });

  it("falls through a miss to Yelp, then to the website", async () => {
    const fakes = await start([], [listing("Abbott Hotel", "7165550202")]);
    const url = "https://www.barretthotel.example/";
    const chain = chainOver(fakes, { [url]: siteWithPhone(url, "+17165550303", "(716) 555-0303") });
    const [abbott, barrett] = await chain.lookup(company("Abbott Hotel"), company("Barrett Hotel"));
    expect(abbott?.source).toBe("yelp");
    expect(abbott?.hit?.e164).toBe("+17165550202");
    expect(abbott?.attempts.map((a) => [a.source, a.outcome])).toEqual([
      ["google_places", "miss"],
      ["yelp", "hit"],
    ]);
    expect(barrett?.source).toBe("website");
    expect(barrett?.attempts.map((a) => [a.source, a.outcome])).toEqual([
      ["google_places", "miss"],
      ["yelp", "miss"],
      ["website", "hit"],
    ]);
    expect(chain.site.scanned).toEqual([url]);
  });

  it("records a failing provider and goes on to the next", async () => {
    const fakes = await start(
      [listing("Abbott Hotel", "7165550101")],
      [listing("Abbott Hotel", "7165550202")],
    );
    fakes.google.serverErrorNext(3);
    const [result] = await chainOver(fakes).lookup(company("Abbott Hotel"));
    expect(result?.source).toBe("yelp");
    expect(result?.attempts[0]).toMatchObject({ source: "google_places", outcome: "error", retryable: true });
    expect(result?.attempts[0]?.error).toContain("HTTP 503");
    expect(fakes.google.calls()).toBe(3);
  });

  it("reports a rejected key distinctly and stops asking that provider", async () => {
    const fakes = await start(
      [listing("Abbott Hotel", "7165550101")],
      [listing("Abbott Hotel", "7165550202")],
    );
    const [first, second] = await chainOver(fakes, {}, { google: "revoked" }).lookup(
      company("Abbott Hotel"),
      company("Abbott Hotel"),
    );
    const rejected = {
      source: "google_places",
      outcome: "unauthorized",
      cached: false,
      error: "GOOGLE_PLACES_API_KEY rejected (400)",
      retryable: false,
    };
    expect(first?.attempts[0]).toEqual(rejected);
    expect(first?.source).toBe("yelp");
    expect(second?.attempts[0]).toEqual(rejected);
    expect(fakes.google.calls()).toBe(1);
  });

  it("passes over sources that cannot ask (no town, no website)", async () => {
    const fakes = await start([], []);
    const [result] = await chainOver(fakes).lookup(
      company("Abbott Hotel", { city: null, state: null, website: null }),
    );
    expect(result).toEqual({
      hit: null,
      source: null,
      attempts: [
        { source: "google_places", outcome: "skipped", cached: false, error: "no city or state" },
        { source: "yelp", outcome: "skipped", cached: false, error: "no city or state" },
        { source: "website", outcome: "skipped", cached: false, error: "no website or domain" },
      ],
    });
    expect(fakes.google.calls() + fakes.yelp.calls()).toBe(0);
  });

  it("caches hits and misses: the same lookup again makes no call", async () => {
    const fakes = await start([], [listing("Abbott Hotel", "7165550202")]);
    const [first, again] = await chainOver(fakes).lookup(company("Abbott Hotel"), company("abbott hotel "));
    expect(first?.hit).toEqual(again?.hit);
    expect(again?.attempts).toEqual([
      { source: "google_places", outcome: "miss", cached: true },
      { source: "yelp", outcome: "hit", cached: true },
    ]);
    expect(fakes.google.calls()).toBe(1);
    expect(fakes.yelp.calls()).toBe(1);
  });
});

describe("phone chain from configuration", () => {
  const fromConfig = (env: Record<string, string>, site = websiteStub({})) =>
    Effect.runPromise(
      PhoneChain.pipe(
        Effect.provide(
          PhoneChainLive.pipe(Layer.provide(Layer.mergeAll(HttpTest, memoryCache().layer, site.layer))),
        ),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      ),
    );

  it("defaults to google_places, yelp, website and skips providers without a key", async () => {
    const chain = await fromConfig({ GOOGLE_PLACES_API_KEY: "k" });
    expect(chain.order).toEqual(["google_places", "website"]);
    expect(chain.skipped).toEqual([{ source: "yelp", reason: "YELP_API_KEY not set" }]);
  });

  it("treats a blank key as not set", async () => {
    const chain = await fromConfig({ GOOGLE_PLACES_API_KEY: " ", YELP_API_KEY: "" });
    expect(chain.order).toEqual(["website"]);
    expect(chain.skipped.map((s) => s.source)).toEqual(["google_places", "yelp"]);
  });

  it("follows ENRICHMENT_PHONE_SOURCES and the base URLs", async () => {
    const fakes = await start(
      [listing("Abbott Hotel", "7165550101")],
      [listing("Abbott Hotel", "7165550202")],
    );
    const env = {
      ENRICHMENT_PHONE_SOURCES: "yelp, google_places",
      GOOGLE_PLACES_API_KEY: fakes.google.apiKey,
      GOOGLE_PLACES_BASE_URL: fakes.google.url,
      YELP_API_KEY: fakes.yelp.apiKey,
      YELP_BASE_URL: fakes.yelp.url,
    };
    const result = await Effect.runPromise(
      PhoneChain.pipe(
        Effect.flatMap((chain) => chain.lookup(company("Abbott Hotel"))),
        Effect.provide(
          PhoneChainLive.pipe(
            Layer.provide(Layer.mergeAll(HttpTest, memoryCache().layer, websiteStub({}).layer)),
          ),
        ),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      ),
    );
    expect(result.source).toBe("yelp");
    expect(fakes.google.calls()).toBe(0);
  });

  it("refuses an unknown source name", async () => {
    await expect(fromConfig({ ENRICHMENT_PHONE_SOURCES: "google_places,bing" })).rejects.toThrow(
      /unknown source "bing"/,
    );
  });
});
