import { Config } from "effect";

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
