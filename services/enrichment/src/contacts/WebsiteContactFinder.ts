import { Effect } from "effect";
import type { CacheTtls } from "../EnrichmentConfig.js";
import { cacheKey, ProviderCache } from "../ProviderCache.js";
import { fieldsFromWebsiteError } from "../phones/PhoneSource.js";
import { makeCachedScan, websiteUrlOf } from "../phones/WebsiteScan.js";
import type { WebsiteFindings } from "../web/Website.js";
import {
  type ContactFinder,
  type ContactHit,
  ContactLookupError,
  type ContactLookupInput,
  isRoleMailbox,
  isUsableEmail,
  normaliseEmail,
  rankContacts,
  splitName,
} from "./ContactFinder.js";

const SOURCE = "website";

/** A named person with an address beats a bare address; a shared mailbox is the last resort. */
const CONFIDENCE = { personWithTitle: 60, person: 50, personalAddress: 35, roleMailbox: 20 } as const;

const sameSite = (email: string, domain: string | null): boolean =>
  domain !== null && (email.endsWith(`@${domain}`) || email.endsWith(`.${domain}`));

/** The contacts a website scan yields: its people (with address), then its loose addresses. */
export const contactsFromFindings = (findings: WebsiteFindings): ReadonlyArray<ContactHit> => {
  const siteDomain = (() => {
    try {
      return cacheKey.domain(new URL(findings.url).hostname);
    } catch {
      return null;
    }
  })();
  const people: Array<ContactHit> = findings.people.map((p) => {
    const email = p.email === null ? null : normaliseEmail(p.email);
    const title = p.title?.trim() || null;
    const { firstName, lastName } = splitName(p.name);
    return {
      fullName: p.name.trim() || null,
      firstName,
      lastName,
      title,
      email,
      phone: p.phone,
      source: SOURCE,
      confidence: email === null ? 0 : title !== null ? CONFIDENCE.personWithTitle : CONFIDENCE.person,
    };
  });
  const taken = new Set(people.flatMap((p) => (p.email === null ? [] : [p.email])));
  const loose: Array<ContactHit> = [];
  for (const found of findings.emails) {
    const email = normaliseEmail(found.email);
    if (taken.has(email) || !isUsableEmail(email)) continue;
    taken.add(email);
    const role = isRoleMailbox(email);
    loose.push({
      fullName: null,
      firstName: null,
      lastName: null,
      title: null,
      email,
      phone: null,
      source: SOURCE,
      // an off-site address (a webmail, the web designer's) is less likely to reach the company
      confidence:
        (role ? CONFIDENCE.roleMailbox : CONFIDENCE.personalAddress) - (sameSite(email, siteDomain) ? 0 : 10),
    });
  }
  return rankContacts([...people, ...loose]);
};

/** The company's own website: team/contact pages and mailto links, from the shared (cached) scan. */
export const makeWebsiteContactFinder = (options: { readonly ttl: CacheTtls }) =>
  Effect.gen(function* () {
    const cache = yield* ProviderCache;
    const scan = yield* makeCachedScan(cache, options.ttl);

    const find = Effect.fnUntraced(
      function* (company: ContactLookupInput) {
        const url = websiteUrlOf(company);
        if (url === null) return [];
        const { findings } = yield* scan(url).pipe(
          Effect.mapError((e) => new ContactLookupError({ source: SOURCE, ...fieldsFromWebsiteError(e) })),
        );
        return contactsFromFindings(findings);
      },
      // a span per call without a captured stack trace: this runs for every company
      Effect.withSpan("WebsiteContactFinder.find", { captureStackTrace: false }),
    );

    const finder: ContactFinder = {
      name: SOURCE,
      // the scan is cached underneath, shared with the phone chain
      cacheAs: null,
      keyOf: (c) => {
        const url = websiteUrlOf(c);
        return url === null ? null : cacheKey.url(url);
      },
      missing: () => "no website or domain",
      find,
    };
    return finder;
  });
