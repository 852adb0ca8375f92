import { Data } from "effect";

/**
 * The failure routing the runtime applies to a handler's typed error: `retryable: true`
 * means "try this message again later" (nak with a delay); anything else is permanent
 * (dead-letter now). Handlers fail with their own tagged errors carrying this field.
 */
export interface RoutableError {
  readonly _tag: string;
  readonly message?: string;
  readonly retryable?: boolean;
  /**
   * The earliest the message may be tried again (a provider's `Retry-After`): the redelivery
   * waits for the longer of this and the consumer's backoff step.
   */
  readonly retryAfterMs?: number;
}

/** A Postgres call failed: connection lost, serialisation failure, … — worth retrying. */
export class DbError extends Data.TaggedError("DbError")<{
  readonly message: string;
  readonly cause?: unknown;
}> {
  /**
   * A data exception (SQLSTATE class 22: a value out of range, bad input for its type, bad
   * encoding) fails the same way on every try: permanent, dead-lettered at once with its reason.
   * Anything else may pass later: a lost connection, a deadlock, a serialization failure, a
   * constraint raced by a replica, a table a rolling deploy has not migrated yet.
   */
  get retryable(): boolean {
    const code = (this.cause as { readonly code?: unknown } | null | undefined)?.code;
    return !(typeof code === "string" && /^22[0-9A-Z]{3}$/.test(code));
  }
}

// What says "the database cannot be reached now" rather than "this statement failed": the
// socket's errors, postgres.js's own connection codes, and the server's SQLSTATEs for a
// connection lost (class 08), a server shutting down or starting (57P01–57P03) and no
// connection slot free (53300).
const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

/**
 * Whether `error` (or what caused it, a few levels down) says the database cannot be reached:
 * waiting helps, trying the same message again at once does not. Read from error codes only,
 * never from messages. `CONNECTION_ENDED` (a pool this process closed) is not among them.
 */
export const isDbUnreachable = (error: unknown): boolean => {
  let e: unknown = error;
  for (let depth = 0; depth < 6 && e !== null && typeof e === "object"; depth++) {
    const code = (e as { readonly code?: unknown }).code;
    if (typeof code === "string" && (unreachableCodes.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    e = (e as { readonly cause?: unknown }).cause;
  }
  return false;
};

/** A NATS call failed — worth retrying. */
export class NatsError extends Data.TaggedError("NatsError")<{
  readonly message: string;
  readonly cause?: unknown;
}> {
  readonly retryable = true;
}

/** A message that will never succeed as it is: bad input, a 4xx from a provider, … */
export class PermanentError extends Data.TaggedError("PermanentError")<{
  readonly message: string;
  readonly cause?: unknown;
}> {
  readonly retryable = false;
}

/** A transient failure: try the whole message again later (not before `retryAfterMs`, if given). */
export class RetryableError extends Data.TaggedError("RetryableError")<{
  readonly message: string;
  readonly cause?: unknown;
  readonly retryAfterMs?: number;
}> {
  readonly retryable = true;
}

/** A short, single-line description of anything thrown or failed. */
export const describeError = (error: unknown): { tag: string; message: string } => {
  if (error && typeof error === "object") {
    const e = error as { _tag?: unknown; message?: unknown; name?: unknown; cause?: unknown };
    const tag = typeof e._tag === "string" ? e._tag : typeof e.name === "string" ? e.name : "Error";
    let message = typeof e.message === "string" && e.message.length > 0 ? e.message : String(error);
    if (e.cause && typeof e.cause === "object" && "message" in e.cause) {
      const inner = String((e.cause as { message: unknown }).message);
      if (!message.includes(inner)) message = `${message}: ${inner}`;
    }
    return { tag, message: message.replace(/\s+/g, " ").slice(0, 2000) };
  }
  return { tag: "Error", message: String(error).slice(0, 2000) };
};
