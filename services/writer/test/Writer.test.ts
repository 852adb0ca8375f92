import { MetricsTest, ProviderHttpLive } from "@leadflow/runtime";
import {
  FAKE_EMAIL_ANSWER,
  type OllamaFake,
  type OpenAiFake,
  startOllamaFake,
  startOpenAiFake,
} from "@leadflow/testkit/fakes";
import { Effect, Layer, Logger, LogLevel, Option, Redacted } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { WriterBackend } from "../src/Backend.js";
import { makeOllamaBackend } from "../src/backends/OllamaBackend.js";
import { makeOpenAiBackend, type ResponseFormat } from "../src/backends/OpenAiBackend.js";
import { TemplateBackendLive, templateEmail } from "../src/backends/TemplateBackend.js";
import type { Draft, DraftInput } from "../src/DraftInput.js";
import { EmailRendererLive } from "../src/EmailRender.js";
import { Writer, WriterLive } from "../src/Writer.js";
import { answer, GOOD_ANSWER, HOSTILE_NAME, hotelInput, withCompany } from "./inputs.js";

const generation = { temperature: 0.5, maxTokens: 512 };

const write = (backend: Layer.Layer<WriterBackend, never, never>, input: DraftInput = hotelInput) =>
  Effect.runPromise(
    Effect.flatMap(Writer, (w) => w.write(input)).pipe(
      Effect.provide(WriterLive),
      Effect.provide(Layer.merge(backend, EmailRendererLive)),
      Logger.withMinimumLogLevel(LogLevel.None),
    ),
  );

const ollamaLayer = (fake: OllamaFake, timeoutMs = 2_000) =>
  Layer.effect(
    WriterBackend,
    makeOllamaBackend({
      baseUrl: fake.url,
      model: "llama3.1:8b",
      limits: { ratePerSec: 100, concurrency: 4, timeoutMs },
      generation,
      retryBaseMs: 10,
    }),
  ).pipe(Layer.provide(ProviderHttpLive), Layer.provide(MetricsTest));

const openAiLayer = (
  fake: OpenAiFake,
  options: { apiKey?: string | null; baseUrl?: string; responseFormat?: ResponseFormat } = {},
) =>
  Layer.effect(
    WriterBackend,
    makeOpenAiBackend({
      baseUrl: options.baseUrl ?? fake.url,
      model: "gpt-4o-mini",
      apiKey: Option.map(
        Option.fromNullable(options.apiKey === undefined ? fake.apiKey : options.apiKey),
        Redacted.make,
      ),
      responseFormat: options.responseFormat ?? "json_object",
      limits: { ratePerSec: 100, concurrency: 4, timeoutMs: 2_000 },
      generation,
      retryBaseMs: 10,
    }),
  ).pipe(Layer.provide(ProviderHttpLive), Layer.provide(MetricsTest));

const expectTemplateFallback = (draft: Draft, reason: RegExp) => {
  expect(draft).toMatchObject({ backend: "template", isFallback: true, model: null });
  expect(draft.fallbackReason).toMatch(reason);
  expect(draft.subject).toBe(templateEmail(hotelInput).subject);
  expect(draft.bodyText.startsWith(templateEmail(hotelInput).body)).toBe(true);
};

const INVENTED = answer(
  "Lakeside Hotel could save $250k",
  "Hi Jane,\n\nWe estimate Lakeside Hotel could save $250k a year on utilities.\n\nWould you be open to a short call?",
);

describe("Writer with Ollama", () => {
  let fake: OllamaFake;
  afterEach(async () => fake?.close());

  it("accepts a good answer and sends model, messages, stream: false, the JSON schema and options", async () => {
    fake = await startOllamaFake();
    fake.answerNext({ content: GOOD_ANSWER });
    const draft = await write(ollamaLayer(fake));
    expect(draft).toMatchObject({
      backend: "ollama",
      model: "llama3.1:8b",
      isFallback: false,
      fallbackReason: null,
      subject: "Lakeside Hotel: utility bills across your 3 sites",
    });
    expect(draft.bodyText).toContain("about $149k a year on utilities");
    expect(draft.bodyHtml).toContain("about $149k a year on utilities");
    expect(fake.calls()).toBe(1);
    const request = fake.chatRequests()[0];
    expect(request).toMatchObject({
      model: "llama3.1:8b",
      stream: false,
      format: { type: "object", required: ["subject", "body"] },
      options: { temperature: 0.5, num_predict: 512 },
    });
    expect(typeof request?.options?.seed).toBe("number");
    expect(request?.messages?.map((m) => m.role)).toEqual(["system", "user"]);
    expect(request?.messages?.[1]?.content).toContain("$6k");
  });

  it("garbage twice: asks once more with another seed, then falls back to the template with the reason", async () => {
    fake = await startOllamaFake();
    fake.answerNext({ content: "Sure! Here is a great email for you." }, { content: "Subject: Hello" });
    const draft = await write(ollamaLayer(fake));
    expectTemplateFallback(draft, /^ollama: invalid answer: answer is not JSON/);
    expect(fake.calls()).toBe(2);
    const seeds = fake.chatRequests().map((r) => r.options?.seed);
    expect(seeds[0]).not.toBe(seeds[1]);
  });

  it("garbage, then a good answer on the retry: the LLM draft is kept", async () => {
    fake = await startOllamaFake();
    fake.answerNext({ content: "not json" }, { content: GOOD_ANSWER });
    const draft = await write(ollamaLayer(fake));
    expect(draft).toMatchObject({ backend: "ollama", isFallback: false });
    expect(fake.calls()).toBe(2);
  });

  it("empty content twice falls back", async () => {
    fake = await startOllamaFake();
    fake.answerNext({ content: "" }, { content: "   " });
    expectTemplateFallback(await write(ollamaLayer(fake)), /^ollama: invalid answer: empty answer$/);
    expect(fake.calls()).toBe(2);
  });

  it("an answer with an invented figure is rejected, twice, then the template writes", async () => {
    fake = await startOllamaFake();
    fake.answerNext({ content: INVENTED }, { content: INVENTED });
    const draft = await write(ollamaLayer(fake));
    expectTemplateFallback(draft, /figure "\$250k" is not in the company's data/);
    expect(draft.bodyText).not.toContain("$250k");
    expect(fake.calls()).toBe(2);
  });

  it("an answer slower than the timeout is retried once by the HTTP client, then falls back", async () => {
    fake = await startOllamaFake();
    fake.answerNext({ content: GOOD_ANSWER, delayMs: 1_500 }, { content: GOOD_ANSWER, delayMs: 1_500 });
    const started = performance.now();
    const draft = await write(ollamaLayer(fake, 300));
    expectTemplateFallback(draft, /^ollama: .*timed out after 300 ms/);
    expect(fake.calls()).toBe(2);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it("a full queue (503) is retried by the HTTP client, then succeeds", async () => {
    fake = await startOllamaFake();
    fake.answerNext({ queueFull: true });
    const draft = await write(ollamaLayer(fake));
    expect(draft).toMatchObject({ backend: "ollama", isFallback: false, subject: FAKE_EMAIL_ANSWER.subject });
    expect(fake.calls()).toBe(2);
  });

  it("a model that is not pulled (404) is not retried: the template writes at once, saying why", async () => {
    fake = await startOllamaFake({ models: ["mistral:7b"] });
    const draft = await write(ollamaLayer(fake));
    expectTemplateFallback(
      draft,
      /^ollama: POST \/api\/chat answered HTTP 404: model "llama3\.1:8b" not found/,
    );
    expect(fake.calls()).toBe(1);
  });

  it("an answer cut off at num_predict is asked for again", async () => {
    fake = await startOllamaFake();
    fake.answerNext({ content: '{"subject": "Lakeside', doneReason: "length" }, { content: GOOD_ANSWER });
    expect(await write(ollamaLayer(fake))).toMatchObject({ backend: "ollama", isFallback: false });
    expect(fake.calls()).toBe(2);
  });
});

describe("Writer with an OpenAI-compatible endpoint", () => {
  let fake: OpenAiFake;
  afterEach(async () => fake?.close());

  it("accepts a good answer; sends the key, model, json_object format, max_tokens and seed", async () => {
    fake = await startOpenAiFake();
    fake.answerNext({ content: GOOD_ANSWER });
    const draft = await write(openAiLayer(fake));
    expect(draft).toMatchObject({ backend: "openai", model: "gpt-4o-mini", isFallback: false });
    expect(fake.server.requests[0]?.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(fake.chatRequests()[0]).toMatchObject({
      model: "gpt-4o-mini",
      response_format: { type: "json_object" },
      temperature: 0.5,
      max_tokens: 512,
    });
    expect(typeof fake.chatRequests()[0]?.seed).toBe("number");
  });

  it("429 with Retry-After is waited out, then succeeds", async () => {
    fake = await startOpenAiFake();
    fake.answerNext({ rateLimited: true, retryAfterSeconds: 1 }, { content: GOOD_ANSWER });
    const started = performance.now();
    const draft = await write(openAiLayer(fake));
    expect(draft).toMatchObject({ backend: "openai", isFallback: false });
    expect(fake.calls()).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it("a bad key (401) is not retried; the draft says which setting to fix", async () => {
    fake = await startOpenAiFake();
    const draft = await write(openAiLayer(fake, { apiKey: "sk-wrong-key-1234" }));
    expectTemplateFallback(
      draft,
      /^openai rejected the credentials \(HTTP 401: invalid_api_key: .*OPENAI_API_KEY/,
    );
    expect(fake.calls()).toBe(1);
  });

  it("garbage, then an invented figure: falls back with the last reason", async () => {
    fake = await startOpenAiFake();
    fake.answerNext({ content: "```\nnot json\n```" }, { content: INVENTED });
    expectTemplateFallback(await write(openAiLayer(fake)), /^openai: invalid answer: .*"\$250k"/);
    expect(fake.calls()).toBe(2);
  });

  it("a null (refused) answer counts as empty", async () => {
    fake = await startOpenAiFake();
    fake.answerNext({ content: null }, { content: null });
    expectTemplateFallback(await write(openAiLayer(fake)), /empty answer/);
  });

  it("works keyless against a local server, with a base URL ending in /v1, and json_schema", async () => {
    fake = await startOpenAiFake({ apiKey: null });
    const draft = await write(
      openAiLayer(fake, { apiKey: null, baseUrl: `${fake.url}/v1/`, responseFormat: "json_schema" }),
    );
    expect(draft).toMatchObject({ backend: "openai", isFallback: false });
    expect(fake.server.requests[0]?.headers.authorization).toBeUndefined();
    expect(fake.chatRequests()[0]?.response_format).toMatchObject({
      type: "json_schema",
      json_schema: { name: "email", strict: true },
    });
  });
});

describe("Writer with the template backend", () => {
  it("writes without an LLM, not as a fallback", async () => {
    const draft = await write(TemplateBackendLive);
    expect(draft).toMatchObject({
      backend: "template",
      isFallback: false,
      fallbackReason: null,
      model: null,
    });
    expect(draft.subject).toBe(templateEmail(hotelInput).subject);
  });

  it("a hostile company name ends up escaped in the HTML and harmless in the subject", async () => {
    const draft = await write(
      TemplateBackendLive,
      withCompany(hotelInput, { name: HOSTILE_NAME }, "company-7"),
    );
    expect(draft.isFallback).toBe(false);
    expect(draft.subject).not.toMatch(/[\r\n]/);
    expect(draft.subject).toContain("ACME Bcc: x@y");
    expect(draft.bodyHtml).not.toMatch(/<script/i);
    expect(draft.bodyHtml).toContain("ACME Bcc: x@y &lt;script&gt;alert(1)&lt;/script&gt;");
    expect(draft.bodyHtml).toContain("1200 Main St, Suite 200");
    expect(draft.bodyText).toContain("To unsubscribe: {{unsubscribe_url}}");
  });
});
