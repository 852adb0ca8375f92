import { ProviderHttp } from "@leadflow/runtime";
import { Effect, Schema } from "effect";
import { DefaultApolloTitles, type ProviderClientSettings } from "../EnrichmentConfig.js";
import { fieldsFromProviderError } from "../phones/PhoneSource.js";
import {
  type ContactFinder,
  type ContactHit,
  ContactLookupError,
  type ContactLookupInput,
  companyDomain,
  isUsableEmail,
  joinName,
  missingDomain,
  rankContacts,
  titleRelevance,
} from "./ContactFinder.js";

const SOURCE = "apollo";
const CREDENTIAL = "APOLLO_API_KEY";
const PER_PAGE = 10;
/** Each match that finds an email costs a credit: try the best two candidates at most. */
const MAX_MATCHES = 2;

const NullableString = Schema.optional(Schema.NullOr(Schema.String));

/** People API Search returns no emails, and last names only obfuscated (`Do***e`). */
const SearchPerson = Schema.Struct({
  id: Schema.String,
  first_name: NullableString,
  title: NullableString,
  has_email: Schema.optional(Schema.NullOr(Schema.Boolean)),
});

const SearchResponse = Schema.Struct({
  people: Schema.optionalWith(Schema.Array(SearchPerson), { default: () => [] }),
});

const MatchedPerson = Schema.Struct({
  id: Schema.String,
  first_name: NullableString,
  last_name: NullableString,
  name: NullableString,
  title: NullableString,
  email: NullableString,
  email_status: NullableString,
  linkedin_url: NullableString,
});
type MatchedPerson = typeof MatchedPerson.Type;

/** No match is a 200 without a person. */
const MatchResponse = Schema.Struct({ person: Schema.optional(Schema.NullOr(MatchedPerson)) });

const confidenceOf = (status: string | null | undefined): number => {
  switch ((status ?? "").toLowerCase().replace(/[\s-]+/g, "_")) {
    case "verified":
      return 90;
    case "likely_to_engage":
      return 75;
    case "extrapolated":
    case "guessed":
      return 60;
    case "unverified":
      return 50;
    default:
      return 40;
  }
};

const toContact = (p: MatchedPerson): ContactHit => ({
  fullName: p.name?.trim() || joinName(p.first_name, p.last_name),
  firstName: p.first_name?.trim() || null,
  lastName: p.last_name?.trim() || null,
  title: p.title?.trim() || null,
  email: p.email?.trim().toLowerCase() || null,
  phone: null,
  source: SOURCE,
  confidence: confidenceOf(p.email_status),
  linkedinUrl: p.linkedin_url?.trim() || null,
});

export interface ApolloContactFinderOptions extends ProviderClientSettings {
  /** `person_titles[]` for the search; default `DefaultApolloTitles`. */
  readonly titles?: ReadonlyArray<string>;
}

/**
 * Apollo People API Search at the domain for decision-maker titles (free, no emails), then People
 * Enrichment (`/people/match` by id, no personal emails) for the best-titled candidates until one
 * has a usable work email.
 */
export const makeApolloContactFinder = (options: ApolloContactFinderOptions) =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp;
    const client = yield* http.client({
      provider: SOURCE,
      baseUrl: options.baseUrl,
      headers: { "x-api-key": options.apiKey, "Cache-Control": "no-cache" },
      limits: options.limits,
      credentialHint: CREDENTIAL,
      maxAttempts: options.maxAttempts,
      retryBaseMs: options.retryBaseMs,
    });
    const titles = options.titles ?? DefaultApolloTitles;
    const toError = (e: Parameters<typeof fieldsFromProviderError>[0]) =>
      new ContactLookupError({ source: SOURCE, ...fieldsFromProviderError(e, CREDENTIAL) });

    const search = (domain: string) =>
      client.json({
        method: "POST",
        path: "/api/v1/mixed_people/api_search",
        json: { q_organization_domains_list: [domain], person_titles: titles, page: 1, per_page: PER_PAGE },
        schema: SearchResponse,
      });

    const match = (id: string) =>
      client.json({
        method: "POST",
        path: "/api/v1/people/match",
        query: { id, reveal_personal_emails: false, reveal_phone_number: false },
        schema: MatchResponse,
      });

    const find = Effect.fnUntraced(
      function* (company: ContactLookupInput) {
        const domain = companyDomain(company);
        if (domain === null) return [];
        const { people } = yield* search(domain).pipe(Effect.mapError(toError));
        const candidates = people
          .filter((p) => p.has_email !== false)
          .map((p, i) => ({ p, i, relevance: titleRelevance(p.title) }))
          .sort((a, b) => b.relevance - a.relevance || a.i - b.i)
          .slice(0, MAX_MATCHES);
        const found: Array<ContactHit> = [];
        for (const { p } of candidates) {
          const { person } = yield* match(p.id).pipe(Effect.mapError(toError));
          if (person === null || person === undefined) continue;
          const contact = toContact(person);
          found.push(contact);
          if (isUsableEmail(contact.email)) break;
        }
        return rankContacts(found);
      },
      // no span per company (≈ 7 µs a call even with no tracer): the stage's task has one
    );

    const finder: ContactFinder = {
      name: SOURCE,
      cacheAs: SOURCE,
      keyOf: companyDomain,
      missing: missingDomain,
      find,
    };
    return finder;
  });
