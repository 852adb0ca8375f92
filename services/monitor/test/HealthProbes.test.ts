import { createServer } from "node:net";
import { startOllamaFake, startOpenAiFake } from "@leadflow/testkit/fakes";
import { Duration, Effect, Option, Redacted } from "effect";
import { describe, expect, it } from "vitest";
import { emailCheck, llmCheck, worst } from "../src/Health.js";

const timeout = Duration.seconds(2);
const llm = (o: { ollama?: string; openai?: string; openaiKey?: string; backend?: string }) => ({
  ollamaBaseUrl: Option.fromNullable(o.ollama),
  openaiBaseUrl: Option.fromNullable(o.openai),
  openaiApiKey: Option.map(Option.fromNullable(o.openaiKey), Redacted.make),
  writerBackend: Option.fromNullable(o.backend),
});
const email = (smtp?: string, sendgrid?: string) => ({
  smtpUrl: Option.map(Option.fromNullable(smtp), Redacted.make),
  sendgridApiKey: Option.map(Option.fromNullable(sendgrid), Redacted.make),
});

/** A port nothing listens on (bound, then closed). */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

describe("LLM probe", () => {
  it("warns that the template writer is in use when no endpoint is configured", async () => {
    expect(await Effect.runPromise(llmCheck(llm({}), timeout))).toEqual({
      status: "warning",
      message: "no LLM endpoint configured: template writer in use",
    });
    expect(
      (await Effect.runPromise(llmCheck(llm({ ollama: "http://x", backend: "template" }), timeout))).status,
    ).toBe("warning");
  });

  it("asks Ollama for its models, and is an error when it does not answer", async () => {
    const fake = await startOllamaFake();
    try {
      expect(await Effect.runPromise(llmCheck(llm({ ollama: `${fake.url}/` }), timeout))).toEqual({
        status: "ok",
        message: `Ollama at ${fake.url} answered (1 models)`,
      });
    } finally {
      await fake.close();
    }
    const port = await closedPort();
    const down = await Effect.runPromise(llmCheck(llm({ ollama: `http://127.0.0.1:${port}` }), timeout));
    expect(down.status).toBe("error");
    expect(down.message).toContain(`Ollama at http://127.0.0.1:${port}: `);
  });
});

describe("LLM probe, OpenAI-compatible", () => {
  it("lists the models with the key, and is an error naming the status for a wrong key, never echoing it", async () => {
    const fake = await startOpenAiFake({ models: ["gpt-4o-mini"] });
    try {
      expect(
        await Effect.runPromise(llmCheck(llm({ openai: fake.url, openaiKey: fake.apiKey! }), timeout)),
      ).toEqual({ status: "ok", message: `OpenAI-compatible endpoint at ${fake.url} answered (1 models)` });
      const wrong = await Effect.runPromise(
        llmCheck(llm({ openai: `${fake.url}/`, openaiKey: "sk-wrong-key-1234567890" }), timeout),
      );
      expect(wrong).toEqual({
        status: "error",
        message: `OpenAI-compatible endpoint at ${fake.url} answered 401`,
      });
      const keyless = await Effect.runPromise(llmCheck(llm({ openai: fake.url }), timeout));
      expect(keyless.status).toBe("error");
      // both probes asked for the model list, with the key as a bearer token
      const asked = fake.server.requests.filter((r) => r.path === "/v1/models");
      expect(asked.map((r) => r.headers.authorization)).toEqual([
        `Bearer ${fake.apiKey}`,
        "Bearer sk-wrong-key-1234567890",
        undefined,
      ]);
    } finally {
      await fake.close();
    }
  });

  it("chooses OpenAI when only its base URL is set, and follows WRITER_BACKEND over the URLs", async () => {
    const port = await closedPort();
    const down = await Effect.runPromise(llmCheck(llm({ openai: `http://127.0.0.1:${port}` }), timeout));
    expect(down.status).toBe("error");
    expect(down.message).toContain("OpenAI-compatible endpoint");
    const template = await Effect.runPromise(
      llmCheck(llm({ openai: `http://127.0.0.1:${port}`, backend: "template" }), timeout),
    );
    expect(template.status).toBe("warning");
  });
});

describe("email transport", () => {
  it("falls back to SendGrid, then to the file outbox", async () => {
    expect(await Effect.runPromise(emailCheck(email(undefined, "SG.key"), timeout))).toEqual({
      status: "ok",
      message: "SendGrid API key configured",
    });
    expect(await Effect.runPromise(emailCheck(email(), timeout))).toMatchObject({
      status: "warning",
      message: expect.stringContaining("file outbox"),
    });
  });

  it("is an error when the SMTP server cannot be reached or the URL is not SMTP, never echoing credentials", async () => {
    const port = await closedPort();
    const down = await Effect.runPromise(emailCheck(email(`smtp://me:hunter2@127.0.0.1:${port}`), timeout));
    expect(down.status).toBe("error");
    expect(down.message).toContain(`127.0.0.1:${port}`);
    expect(down.message).not.toContain("hunter2");
    const bad = await Effect.runPromise(emailCheck(email("https://mail.example.com"), timeout));
    expect(bad).toEqual({ status: "error", message: "SMTP_URL is not an smtp:// or smtps:// URL" });
  });

  it("is an error when the server does not greet within the timeout", async () => {
    const silent = createServer(() => undefined).listen(0, "127.0.0.1");
    await new Promise((r) => silent.once("listening", r));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = await Effect.runPromise(emailCheck(email(`smtp://127.0.0.1:${port}`), Duration.millis(300)));
      expect(r.status).toBe("error");
    } finally {
      silent.close();
    }
  });
});

it("the overall status is the worst one", () => {
  expect(worst([])).toBe("ok");
  expect(worst(["ok", "warning", "ok"])).toBe("warning");
  expect(worst(["warning", "error", "ok"])).toBe("error");
});
