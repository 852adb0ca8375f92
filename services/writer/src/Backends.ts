import type { ProviderHttp } from "@leadflow/runtime";
import { Config, ConfigError, Effect, Either, Layer, Option } from "effect";
import { type BackendName, WriterBackend, type WriterBackendShape } from "./Backend.js";
import { ollamaBackendFromConfig } from "./backends/OllamaBackend.js";
import { openAiBackendFromConfig } from "./backends/OpenAiBackend.js";
import { templateBackend } from "./backends/TemplateBackend.js";

/** Every name `WRITER_BACKEND` accepts. */
export const BackendNames: ReadonlyArray<BackendName> = ["ollama", "openai", "template"];

/** Each backend reads its own configuration when (and only when) it is selected. */
const builders: Record<
  BackendName,
  Effect.Effect<WriterBackendShape, ConfigError.ConfigError, ProviderHttp>
> = {
  ollama: ollamaBackendFromConfig,
  openai: openAiBackendFromConfig,
  template: Effect.succeed(templateBackend),
};

const isSet = (value: Option.Option<string>): boolean =>
  Option.match(value, { onNone: () => false, onSome: (v) => v.trim() !== "" });

/**
 * The selected backend: `WRITER_BACKEND` (`ollama` | `openai` | `template`) when set; else
 * `ollama` when `OLLAMA_BASE_URL` is set, else `openai` when `OPENAI_BASE_URL` is set, else
 * `template`.
 */
export const backendNameConfig: Config.Config<BackendName> = Config.all({
  explicit: Config.option(Config.string("WRITER_BACKEND")),
  ollama: Config.option(Config.string("OLLAMA_BASE_URL")),
  openai: Config.option(Config.string("OPENAI_BASE_URL")),
}).pipe(
  Config.mapOrFail(({ explicit, ollama, openai }) => {
    const name = Option.getOrElse(explicit, () => "")
      .trim()
      .toLowerCase();
    if (name !== "") {
      const known = BackendNames.find((n) => n === name);
      return known !== undefined
        ? Either.right(known)
        : Either.left(
            ConfigError.InvalidData(
              ["WRITER_BACKEND"],
              `unknown writer backend "${name}"; known backends: ${BackendNames.join(", ")}`,
            ),
          );
    }
    return Either.right(isSet(ollama) ? "ollama" : isSet(openai) ? "openai" : "template");
  }),
);

/** The configured writer backend. Needs `ProviderHttp` for the LLM backends. */
export const WriterBackendLive: Layer.Layer<WriterBackend, ConfigError.ConfigError, ProviderHttp> =
  Layer.effect(
    WriterBackend,
    Effect.gen(function* () {
      const name = yield* backendNameConfig;
      const backend = yield* builders[name];
      yield* Effect.logInfo(
        `writer backend: ${name}${backend.model === null ? "" : ` (model ${backend.model})`}`,
      );
      return backend;
    }),
  );
