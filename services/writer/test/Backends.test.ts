import { MetricsTest, ProviderHttpLive } from "@leadflow/runtime";
import { ConfigProvider, Effect, Either, Layer, Logger, LogLevel } from "effect";
import { describe, expect, it } from "vitest";
import { WriterBackend } from "../src/Backend.js";
import { backendNameConfig, WriterBackendLive } from "../src/Backends.js";

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
