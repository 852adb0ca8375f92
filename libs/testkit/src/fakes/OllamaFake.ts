import { setTimeout as sleep } from "node:timers/promises";
import { type FakeReply, type RecordedRequest, startFakeHttpServer } from "./FakeHttpServer.js";
import type { ProviderFake } from "./ProviderFake.js";

/**
 * A plain email with no figures and no placeholders: what the chat fakes answer when nothing
 * else is scripted, so a pipeline run through them produces valid LLM drafts.
 */
export const FAKE_EMAIL_ANSWER = {
  subject: "A second look at your utility bills",
  body:
    "Hello,\n\nBusinesses like yours often pay more for electricity, gas and water than they need to: " +
    "wrong tariffs, billing errors and refunds nobody claimed.\n\n" +
    "We audit utility bills on contingency, so we are only paid from savings we actually find.\n\n" +
    "Would you be open to a short call next week?",
} as const;

/** A `/api/chat` request as the fake parsed it. */
export interface OllamaChatRequest {
  readonly model?: string;
  readonly messages?: ReadonlyArray<{ readonly role: string; readonly content: string }>;
  readonly stream?: boolean;
  readonly format?: unknown;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly keep_alive?: string | number;
}

/** One scripted answer to `/api/chat`. */
export type OllamaAnswer =
  /** The assistant's message content (any text: good JSON, garbage, ""), optionally after `delayMs`. */
  | { readonly content: string; readonly delayMs?: number; readonly doneReason?: "stop" | "length" }
  /** 503 "server busy … maximum pending requests exceeded" (Ollama's full queue). */
  | { readonly queueFull: true };

export interface OllamaFakeOptions {
  /** Models the fake has "pulled"; others get Ollama's 404. Default: any model is accepted. */
  readonly models?: ReadonlyArray<string>;
  /** The content when no answer is scripted; default `FAKE_EMAIL_ANSWER` as JSON. */
  readonly answer?: (request: OllamaChatRequest) => string;
}

export interface OllamaFake extends ProviderFake {
  /** Answers for the next chat calls, in order; then the default answer again. */
  readonly answerNext: (...answers: ReadonlyArray<OllamaAnswer>) => void;
  /** The chat requests received, parsed. */
  readonly chatRequests: () => ReadonlyArray<OllamaChatRequest>;
}

const ollamaError = (status: number, error: string): FakeReply => ({ status, json: { error } });

const QUEUE_FULL = ollamaError(503, "server busy, please try again.  maximum pending requests exceeded");

const parse = (body: string): OllamaChatRequest | undefined => {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === "object" ? (value as OllamaChatRequest) : undefined;
  } catch {
    return undefined;
  }
};

const words = (text: string): number => text.split(/\s+/).filter((w) => w !== "").length;

/**
 * A fake Ollama server: `POST /api/chat` (non-streamed JSON, or NDJSON chunks when `stream` is
 * not false, as the real server defaults to streaming), `GET /api/tags`, and `GET /` answering
 * "Ollama is running". Answers can be scripted per call — good JSON, garbage, empty content, a
 * slow answer, a full queue (503) — and the `ProviderFake` faults apply. Ollama has no rate
 * limit: `rateLimitNext` answers its only back-pressure signal, the 503 of a full queue.
 */
export const startOllamaFake = async (options: OllamaFakeOptions = {}): Promise<OllamaFake> => {
  const server = await startFakeHttpServer({ notFound: { status: 404, body: "404 page not found" } });
  const script: Array<OllamaAnswer> = [];
  const received: Array<OllamaChatRequest> = [];
  const defaultContent = options.answer ?? (() => JSON.stringify(FAKE_EMAIL_ANSWER));

  const chat = async (req: RecordedRequest): Promise<FakeReply> => {
    const body = parse(req.body);
    if (body === undefined) return ollamaError(400, "invalid character in request body");
    received.push(body);
    if (typeof body.model !== "string" || body.model === "") return ollamaError(400, "model is required");
    if (options.models !== undefined && !options.models.includes(body.model)) {
      return ollamaError(404, `model "${body.model}" not found, try pulling it first`);
    }
    if (!Array.isArray(body.messages)) return ollamaError(400, "messages is required");
    const next = script.shift() ?? { content: defaultContent(body) };
    if ("queueFull" in next) return QUEUE_FULL;
    if (next.delayMs !== undefined) await sleep(next.delayMs);

    const createdAt = new Date().toISOString();
    const promptWords = body.messages.reduce((n, m) => n + words(String(m.content ?? "")), 0);
    const final = {
      model: body.model,
      created_at: createdAt,
      message: { role: "assistant", content: next.content },
      done: true,
      done_reason: next.doneReason ?? "stop",
      total_duration: 1_250_000_000 + (next.delayMs ?? 0) * 1_000_000,
      load_duration: 12_000_000,
      prompt_eval_count: Math.ceil(promptWords * 1.3),
      prompt_eval_duration: 180_000_000,
      eval_count: Math.ceil(words(next.content) * 1.3),
      eval_duration: 1_050_000_000,
    };
    if (body.stream !== false) {
      // the real default: one JSON object per line, content in pieces, then the summary
      const pieces = next.content.match(/.{1,16}/gs) ?? [];
      const lines = pieces.map((piece) =>
        JSON.stringify({
          model: body.model,
          created_at: createdAt,
          message: { role: "assistant", content: piece },
          done: false,
        }),
      );
      lines.push(JSON.stringify({ ...final, message: { role: "assistant", content: "" } }));
      return {
        status: 200,
        headers: { "content-type": "application/x-ndjson" },
        body: `${lines.join("\n")}\n`,
      };
    }
    return { status: 200, json: final };
  };

  server.route("POST", "/api/chat", chat);
  server.route("GET", "/", () => ({
    status: 200,
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: "Ollama is running",
  }));
  server.route("GET", "/api/tags", () => ({
    status: 200,
    json: {
      models: (options.models ?? ["llama3.1:8b"]).map((name) => ({
        name,
        model: name,
        modified_at: "2025-01-01T00:00:00Z",
        size: 4_920_753_328,
        digest: "46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e",
        details: { format: "gguf", family: "llama", parameter_size: "8.0B", quantization_level: "Q4_K_M" },
      })),
    },
  }));

  return {
    server,
    url: server.url,
    answerNext: (...answers) => {
      script.push(...answers);
    },
    chatRequests: () => received,
    // Ollama sends no Retry-After; one is added only when a test asks for it
    rateLimitNext: (times = 1, retryAfterSeconds) =>
      server.inject(
        {
          type: "status",
          status: 503,
          json: QUEUE_FULL.json,
          ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}),
        },
        times,
      ),
    serverErrorNext: (times = 1) =>
      server.inject(
        { type: "status", status: 500, json: { error: "llama runner process has terminated" } },
        times,
      ),
    malformedNext: (times = 1) => server.inject({ type: "malformed" }, times),
    calls: () => server.requests.filter((r) => r.path === "/api/chat").length,
    close: server.close,
  };
};
