import { Clock, Config, Effect } from "effect";

/**
 * `STARTUP_WAIT_MS`: how long a service waits at start for PostgreSQL and NATS to answer, both
 * together, counted from its start (default 3 minutes; 0 – 1 hour; 0 = give up at the first
 * refusal). Services and their servers start in any order under Kubernetes and compose.
 */
export const StartupWaitConfig = Config.integer("STARTUP_WAIT_MS").pipe(
  Config.withDefault(180_000),
  Config.validate({
    message: "STARTUP_WAIT_MS must be a whole number of milliseconds from 0 to 3600000",
    validation: (n) => n >= 0 && n <= 3_600_000,
  }),
);

/** The pause before attempt `attempt + 1`: 1 s, doubling, at most 10 s. */
export const startupBackoff = (attempt: number): number => Math.min(1_000 * 2 ** (attempt - 1), 10_000);

export interface StartupWaitOptions<E, E2> {
  /** What is waited for, in the log lines: `PostgreSQL`, `NATS`. */
  readonly dependency: string;
  /** Epoch milliseconds after which no attempt starts (the first one always does). */
  readonly deadline: number;
  /** Whether waiting may heal the failure (nothing listening may; a wrong password will not). */
  readonly transient: (error: E) => boolean;
  /** The failure in one line, for the log. */
  readonly reason: (error: E) => string;
  /** The error to stop with: `waited` is undefined when the failure was not one to wait out, or no wait was allowed. */
  readonly fail: (
    error: E,
    waited: { readonly waitedMs: number; readonly attempts: number } | undefined,
  ) => E2;
}

/**
 * Runs `attempt` until it succeeds, fails in a way waiting will not heal, or the deadline has
 * passed; each failed attempt is a warning line with its reason and the pause before the next
 * one (`startupBackoff`, the last cut short to end at the deadline).
 */
export const waitForDependency = <A, E, E2, R>(
  attempt: Effect.Effect<A, E, R>,
  options: StartupWaitOptions<E, E2>,
): Effect.Effect<A, E2, R> =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis;
    for (let n = 1; ; n++) {
      const result = yield* Effect.either(attempt);
      const now = yield* Clock.currentTimeMillis;
      if (result._tag === "Right") {
        if (n > 1) {
          yield* Effect.logInfo(`${options.dependency} answered`).pipe(
            Effect.annotateLogs({ attempts: n, waitedMs: now - started }),
          );
        }
        return result.right;
      }
      const error = result.left;
      if (!options.transient(error)) return yield* Effect.fail(options.fail(error, undefined));
      // the last pause is cut short so that one attempt falls at the deadline itself
      const delay = Math.min(startupBackoff(n), options.deadline - now);
      if (delay <= 0) {
        return yield* Effect.fail(
          options.fail(
            error,
            options.deadline > started ? { waitedMs: now - started, attempts: n } : undefined,
          ),
        );
      }
      yield* Effect.logWarning(`waiting for ${options.dependency}`).pipe(
        Effect.annotateLogs({
          reason: options.reason(error),
          attempt: n,
          retryInMs: delay,
          waitedMs: now - started,
          giveUpInMs: options.deadline - now,
        }),
      );
      yield* Effect.sleep(delay);
    }
  });
