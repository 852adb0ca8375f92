import { baseUrlConfig, ProviderHttp } from "@leadflow/runtime";
import { Config, Effect, Layer, Schema } from "effect";
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

const PROVIDER = "ollama";

/** The parts of Ollama's `/api/chat` answer (`stream: false`) the writer reads. */
const ChatResponse = Schema.Struct({
  model: Schema.optional(Schema.String),
  message: Schema.Struct({ role: Schema.String, content: Schema.String }),
  done: Schema.optional(Schema.Boolean),
  done_reason: Schema.optional(Schema.NullOr(Schema.String)),
});

export interface OllamaBackendOptions {
  readonly baseUrl: string;
  readonly model: string;
  readonly limits: LlmLimits;
  readonly generation: GenerationSettings;
  /** Ollama `keep_alive`, e.g. `5m`; unset leaves the server's default. */
  readonly keepAlive?: string;
  /** Ollama `num_ctx`; unset leaves the model's default. */
  readonly numCtx?: number;
  readonly retryBaseMs?: number;
}

/** The Ollama backend: `POST /api/chat`, JSON-schema-constrained output, seeded per company. */
export const makeOllamaBackend = (options: OllamaBackendOptions) =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp;
    const client = yield* http.client({
      provider: PROVIDER,
      baseUrl: options.baseUrl,
      limits: options.limits,
      maxAttempts: HTTP_ATTEMPTS,
      credentialHint: "OLLAMA_BASE_URL (Ollama has no keys; a proxy in front of it refused the call)",
      retryBaseMs: options.retryBaseMs,
    });

    const complete = Effect.fn("OllamaBackend.complete")(function* (request: CompletionRequest) {
      const answer = yield* client
        .json({
          method: "POST",
          path: "/api/chat",
          json: {
            model: options.model,
            messages: buildPrompt(request.input),
            stream: false,
            format: emailAnswerJsonSchema,
            options: {
              temperature: options.generation.temperature,
              num_predict: options.generation.maxTokens,
              seed: seedFor(request.input.companyId, request.attempt),
              ...(options.numCtx !== undefined ? { num_ctx: options.numCtx } : {}),
            },
            ...(options.keepAlive !== undefined ? { keep_alive: options.keepAlive } : {}),
          },
          schema: ChatResponse,
        })
        .pipe(Effect.mapError((e) => fromProviderError(PROVIDER, e)));
      if (answer.done === false || answer.done_reason === "length") {
        return yield* new BackendError({
          backend: PROVIDER,
          message:
            answer.done_reason === "length"
              ? `ollama cut the answer off at num_predict ${options.generation.maxTokens} (WRITER_MAX_TOKENS)`
              : "ollama answered with an unfinished message (done: false)",
          askAgain: true,
        });
      }
      return answer.message.content;
    });

    const backend: WriterBackendShape = { name: PROVIDER, model: options.model, trusted: false, complete };
    return backend;
  });

/**
 * `OLLAMA_BASE_URL` (default `http://127.0.0.1:11434`), `OLLAMA_MODEL` (default `llama3.1:8b`),
 * `OLLAMA_KEEP_ALIVE`, `OLLAMA_NUM_CTX`, limits `OLLAMA_RATE_PER_SEC` (10), `OLLAMA_CONCURRENCY` (2),
 * `OLLAMA_TIMEOUT_MS` (120000), and the shared `WRITER_TEMPERATURE` / `WRITER_MAX_TOKENS`.
 */
export const ollamaBackendConfig = Config.all({
  baseUrl: baseUrlConfig("OLLAMA_BASE_URL", "http://127.0.0.1:11434"),
  model: Config.nonEmptyString("OLLAMA_MODEL").pipe(Config.withDefault("llama3.1:8b")),
  keepAlive: Config.option(Config.nonEmptyString("OLLAMA_KEEP_ALIVE")),
  numCtx: Config.option(
    Config.integer("OLLAMA_NUM_CTX").pipe(
      Config.validate({ message: "must be at least 512", validation: (n) => n >= 512 }),
    ),
  ),
  limits: llmLimitsConfig("OLLAMA", { ratePerSec: 10, concurrency: 2, timeoutMs: 120_000 }),
  generation: generationConfig,
});

/** The Ollama backend built from configuration. */
export const ollamaBackendFromConfig = Effect.flatMap(ollamaBackendConfig, (c) =>
  makeOllamaBackend({
    baseUrl: c.baseUrl,
    model: c.model,
    limits: c.limits,
    generation: c.generation,
    ...(c.keepAlive._tag === "Some" ? { keepAlive: c.keepAlive.value } : {}),
    ...(c.numCtx._tag === "Some" ? { numCtx: c.numCtx.value } : {}),
  }),
);

/** Only the Ollama backend, whatever `WRITER_BACKEND` says. */
export const OllamaBackendLive = Layer.effect(WriterBackend, ollamaBackendFromConfig);
