import { startOllamaFake, startOpenAiFake } from "@leadflow/testkit/fakes";
import { describe, expect, it } from "vitest";

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe("Ollama fake speaks Ollama", () => {
  it("GET / says it is running; /api/chat answers the non-streamed shape; streaming is the default", async () => {
    const fake = await startOllamaFake();
    try {
      expect(await (await fetch(`${fake.url}/`)).text()).toBe("Ollama is running");
      const messages = [{ role: "user", content: "hi" }];
      const res = await post(`${fake.url}/api/chat`, { model: "llama3.1:8b", messages, stream: false });
      const json = (await res.json()) as Record<string, unknown>;
      expect(json).toMatchObject({
        model: "llama3.1:8b",
        message: { role: "assistant" },
        done: true,
        done_reason: "stop",
      });
      expect(typeof json.created_at).toBe("string");
      expect(typeof json.total_duration).toBe("number");
      expect(typeof json.eval_count).toBe("number");

      const streamed = await post(`${fake.url}/api/chat`, { model: "llama3.1:8b", messages });
      expect(streamed.headers.get("content-type")).toBe("application/x-ndjson");
      const lines = (await streamed.text())
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { done: boolean });
      expect(lines.at(-1)?.done).toBe(true);
      expect(lines.length).toBeGreaterThan(2);
    } finally {
      await fake.close();
    }
  });

  it("503 when the queue is full; 400 without a model; 404 for a model not pulled", async () => {
    const fake = await startOllamaFake({ models: ["llama3.1:8b"] });
    try {
      const messages = [{ role: "user", content: "hi" }];
      fake.answerNext({ queueFull: true });
      const busy = await post(`${fake.url}/api/chat`, { model: "llama3.1:8b", messages, stream: false });
      expect(busy.status).toBe(503);
      expect(await busy.json()).toEqual({
        error: "server busy, please try again.  maximum pending requests exceeded",
      });
      expect((await post(`${fake.url}/api/chat`, { messages, stream: false })).status).toBe(400);
      const missing = await post(`${fake.url}/api/chat`, { model: "phi3", messages, stream: false });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ error: 'model "phi3" not found, try pulling it first' });
    } finally {
      await fake.close();
    }
  });
});

describe("OpenAI fake speaks the chat completions API", () => {
  it("answers a chat.completion with usage", async () => {
    const fake = await startOpenAiFake();
    try {
      const res = await post(
        `${fake.url}/v1/chat/completions`,
        { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] },
        { authorization: `Bearer ${fake.apiKey}` },
      );
      expect(await res.json()).toMatchObject({
        object: "chat.completion",
        model: "gpt-4o-mini",
        choices: [{ index: 0, message: { role: "assistant" }, finish_reason: "stop" }],
        usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
      });
    } finally {
      await fake.close();
    }
  });

  it("401 invalid_api_key, 429 with retry-after, and the json_object rule", async () => {
    const fake = await startOpenAiFake();
    try {
      const body = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] };
      const denied = await post(`${fake.url}/v1/chat/completions`, body, {
        authorization: "Bearer sk-nope-0000",
      });
      expect(denied.status).toBe(401);
      expect(await denied.json()).toMatchObject({
        error: { type: "invalid_request_error", code: "invalid_api_key" },
      });

      const auth = { authorization: `Bearer ${fake.apiKey}` };
      fake.rateLimitNext(1, 3);
      const limited = await post(`${fake.url}/v1/chat/completions`, body, auth);
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("3");
      expect(await limited.json()).toMatchObject({ error: { code: "rate_limit_exceeded" } });

      const noJson = await post(
        `${fake.url}/v1/chat/completions`,
        { ...body, response_format: { type: "json_object" } },
        auth,
      );
      expect(noJson.status).toBe(400);
      expect(((await noJson.json()) as { error: { message: string } }).error.message).toContain(
        "must contain the word 'json'",
      );
    } finally {
      await fake.close();
    }
  });
});
