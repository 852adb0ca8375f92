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

// Node's and postgres.js's codes for "nothing answers there (now)": refused, no route, a name
// that does not resolve yet (a compose service not created, a Kubernetes Service's DNS), a
// connection dropped, cut or timed out.
const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
]);

/** An error's `code`, or that of its cause or first inner error (an AggregateError per address). */
export const errorCode = (error: unknown): string | undefined => {
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown } | null | undefined;
  if (typeof e?.code === "string") return e.code;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return errorCode(e.errors[0]);
  if (e?.cause !== undefined && e.cause !== error) return errorCode(e.cause);
  return undefined;
};

/** Whether the failure says the server is not there (yet), rather than that it said no. */
export const isUnreachable = (error: unknown): boolean => {
  const code = errorCode(error);
  return code !== undefined && unreachableCodes.has(code);
};

// SQLSTATEs a server sends while it cannot take the connection: starting up (57P03), shutting
// down (57P01, 57P02), out of connection slots (53300), and the connection exceptions (08).
// Anything else it answers (a wrong password 28P01, no such role 28000, no such database 3D000,
// no permission 42501) is a setting to fix, and so is a TLS refusal.
const transientSqlState = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;

/**
 * Whether `error` (or what caused it) says the database cannot be reached now, which waiting may
 * heal, rather than that a statement failed. Read from error codes only, never from messages.
 * `CONNECTION_ENDED` (a pool this process closed) is not among them.
 */
export const isDbUnreachable = (error: unknown): boolean => {
  const code = errorCode(error);
  return code !== undefined && (unreachableCodes.has(code) || transientSqlState.test(code));
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
