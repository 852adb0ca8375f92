import type { ProviderError } from "@leadflow/runtime";
import { Context, Data, type Effect } from "effect";
import type { DraftInput } from "./DraftInput.js";

export type BackendName = "ollama" | "openai" | "template";

/** One request for an email. `attempt` starts at 1 (LLM backends vary their seed by it, so a retry is not a replay). */
export interface CompletionRequest {
  readonly input: DraftInput;
  readonly attempt: number;
}

/** A backend could not produce an answer. */
export class BackendError extends Data.TaggedError("BackendError")<{
  readonly backend: BackendName;
  readonly message: string;
  /**
   * Whether asking once more may help. False for transport failures, which the HTTP client has
   * already retried (429/5xx/timeouts), and for misconfiguration (401/403/404).
   */
  readonly askAgain: boolean;
  readonly cause?: unknown;
}> {}

/** A writer backend (plugin): turns a company into the model's raw answer, `{subject, body}` as JSON text. */
export interface WriterBackendShape {
  readonly name: BackendName;
  /** The model used, for the draft record; null for the template writer. */
  readonly model: string | null;
  /**
   * True when answers are built only from the input's own data (the template writer, whose
   * output the tests hold to the same rules): the writer then skips validation. LLM answers are
   * always validated.
   */
  readonly trusted: boolean;
  /** The raw answer content (unparsed, unvalidated: the writer checks it). */
  readonly complete: (request: CompletionRequest) => Effect.Effect<string, BackendError>;
}

/** The configured backend. */
export class WriterBackend extends Context.Tag("leadflow/writer/WriterBackend")<
  WriterBackend,
  WriterBackendShape
>() {}

/**
 * Maps a provider failure: only an unusable response body is worth asking again, since the
 * HTTP client already retried what can be retried.
 */
export const fromProviderError = (backend: BackendName, error: ProviderError): BackendError =>
  new BackendError({
    backend,
    message: error.message,
    askAgain: error.kind === "invalid_response",
    cause: error,
  });
