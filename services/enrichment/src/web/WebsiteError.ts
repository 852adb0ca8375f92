import { Data } from "effect";

/** Why a website could not be fetched or read. */
export type WebsiteErrorReason =
  | "forbidden_address"
  | "bad_scheme"
  | "bad_url"
  | "too_many_redirects"
  | "too_large"
  | "timeout"
  | "http_status"
  | "not_html"
  | "network";

/** A company website that could not be fetched safely; recoverable, the phone/contact chain moves on. */
export class WebsiteError extends Data.TaggedError("WebsiteError")<{
  readonly reason: WebsiteErrorReason;
  /** Whether trying again later may succeed: network trouble, timeouts, 5xx/408/429. */
  readonly retryable: boolean;
  /** The URL being fetched when it failed (after redirects, the hop that failed). */
  readonly url: string;
  /** HTTP status when the server answered, else null. */
  readonly status: number | null;
  readonly message: string;
  readonly cause?: unknown;
}> {}
