import { MetricsTest, ProviderHttpLive } from "@leadflow/runtime";
import { Duration, Effect, Layer, Option, Redacted, Schema } from "effect";
import type { CacheTtls, ProviderClientSettings } from "../../src/EnrichmentConfig.js";
import { ProviderCache, type ProviderCacheShape } from "../../src/ProviderCache.js";
import { Website, type WebsiteError, type WebsiteFindings } from "../../src/web/Website.js";

/** Client settings pointing at a fake, with quick retries. */
export const settings = (url: string, apiKey: string): ProviderClientSettings => ({
  apiKey: Redacted.make(apiKey),
  baseUrl: url,
  limits: { ratePerSec: 200, concurrency: 4, timeoutMs: 3_000 },
  maxAttempts: 3,
  retryBaseMs: 10,
});

export const ttl: CacheTtls = { found: Duration.days(30), notFound: Duration.days(7) };

/** ProviderHttp over a throwaway metrics registry. */
export const HttpTest = ProviderHttpLive.pipe(Layer.provide(MetricsTest));

/**
 * An in-memory ProviderCache with the same contract (values go through the schema, as JSON would),
 * for tests that are about sources and chains rather than the table.
 */
export const memoryCache = () => {
  const entries = new Map<string, { value: unknown; expiresAt: number }>();
  const id = (provider: string, key: string) => `${provider}\u0000${key}`;
  const shape: ProviderCacheShape = {
    get: (provider, key, schema) =>
      Effect.sync(() => entries.get(id(provider, key))).pipe(
        Effect.flatMap((e) =>
          e === undefined || e.expiresAt <= Date.now()
            ? Effect.succeed(Option.none())
            : Effect.map(Schema.decodeUnknown(schema)(e.value), Option.some).pipe(Effect.orDie),
        ),
      ),
    put: (provider, key, value, ttl, schema) =>
      Schema.encode(schema)(value).pipe(
        Effect.orDie,
        Effect.flatMap((encoded) =>
          Effect.sync(() => {
            const expiresAt = Date.now() + Duration.toMillis(Duration.decode(ttl));
            entries.set(id(provider, key), { value: JSON.parse(JSON.stringify(encoded ?? null)), expiresAt });
          }),
        ),
      ),
    cached: (provider, key, ttl, schema, effect) =>
      Effect.gen(function* () {
        const hit = yield* shape.get(provider, key, schema);
        if (Option.isSome(hit)) return { value: hit.value, fromCache: true };
        const value = yield* effect;
        yield* shape.put(provider, key, value, typeof ttl === "function" ? ttl(value) : ttl, schema);
        return { value, fromCache: false };
      }),
    // in memory, one task at a time: nothing runs beside it to share with
    once: (_provider, _key, _schema, pay) => Effect.map(pay, (value) => ({ value, paid: true })),
    purgeExpired: Effect.sync(() => 0),
    // in memory there is nothing to group
    batched: (_keys, effect) => effect,
  };
  return { shape, entries, layer: Layer.succeed(ProviderCache, shape) };
};

/** Findings with nothing in them, for `url`. */
export const emptyFindings = (url: string): WebsiteFindings => ({
  url,
  pagesScanned: 1,
  phones: [],
  emails: [],
  people: [],
});

/**
 * A partial Website stub: fixed findings (or a failure) per URL, counting scans; a URL it was not
 * given dies, so a test notices an unexpected scan.
 */
export const websiteStub = (sites: Readonly<Record<string, WebsiteFindings | WebsiteError>>) => {
  const scanned: Array<string> = [];
  const layer = Layer.succeed(Website, {
    scan: (url) =>
      Effect.suspend(() => {
        scanned.push(url);
        const answer = sites[url];
        if (answer === undefined) return Effect.dieMessage(`unexpected website scan: ${url}`);
        return "_tag" in answer ? Effect.fail(answer) : Effect.succeed(answer);
      }),
  });
  return { layer, scanned };
};

/** A Website that must not be used. */
export const NoWebsite = Layer.succeed(Website, {
  scan: (url) => Effect.dieMessage(`unexpected website scan: ${url}`),
});
