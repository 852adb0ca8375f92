import { Config, ConfigError, Either } from "effect";

/** Requests per second, calls in flight and per-attempt timeout for one third-party API. */
export interface ProviderLimits {
  readonly ratePerSec: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
}

/**
 * `<PREFIX>_RATE_PER_SEC`, `<PREFIX>_CONCURRENCY`, `<PREFIX>_TIMEOUT_MS`, each with a default:
 * the one way every provider client (search, enrichment, LLM) is limited from configuration.
 */
export const providerLimitsConfig = (
  prefix: string,
  defaults: ProviderLimits,
): Config.Config<ProviderLimits> =>
  Config.all({
    ratePerSec: Config.number(`${prefix}_RATE_PER_SEC`).pipe(
      Config.validate({ message: "must be a number above 0", validation: (n) => n > 0 }),
      Config.withDefault(defaults.ratePerSec),
    ),
    concurrency: Config.integer(`${prefix}_CONCURRENCY`).pipe(
      Config.validate({ message: "must be a whole number of at least 1", validation: (n) => n >= 1 }),
      Config.withDefault(defaults.concurrency),
    ),
    timeoutMs: Config.integer(`${prefix}_TIMEOUT_MS`).pipe(
      Config.validate({ message: "must be at least 100 (milliseconds)", validation: (n) => n >= 100 }),
      Config.withDefault(defaults.timeoutMs),
    ),
  });

/**
 * `<PREFIX>_MAX_ATTEMPTS` (default 3) and `<PREFIX>_RETRY_BASE_MS` (default 250): the attempts
 * of one call on a retryable answer, and the base of the backoff between them. Every client of
 * a provider reads them (the scout's sources as much as enrichment's).
 */
export const providerRetryConfig = (prefix: string) =>
  Config.all({
    maxAttempts: Config.integer(`${prefix}_MAX_ATTEMPTS`).pipe(
      Config.validate({ message: "must be at least 1", validation: (n) => n >= 1 }),
      Config.withDefault(3),
    ),
    retryBaseMs: Config.integer(`${prefix}_RETRY_BASE_MS`).pipe(
      Config.validate({ message: "must be at least 1 (milliseconds)", validation: (n) => n >= 1 }),
      Config.withDefault(250),
    ),
  });

/** Whether `s` is an absolute http(s) URL a client can put paths under (no query or fragment). */
export const isBaseUrl = (s: string): boolean => {
  try {
    const url = new URL(s);
    return (url.protocol === "https:" || url.protocol === "http:") && url.search === "" && url.hash === "";
  } catch {
    return false;
  }
};

/**
 * A provider's base URL (`<NAME>`, default `fallback`), checked when the service starts: a typo
 * would otherwise surface only at the first call, as a failed lookup.
 */
export const baseUrlConfig = (name: string, fallback: string) =>
  Config.string(name).pipe(
    Config.mapOrFail((s) =>
      isBaseUrl(s.trim())
        ? Either.right(s.trim().replace(/\/+$/, ""))
        : Either.left(
            ConfigError.InvalidData([name], "must be an absolute http(s) URL without query or fragment"),
          ),
    ),
    Config.withDefault(fallback),
  );
