import { setTimeout as sleep } from "node:timers/promises";
import { type FakeReply, type RecordedRequest, startFakeHttpServer } from "./FakeHttpServer.js";
import { FAKE_EMAIL_ANSWER } from "./OllamaFake.js";
import type { ProviderFake } from "./ProviderFake.js";

/** A `/v1/chat/completions` request as the fake parsed it. */
export interface OpenAiChatRequest {
  readonly model?: string;
  readonly messages?: ReadonlyArray<{ readonly role: string; readonly content: string }>;
  readonly temperature?: number;
  readonly max_tokens?: number;
  readonly seed?: number;
  readonly stream?: boolean;
  readonly response_format?: { readonly type: string; readonly json_schema?: unknown };
}

/** One scripted answer to `/v1/chat/completions`. */
export type OpenAiAnswer =
  /** The assistant's content (null as for a refusal), optionally after `delayMs`. */
  | {
      readonly content: string | null;
      readonly delayMs?: number;
      readonly finishReason?: "stop" | "length" | "content_filter";
      readonly refusal?: string;
    }
  /** 429 `rate_limit_exceeded`, with `retry-after` when given. */
  | { readonly rateLimited: true; readonly retryAfterSeconds?: number };

export interface OpenAiFakeOptions {
  /** The only key accepted; `null` accepts calls without a key (local servers). Default `test-openai-key`. */
  readonly apiKey?: string | null;
  /** Models that exist; others get `model_not_found`. Default: any model. */
  readonly models?: ReadonlyArray<string>;
  /** The content when no answer is scripted; default `FAKE_EMAIL_ANSWER` as JSON. */
  readonly answer?: (request: OpenAiChatRequest) => string;
}

export interface OpenAiFake extends ProviderFake {
  readonly apiKey: string | null;
  /** Answers for the next completion calls, in order; then the default answer again. */
  readonly answerNext: (...answers: ReadonlyArray<OpenAiAnswer>) => void;
  /** The completion requests received (with a valid key), parsed. */
  readonly chatRequests: () => ReadonlyArray<OpenAiChatRequest>;
}

const openAiError = (
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
  headers?: Record<string, string>,
): FakeReply => ({
  status,
  ...(headers ? { headers } : {}),
  json: { error: { message, type, param, code } },
});

const rateLimited = (model: string, retryAfterSeconds?: number): FakeReply =>
  openAiError(
    429,
    `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${retryAfterSeconds ?? 20}s.`,
    "requests",
    "rate_limit_exceeded",
    null,
    {
      "x-ratelimit-limit-requests": "3",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": `${retryAfterSeconds ?? 20}s`,
      ...(retryAfterSeconds !== undefined ? { "retry-after": String(retryAfterSeconds) } : {}),
    },
  );

const mask = (key: string): string => (key.length <= 8 ? "****" : `${key.slice(0, 3)}****${key.slice(-4)}`);

const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/**
 * A fake OpenAI-compatible chat endpoint (`POST /v1/chat/completions`): Bearer key check with
 * OpenAI's 401 body, `model_not_found`, the `json_object` rule that the messages must mention
 * JSON, `chat.completion` answers (or SSE chunks when `stream` is true), 429
 * `rate_limit_exceeded` with `retry-after`, and answers scriptable per call.
 */
export const startOpenAiFake = async (options: OpenAiFakeOptions = {}): Promise<OpenAiFake> => {
  const apiKey = options.apiKey === undefined ? "test-openai-key" : options.apiKey;
  const server = await startFakeHttpServer({
    notFound: openAiError(404, "Invalid URL", "invalid_request_error", null),
  });
  const script: Array<OpenAiAnswer> = [];
  const received: Array<OpenAiChatRequest> = [];
  const defaultContent = options.answer ?? (() => JSON.stringify(FAKE_EMAIL_ANSWER));
  let sequence = 0;

  /** OpenAI's answer to a missing or wrong key, or undefined when the call may go on. */
  const refused = (req: RecordedRequest): FakeReply | undefined => {
    if (apiKey !== null) {
      const auth = req.headers.authorization;
      if (auth === undefined || auth.trim() === "") {
        return openAiError(
          401,
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          "invalid_request_error",
          null,
        );
      }
      const given = auth.replace(/^Bearer\s+/i, "");
      if (given !== apiKey) {
        return openAiError(
          401,
          `Incorrect API key provided: ${mask(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          "invalid_request_error",
          "invalid_api_key",
        );
      }
    }
    return undefined;
  };

  const completions = async (req: RecordedRequest): Promise<FakeReply> => {
    const refusal = refused(req);
    if (refusal) return refusal;
    let body: OpenAiChatRequest;
    try {
      body = JSON.parse(req.body) as OpenAiChatRequest;
    } catch {
      return openAiError(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
        "invalid_request_error",
        null,
      );
    }
    received.push(body);
    if (typeof body.model !== "string" || body.model === "") {
      return openAiError(400, "you must provide a model parameter", "invalid_request_error", null);
    }
    if (options.models !== undefined && !options.models.includes(body.model)) {
      return openAiError(
        404,
        `The model \`${body.model}\` does not exist or you do not have access to it.`,
        "invalid_request_error",
        "model_not_found",
      );
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return openAiError(
        400,
        "Missing required parameter: 'messages'.",
        "invalid_request_error",
        null,
        "messages",
      );
    }
    if (
      body.response_format?.type === "json_object" &&
      !body.messages.some((m) => /json/i.test(String(m.content ?? "")))
    ) {
      return openAiError(
        400,
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        "invalid_request_error",
        null,
        "messages",
      );
    }
    const next = script.shift() ?? { content: defaultContent(body) };
    if ("rateLimited" in next) return rateLimited(body.model, next.retryAfterSeconds);
    if (next.delayMs !== undefined) await sleep(next.delayMs);

    sequence++;
    const id = `chatcmpl-fake${String(sequence).padStart(6, "0")}`;
    const created = Math.floor(Date.now() / 1000);
    const content = next.content;
    const message = { role: "assistant", content, refusal: next.refusal ?? null };
    const finishReason = next.finishReason ?? "stop";
    const promptTokens = body.messages.reduce((n, m) => n + tokens(String(m.content ?? "")), 0);
    const completionTokens = tokens(content ?? next.refusal ?? "");
    if (body.stream === true) {
      const chunk = (delta: unknown, finish: string | null) =>
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      const pieces = (content ?? "").match(/.{1,16}/gs) ?? [];
      return {
        status: 200,
        headers: { "content-type": "text/event-stream" },
        body: [
          chunk({ role: "assistant", content: "" }, null),
          ...pieces.map((p) => chunk({ content: p }, null)),
          chunk({}, finishReason),
          "data: [DONE]\n\n",
        ].join(""),
      };
    }
    return {
      status: 200,
      json: {
        id,
        object: "chat.completion",
        created,
        model: body.model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
        system_fingerprint: "fp_fake",
      },
    };
  };

  server.route("POST", "/v1/chat/completions", completions);
  // the model list, as the monitor's health probe asks for it
  server.route("GET", "/v1/models", (req) => {
    const refusal = refused(req);
    if (refusal) return refusal;
    return {
      status: 200,
      json: {
        object: "list",
        data: (options.models ?? ["gpt-4o-mini", "gpt-4o"]).map((id) => ({
          id,
          object: "model",
          created: 1_715_367_049,
          owned_by: "system",
        })),
      },
    };
  });

  return {
    server,
    url: server.url,
    apiKey,
    answerNext: (...answers) => {
      script.push(...answers);
    },
    chatRequests: () => received,
    rateLimitNext: (times = 1, retryAfterSeconds) =>
      server.inject(
        {
          type: "status",
          status: 429,
          ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}),
          json: rateLimited("gpt-4o-mini", retryAfterSeconds).json,
        },
        times,
      ),
    serverErrorNext: (times = 1) =>
      server.inject(
        {
          type: "status",
          status: 500,
          json: {
            error: {
              message: "The server had an error while processing your request. Sorry about that!",
              type: "server_error",
              param: null,
              code: null,
            },
          },
        },
        times,
      ),
    malformedNext: (times = 1) => server.inject({ type: "malformed" }, times),
    calls: () => server.requests.filter((r) => r.path === "/v1/chat/completions").length,
    close: server.close,
  };
};
