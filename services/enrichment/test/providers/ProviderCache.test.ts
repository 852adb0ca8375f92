import { dbLayer } from "@leadflow/runtime";
import { createTestDatabase, type TestDatabase } from "@leadflow/testkit";
import {
  type ApolloFake,
  fakeApolloPerson,
  type GooglePlacesPhoneFake,
  type HunterFake,
  startApolloFake,
  startGooglePlacesPhoneFake,
  startHunterFake,
  startYelpPhoneFake,
  type YelpPhoneFake,
} from "@leadflow/testkit/fakes";
import { Data, Effect, Layer, Option, Schema } from "effect";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeApolloContactFinder } from "../../src/contacts/ApolloContactFinder.js";
import { makeContactChain } from "../../src/contacts/ContactChain.js";
import { makeHunterContactFinder } from "../../src/contacts/HunterContactFinder.js";
import { makeWebsiteContactFinder } from "../../src/contacts/WebsiteContactFinder.js";
import { ProviderCache, ProviderCacheLive } from "../../src/ProviderCache.js";
import { makeGooglePlacesPhoneSource } from "../../src/phones/GooglePlacesPhoneSource.js";
import { makePhoneChain } from "../../src/phones/PhoneChain.js";
import { makeWebsitePhoneSource } from "../../src/phones/WebsitePhoneSource.js";
import { makeYelpPhoneSource } from "../../src/phones/YelpPhoneSource.js";
import type { WebsiteFindings } from "../../src/web/Website.js";
import { HttpTest, settings, ttl, websiteStub } from "./support.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("lf_enrich_cache");
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.sql`delete from provider_cache`;
});

const cacheLayer = () => ProviderCacheLive.pipe(Layer.provide(dbLayer({ url: db.url, max: 2 })));

const withCache = <A, E>(effect: Effect.Effect<A, E, ProviderCache>) =>
  Effect.runPromise(effect.pipe(Effect.provide(cacheLayer())));

const Answer = Schema.NullOr(Schema.Struct({ phone: Schema.String }));

class Boom extends Data.TaggedError("Boom")<{ readonly message: string }> {}

describe("ProviderCache", () => {
  it("stores and returns values per provider and key, 'not found' (null) included", async () => {
    const [found, missing, other, absent] = await withCache(
      Effect.gen(function* () {
        const cache = yield* ProviderCache;
        yield* cache.put("yelp", "acme|buffalo|ny", { phone: "+17165550100" }, "1 day", Answer);
        yield* cache.put("yelp", "nobody|buffalo|ny", null, "1 day", Answer);
        return [
          yield* cache.get("yelp", "acme|buffalo|ny", Answer),
          yield* cache.get("yelp", "nobody|buffalo|ny", Answer),
          yield* cache.get("google_places", "acme|buffalo|ny", Answer),
          yield* cache.get("yelp", "unknown", Answer),
        ];
      }),
    );
    expect(found).toEqual(Option.some({ phone: "+17165550100" }));
    expect(missing).toEqual(Option.some(null));
    expect(other).toEqual(Option.none());
    expect(absent).toEqual(Option.none());
    const rows =
      await db.sql`select provider, cache_key, value, expires_at > now() + interval '23 hours' as long
                              from provider_cache order by cache_key`;
    expect(rows.map((r) => [r.provider, r.cache_key, r.value, r.long])).toEqual([
      ["yelp", "acme|buffalo|ny", { v: { phone: "+17165550100" } }, true],
      ["yelp", "nobody|buffalo|ny", { v: null }, true],
    ]);
  });

  it("ignores expired entries, and purges them", async () => {
    const [value, purged] = await withCache(
      Effect.gen(function* () {
        const cache = yield* ProviderCache;
        yield* cache.put("hunter", "acme.com", { phone: "x" }, "1 day", Answer);
        yield* Effect.promise(
          () => db.sql`update provider_cache set expires_at = now() - interval '1 second'`,
        );
        return [yield* cache.get("hunter", "acme.com", Answer), yield* cache.purgeExpired] as const;
      }),
    );
    expect(value).toEqual(Option.none());
    expect(purged).toBe(1);
  });

  it("treats an entry that no longer decodes as absent", async () => {
    await db.sql`insert into provider_cache (provider, cache_key, value, expires_at)
                 values ('yelp', 'k', ${db.sql.json({ v: { phone: 42 } })}, now() + interval '1 day')`;
    expect(await withCache(Effect.flatMap(ProviderCache, (c) => c.get("yelp", "k", Answer)))).toEqual(
      Option.none(),
    );
  });

  it("cached() runs the effect once, stores its answer (null too) and never stores a failure", async () => {
    let runs = 0;
    const lookup = (answer: "hit" | "none" | "fail") =>
      Effect.suspend(() => {
        runs++;
        return answer === "fail"
          ? Effect.fail(new Boom({ message: "provider down" }))
          : Effect.succeed(answer === "hit" ? { phone: "+17165550100" } : null);
      });
    const results = await withCache(
      Effect.gen(function* () {
        const cache = yield* ProviderCache;
        const ttlOf = (a: { phone: string } | null) => (a === null ? "1 hour" : "1 day");
        const a = yield* cache.cached("google_places", "a", ttlOf, Answer, lookup("hit"));
        const a2 = yield* cache.cached("google_places", "a", ttlOf, Answer, lookup("fail"));
        const b = yield* cache.cached("google_places", "b", ttlOf, Answer, lookup("none"));
        const b2 = yield* cache.cached("google_places", "b", ttlOf, Answer, lookup("fail"));
        const c = yield* Effect.either(cache.cached("google_places", "c", ttlOf, Answer, lookup("fail")));
        const c2 = yield* cache.cached("google_places", "c", ttlOf, Answer, lookup("hit"));
        return { a, a2, b, b2, c, c2 };
      }),
    );
    expect(results.a).toEqual({ value: { phone: "+17165550100" }, fromCache: false });
    expect(results.a2).toEqual({ value: { phone: "+17165550100" }, fromCache: true });
    expect(results.b).toEqual({ value: null, fromCache: false });
    expect(results.b2).toEqual({ value: null, fromCache: true });
    expect(results.c._tag).toBe("Left");
    expect(results.c2.fromCache).toBe(false);
    expect(runs).toBe(4);
    const [notFoundTtl] = await db.sql`select expires_at < now() + interval '2 hours' as short
                                        from provider_cache where cache_key = 'b'`;
    expect(notFoundTtl?.short).toBe(true);
  });
});

describe("ProviderCache.batched", () => {
  const rowsNow = () =>
    Effect.promise(
      () => db.sql<{ cache_key: string }[]>`select cache_key from provider_cache order by cache_key`,
    );

  it("reads the keys once up front, groups the writes, and writes them when the work ends", async () => {
    const seen = await withCache(
      Effect.gen(function* () {
        const cache = yield* ProviderCache;
        yield* cache.put("google_places", "a", { phone: "+17165550100" }, "1 day", Answer);
        yield* cache.put("google_places", "gone", null, "1 day", Answer);
        return yield* cache.batched(
          [
            { provider: "google_places", key: "a" },
            { provider: "google_places", key: "gone" },
            { provider: "google_places", key: "b" },
          ],
          Effect.gen(function* () {
            // the up-front read answers, not the table: a row deleted since is still seen
            yield* Effect.promise(() => db.sql`delete from provider_cache where cache_key = 'gone'`);
            const a = yield* cache.get("google_places", "a", Answer);
            const gone = yield* cache.get("google_places", "gone", Answer);
            const b = yield* cache.get("google_places", "b", Answer);
            // writes wait for the end of the batch (or `flushEvery` of them), and are seen meanwhile
            const forked = yield* Effect.forEach(
              ["b", "c", "c"],
              (k) =>
                cache.put("google_places", k, { phone: `+1716555010${k === "b" ? 1 : 2}` }, "1 day", Answer),
              { concurrency: 3 },
            );
            const c = yield* cache.get("google_places", "c", Answer);
            return {
              a,
              gone,
              b,
              c,
              forked: forked.length,
              during: (yield* rowsNow()).map((r) => r.cache_key),
            };
          }),
          { flushEvery: 10 },
        );
      }),
    );
    expect(seen.a).toEqual(Option.some({ phone: "+17165550100" }));
    expect(seen.gone).toEqual(Option.some(null));
    expect(seen.b).toEqual(Option.none());
    expect(seen.c).toEqual(Option.some({ phone: "+17165550102" }));
    expect(seen.during).toEqual(["a"]);
    const rows = await db.sql<{ cache_key: string; value: unknown }[]>`
      select cache_key, value from provider_cache order by cache_key`;
    expect(rows).toEqual([
      { cache_key: "a", value: { v: { phone: "+17165550100" } } },
      { cache_key: "b", value: { v: { phone: "+17165550101" } } },
      { cache_key: "c", value: { v: { phone: "+17165550102" } } },
    ]);
  });

  it("writes every flushEvery entries, and keeps what was learnt when the work fails", async () => {
    const outcome = await withCache(
      Effect.gen(function* () {
        const cache = yield* ProviderCache;
        return yield* cache
          .batched(
            [],
            Effect.gen(function* () {
              for (const k of ["k1", "k2", "k3"]) yield* cache.put("hunter", k, null, "1 day", Answer);
              const afterThree = (yield* rowsNow()).length;
              return yield* Effect.fail(new Boom({ message: `provider down after ${afterThree} rows` }));
            }),
            { flushEvery: 2 },
          )
          .pipe(Effect.either);
      }),
    );
    expect(outcome._tag).toBe("Left");
    expect(outcome._tag === "Left" && outcome.left.message).toBe("provider down after 2 rows");
    expect(
      (await db.sql`select cache_key from provider_cache order by cache_key`).map((r) => r.cache_key),
    ).toEqual(["k1", "k2", "k3"]);
  });
});

describe("ProviderCache: one call per key among the fibers of a batch", () => {
  /** An answer that takes a while, counting the calls it stands for. */
  const slowAnswer = (calls: { n: number }, phone: string) =>
    Effect.sync(() => calls.n++).pipe(Effect.zipRight(Effect.sleep("50 millis")), Effect.as({ phone }));

  it("callers of one key at once share the first one's call; a key written and flushed is not paid again", async () => {
    const calls = { n: 0 };
    const { together, later } = await withCache(
      Effect.gen(function* () {
        const cache = yield* ProviderCache;
        return yield* cache.batched(
          [{ provider: "hunter", key: "chain.example" }],
          Effect.gen(function* () {
            // five companies of one chain, looked up at once
            const together = yield* Effect.forEach(
              [1, 2, 3, 4, 5],
              () =>
                cache.cached("hunter", "chain.example", "1 day", Answer, slowAnswer(calls, "+17165550100")),
              { concurrency: 5 },
            );
            // the write has gone out (flushEvery 1): the batch still knows it
            const later = yield* cache.cached(
              "hunter",
              "chain.example",
              "1 day",
              Answer,
              slowAnswer(calls, "x"),
            );
            return { together, later };
          }),
          { flushEvery: 1 },
        );
      }),
    );
    expect(calls.n).toBe(1);
    expect(together.map((t) => t.value)).toEqual(Array(5).fill({ phone: "+17165550100" }));
    // one paid for it; the others did not
    expect(together.filter((t) => !t.fromCache)).toHaveLength(1);
    expect(later).toEqual({ value: { phone: "+17165550100" }, fromCache: true });
    expect(await db.sql`select cache_key from provider_cache`).toHaveLength(1);
  });

  it("a failure is shared too, and not stored: the next caller asks again", async () => {
    const calls = { n: 0 };
    const failing = Effect.sync(() => calls.n++).pipe(
      Effect.zipRight(Effect.sleep("50 millis")),
      Effect.zipRight(Effect.fail(new Boom({ message: "503" }))),
    );
    const { together, after } = await withCache(
      Effect.gen(function* () {
        const cache = yield* ProviderCache;
        return yield* cache.batched(
          [],
          Effect.gen(function* () {
            const together = yield* Effect.forEach(
              [1, 2, 3],
              () => Effect.either(cache.cached("yelp", "k", "1 day", Answer, failing)),
              { concurrency: 3 },
            );
            const after = yield* cache.cached(
              "yelp",
              "k",
              "1 day",
              Answer,
              slowAnswer(calls, "+17165550199"),
            );
            return { together, after };
          }),
        );
      }),
    );
    expect(together.map((t) => t._tag === "Left" && t.left.message)).toEqual(["503", "503", "503"]);
    expect(after).toEqual({ value: { phone: "+17165550199" }, fromCache: false });
    expect(calls.n).toBe(2);
  });
});

describe("chains over the real cache", () => {
  let google: GooglePlacesPhoneFake;
  let yelp: YelpPhoneFake;
  let hunter: HunterFake;
  let apollo: ApolloFake;
  beforeEach(async () => {
    google = await startGooglePlacesPhoneFake({
      directory: [{ name: "Abbott Hotel", city: "Buffalo", state: "NY", phone: "7165550101" }],
    });
    yelp = await startYelpPhoneFake({
      directory: [{ name: "Barrett Foods", city: "Buffalo", state: "NY", phone: "7165550202" }],
    });
    hunter = await startHunterFake({ generate: false });
    apollo = await startApolloFake({ generate: false });
    apollo.setPeople("barrettfoods.com", [
      fakeApolloPerson({
        domain: "barrettfoods.com",
        first_name: "Bea",
        last_name: "Barr",
        title: "Controller",
      }),
    ]);
  });
  afterEach(async () => {
    await Promise.all([google.close(), yelp.close(), hunter.close(), apollo.close()]);
  });

  const companies = [
    { name: "Abbott Hotel", city: "Buffalo", state: "NY", website: null, domain: "abbotthotel.com" },
    { name: "Barrett Foods", city: "Buffalo", state: "NY", website: null, domain: "barrettfoods.com" },
    { name: "Calloway Works", city: "Buffalo", state: "NY", website: null, domain: "callowayworks.com" },
  ];

  const sites: Record<string, WebsiteFindings> = {
    "https://abbotthotel.com": {
      url: "https://abbotthotel.com/",
      pagesScanned: 2,
      phones: [],
      emails: [{ email: "info@abbotthotel.com", page: "https://abbotthotel.com/contact", source: "mailto" }],
      people: [],
    },
    "https://callowayworks.com": {
      url: "https://callowayworks.com/",
      pagesScanned: 1,
      phones: [
        {
          e164: "+17165550303",
          national: "(716) 555-0303",
          source: "text",
          page: "https://callowayworks.com/",
        },
      ],
      emails: [],
      people: [],
    },
  };

  const providerCalls = () => google.calls() + yelp.calls() + hunter.calls() + apollo.calls();

  /** One enrichment pass: phone chain then contact chain for each company, on fresh chains. */
  const enrich = (site: ReturnType<typeof websiteStub>) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const phones = yield* makePhoneChain(
          [
            yield* makeGooglePlacesPhoneSource(settings(google.url, google.apiKey)),
            yield* makeYelpPhoneSource(settings(yelp.url, yelp.apiKey)),
            yield* makeWebsitePhoneSource({ ttl }),
          ],
          { ttl },
        );
        const contacts = yield* makeContactChain(
          [
            yield* makeHunterContactFinder(settings(hunter.url, hunter.apiKey)),
            yield* makeApolloContactFinder(settings(apollo.url, apollo.apiKey)),
            yield* makeWebsiteContactFinder({ ttl }),
          ],
          { ttl },
        );
        return yield* Effect.forEach(companies, (c) =>
          Effect.all({ phone: phones.lookup(c), contact: contacts.find(c) }),
        );
      }).pipe(Effect.provide(Layer.mergeAll(HttpTest, cacheLayer(), site.layer))),
    );

  it("companies of one chain, looked up at once in a task, pay for their shared domain once", async () => {
    const chain = ["Rochester", "Syracuse", "Albany"].map((city) => ({
      name: "Lakeview Inns",
      city,
      state: "NY",
      website: null,
      domain: "lakeviewinns.com",
    }));
    const site = websiteStub({
      "https://lakeviewinns.com": {
        url: "https://lakeviewinns.com/",
        pagesScanned: 1,
        phones: [],
        emails: [
          { email: "sales@lakeviewinns.com", page: "https://lakeviewinns.com/contact", source: "mailto" },
        ],
        people: [],
      },
    });
    const found = await Effect.runPromise(
      Effect.gen(function* () {
        const cache = yield* ProviderCache;
        const contacts = yield* makeContactChain(
          [
            yield* makeHunterContactFinder(settings(hunter.url, hunter.apiKey)),
            yield* makeWebsiteContactFinder({ ttl }),
          ],
          { ttl },
        );
        // as the enrichment task does: one batch, 16 companies at a time
        return yield* cache.batched(
          [],
          Effect.forEach(chain, (c) => contacts.find(c), { concurrency: 16 }),
        );
      }).pipe(Effect.provide(Layer.mergeAll(HttpTest, cacheLayer(), site.layer))),
    );
    expect(found.map((f) => f.best?.email)).toEqual(Array(3).fill("sales@lakeviewinns.com"));
    // Hunter knows nobody there: asked once for the three, and the site scanned once
    expect(hunter.calls()).toBe(1);
    expect(site.scanned).toEqual(["https://lakeviewinns.com"]);
  });

  it("a second run with the same inputs makes zero provider calls and scans no website", async () => {
    const firstSite = websiteStub(sites);
    const first = await enrich(firstSite);
    expect(first.map((r) => [r.phone.source, r.contact.source])).toEqual([
      ["google_places", "website"],
      ["yelp", "apollo"],
      ["website", null],
    ]);
    const callsAfterFirst = providerCalls();
    expect(callsAfterFirst).toBeGreaterThan(0);
    expect(firstSite.scanned).toHaveLength(2);

    const secondSite = websiteStub(sites);
    const second = await enrich(secondSite);
    expect(providerCalls()).toBe(callsAfterFirst);
    expect(secondSite.scanned).toHaveLength(0);
    expect(second.map((r) => [r.phone.hit?.e164, r.contact.best?.email])).toEqual(
      first.map((r) => [r.phone.hit?.e164, r.contact.best?.email]),
    );
    expect(
      second
        .flatMap((r) => [...r.phone.attempts, ...r.contact.attempts])
        .filter((a) => a.source !== "website"),
    ).toSatisfy((attempts: ReadonlyArray<{ cached: boolean }>) => attempts.every((a) => a.cached));
  });

  it("refetches expired entries", async () => {
    await enrich(websiteStub(sites));
    const before = google.calls();
    await db.sql`update provider_cache set expires_at = now() - interval '1 second' where provider = 'google_places'`;
    await enrich(websiteStub(sites));
    expect(google.calls()).toBe(before + companies.length);
  });

  it("does not cache errors: a provider that failed is asked again next run", async () => {
    google.serverErrorNext(3);
    const first = await enrich(websiteStub(sites));
    expect(first[0]?.phone.attempts[0]).toMatchObject({ source: "google_places", outcome: "error" });
    const [row] = await db.sql`select count(*)::int as n from provider_cache
                               where provider = 'google_places' and cache_key = 'abbott hotel|buffalo|ny'`;
    expect(row?.n).toBe(0);
    const second = await enrich(websiteStub(sites));
    expect(second[0]?.phone).toMatchObject({ source: "google_places", hit: { e164: "+17165550101" } });
    expect(second[0]?.phone.attempts[0]).toMatchObject({ outcome: "hit", cached: false });
  });
});
