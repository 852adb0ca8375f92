import type { DbError, ProviderHttp } from "@leadflow/runtime";
import { type ConfigError, Context, Effect, Layer, Option, Ref } from "effect";
import {
  type CacheTtls,
  cacheTtlConfig,
  clientSettings,
  googlePlacesConfig,
  type PhoneSourceName,
  phoneSourcesConfig,
  yelpConfig,
} from "../EnrichmentConfig.js";
import { type CacheEntryKey, ProviderCache } from "../ProviderCache.js";
import type { Website } from "../web/Website.js";
import { makeGooglePlacesPhoneSource } from "./GooglePlacesPhoneSource.js";
import {
  failedAttempt,
  type LookupAttempt,
  PhoneAnswer,
  type PhoneHit,
  type PhoneLookupInput,
  type PhoneSource,
} from "./PhoneSource.js";
import { makeWebsitePhoneSource } from "./WebsitePhoneSource.js";
import { makeYelpPhoneSource } from "./YelpPhoneSource.js";

/** A configured source left out of the chain, and why (for the run summary). */
export interface SkippedSource<S extends string> {
  readonly source: S;
  readonly reason: string;
}

export interface PhoneChainResult {
  readonly hit: PhoneHit | null;
  readonly source: PhoneSourceName | null;
  /** Every source asked (or passed over), in order, up to the one that answered. */
  readonly attempts: ReadonlyArray<LookupAttempt<PhoneSourceName>>;
}

export interface PhoneChainShape {
  /** The sources that will be asked, in order. */
  readonly order: ReadonlyArray<PhoneSourceName>;
  /** Sources named in the order but not set up (no key). */
  readonly skipped: ReadonlyArray<SkippedSource<PhoneSourceName>>;
  /**
   * Asks each source in order until one has the number; a source's failure is recorded in
   * `attempts` and the next is asked. Fails only when the cache's database does.
   */
  readonly lookup: (company: PhoneLookupInput) => Effect.Effect<PhoneChainResult, DbError>;
  /** The `provider_cache` entries `lookup` may read for the company (to read them in one go). */
  readonly cacheKeys: (company: PhoneLookupInput) => ReadonlyArray<CacheEntryKey>;
}

/** The phone chain: Google Places → Yelp → website by default, first hit wins, answers cached. */
export class PhoneChain extends Context.Tag("leadflow/enrichment/PhoneChain")<
  PhoneChain,
  PhoneChainShape
>() {}

/**
 * A chain over `sources` in the given order. A source whose key was rejected is not asked again
 * for the life of the chain (its attempt is repeated instead): a bad key must not cost a failed
 * call per company.
 */
export const makePhoneChain = (
  sources: ReadonlyArray<PhoneSource>,
  options: { readonly ttl: CacheTtls; readonly skipped?: ReadonlyArray<SkippedSource<PhoneSourceName>> },
): Effect.Effect<PhoneChainShape, never, ProviderCache> =>
  Effect.gen(function* () {
    const cache = yield* ProviderCache;
    const rejected = yield* Ref.make(new Map<PhoneSourceName, LookupAttempt<PhoneSourceName>>());
    const ttlOf = (hit: PhoneHit | null) => (hit === null ? options.ttl.notFound : options.ttl.found);

    const ask = (source: PhoneSource, company: PhoneLookupInput, key: string) =>
      source.cacheAs === null
        ? Effect.map(source.lookup(company), (value) => ({ value, fromCache: false }))
        : cache.cached(source.cacheAs, key, ttlOf, PhoneAnswer, source.lookup(company));

    const lookup = Effect.fnUntraced(
      function* (company: PhoneLookupInput) {
        const attempts: Array<LookupAttempt<PhoneSourceName>> = [];
        for (const source of sources) {
          const disabled = (yield* Ref.get(rejected)).get(source.name);
          if (disabled !== undefined) {
            attempts.push(disabled);
            continue;
          }
          const key = source.keyOf(company);
          if (key === null) {
            attempts.push({
              source: source.name,
              outcome: "skipped",
              cached: false,
              error: source.missing(company),
            });
            continue;
          }
          const outcome = yield* ask(source, company, key).pipe(
            Effect.map((answer) => ({ ok: true as const, ...answer })),
            Effect.catchTag("PhoneLookupError", (error) => Effect.succeed({ ok: false as const, error })),
          );
          if (!outcome.ok) {
            const attempt = failedAttempt(source.name, outcome.error);
            attempts.push(attempt);
            yield* Effect.logWarning(`phone source ${source.name} failed`).pipe(
              Effect.annotateLogs({
                source: source.name,
                kind: outcome.error.kind,
                error: outcome.error.message,
              }),
            );
            if (attempt.outcome === "unauthorized") {
              yield* Ref.update(rejected, (m) => new Map(m).set(source.name, attempt));
              yield* Effect.logError(`${attempt.error}: phone source ${source.name} disabled until restart`);
            }
            continue;
          }
          if (outcome.value === null) {
            attempts.push({ source: source.name, outcome: "miss", cached: outcome.fromCache });
            continue;
          }
          attempts.push({ source: source.name, outcome: "hit", cached: outcome.fromCache });
          return { hit: outcome.value, source: source.name, attempts } satisfies PhoneChainResult;
        }
        return { hit: null, source: null, attempts } satisfies PhoneChainResult;
      },
      // no span per company (≈ 7 µs a call even with no tracer): the stage's task has one
    );

    const cacheKeys = (company: PhoneLookupInput): ReadonlyArray<CacheEntryKey> =>
      sources.flatMap((source) => {
        const key = source.cacheAs === null ? null : source.keyOf(company);
        return key === null || source.cacheAs === null ? [] : [{ provider: source.cacheAs, key }];
      });

    return { order: sources.map((s) => s.name), skipped: options.skipped ?? [], lookup, cacheKeys };
  });

/** The configured phone sources in order; keyless providers are skipped with the reason. */
export const phoneSourcesFromConfig = Effect.gen(function* () {
  const order = yield* phoneSourcesConfig;
  const ttl = yield* cacheTtlConfig;
  const sources: Array<PhoneSource> = [];
  const skipped: Array<SkippedSource<PhoneSourceName>> = [];
  for (const name of order) {
    if (name === "website") {
      sources.push(yield* makeWebsitePhoneSource({ ttl }));
      continue;
    }
    const settings = yield* name === "google_places" ? googlePlacesConfig : yelpConfig;
    const client = clientSettings(settings);
    if (Option.isNone(client)) {
      skipped.push({ source: name, reason: `${settings.keyVariable} not set` });
      continue;
    }
    sources.push(
      yield* name === "google_places"
        ? makeGooglePlacesPhoneSource(client.value)
        : makeYelpPhoneSource(client.value),
    );
  }
  return { sources, skipped, ttl };
});

/** The phone chain from configuration (`ENRICHMENT_PHONE_SOURCES`, provider keys, cache TTLs). */
export const PhoneChainLive: Layer.Layer<
  PhoneChain,
  ConfigError.ConfigError,
  ProviderHttp | ProviderCache | Website
> = Layer.effect(
  PhoneChain,
  Effect.gen(function* () {
    const { sources, skipped, ttl } = yield* phoneSourcesFromConfig;
    const chain = yield* makePhoneChain(sources, { ttl, skipped });
    yield* Effect.logInfo(
      `phone sources: ${chain.order.join(", ") || "none"}${
        skipped.length > 0 ? ` (skipped: ${skipped.map((s) => `${s.source}: ${s.reason}`).join("; ")})` : ""
      }`,
    );
    return chain;
  }),
);
