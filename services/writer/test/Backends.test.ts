import { defaultEmailFrom } from "@leadflow/contracts";
import { MetricsTest, ProviderHttpLive } from "@leadflow/runtime";
import { ConfigProvider, Effect, Either, Layer, Logger, LogLevel } from "effect";
import { describe, expect, it } from "vitest";
import { WriterBackend } from "../src/Backend.js";
import { backendNameConfig, WriterBackendLive } from "../src/Backends.js";
import { senderConfig } from "../src/SenderConfig.js";
import { writerConcurrencyConfig } from "../src/WriterPlugin.js";

const nameFor = (env: Record<string, string>) =>
  Effect.runSync(
    Effect.either(backendNameConfig).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    ),
  );

describe("backend selection", () => {
  it("WRITER_BACKEND wins when set", () => {
    expect(nameFor({ WRITER_BACKEND: "openai", OLLAMA_BASE_URL: "http://x" })).toEqual(
      Either.right("openai"),
    );
    expect(nameFor({ WRITER_BACKEND: " Template " })).toEqual(Either.right("template"));
  });

  it("defaults to ollama when OLLAMA_BASE_URL is set, else openai when OPENAI_BASE_URL is, else template", () => {
    expect(nameFor({ OLLAMA_BASE_URL: "http://o", OPENAI_BASE_URL: "http://a" })).toEqual(
      Either.right("ollama"),
    );
    expect(nameFor({ OPENAI_BASE_URL: "http://a" })).toEqual(Either.right("openai"));
    expect(nameFor({ OLLAMA_BASE_URL: "  " })).toEqual(Either.right("template"));
    expect(nameFor({})).toEqual(Either.right("template"));
  });

  it("refuses an unknown backend, naming the known ones", () => {
    const result = nameFor({ WRITER_BACKEND: "gpt" });
    expect(Either.isLeft(result)).toBe(true);
    expect(String(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : "")))).toContain(
      'unknown writer backend "gpt"; known backends: ollama, openai, template',
    );
  });

  it("builds the selected backend with its own settings", async () => {
    const backend = await Effect.runPromise(
      WriterBackend.pipe(
        Effect.provide(WriterBackendLive.pipe(Layer.provide(ProviderHttpLive), Layer.provide(MetricsTest))),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(
            new Map([
              ["OLLAMA_BASE_URL", "http://127.0.0.1:1"],
              ["OLLAMA_MODEL", "qwen2.5:7b"],
            ]),
          ),
        ),
        Logger.withMinimumLogLevel(LogLevel.None),
      ),
    );
    expect(backend).toMatchObject({ name: "ollama", model: "qwen2.5:7b" });
  });
});

describe("the sender (EMAIL_FROM and friends)", () => {
  const senderFor = (env: Record<string, string>) =>
    Effect.runSync(
      Effect.either(senderConfig).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      ),
    );

  it("defaults EMAIL_FROM to the notifier's default, and takes a valid address as given", () => {
    expect(Either.getOrThrow(senderFor({})).email).toBe(defaultEmailFrom);
    expect(Either.getOrThrow(senderFor({ EMAIL_FROM: " audits@example.com " })).email).toBe(
      "audits@example.com",
    );
  });

  it("refuses an EMAIL_FROM that is not one plain address, naming the variable", () => {
    for (const bad of ["Alex <alex@example.com>", "nobody", "a@b.com, c@d.com"]) {
      const result = senderFor({ EMAIL_FROM: bad });
      expect(Either.isLeft(result)).toBe(true);
      if (Either.isLeft(result)) expect(String(result.left)).toMatch(/EMAIL_FROM.*must be one email address/);
    }
  });
});

describe("WRITER_CONCURRENCY", () => {
  const concurrencyFor = (env: Record<string, string>) =>
    Effect.runSync(
      Effect.either(writerConcurrencyConfig).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      ),
    );
  it("defaults to 4 and refuses values outside 1–64, naming the variable", () => {
    expect(concurrencyFor({})).toEqual(Either.right(4));
    expect(concurrencyFor({ WRITER_CONCURRENCY: "16" })).toEqual(Either.right(16));
    for (const bad of ["0", "65", "-1", "two"]) {
      const result = concurrencyFor({ WRITER_CONCURRENCY: bad });
      expect(Either.isLeft(result) && String(result.left)).toMatch(/WRITER_CONCURRENCY/);
    }
  });
});
