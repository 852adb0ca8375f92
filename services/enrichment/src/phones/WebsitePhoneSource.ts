import { Effect } from "effect";
import type { CacheTtls } from "../EnrichmentConfig.js";
import { cacheKey, ProviderCache } from "../ProviderCache.js";
import type { WebsitePhone } from "../web/Website.js";
import {
  fieldsFromWebsiteError,
  normalisePhone,
  type PhoneHit,
  PhoneLookupError,
  type PhoneLookupInput,
  type PhoneSource,
} from "./PhoneSource.js";
import { makeCachedScan, websiteUrlOf } from "./WebsiteScan.js";

const SOURCE = "website";

/** Markup meant for machines and click-to-call links are surer than a number in running text. */
const confidenceOf: Record<WebsitePhone["source"], number> = { schema_org: 80, tel_link: 75, text: 60 };

/** The company's own website: the first number the scan found (home page first). */
export const makeWebsitePhoneSource = (options: { readonly ttl: CacheTtls }) =>
  Effect.gen(function* () {
    const cache = yield* ProviderCache;
    const scan = yield* makeCachedScan(cache, options.ttl);

    const lookup = Effect.fnUntraced(
      function* (company: PhoneLookupInput) {
        const url = websiteUrlOf(company);
        if (url === null) return null;
        const country = company.country ?? "US";
        const { findings } = yield* scan(url, country).pipe(
          Effect.mapError((e) => new PhoneLookupError({ source: SOURCE, ...fieldsFromWebsiteError(e) })),
        );
        for (const phone of findings.phones) {
          // the scan normalises already; parsing again guards the cache and another country's default
          const parsed = normalisePhone(phone.e164, country) ?? normalisePhone(phone.national, country);
          if (parsed === null) continue;
          const hit: PhoneHit = {
            ...parsed,
            source: SOURCE,
            confidence: confidenceOf[phone.source],
            raw: { page: phone.page, foundIn: phone.source },
          };
          return hit;
        }
        return null;
      },
      // a span per call without a captured stack trace: this runs for every company
      Effect.withSpan("WebsitePhoneSource.lookup", { captureStackTrace: false }),
    );

    const source: PhoneSource = {
      name: SOURCE,
      // the scan is cached underneath, shared with the contact chain
      cacheAs: null,
      keyOf: (c) => {
        const url = websiteUrlOf(c);
        return url === null ? null : cacheKey.url(url);
      },
      missing: () => "no website or domain",
      lookup,
    };
    return source;
  });
