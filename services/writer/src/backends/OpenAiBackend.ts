import { baseUrlConfig, ProviderHttp } from "@leadflow/runtime";
import { Config, Effect, Layer, Option, Redacted, Schema } from "effect";
import {
  BackendError,
  type CompletionRequest,
  fromProviderError,
  WriterBackend,
  type WriterBackendShape,
} from "../Backend.js";
import { buildPrompt, emailAnswerJsonSchema } from "../Prompt.js";
import {
  type GenerationSettings,
  generationConfig,
  HTTP_ATTEMPTS,
  type LlmLimits,
  llmLimitsConfig,
  seedFor,
} from "./LlmConfig.js";

const PROVIDER = "openai";

const Choice = Schema.Struct({
  index: Schema.optional(Schema.Number),
  message: Schema.Struct({
    role: Schema.optional(Schema.String),
    content: Schema.optional(Schema.NullOr(Schema.String)),
    refusal: Schema.optional(Schema.NullOr(Schema.String)),
  }),
  finish_reason: Schema.optional(Schema.NullOr(Schema.String)),
});

/** The parts of a `chat.completion` the writer reads. */
const ChatCompletion = Schema.Struct({
  model: Schema.optional(Schema.String),
  choices: Schema.Array(Choice),
});

/** `json_object` works on most OpenAI-compatible servers; `json_schema` constrains harder where supported. */
export type ResponseFormat = "json_object" | "json_schema" | "none";

export interface OpenAiBackendOptions {
  /** Without `/v1`; a trailing `/v1` is tolerated (the OpenAI SDKs' convention). */
  readonly baseUrl: string;
  readonly model: string;
  readonly apiKey: Option.Option<Redacted.Redacted>;
  readonly responseFormat: ResponseFormat;
  readonly limits: LlmLimits;
  readonly generation: GenerationSettings;
  readonly retryBaseMs?: number;
}

const responseFormatBody = (format: ResponseFormat) => {
  switch (format) {
    case "json_object":
      return { response_format: { type: "json_object" } };
    case "json_schema":
      return {
        response_format: {
          type: "json_schema",
          json_schema: { name: "email", strict: true, schema: emailAnswerJsonSchema },
        },
      };
    case "none":
      return {};
  }
};

/** An OpenAI-compatible chat backend (OpenAI, vLLM, LM Studio, …): `POST /v1/chat/completions`. */
export const makeOpenAiBackend = (options: OpenAiBackendOptions) =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp;
    const key = Option.filter(options.apiKey, (k) => Redacted.value(k).trim() !== "");
    const client = yield* http.client({
      provider: PROVIDER,
      baseUrl: options.baseUrl.replace(/\/+$/, "").replace(/\/v1$/, ""),
      ...(Option.isSome(key)
        ? { headers: { Authorization: Redacted.make(`Bearer ${Redacted.value(key.value)}`) } }
        : {}),
      limits: options.limits,
      maxAttempts: HTTP_ATTEMPTS,
      credentialHint: "OPENAI_API_KEY",
      retryBaseMs: options.retryBaseMs,
    });

    const complete = Effect.fn("OpenAiBackend.complete")(function* (request: CompletionRequest) {
      const answer = yield* client
        .json({
          method: "POST",
          path: "/v1/chat/completions",
          json: {
            model: options.model,
            messages: buildPrompt(request.input),
            temperature: options.generation.temperature,
            max_tokens: options.generation.maxTokens,
            seed: seedFor(request.input.companyId, request.attempt),
            ...responseFormatBody(options.responseFormat),
          },
          schema: ChatCompletion,
        })
        .pipe(Effect.mapError((e) => fromProviderError(PROVIDER, e)));
      const choice = answer.choices[0];
      const fail = (message: string) => new BackendError({ backend: PROVIDER, message, askAgain: true });
      if (choice === undefined) return yield* fail("openai answered without choices");
      if (choice.message.refusal)
        return yield* fail(`the model refused: ${choice.message.refusal.slice(0, 200)}`);
      if (choice.finish_reason === "length") {
        return yield* fail(
          `openai cut the answer off at max_tokens ${options.generation.maxTokens} (WRITER_MAX_TOKENS)`,
        );
      }
      return choice.message.content ?? "";
    });

    const backend: WriterBackendShape = { name: PROVIDER, model: options.model, trusted: false, complete };
    return backend;
  });

/**
 * `OPENAI_BASE_URL` (default `https://api.openai.com`), `OPENAI_API_KEY` (optional: local
 * servers need none), `OPENAI_MODEL` (default `gpt-4o-mini`), `OPENAI_RESPONSE_FORMAT`
 * (`json_object` | `json_schema` | `none`, default `json_object`), limits `OPENAI_RATE_PER_SEC` (5),
 * `OPENAI_CONCURRENCY` (4), `OPENAI_TIMEOUT_MS` (60000), and `WRITER_TEMPERATURE` / `WRITER_MAX_TOKENS`.
 */
export const openAiBackendConfig = Config.all({
  baseUrl: baseUrlConfig("OPENAI_BASE_URL", "https://api.openai.com"),
  model: Config.nonEmptyString("OPENAI_MODEL").pipe(Config.withDefault("gpt-4o-mini")),
  apiKey: Config.option(Config.redacted("OPENAI_API_KEY")),
  responseFormat: Config.literal(
    "json_object",
    "json_schema",
    "none",
  )("OPENAI_RESPONSE_FORMAT").pipe(Config.withDefault("json_object" as const)),
  limits: llmLimitsConfig("OPENAI", { ratePerSec: 5, concurrency: 4, timeoutMs: 60_000 }),
  generation: generationConfig,
});

/** The OpenAI-compatible backend built from configuration. */
export const openAiBackendFromConfig = Effect.flatMap(openAiBackendConfig, makeOpenAiBackend);

/** Only the OpenAI-compatible backend, whatever `WRITER_BACKEND` says. */
export const OpenAiBackendLive = Layer.effect(WriterBackend, openAiBackendFromConfig);
