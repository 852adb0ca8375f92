import type { ProviderHttp } from "@leadflow/runtime";
import { Cause, type ConfigError, Context, Effect, Either, Layer } from "effect";
import { type BackendName, WriterBackend } from "./Backend.js";
import { WriterBackendLive } from "./Backends.js";
import { templateEmail } from "./backends/TemplateBackend.js";
import type { Draft, DraftInput, EmailContent } from "./DraftInput.js";
import { EmailRenderer, EmailRendererLive } from "./EmailRender.js";
import { parseAnswer, validateAnswer } from "./Validation.js";

/** Times the backend is asked for a usable answer: the first try and one retry. */
export const ANSWER_ATTEMPTS = 2;

const MAX_REASON_LENGTH = 500;

export interface WriterShape {
  /**
   * A draft for one company. Asks the configured backend; an unusable answer (invalid, garbage,
   * empty, cut off) is asked for once more; if there is still none — or the backend failed after
   * its HTTP retries — the template writer stands in and the draft says why. Never fails.
   */
  readonly write: (input: DraftInput) => Effect.Effect<Draft>;
}

export class Writer extends Context.Tag("leadflow/writer/Writer")<Writer, WriterShape>() {}

type Attempt = Either.Either<EmailContent, { readonly reason: string; readonly askAgain: boolean }>;

export const makeWriter: Effect.Effect<WriterShape, never, WriterBackend | EmailRenderer> = Effect.gen(
  function* () {
    const backend = yield* WriterBackend;
    const renderer = yield* EmailRenderer;

    const ask = (input: DraftInput, attempt: number): Effect.Effect<Attempt> =>
      backend.complete({ input, attempt }).pipe(
        Effect.map(
          (raw): Attempt =>
            Either.mapLeft(backend.trusted ? parseAnswer(raw) : validateAnswer(raw, input), (reasons) => ({
              reason: `invalid answer: ${reasons.join("; ")}`,
              askAgain: true,
            })),
        ),
        Effect.catchTag("BackendError", (e) =>
          Effect.succeed<Attempt>(Either.left({ reason: e.message, askAgain: e.askAgain })),
        ),
        // a bug on the LLM path must not cost the company its draft: the template still writes one
        Effect.catchAllDefect((defect) =>
          Effect.logError("writer backend crashed", Cause.die(defect)).pipe(
            Effect.as<Attempt>(
              Either.left({ reason: `unexpected failure: ${String(defect)}`, askAgain: false }),
            ),
          ),
        ),
      );

    const draft = (
      content: EmailContent,
      input: DraftInput,
      meta: Pick<Draft, "backend" | "isFallback" | "fallbackReason" | "model">,
    ): Effect.Effect<Draft> =>
      Effect.map(renderer.render(content, input), (email) => ({
        subject: email.subject,
        bodyText: email.text,
        bodyHtml: email.html,
        ...meta,
      }));

    // untraced: it runs once per company (a traced `Effect.fn` captures a stack trace per call);
    // the stage's task has the span
    const write = Effect.fnUntraced(function* (input: DraftInput) {
      let reason = "";
      for (let attempt = 1; attempt <= ANSWER_ATTEMPTS; attempt++) {
        const result = yield* ask(input, attempt);
        if (Either.isRight(result)) {
          return yield* draft(result.right, input, {
            backend: backend.name,
            isFallback: false,
            fallbackReason: null,
            model: backend.model,
          });
        }
        reason = result.left.reason;
        if (!result.left.askAgain) break;
      }
      // provider errors already start with the provider's name
      const named = reason.startsWith(backend.name) ? reason : `${backend.name}: ${reason}`;
      const fallbackReason = truncate(named, MAX_REASON_LENGTH);
      yield* Effect.logWarning("writer used the template instead of the LLM").pipe(
        Effect.annotateLogs({ companyId: input.companyId, backend: backend.name, reason: fallbackReason }),
      );
      return yield* draft(templateEmail(input), input, {
        backend: "template" satisfies BackendName,
        isFallback: true,
        fallbackReason,
        model: null,
      });
    });

    return { write };
  },
);

const truncate = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** The writer over whatever backend and renderer are provided. */
export const WriterLive: Layer.Layer<Writer, never, WriterBackend | EmailRenderer> = Layer.effect(
  Writer,
  makeWriter,
);

/** The writer with the backend chosen by configuration (`Backends`) and the compile-once renderer. */
export const WriterFromConfigLive: Layer.Layer<Writer, ConfigError.ConfigError, ProviderHttp> =
  WriterLive.pipe(Layer.provide(Layer.merge(WriterBackendLive, EmailRendererLive)));
