import { Metrics } from "@leadflow/runtime";
import { Context, Effect, Layer } from "effect";
import type { ConfigError } from "effect/ConfigError";
import { type CountryCode, isSupportedCountry } from "libphonenumber-js/max";
import { meteredFetch } from "./MeteredFetch.js";
import { extractPage, type PageFindings, type PageLink } from "./PageExtract.js";
import {
  type FetchPolicy,
  SafeFetch,
  SafeFetchLive,
  type SafeFetchShape,
  safeFetchLayer,
} from "./SafeFetch.js";
import type { WebsiteError } from "./WebsiteError.js";

export { WebsiteError, type WebsiteErrorReason } from "./WebsiteError.js";

/** A phone number found on the site, valid for the scan's country (or international). */
export interface WebsitePhone {
  /** `+17168452000` */
  readonly e164: string;
  /** `(716) 845-2000` */
  readonly national: string;
  readonly source: "tel_link" | "schema_org" | "text";
  /** The page it was found on. */
  readonly page: string;
}

/** An email address found on the site, lower-cased, placeholders and tracking addresses dropped. */
export interface WebsiteEmail {
  readonly email: string;
  readonly page: string;
  /** `text` covers visible text and schema.org data. */
  readonly source: "mailto" | "text";
}

/** A person the markup names clearly (schema.org `Person`, or a name with a job-title line). */
export interface WebsitePerson {
  /** ≤ 100 characters, control characters removed. */
  readonly name: string;
  /** ≤ 150 characters, control characters removed. */
  readonly title: string | null;
  readonly email: string | null;
  /** E.164. */
  readonly phone: string | null;
  readonly page: string;
}

/** What a scan of a company's website found. */
export interface WebsiteFindings {
  /** The home page as finally fetched, after redirects. */
  readonly url: string;
  readonly pagesScanned: number;
  readonly phones: ReadonlyArray<WebsitePhone>;
  readonly emails: ReadonlyArray<WebsiteEmail>;
  readonly people: ReadonlyArray<WebsitePerson>;
}

export interface WebsiteShape {
  /**
   * Scans a company's website (a URL or bare domain from provider data) for phones, emails and
   * people: the home page, then up to three same-site contact/team/about pages. Fails only when
   * the home page cannot be fetched; a follow-up page that fails is skipped.
   */
  readonly scan: (
    url: string,
    options?: { readonly country?: string /* default "US" */ },
  ) => Effect.Effect<WebsiteFindings, WebsiteError>;
}

/** The website scan the enrichment's phone and contact sources use as their last resort. */
export class Website extends Context.Tag("leadflow/enrichment/Website")<Website, WebsiteShape>() {}

const MAX_FOLLOW = 3;
const MAX_PHONES = 20;
const MAX_EMAILS = 50;
const MAX_PEOPLE = 50;

/** How much a link looks like a page with contacts: people pages first, then contact, then about. */
const PAGE_KINDS: ReadonlyArray<readonly [RegExp, number]> = [
  [/\b(?:team|staff|leadership|people|management|meet|board|directory|employees|personnel)\b/, 3],
  [/\b(?:contact|contacts|kontakt|reach)\b/, 2],
  [/\b(?:about|who-we-are|company|history|our-story)\b/, 1],
];

const NOT_A_PAGE = /\.(?:pdf|jpe?g|png|gif|svg|webp|zip|docx?|xlsx?|pptx?|mp[34]|mov|css|js|xml|json|txt)$/i;

/** How strongly a path or link text suggests contacts; 0 = not worth fetching. */
const pageScore = (pathOrText: string): number => {
  const words = pathOrText.toLowerCase().replace(/[_/.]+/g, " ");
  for (const [pattern, score] of PAGE_KINDS) if (pattern.test(words)) return score;
  return 0;
};

const bareHost = (host: string): string => host.toLowerCase().replace(/^www\./, "");

/** Same host, treating `www.` and the bare domain as one site. */
const sameSite = (a: URL, b: URL): boolean => bareHost(a.hostname) === bareHost(b.hostname);

const pathText = (url: URL): string => {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.pathname;
  }
};

/** Up to three same-site links that look like team/contact/about pages, best first. */
export const pickFollowLinks = (links: ReadonlyArray<PageLink>, home: URL): ReadonlyArray<string> => {
  const seen = new Set<string>([home.href]);
  const scored: Array<{ url: string; score: number; order: number }> = [];
  links.forEach((link, order) => {
    let url: URL;
    try {
      url = new URL(link.url);
    } catch {
      return;
    }
    if (!sameSite(url, home) || NOT_A_PAGE.test(url.pathname) || seen.has(url.href)) return;
    const score = Math.max(pageScore(pathText(url)), pageScore(link.text));
    if (score === 0) return;
    seen.add(url.href);
    scored.push({ url: url.href, score, order });
  });
  return scored
    .sort((x, y) => y.score - x.score || x.order - y.order)
    .slice(0, MAX_FOLLOW)
    .map((s) => s.url);
};

/**
 * Turns what providers call a website into an absolute URL: bare domains get `http://` (sites
 * that have TLS redirect there). Other schemes are kept so the fetcher refuses them by name.
 */
export const toAbsoluteUrl = (input: string): string => {
  const s = input.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return s;
  if (s.startsWith("//")) return `http:${s}`;
  // "javascript:…", "mailto:…", "file:/…" stay as they are; "acme.com:8080" is a host with a port
  if (/^[a-z][a-z0-9+.-]*:(?!\d)/i.test(s)) return s;
  return `http://${s}`;
};

const countryOf = (country: string | undefined): CountryCode | undefined => {
  const c = (country ?? "US").trim().toUpperCase();
  // an unknown country must not silently become US: only international numbers are read then
  return isSupportedCountry(c) ? c : undefined;
};

const looksLikePeoplePage = (url: URL): boolean => pageScore(pathText(url)) > 0;

/** Merges pages' findings in scan order: the first page a phone, email or person appears on wins. */
const collect = () => {
  const phones = new Map<string, WebsitePhone>();
  const emails = new Map<string, WebsiteEmail>();
  const people = new Map<string, WebsitePerson>();
  return {
    add: (page: PageFindings) => {
      for (const p of page.phones) if (!phones.has(p.e164) && phones.size < MAX_PHONES) phones.set(p.e164, p);
      for (const e of page.emails)
        if (!emails.has(e.email) && emails.size < MAX_EMAILS) emails.set(e.email, e);
      for (const p of page.people) {
        const key = p.name.toLowerCase();
        const prev = people.get(key);
        if (prev === undefined) {
          if (people.size < MAX_PEOPLE) people.set(key, p);
        } else {
          people.set(key, {
            ...prev,
            title: prev.title ?? p.title,
            email: prev.email ?? p.email,
            phone: prev.phone ?? p.phone,
          });
        }
      }
    },
    /** A phone and a person with an email: the chain needs nothing more from this site. */
    enough: () => phones.size > 0 && [...people.values()].some((p) => p.email !== null),
    result: () => ({
      phones: [...phones.values()],
      emails: [...emails.values()],
      people: [...people.values()],
    }),
  };
};

/** The scan over a given fetcher. */
export const makeWebsite = (fetch: SafeFetchShape): WebsiteShape => {
  const scan = Effect.fn("Website.scan")(function* (input: string, options?: { readonly country?: string }) {
    const country = countryOf(options?.country);
    const home = yield* fetch.get(toAbsoluteUrl(input));
    const homeUrl = new URL(home.url);
    const found = collect();
    const first = extractPage(home.html, home.url, {
      country,
      peopleFromLayout: looksLikePeoplePage(homeUrl),
    });
    found.add(first);
    let pagesScanned = 1;
    for (const link of pickFollowLinks(first.links, homeUrl)) {
      if (found.enough()) break;
      const page = yield* fetch.get(link).pipe(
        Effect.tapError((e) => Effect.logDebug("website page skipped", { url: link, reason: e.reason })),
        Effect.option,
      );
      if (page._tag === "None") continue;
      // a contact link that redirects off-site says nothing about this company
      if (!sameSite(new URL(page.value.url), homeUrl)) continue;
      pagesScanned++;
      found.add(extractPage(page.value.html, page.value.url, { country, peopleFromLayout: true }));
    }
    return { url: home.url, pagesScanned, ...found.result() };
  });
  return { scan };
};

/** The scan with an explicit fetch policy (tests, tools). */
export const websiteLayer = (policy: FetchPolicy): Layer.Layer<Website> =>
  Layer.effect(Website, Effect.map(SafeFetch, makeWebsite)).pipe(Layer.provide(safeFetchLayer(policy)));

/** The scan with its fetch policy from `WEBSITE_FETCH_*`, every fetch counted in the provider metrics. */
export const WebsiteLive: Layer.Layer<Website, ConfigError, Metrics> = Layer.effect(
  Website,
  Effect.gen(function* () {
    const fetch = yield* SafeFetch;
    const metrics = yield* Metrics;
    return makeWebsite(meteredFetch(fetch, metrics));
  }),
).pipe(Layer.provide(SafeFetchLive));
