import { Duration, Effect, Option, Schema } from "effect";
import type { CacheTtls } from "../EnrichmentConfig.js";
import { cacheKey, type ProviderCacheShape } from "../ProviderCache.js";
import { Website, type WebsiteError, type WebsiteFindings } from "../web/Website.js";

/** `WebsiteFindings` as `provider_cache` stores it. */
export const WebsiteFindingsSchema: Schema.Schema<WebsiteFindings> = Schema.Struct({
  url: Schema.String,
  pagesScanned: Schema.Number,
  phones: Schema.Array(
    Schema.Struct({
      e164: Schema.String,
      national: Schema.String,
      source: Schema.Literal("tel_link", "schema_org", "text"),
      page: Schema.String,
    }),
  ),
  emails: Schema.Array(
    Schema.Struct({ email: Schema.String, page: Schema.String, source: Schema.Literal("mailto", "text") }),
  ),
  people: Schema.Array(
    Schema.Struct({
      name: Schema.String,
      title: Schema.NullOr(Schema.String),
      email: Schema.NullOr(Schema.String),
      phone: Schema.NullOr(Schema.String),
      page: Schema.String,
    }),
  ),
});

/** The site to scan: the company's website, else `https://<domain>`, else null. */
export const websiteUrlOf = (company: {
  readonly website: string | null;
  readonly domain: string | null;
}): string | null => {
  const website = company.website?.trim() ?? "";
  if (website !== "") return /^[a-z][a-z0-9+.-]*:\/\//i.test(website) ? website : `https://${website}`;
  const domain = company.domain?.trim() ?? "";
  return domain !== "" ? `https://${cacheKey.domain(domain)}` : null;
};

/** The `provider_cache` namespace of website scans. */
export const WEBSITE_CACHE = "website";

export type CachedScan = (
  url: string,
  country?: string,
) => Effect.Effect<{ readonly findings: WebsiteFindings; readonly fromCache: boolean }, WebsiteError>;

const isEmpty = (f: WebsiteFindings): boolean =>
  f.phones.length === 0 && f.emails.length === 0 && f.people.length === 0;

/**
 * `Website.scan` through `provider_cache`, so the phone and the contact chain share one scan per
 * site (companies of a task that share it, too) and a repeat run fetches nothing. The scan costs
 * no credits, so a failing cache only logs and scans; failed scans are not cached.
 */
export const makeCachedScan = (cache: ProviderCacheShape, ttl: CacheTtls) =>
  Effect.map(Website, (website): CachedScan => {
    const degrade = (what: string) => (error: { readonly message: string }) =>
      Effect.logWarning(`website scan cache ${what} failed`).pipe(
        Effect.annotateLogs({ error: error.message }),
      );
    return (url, country) =>
      Effect.gen(function* () {
        const key = cacheKey.url(url);
        const hit = yield* cache
          .get(WEBSITE_CACHE, key, WebsiteFindingsSchema)
          .pipe(Effect.tapError(degrade("read")), Effect.orElseSucceed(Option.none<WebsiteFindings>));
        if (Option.isSome(hit)) return { findings: hit.value, fromCache: true };
        const scanAndStore = Effect.tap(
          website.scan(url, country !== undefined ? { country } : undefined),
          (findings) =>
            cache
              .put(
                WEBSITE_CACHE,
                key,
                findings,
                Duration.toMillis(isEmpty(findings) ? ttl.notFound : ttl.found),
                WebsiteFindingsSchema,
              )
              .pipe(Effect.tapError(degrade("write")), Effect.ignore),
        );
        // companies of one chain share a site: one scan, the others wait for it
        const scanned = yield* cache.once(WEBSITE_CACHE, key, WebsiteFindingsSchema, scanAndStore);
        return { findings: scanned.value, fromCache: !scanned.paid };
      });
  });
