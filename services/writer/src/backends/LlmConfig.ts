import { type ProviderLimits, providerLimitsConfig } from "@leadflow/runtime";
import { Config } from "effect";
import { stableHash } from "../StableHash.js";

/** Limits for one LLM endpoint, shared by every call to it in the process (see `ProviderHttp`). */
export type LlmLimits = ProviderLimits;

/** `<PREFIX>_RATE_PER_SEC`, `<PREFIX>_CONCURRENCY`, `<PREFIX>_TIMEOUT_MS` (LLMs answer slowly: generous defaults). */
export const llmLimitsConfig = providerLimitsConfig;

/** Sampling settings shared by the LLM backends. */
export interface GenerationSettings {
  readonly temperature: number;
  /** Ollama `num_predict`, OpenAI `max_tokens`. */
  readonly maxTokens: number;
}

/** `WRITER_TEMPERATURE` (default 0.5) and `WRITER_MAX_TOKENS` (default 512). */
export const generationConfig: Config.Config<GenerationSettings> = Config.all({
  temperature: Config.number("WRITER_TEMPERATURE").pipe(
    Config.validate({ message: "must be between 0 and 2", validation: (n) => n >= 0 && n <= 2 }),
    Config.withDefault(0.5),
  ),
  maxTokens: Config.integer("WRITER_MAX_TOKENS").pipe(
    Config.validate({ message: "must be between 64 and 8192", validation: (n) => n >= 64 && n <= 8192 }),
    Config.withDefault(512),
  ),
});

/**
 * Attempts per LLM call at the HTTP level, the first included: a 429/5xx/timeout is retried
 * once there (honouring `Retry-After`), and the writer asks again only for unusable answers,
 * so no failure is retried twice.
 */
export const HTTP_ATTEMPTS = 2;

/** A seed stable per company and attempt: reproducible drafts, but a retry is not a replay. */
export const seedFor = (companyId: string, attempt: number): number =>
  (stableHash(companyId) + attempt) & 0x7fffffff;
