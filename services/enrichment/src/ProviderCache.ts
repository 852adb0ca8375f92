import { Db, type DbError, jsonRows, query } from "@leadflow/runtime";
import {
  Context,
  Deferred,
  Duration,
  Effect,
  Either,
  FiberId,
  FiberRef,
  Layer,
  Option,
  type ParseResult,
  Schema,
} from "effect";

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
  /**
   * Runs `pay` (a call that stores its answer) once per `provider` and `key` among the fibers of
   * one batch (see `batched`): when the batch already knows the key (read up front, or written
   * meanwhile by another fiber) or another fiber is running the call, that answer is returned
   * (`paid: false`) instead of paying twice (companies of one chain share a domain, and a task
   * looks up 16 at once). Outside a batch it just runs `pay`.
   */
  readonly once: <A, I, E, R>(
    provider: string,
    key: string,
    schema: Schema.Schema<A, I>,
    pay: Effect.Effect<A, E, R>,
  ) => Effect.Effect<{ readonly value: A; readonly paid: boolean }, E, R>;
  /** Deletes expired entries; returns how many. */
  readonly purgeExpired: Effect.Effect<number, DbError>;
  /**
   * Runs `effect` (and every fiber it forks) with one read of `keys` up front and writes grouped
   * into multi-row upserts (every `flushEvery` entries, and when `effect` ends however it ends):
   * a task of many companies costs two statements instead of two per company and provider.
   * Keys not read up front are read one by one as usual.
   */
  readonly batched: <A, E, R>(
    keys: ReadonlyArray<CacheEntryKey>,
    effect: Effect.Effect<A, E, R>,
    options?: { readonly flushEvery?: number },
  ) => Effect.Effect<A, E | DbError, R>;
}

export interface CacheEntryKey {
  readonly provider: string;
  readonly key: string;
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

interface PendingEntry {
  readonly provider: string;
  readonly key: string;
  readonly value: Envelope;
  readonly ttlMs: number;
}

/** The batch a fiber runs in (see `batched`): what was read up front, and the writes not yet sent. */
interface Batch {
  /**
   * `provider \0 key` → the stored envelope, or null when the key was read and had no live entry;
   * entries written by the batch join it once flushed.
   */
  readonly read: Map<string, Envelope | null>;
  pending: Map<string, PendingEntry>;
  readonly flushEvery: number;
  /** Calls running now, by `provider \0 key`: a second caller waits for the first one's answer. */
  readonly inflight: Map<string, Deferred.Deferred<unknown, unknown>>;
}

const entryId = (provider: string, key: string) => `${provider}\u0000${key}`;

const currentBatch = FiberRef.unsafeMake<Batch | null>(null);

interface Codec {
  readonly decode: (u: unknown) => Either.Either<unknown, ParseResult.ParseError>;
  readonly encode: (a: unknown) => Either.Either<unknown, ParseResult.ParseError>;
}

// one synchronous decoder and encoder per answer schema, built on first use: every company's
// lookups pass through here twice, and building them (or going through an Effect) per call shows
const codecs = new WeakMap<object, Codec>();
const codecOf = <A, I>(schema: Schema.Schema<A, I>) => {
  let codec = codecs.get(schema);
  if (codec === undefined) {
    codec = {
      decode: Schema.decodeUnknownEither(schema as Schema.Schema<unknown, unknown>),
      encode: Schema.encodeEither(schema as Schema.Schema<unknown, unknown>),
    };
    codecs.set(schema, codec);
  }
  return codec as {
    readonly decode: (u: unknown) => Either.Either<A, ParseResult.ParseError>;
    readonly encode: (a: A) => Either.Either<I, ParseResult.ParseError>;
  };
};

/** Builds the cache over the process's Postgres pool. */
export const make: Effect.Effect<ProviderCacheShape, never, Db> = Effect.gen(function* () {
  const { sql } = yield* Db;

  const decodeEnvelope = <A, I>(
    provider: string,
    value: Envelope | null | undefined,
    schema: Schema.Schema<A, I>,
  ) => {
    if (value === undefined || value === null || typeof value !== "object" || !("v" in value)) {
      return Effect.succeed(Option.none<A>());
    }
    const decoded = codecOf(schema).decode(value.v);
    if (Either.isRight(decoded)) return Effect.succeed(Option.some(decoded.right));
    // an entry written by an older shape is refetched, not fatal
    return Effect.logWarning("provider cache entry no longer decodes; refetching").pipe(
      Effect.annotateLogs({ provider, error: decoded.left.message.slice(0, 300) }),
      Effect.as(Option.none<A>()),
    );
  };

  const readOne = <A, I>(provider: string, key: string, schema: Schema.Schema<A, I>) =>
    query(
      () => sql<ReadonlyArray<{ value: Envelope }>>`
        select value from provider_cache
        where provider = ${provider} and cache_key = ${key} and expires_at > now()`,
    ).pipe(
      Effect.flatMap((rows) => decodeEnvelope(provider, rows[0]?.value, schema)),
      Effect.withSpan("ProviderCache.get", { attributes: { provider }, captureStackTrace: false }),
    );

  const get = <A, I>(provider: string, key: string, schema: Schema.Schema<A, I>) =>
    Effect.flatMap(FiberRef.get(currentBatch), (batch) => {
      const id = entryId(provider, key);
      const written = batch?.pending.get(id);
      if (written !== undefined) return decodeEnvelope(provider, written.value, schema);
      const read = batch?.read.get(id);
      return read === undefined ? readOne(provider, key, schema) : decodeEnvelope(provider, read, schema);
    });

  /** One multi-row upsert (each key once: a statement may not update a row twice). */
  const write = (entries: ReadonlyArray<PendingEntry>) =>
    entries.length === 0
      ? Effect.void
      : query(
          () => sql`
            insert into provider_cache (provider, cache_key, value, expires_at)
            select e.provider, e.cache_key, e.value, now() + e.ttl_ms * interval '1 millisecond'
            from jsonb_to_recordset(${jsonRows(
              sql,
              entries.map((e) => ({
                provider: e.provider,
                cache_key: e.key,
                value: e.value,
                ttl_ms: e.ttlMs,
              })),
            )}) as e(provider text, cache_key text, value jsonb, ttl_ms float8)
            on conflict (provider, cache_key) do update
              set value = excluded.value, created_at = now(), expires_at = excluded.expires_at`,
        ).pipe(
          Effect.asVoid,
          Effect.withSpan("ProviderCache.put", {
            attributes: { rows: entries.length },
            captureStackTrace: false,
          }),
        );

  const flush = (batch: Batch) =>
    Effect.suspend(() => {
      const entries = [...batch.pending.values()];
      batch.pending = new Map();
      // still known to the batch once written: a later caller does not pay for it again
      for (const e of entries) batch.read.set(entryId(e.provider, e.key), e.value);
      return write(entries);
    });

  const put = <A, I>(
    provider: string,
    key: string,
    value: A,
    ttl: Duration.DurationInput,
    schema: Schema.Schema<A, I>,
  ) =>
    Either.match(codecOf(schema).encode(value), {
      onLeft: (error) => Effect.die(error),
      onRight: (encoded) => {
        const entry: PendingEntry = { provider, key, value: { v: encoded }, ttlMs: ttlMillis(ttl) };
        return Effect.flatMap(FiberRef.get(currentBatch), (batch) => {
          if (batch === null) return write([entry]);
          batch.pending.set(entryId(provider, key), entry);
          return batch.pending.size >= batch.flushEvery ? flush(batch) : Effect.void;
        });
      },
    });

  const batched = <A, E, R>(
    keys: ReadonlyArray<CacheEntryKey>,
    effect: Effect.Effect<A, E, R>,
    options?: { readonly flushEvery?: number },
  ): Effect.Effect<A, E | DbError, R> =>
    Effect.gen(function* () {
      const batch: Batch = {
        read: new Map(),
        pending: new Map(),
        flushEvery: options?.flushEvery ?? 64,
        inflight: new Map(),
      };
      const unique = [...new Map(keys.map((k) => [entryId(k.provider, k.key), k])).values()];
      if (unique.length > 0) {
        const rows = yield* query(
          () => sql<ReadonlyArray<{ provider: string; cache_key: string; value: Envelope }>>`
            select c.provider, c.cache_key, c.value
            from unnest(${unique.map((k) => k.provider)}::text[], ${unique.map((k) => k.key)}::text[]) as k(provider, cache_key)
            join provider_cache c on c.provider = k.provider and c.cache_key = k.cache_key
            where c.expires_at > now()`,
        ).pipe(Effect.withSpan("ProviderCache.read", { attributes: { keys: unique.length } }));
        for (const k of unique) batch.read.set(entryId(k.provider, k.key), null);
        for (const r of rows) batch.read.set(entryId(r.provider, r.cache_key), r.value);
      }
      // what was learnt is written however the work ends: paid answers are never thrown away
      return yield* Effect.locally(effect, currentBatch, batch).pipe(
        Effect.ensuring(
          flush(batch).pipe(Effect.catchAll((e) => Effect.logWarning("provider cache write failed", e))),
        ),
      );
    });

  const once = <A, I, E, R>(
    provider: string,
    key: string,
    schema: Schema.Schema<A, I>,
    pay: Effect.Effect<A, E, R>,
  ): Effect.Effect<{ readonly value: A; readonly paid: boolean }, E, R> =>
    Effect.flatMap(FiberRef.get(currentBatch), (batch) => {
      if (batch === null) return Effect.map(pay, (value) => ({ value, paid: true }));
      const id = entryId(provider, key);
      const wait = (running: Deferred.Deferred<A, E>) =>
        Effect.map(Deferred.await(running), (value) => ({ value, paid: false }));
      const running = batch.inflight.get(id) as Deferred.Deferred<A, E> | undefined;
      if (running !== undefined) return wait(running);
      // another fiber may have finished (and stored its answer) while this one read the table
      const known = batch.pending.get(id)?.value ?? batch.read.get(id);
      const inBatch =
        known === undefined || known === null
          ? Effect.succeed(Option.none<A>())
          : decodeEnvelope(provider, known, schema);
      return Effect.flatMap(inBatch, (hit) => {
        if (Option.isSome(hit)) return Effect.succeed({ value: hit.value, paid: false });
        const again = batch.inflight.get(id) as Deferred.Deferred<A, E> | undefined;
        if (again !== undefined) return wait(again);
        // registered in the same step as the check: no other fiber runs in between
        const done = Deferred.unsafeMake<A, E>(FiberId.none);
        batch.inflight.set(id, done as Deferred.Deferred<unknown, unknown>);
        // completed however `pay` ends (an interruption too), so no caller waits for good
        return pay.pipe(
          Effect.onExit((exit) =>
            Effect.suspend(() => {
              batch.inflight.delete(id);
              return Deferred.done(done, exit);
            }),
          ),
          Effect.map((value) => ({ value, paid: true })),
        );
      });
    });

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
      // the answer is stored before the callers waiting for it are let go
      const answer = yield* once(
        provider,
        key,
        schema,
        Effect.tap(effect, (value) =>
          put(provider, key, value, typeof ttl === "function" ? ttl(value) : ttl, schema),
        ),
      );
      return { value: answer.value, fromCache: !answer.paid };
    });

  const purgeExpired = query(() => sql`delete from provider_cache where expires_at <= now()`).pipe(
    Effect.map((result) => (result as unknown as { readonly count: number }).count),
  );

  return { get, put, cached, once, purgeExpired, batched };
});

/** The cache over `Db`. */
export const ProviderCacheLive: Layer.Layer<ProviderCache, never, Db> = Layer.effect(ProviderCache, make);
