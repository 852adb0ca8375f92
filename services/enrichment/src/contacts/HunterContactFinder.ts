import { type ProviderClassifier, ProviderHttp } from "@leadflow/runtime";
import { Effect, Schema } from "effect";
import type { ProviderClientSettings } from "../EnrichmentConfig.js";
import { fieldsFromProviderError } from "../phones/PhoneSource.js";
import {
  type ContactFinder,
  type ContactHit,
  ContactLookupError,
  type ContactLookupInput,
  companyDomain,
  joinName,
  missingDomain,
  rankContacts,
} from "./ContactFinder.js";

const SOURCE = "hunter";
const CREDENTIAL = "HUNTER_API_KEY";
/** One credit per 10 emails returned: a single page of the best is enough. */
const LIMIT = 10;

const NullableString = Schema.optional(Schema.NullOr(Schema.String));

const HunterEmail = Schema.Struct({
  value: Schema.String,
  type: NullableString,
  confidence: Schema.optional(Schema.NullOr(Schema.Number)),
  first_name: NullableString,
  last_name: NullableString,
  position: NullableString,
  seniority: NullableString,
  department: NullableString,
  linkedin: NullableString,
  phone_number: NullableString,
});
type HunterEmail = typeof HunterEmail.Type;

const DomainSearchResponse = Schema.Struct({
  data: Schema.Struct({
    domain: NullableString,
    organization: NullableString,
    emails: Schema.optionalWith(Schema.Array(HunterEmail), { default: () => [] }),
  }),
});

/**
 * Hunter bends HTTP: 403 means "slow down" (15/s, 500/min) and 429 means the monthly plan is used
 * up, which no retry within the hour will fix.
 */
const classify: ProviderClassifier = (status) => {
  if (status === 403) return { kind: "rate_limited", retryable: true };
  if (status === 429) return { kind: "rate_limited", retryable: false };
  return undefined;
};

const linkedinUrl = (value: string | null | undefined): string | null => {
  const v = value?.trim() ?? "";
  if (v === "") return null;
  return /^https?:\/\//i.test(v) ? v : `https://www.linkedin.com/in/${v.replace(/^\/+|\/+$/g, "")}`;
};

const toContact = (e: HunterEmail): ContactHit => ({
  fullName: joinName(e.first_name, e.last_name),
  firstName: e.first_name?.trim() || null,
  lastName: e.last_name?.trim() || null,
  title: e.position?.trim() || null,
  email: e.value.trim().toLowerCase(),
  phone: e.phone_number?.trim() || null,
  source: SOURCE,
  confidence: Math.max(0, Math.min(100, Math.round(e.confidence ?? 0))),
  linkedinUrl: linkedinUrl(e.linkedin),
});

/** Hunter domain search (`type=personal`, `limit=10`): the people Hunter knows at the domain, ranked. */
export const makeHunterContactFinder = (settings: ProviderClientSettings) =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp;
    const client = yield* http.client({
      provider: SOURCE,
      baseUrl: settings.baseUrl,
      limits: settings.limits,
      credentialHint: CREDENTIAL,
      classify,
      maxAttempts: settings.maxAttempts,
      retryBaseMs: settings.retryBaseMs,
    });

    const find = Effect.fnUntraced(
      function* (company: ContactLookupInput) {
        const domain = companyDomain(company);
        if (domain === null) return [];
        const { data } = yield* client
          .json({
            path: "/v2/domain-search",
            // the key stays Redacted until the URL is built, so it never reaches logs or spans
            query: { domain, type: "personal", limit: LIMIT, api_key: settings.apiKey },
            schema: DomainSearchResponse,
          })
          .pipe(
            Effect.mapError(
              (e) => new ContactLookupError({ source: SOURCE, ...fieldsFromProviderError(e, CREDENTIAL) }),
            ),
          );
        return rankContacts(data.emails.map(toContact));
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
