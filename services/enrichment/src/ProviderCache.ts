import { Db, type DbError, query } from "@leadflow/runtime";
import { Context, Duration, Effect, Layer, Option, Schema } from "effect";

/** How long to keep a value: fixed, or chosen from the value (e.g. shorter for "not found"). */
export type CacheTtl<A> = Duration.DurationInput | ((value: A) => Duration.DurationInput);

/** A value and whether it came from the cache (no provider call was made). */
export interface Cached<A> {
  readonly value: A;
  readonly fromCache: boolean;
}

export interface ProviderCacheShape {
  /** The unexpired value for `provider` and `key`; an entry that no longer decodes counts as absent. */
  readonly get: <A, I>(
    provider: string,
    key: string,
    schema: Schema.Schema<A, I>,
  ) => Effect.Effect<Option.Option<A>, DbError>;
  /** Stores (or replaces) a value for `ttl`. */
  readonly put: <A, I>(
    provider: string,
    key: string,
    value: A,
    ttl: Duration.DurationInput,
    schema: Schema.Schema<A, I>,
  ) => Effect.Effect<void, DbError>;
  /**
   * The cached value, else runs `effect` and stores what it returns, "not found" answers included
   * (`null`, `[]`), so a repeat run makes no paid call. Failures are never stored.
   */
  readonly cached: <A, I, E, R>(
    provider: string,
    key: string,
    ttl: CacheTtl<A>,
    schema: Schema.Schema<A, I>,
    effect: Effect.Effect<A, E, R>,
  ) => Effect.Effect<Cached<A>, E | DbError, R>;
  /** Deletes expired entries; returns how many. */
  readonly purgeExpired: Effect.Effect<number, DbError>;
}

/** Answers of paid providers per provider and normalised key, with a TTL (`provider_cache`). */
export class ProviderCache extends Context.Tag("leadflow/enrichment/ProviderCache")<
  ProviderCache,
  ProviderCacheShape
>() {}

/** Values are wrapped so that a JSON `null` answer is storable and the shape can evolve. */
interface Envelope {
  readonly v: unknown;
}

const collapse = (s: string): string => s.trim().toLowerCase().replace(/\s+/g, " ");

/** Cache keys: normalised so that the same company asked twice hits the same entry. */
export const cacheKey = {
  /** `Example.COM.`, `www.example.com`, `https://www.example.com/about` → `example.com`. */
  domain: (domainOrUrl: string): string => {
    let host = domainOrUrl.trim().toLowerCase();
    host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, "");
    host = host.split(/[/?#]/, 1)[0] ?? "";
    host = host.replace(/:\d+$/, "").replace(/\.+$/, "");
    return host.replace(/^www\./, "");
  },
  /** `name|city|state`, each lower-cased with whitespace collapsed. */
  place: (name: string, city: string | null, state: string | null): string =>
    [name, city ?? "", state ?? ""].map(collapse).join("|"),
  /** A URL without scheme case, fragment or trailing slash differences. */
  url: (url: string): string => {
    try {
      const u = new URL(url.trim());
      u.hash = "";
      const path = u.pathname.replace(/\/+$/, "");
      return `${u.protocol}//${u.host.toLowerCase()}${path}${u.search}`;
    } catch {
      return collapse(url);
    }
  },
} as const;

const ttlMillis = (ttl: Duration.DurationInput): number =>
  Math.max(1, Duration.toMillis(Duration.decode(ttl)));

/** Builds the cache over the process's Postgres pool. */
export const make: Effect.Effect<ProviderCacheShape, never, Db> = Effect.gen(function* () {
  const { sql } = yield* Db;

  const get = <A, I>(provider: string, key: string, schema: Schema.Schema<A, I>) =>
    query(
      () => sql<ReadonlyArray<{ value: Envelope }>>`
        select value from provider_cache
        where provider = ${provider} and cache_key = ${key} and expires_at > now()`,
    ).pipe(
      Effect.flatMap((rows) => {
        const row = rows[0];
        if (row === undefined || row.value === null || typeof row.value !== "object" || !("v" in row.value)) {
          return Effect.succeed(Option.none<A>());
        }
        return Schema.decodeUnknown(schema)(row.value.v).pipe(
          Effect.map(Option.some),
          // an entry written by an older shape is refetched, not fatal
          Effect.catchAll((error) =>
            Effect.logWarning("provider cache entry no longer decodes; refetching").pipe(
              Effect.annotateLogs({ provider, error: error.message.slice(0, 300) }),
              Effect.as(Option.none<A>()),
            ),
          ),
        );
      }),
      Effect.withSpan("ProviderCache.get", { attributes: { provider } }),
    );

  const put = <A, I>(
    provider: string,
    key: string,
    value: A,
    ttl: Duration.DurationInput,
    schema: Schema.Schema<A, I>,
  ) =>
    Schema.encode(schema)(value).pipe(
      Effect.orDie,
      Effect.flatMap((encoded) => {
        const envelope = { v: encoded } as unknown as Parameters<typeof sql.json>[0];
        const ms = ttlMillis(ttl);
        return query(
          () => sql`
            insert into provider_cache (provider, cache_key, value, expires_at)
            values (${provider}, ${key}, ${sql.json(envelope)}, now() + ${ms} * interval '1 millisecond')
            on conflict (provider, cache_key) do update
              set value = excluded.value, created_at = now(), expires_at = excluded.expires_at`,
        );
      }),
      Effect.asVoid,
      Effect.withSpan("ProviderCache.put", { attributes: { provider } }),
    );

  const cached = <A, I, E, R>(
    provider: string,
    key: string,
    ttl: CacheTtl<A>,
    schema: Schema.Schema<A, I>,
    effect: Effect.Effect<A, E, R>,
  ): Effect.Effect<Cached<A>, E | DbError, R> =>
    Effect.gen(function* () {
      const hit = yield* get(provider, key, schema);
      if (Option.isSome(hit)) return { value: hit.value, fromCache: true };
      const value = yield* effect;
      yield* put(provider, key, value, typeof ttl === "function" ? ttl(value) : ttl, schema);
      return { value, fromCache: false };
    });

  const purgeExpired = query(() => sql`delete from provider_cache where expires_at <= now()`).pipe(
    Effect.map((result) => (result as unknown as { readonly count: number }).count),
  );

  return { get, put, cached, purgeExpired };
});

/** The cache over `Db`. */
export const ProviderCacheLive: Layer.Layer<ProviderCache, never, Db> = Layer.effect(ProviderCache, make);
