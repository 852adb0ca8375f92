import {
  baseUrlConfig,
  type ProviderLimits,
  providerLimitsConfig,
  providerRetryConfig,
} from "@leadflow/runtime";
import { Config, ConfigError, Duration, Either, Option, Redacted } from "effect";

export { type ProviderLimits, providerLimitsConfig };

/** What a provider client is built from once its key is known to be set. */
export interface ProviderClientSettings {
  readonly apiKey: Redacted.Redacted;
  readonly baseUrl: string;
  readonly limits: ProviderLimits;
  /** Attempts per call, the first included (ProviderHttp's default 3). */
  readonly maxAttempts?: number;
  /** First backoff delay in ms (ProviderHttp's default 250). */
  readonly retryBaseMs?: number;
}

/** A provider's settings as configured; `apiKey` is none when unset or blank. */
export interface ProviderSettings extends Omit<ProviderClientSettings, "apiKey"> {
  readonly apiKey: Option.Option<Redacted.Redacted>;
  /** The variable that holds the key, for "skipped" and "rejected" messages. */
  readonly keyVariable: string;
}

interface ProviderDefaults extends ProviderLimits {
  readonly baseUrl: string;
}

/** `<PREFIX>_API_KEY` (redacted, optional), `<PREFIX>_BASE_URL`, limits and retry settings. */
export const providerSettingsConfig = (
  prefix: string,
  defaults: ProviderDefaults,
): Config.Config<ProviderSettings> =>
  Config.all({
    apiKey: Config.option(Config.redacted(`${prefix}_API_KEY`)).pipe(
      Config.map(Option.filter((k) => String(Redacted.value(k)).trim() !== "")),
    ),
    baseUrl: baseUrlConfig(`${prefix}_BASE_URL`, defaults.baseUrl),
    limits: providerLimitsConfig(prefix, defaults),
    retry: providerRetryConfig(prefix),
  }).pipe(Config.map(({ retry, ...s }) => ({ ...s, ...retry, keyVariable: `${prefix}_API_KEY` })));

/** The client settings when the key is set, else none (the source is skipped). */
export const clientSettings = (settings: ProviderSettings): Option.Option<ProviderClientSettings> =>
  Option.map(settings.apiKey, (apiKey) => ({ ...settings, apiKey }));

export const googlePlacesConfig = providerSettingsConfig("GOOGLE_PLACES", {
  baseUrl: "https://places.googleapis.com",
  ratePerSec: 5,
  concurrency: 2,
  timeoutMs: 10_000,
});

export const yelpConfig = providerSettingsConfig("YELP", {
  baseUrl: "https://api.yelp.com",
  ratePerSec: 5,
  concurrency: 2,
  timeoutMs: 10_000,
});

/** Hunter allows 15 requests/s and 500/min: 8/s stays under both. */
export const hunterConfig = providerSettingsConfig("HUNTER", {
  baseUrl: "https://api.hunter.io",
  ratePerSec: 8,
  concurrency: 4,
  timeoutMs: 15_000,
});

/** Apollo's limits are per plan in fixed windows; 2/s fits the common 200/min plans. */
export const apolloConfig = providerSettingsConfig("APOLLO", {
  baseUrl: "https://api.apollo.io",
  ratePerSec: 2,
  concurrency: 2,
  timeoutMs: 15_000,
});

/**
 * Companies looked up at once per task (the providers' own rate and concurrency limits still
 * bound the calls). 16: with answers that come back at once, 8 left the process waiting between
 * them (10 × 1000 to drafts ≈ 965 → 1,030 companies/s over eight interleaved runs each, 24 Nov);
 * 32 was slower again.
 */
export const enrichmentConcurrencyConfig = Config.integer("ENRICHMENT_CONCURRENCY").pipe(
  Config.validate({ message: "must be between 1 and 256", validation: (n) => n >= 1 && n <= 256 }),
  Config.withDefault(16),
);

export const PhoneSourceNames = ["google_places", "yelp", "website"] as const;
export type PhoneSourceName = (typeof PhoneSourceNames)[number];

export const ContactSourceNames = ["hunter", "apollo", "website"] as const;
export type ContactSourceName = (typeof ContactSourceNames)[number];

/** Parses a comma list of names: order kept, repeats dropped, unknown names refused. */
export const parseNameList = <N extends string>(
  value: string,
  known: ReadonlyArray<N>,
): Either.Either<ReadonlyArray<N>, string> => {
  const names = [
    ...new Set(
      value
        .split(",")
        .map((s) => s.trim().toLowerCase())
        .filter((s) => s !== ""),
    ),
  ];
  const unknown = names.filter((n) => !(known as ReadonlyArray<string>).includes(n));
  if (unknown.length > 0) {
    return Either.left(
      `unknown source ${unknown.map((u) => `"${u}"`).join(", ")}; known: ${known.join(", ")}`,
    );
  }
  return Either.right(names as Array<N>);
};

const sourceListConfig = <N extends string>(
  variable: string,
  known: ReadonlyArray<N>,
): Config.Config<ReadonlyArray<N>> =>
  Config.string(variable).pipe(
    Config.withDefault(known.join(",")),
    Config.mapOrFail((value) =>
      Either.mapLeft(parseNameList(value, known), (message) => ConfigError.InvalidData([variable], message)),
    ),
  );

/** `ENRICHMENT_PHONE_SOURCES`: the phone chain's order. Default `google_places,yelp,website`. */
export const phoneSourcesConfig = sourceListConfig("ENRICHMENT_PHONE_SOURCES", PhoneSourceNames);

/** `ENRICHMENT_CONTACT_SOURCES`: the contact chain's order. Default `hunter,apollo,website`. */
export const contactSourcesConfig = sourceListConfig("ENRICHMENT_CONTACT_SOURCES", ContactSourceNames);

/** How long `provider_cache` keeps an answer: found, and "nothing there" (shorter: things appear). */
export interface CacheTtls {
  readonly found: Duration.Duration;
  readonly notFound: Duration.Duration;
}

const MAX_CACHE_TTL = Duration.days(3650);

// Effect reads "-1 days" as zero: a zero lifetime would keep nothing (every repeat run pays every
// provider again) and one longer than a Postgres interval holds fails every cache write (22008)
const cacheTtl = (name: string, fallback: Duration.Duration) =>
  Config.duration(name).pipe(
    Config.validate({
      message: 'must be a positive duration of at most 3650 days, e.g. "30 days"',
      validation: (d) => Duration.toMillis(d) > 0 && Duration.lessThanOrEqualTo(d, MAX_CACHE_TTL),
    }),
    Config.withDefault(fallback),
  );

/**
 * `ENRICHMENT_CACHE_TTL_FOUND` (default `30 days`), `ENRICHMENT_CACHE_TTL_NOT_FOUND` (default
 * `7 days`): positive, at most 3650 days.
 */
export const cacheTtlConfig: Config.Config<CacheTtls> = Config.all({
  found: cacheTtl("ENRICHMENT_CACHE_TTL_FOUND", Duration.days(30)),
  notFound: cacheTtl("ENRICHMENT_CACHE_TTL_NOT_FOUND", Duration.days(7)),
});

/** Titles of the people who decide on utility costs, for Apollo's `person_titles[]`. */
export const DefaultApolloTitles: ReadonlyArray<string> = [
  "facilities",
  "facility manager",
  "director of facilities",
  "operations",
  "cfo",
  "controller",
  "energy manager",
  "plant manager",
  "owner",
  "president",
];

/** `APOLLO_PERSON_TITLES`: comma list, default `DefaultApolloTitles`. */
export const apolloTitlesConfig: Config.Config<ReadonlyArray<string>> = Config.string(
  "APOLLO_PERSON_TITLES",
).pipe(
  Config.map((s) =>
    s
      .split(",")
      .map((t) => t.trim())
      .filter((t) => t !== ""),
  ),
  Config.validate({ message: "must name at least one title", validation: (ts) => ts.length > 0 }),
  Config.withDefault(DefaultApolloTitles),
);
