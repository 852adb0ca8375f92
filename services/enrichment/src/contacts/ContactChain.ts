import type { DbError, ProviderHttp } from "@leadflow/runtime";
import { type ConfigError, Context, Effect, Layer, Option, Ref } from "effect";
import {
  apolloConfig,
  apolloTitlesConfig,
  type CacheTtls,
  type ContactSourceName,
  cacheTtlConfig,
  clientSettings,
  contactSourcesConfig,
  hunterConfig,
} from "../EnrichmentConfig.js";
import { type CacheEntryKey, ProviderCache } from "../ProviderCache.js";
import type { SkippedSource } from "../phones/PhoneChain.js";
import { failedAttempt, type LookupAttempt } from "../phones/PhoneSource.js";
import type { Website } from "../web/Website.js";
import { makeApolloContactFinder } from "./ApolloContactFinder.js";
import {
  type ContactFinder,
  type ContactHit,
  ContactHits,
  type ContactLookupInput,
  isUsableContact,
  rankContacts,
} from "./ContactFinder.js";
import { makeHunterContactFinder } from "./HunterContactFinder.js";
import { makeWebsiteContactFinder } from "./WebsiteContactFinder.js";

export interface ContactChainResult {
  /** The winning source's usable contacts, best first (empty when no source had one). */
  readonly contacts: ReadonlyArray<ContactHit>;
  /** `contacts[0]`, or null. */
  readonly best: ContactHit | null;
  readonly source: ContactSourceName | null;
  /** Every source asked (or passed over), in order, up to the one that answered. */
  readonly attempts: ReadonlyArray<LookupAttempt<ContactSourceName>>;
}

export interface ContactChainShape {
  readonly order: ReadonlyArray<ContactSourceName>;
  readonly skipped: ReadonlyArray<SkippedSource<ContactSourceName>>;
  /**
   * Asks each source in order until one yields a usable contact (a real email); a source's
   * failure is recorded in `attempts` and the next is asked. Fails only when the cache's database does.
   */
  readonly find: (company: ContactLookupInput) => Effect.Effect<ContactChainResult, DbError>;
  /** The `provider_cache` entries `find` may read for the company (to read them in one go). */
  readonly cacheKeys: (company: ContactLookupInput) => ReadonlyArray<CacheEntryKey>;
}

/** The contact chain: Hunter → Apollo → website by default, first usable contact wins, answers cached. */
export class ContactChain extends Context.Tag("leadflow/enrichment/ContactChain")<
  ContactChain,
  ContactChainShape
>() {}

/**
 * A chain over `finders` in the given order. A finder whose key was rejected is not asked again
 * for the life of the chain (its attempt is repeated instead).
 */
export const makeContactChain = (
  finders: ReadonlyArray<ContactFinder>,
  options: { readonly ttl: CacheTtls; readonly skipped?: ReadonlyArray<SkippedSource<ContactSourceName>> },
): Effect.Effect<ContactChainShape, never, ProviderCache> =>
  Effect.gen(function* () {
    const cache = yield* ProviderCache;
    const rejected = yield* Ref.make(new Map<ContactSourceName, LookupAttempt<ContactSourceName>>());
    const ttlOf = (hits: ReadonlyArray<ContactHit>) =>
      hits.length === 0 ? options.ttl.notFound : options.ttl.found;

    const ask = (finder: ContactFinder, company: ContactLookupInput, key: string) =>
      finder.cacheAs === null
        ? Effect.map(finder.find(company), (value) => ({ value, fromCache: false }))
        : cache.cached(finder.cacheAs, key, ttlOf, ContactHits, finder.find(company));

    const find = Effect.fnUntraced(
      function* (company: ContactLookupInput) {
        const attempts: Array<LookupAttempt<ContactSourceName>> = [];
        for (const finder of finders) {
          const disabled = (yield* Ref.get(rejected)).get(finder.name);
          if (disabled !== undefined) {
            attempts.push(disabled);
            continue;
          }
          const key = finder.keyOf(company);
          if (key === null) {
            attempts.push({
              source: finder.name,
              outcome: "skipped",
              cached: false,
              error: finder.missing(company),
            });
            continue;
          }
          const outcome = yield* ask(finder, company, key).pipe(
            Effect.map((answer) => ({ ok: true as const, ...answer })),
            Effect.catchTag("ContactLookupError", (error) => Effect.succeed({ ok: false as const, error })),
          );
          if (!outcome.ok) {
            const attempt = failedAttempt(finder.name, outcome.error);
            attempts.push(attempt);
            yield* Effect.logWarning(`contact source ${finder.name} failed`).pipe(
              Effect.annotateLogs({
                source: finder.name,
                kind: outcome.error.kind,
                error: outcome.error.message,
              }),
            );
            if (attempt.outcome === "unauthorized") {
              yield* Ref.update(rejected, (m) => new Map(m).set(finder.name, attempt));
              yield* Effect.logError(
                `${attempt.error}: contact source ${finder.name} disabled until restart`,
              );
            }
            continue;
          }
          const usable = rankContacts(outcome.value).filter(isUsableContact);
          if (usable.length === 0) {
            attempts.push({ source: finder.name, outcome: "miss", cached: outcome.fromCache });
            continue;
          }
          attempts.push({ source: finder.name, outcome: "hit", cached: outcome.fromCache });
          return {
            contacts: usable,
            best: usable[0] ?? null,
            source: finder.name,
            attempts,
          } satisfies ContactChainResult;
        }
        return { contacts: [], best: null, source: null, attempts } satisfies ContactChainResult;
      },
      // no span per company (≈ 7 µs a call even with no tracer): the stage's task has one
    );

    const cacheKeys = (company: ContactLookupInput): ReadonlyArray<CacheEntryKey> =>
      finders.flatMap((finder) => {
        const key = finder.cacheAs === null ? null : finder.keyOf(company);
        return key === null || finder.cacheAs === null ? [] : [{ provider: finder.cacheAs, key }];
      });

    return { order: finders.map((f) => f.name), skipped: options.skipped ?? [], find, cacheKeys };
  });

/** The configured contact finders in order; keyless providers are skipped with the reason. */
export const contactFindersFromConfig = Effect.gen(function* () {
  const order = yield* contactSourcesConfig;
  const ttl = yield* cacheTtlConfig;
  const finders: Array<ContactFinder> = [];
  const skipped: Array<SkippedSource<ContactSourceName>> = [];
  for (const name of order) {
    if (name === "website") {
      finders.push(yield* makeWebsiteContactFinder({ ttl }));
      continue;
    }
    const settings = yield* name === "hunter" ? hunterConfig : apolloConfig;
    const client = clientSettings(settings);
    if (Option.isNone(client)) {
      skipped.push({ source: name, reason: `${settings.keyVariable} not set` });
      continue;
    }
    finders.push(
      yield* name === "hunter"
        ? makeHunterContactFinder(client.value)
        : makeApolloContactFinder({ ...client.value, titles: yield* apolloTitlesConfig }),
    );
  }
  return { finders, skipped, ttl };
});

/** The contact chain from configuration (`ENRICHMENT_CONTACT_SOURCES`, provider keys, cache TTLs, Apollo titles). */
export const ContactChainLive: Layer.Layer<
  ContactChain,
  ConfigError.ConfigError,
  ProviderHttp | ProviderCache | Website
> = Layer.effect(
  ContactChain,
  Effect.gen(function* () {
    const { finders, skipped, ttl } = yield* contactFindersFromConfig;
    const chain = yield* makeContactChain(finders, { ttl, skipped });
    yield* Effect.logInfo(
      `contact sources: ${chain.order.join(", ") || "none"}${
        skipped.length > 0 ? ` (skipped: ${skipped.map((s) => `${s.source}: ${s.reason}`).join("; ")})` : ""
      }`,
    );
    return chain;
  }),
);
