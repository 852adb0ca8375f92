import {
  Clock,
  Context,
  Data,
  Duration,
  Effect,
  Layer,
  Redacted,
  Ref,
  Schedule,
  Schema,
  SynchronizedRef,
} from "effect";
import { Metrics } from "./Metrics.js";
import type { ProviderLimits } from "./ProviderLimits.js";

/** What went wrong with a third-party call, coarse enough to route on. */
export type ProviderErrorKind =
  | "unauthorized"
  | "rate_limited"
  | "server"
  | "client"
  | "timeout"
  | "network"
  | "invalid_response";

/** A third-party API call that failed after the in-process retries. */
export class ProviderError extends Data.TaggedError("ProviderError")<{
  readonly provider: string;
  readonly kind: ProviderErrorKind;
  /** HTTP status when the provider answered, else null. */
  readonly status: number | null;
  readonly message: string;
  /** Whether trying again later may succeed (message redelivery decides when). */
  readonly retryable: boolean;
  /** The provider's `Retry-After`, when it sent one. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}> {}

/** Overrides the status → kind mapping for providers that bend HTTP (e.g. Hunter's 403 = rate limited). */
export type ProviderClassifier = (
  status: number,
  body: unknown,
) => { readonly kind: ProviderErrorKind; readonly retryable: boolean } | undefined;

export interface ProviderClientOptions {
  /** Metric label and error prefix, e.g. `google_places`. Bounded: one per provider, never per call. */
  readonly provider: string;
  readonly baseUrl: string;
  /** Headers sent on every call; secrets stay `Redacted` until the request is built. */
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted>>;
  /** Rate, concurrency and timeout in one, as `providerLimitsConfig` reads them; the fields below win. */
  readonly limits?: ProviderLimits;
  /** Per-attempt timeout, covering the body too. Default 10 s. */
  readonly timeoutMs?: number;
  /** Requests per second for this provider, shared by every client of the same provider. Default 5. */
  readonly ratePerSec?: number;
  /** Calls in flight for this provider, shared like `ratePerSec`. Default 4. */
  readonly concurrency?: number;
  /** Attempts per call, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** First backoff delay; doubles per attempt, jittered. Default 250 ms. */
  readonly retryBaseMs?: number;
  /** A `Retry-After` longer than this is not waited out in-process: the error goes to the caller. Default 30 s. */
  readonly maxRetryAfterMs?: number;
  /** Response bodies above this fail as `invalid_response`. Default 5 MB. */
  readonly maxBodyBytes?: number;
  /** Names the setting to fix in `unauthorized` messages, e.g. `GOOGLE_PLACES_API_KEY`. */
  readonly credentialHint?: string;
  readonly classify?: ProviderClassifier;
  /** Extracts a readable message from an error body the generic reader does not understand. */
  readonly describeError?: (body: unknown, text: string) => string | undefined;
}

export type QueryValue = string | number | boolean | Redacted.Redacted | null | undefined;

export interface ProviderRequest<A, I> {
  readonly method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Appended to the base URL (which may carry a path prefix). */
  readonly path: string;
  /** `null`/`undefined` values are left out. */
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted>>;
  /** Sent as `application/json`. */
  readonly json?: unknown;
  /** Sent as `application/x-www-form-urlencoded`. */
  readonly form?: Readonly<Record<string, string>>;
  /** Validates the parsed body (an empty body decodes from `null`). */
  readonly schema: Schema.Schema<A, I, never>;
  readonly timeoutMs?: number;
}

export interface ProviderResponse<A> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: A;
}

export interface ProviderClient {
  readonly provider: string;
  /** One logical call: rate limited, bounded, retried on 429/5xx/timeouts/network errors. */
  readonly request: <A, I>(req: ProviderRequest<A, I>) => Effect.Effect<ProviderResponse<A>, ProviderError>;
  /** `request`, keeping only the decoded body. */
  readonly json: <A, I>(req: ProviderRequest<A, I>) => Effect.Effect<A, ProviderError>;
}

export interface ProviderHttpShape {
  /** A client for one provider. Rate and concurrency limits are shared per `provider` name in the process (first options win). */
  readonly client: (options: ProviderClientOptions) => Effect.Effect<ProviderClient>;
}

/** The process's gateway to third-party JSON APIs (one per process so per-provider limits hold across services). */
export class ProviderHttp extends Context.Tag("leadflow/runtime/ProviderHttp")<
  ProviderHttp,
  ProviderHttpShape
>() {}

const MB = 1024 * 1024;

/**
 * Parses a `Retry-After` value (delay in seconds, or an HTTP date) into milliseconds from `now`.
 * Returns undefined when absent or unreadable.
 */
export const parseRetryAfter = (value: string | null, now: number = Date.now()): number | undefined => {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};

/** The default mapping of an HTTP error status to a kind. */
export const classifyStatus = (status: number): { kind: ProviderErrorKind; retryable: boolean } => {
  if (status === 401 || status === 403) return { kind: "unauthorized", retryable: false };
  if (status === 429) return { kind: "rate_limited", retryable: true };
  if (status === 408) return { kind: "timeout", retryable: true };
  if (status >= 500) return { kind: "server", retryable: true };
  return { kind: "client", retryable: false };
};

const outcomeOf: Record<ProviderErrorKind, string> = {
  unauthorized: "client_error",
  client: "client_error",
  rate_limited: "rate_limited",
  server: "server_error",
  timeout: "timeout",
  network: "network_error",
  invalid_response: "invalid_response",
};

/** Pulls a human message out of the common error body shapes (Google, Yelp, Hunter, plain text). */
const describeBody = (body: unknown, text: string): string => {
  const pick = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v : undefined);
  if (body !== null && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const err = b.error;
    if (err !== null && typeof err === "object") {
      const e = err as Record<string, unknown>;
      const code = pick(e.status) ?? pick(e.code);
      const msg = pick(e.message) ?? pick(e.description);
      if (msg !== undefined) return code !== undefined ? `${code}: ${msg}` : msg;
    }
    const direct = pick(err) ?? pick(b.message) ?? pick(b.error_description) ?? pick(b.detail);
    if (direct !== undefined) return direct;
    if (Array.isArray(b.errors)) {
      const first = b.errors[0] as Record<string, unknown> | undefined;
      const m = first && (pick(first.details) ?? pick(first.message) ?? pick(first.error_message));
      if (m !== undefined) return m;
    }
  }
  const flat = text
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
};

type RawOutcome =
  | { readonly _tag: "response"; readonly status: number; readonly headers: Headers; readonly text: string }
  | { readonly _tag: "too_large"; readonly status: number; readonly bytes: number }
  | { readonly _tag: "timeout"; readonly cause: unknown }
  | { readonly _tag: "network"; readonly cause: unknown };

/** Reads at most `max` bytes; a larger body is cancelled rather than buffered. */
const readCapped = async (res: Response, max: number): Promise<{ text: string } | { tooLarge: number }> => {
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    return { tooLarge: declared };
  }
  if (res.body === null) return { text: "" };
  const reader = res.body.getReader();
  const chunks: Array<Uint8Array> = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return { tooLarge: total };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString("utf8") };
};

const send = async (
  url: string,
  init: RequestInit,
  timeoutMs: number,
  maxBytes: number,
  interrupt: AbortSignal,
): Promise<RawOutcome> => {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.any([interrupt, timeout]) });
    const read = await readCapped(res, maxBytes);
    return "tooLarge" in read
      ? { _tag: "too_large", status: res.status, bytes: read.tooLarge }
      : { _tag: "response", status: res.status, headers: res.headers, text: read.text };
  } catch (cause) {
    return timeout.aborted ? { _tag: "timeout", cause } : { _tag: "network", cause };
  }
};

const reveal = (v: string | Redacted.Redacted): string =>
  Redacted.isRedacted(v) ? String(Redacted.value(v)) : v;

interface Gate {
  readonly run: <A, E>(self: Effect.Effect<A, E>) => Effect.Effect<A, E>;
}

/**
 * A concurrency bound plus request spacing: each call reserves the next free slot after the
 * previous one, so the rate holds however many fibers call at once. The slot is taken while
 * holding a permit, right before sending, so calls queued on the semaphore cannot burst. Spacing
 * runs from the moment a call really leaves (a late wake-up pushes the next slot back) and keeps
 * a small margin under the limit: timers and the network only ever shorten the provider's view
 * of the gap, and a provider counting a sliding window must never see one call too many.
 */
const RATE_MARGIN = 1.03;

const makeGate = (ratePerSec: number, concurrency: number): Effect.Effect<Gate> =>
  Effect.gen(function* () {
    const semaphore = yield* Effect.makeSemaphore(concurrency);
    const nextSlot = yield* Ref.make(0);
    const interval = (1000 / ratePerSec) * RATE_MARGIN;
    const waitTurn = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis;
      const slot = yield* Ref.modify(nextSlot, (next) => {
        const at = Math.max(now, next);
        return [at, at + interval] as const;
      });
      if (slot > now) yield* Effect.sleep(Duration.millis(slot - now));
      const sent = yield* Clock.currentTimeMillis;
      if (sent > slot) yield* Ref.update(nextSlot, (next) => Math.max(next, sent + interval));
    });
    return { run: (self) => semaphore.withPermits(1)(Effect.zipRight(waitTurn, self)) };
  });

/** Exponential backoff with jitter, never shorter than the provider's `Retry-After`. */
const retryPolicy = (maxAttempts: number, baseMs: number, maxRetryAfterMs: number) =>
  Schedule.exponential(Duration.millis(baseMs)).pipe(
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(Math.max(0, maxAttempts - 1))),
    Schedule.intersect(Schedule.identity<ProviderError>()),
    Schedule.modifyDelay(([, error], delay) =>
      error.retryAfterMs === undefined ? delay : Duration.max(delay, Duration.millis(error.retryAfterMs)),
    ),
    Schedule.whileInput(
      (error: ProviderError) => error.retryable && (error.retryAfterMs ?? 0) <= maxRetryAfterMs,
    ),
  );

const makeClient = (
  options: ProviderClientOptions,
  gate: Gate,
  metrics: Context.Tag.Service<Metrics>,
): ProviderClient => {
  const provider = options.provider;
  const base = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? options.limits?.timeoutMs ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? 5 * MB;
  const policy = retryPolicy(
    options.maxAttempts ?? 3,
    options.retryBaseMs ?? 250,
    options.maxRetryAfterMs ?? 30_000,
  );

  const fail = (fields: Omit<ConstructorParameters<typeof ProviderError>[0], "provider">) =>
    new ProviderError({ provider, ...fields });

  const buildUrl = (req: ProviderRequest<unknown, unknown>): string => {
    const url = `${base}${req.path.startsWith("/") ? req.path : `/${req.path}`}`;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v !== null && v !== undefined) params.append(k, Redacted.isRedacted(v) ? reveal(v) : String(v));
    }
    const qs = params.toString();
    return qs === "" ? url : `${url}${url.includes("?") ? "&" : "?"}${qs}`;
  };

  const buildInit = (req: ProviderRequest<unknown, unknown>): RequestInit => {
    const headers: Record<string, string> = { accept: "application/json" };
    for (const [k, v] of Object.entries({ ...options.headers, ...req.headers })) headers[k] = reveal(v);
    let body: string | undefined;
    if (req.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(req.json);
    } else if (req.form !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams({ ...req.form }).toString();
    }
    return { method: req.method ?? (body === undefined ? "GET" : "POST"), headers, body, redirect: "follow" };
  };

  const parseJson = (text: string): { ok: true; value: unknown } | { ok: false; cause: unknown } => {
    if (text.trim() === "") return { ok: true, value: null };
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (cause) {
      return { ok: false, cause };
    }
  };

  /** One HTTP exchange turned into a value or a classified error; never retries. */
  const attempt = <A, I>(
    req: ProviderRequest<A, I>,
    url: string,
    init: RequestInit,
    what: string,
  ): Effect.Effect<ProviderResponse<A>, ProviderError> =>
    Effect.gen(function* () {
      const started = performance.now();
      const raw = yield* Effect.promise((signal) =>
        send(url, init, req.timeoutMs ?? timeoutMs, maxBodyBytes, signal),
      );
      metrics.providerDuration.observe({ provider }, (performance.now() - started) / 1000);
      const result = yield* interpret(req, raw, what);
      return result;
    }).pipe(
      Effect.tapBoth({
        onSuccess: () => Effect.sync(() => metrics.providerCalls.inc({ provider, outcome: "ok" })),
        onFailure: (e) =>
          Effect.sync(() => metrics.providerCalls.inc({ provider, outcome: outcomeOf[e.kind] })).pipe(
            Effect.zipRight(
              Effect.logDebug("provider call failed").pipe(
                Effect.annotateLogs({
                  provider,
                  kind: e.kind,
                  status: e.status ?? "none",
                  retryable: e.retryable,
                }),
              ),
            ),
          ),
      }),
    );

  const interpret = <A, I>(
    req: ProviderRequest<A, I>,
    raw: RawOutcome,
    what: string,
  ): Effect.Effect<ProviderResponse<A>, ProviderError> => {
    switch (raw._tag) {
      case "timeout":
        return Effect.fail(
          fail({
            kind: "timeout",
            status: null,
            retryable: true,
            message: `${provider}: ${what} timed out after ${req.timeoutMs ?? timeoutMs} ms`,
            cause: raw.cause,
          }),
        );
      case "network": {
        const cause = raw.cause as { cause?: { code?: string; message?: string }; message?: string };
        const detail = cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? "unknown error";
        return Effect.fail(
          fail({
            kind: "network",
            status: null,
            retryable: true,
            message: `${provider}: ${what} failed: ${detail}`,
            cause: raw.cause,
          }),
        );
      }
      case "too_large":
        return Effect.fail(
          fail({
            kind: "invalid_response",
            status: raw.status,
            retryable: false,
            message: `${provider}: ${what} response body exceeds ${maxBodyBytes} bytes`,
          }),
        );
      case "response":
        break;
    }
    const parsed = parseJson(raw.text);
    if (raw.status < 200 || raw.status >= 300) {
      const body = parsed.ok ? parsed.value : null;
      const { kind, retryable } = options.classify?.(raw.status, body) ?? classifyStatus(raw.status);
      const detail = options.describeError?.(body, raw.text) ?? describeBody(body, raw.text);
      const message =
        kind === "unauthorized"
          ? `${provider} rejected the credentials (HTTP ${raw.status}${detail ? `: ${detail}` : ""}); check ${options.credentialHint ?? "the API key"}`
          : `${provider}: ${what} answered HTTP ${raw.status}${detail ? `: ${detail}` : ""}`;
      const retryAfterMs = parseRetryAfter(raw.headers.get("retry-after"));
      return Effect.fail(
        fail({
          kind,
          status: raw.status,
          retryable,
          message,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
          cause: body ?? raw.text,
        }),
      );
    }
    if (!parsed.ok) {
      return Effect.fail(
        fail({
          kind: "invalid_response",
          status: raw.status,
          retryable: false,
          message: `${provider}: ${what} returned a body that is not JSON: ${String((parsed.cause as Error)?.message ?? parsed.cause)}`,
          cause: parsed.cause,
        }),
      );
    }
    return Schema.decodeUnknown(req.schema, { errors: "all" })(parsed.value).pipe(
      Effect.map((body) => ({ status: raw.status, headers: raw.headers, body })),
      Effect.mapError((cause) =>
        fail({
          kind: "invalid_response",
          status: raw.status,
          retryable: false,
          message: `${provider}: ${what} returned an unexpected shape: ${cause.message.slice(0, 1000)}`,
          cause,
        }),
      ),
    );
  };

  const request = <A, I>(req: ProviderRequest<A, I>): Effect.Effect<ProviderResponse<A>, ProviderError> => {
    const url = buildUrl(req as ProviderRequest<unknown, unknown>);
    const init = buildInit(req as ProviderRequest<unknown, unknown>);
    const what = `${init.method} ${req.path}`;
    return gate.run(attempt(req, url, init, what)).pipe(
      Effect.retry(policy),
      Effect.withSpan("ProviderHttp.request", {
        attributes: { provider, method: init.method, path: req.path },
      }),
    );
  };

  return { provider, request, json: (req) => Effect.map(request(req), (r) => r.body) };
};

/** Builds the service; gates are created per provider on first use and live as long as the service. */
export const make: Effect.Effect<ProviderHttpShape, never, Metrics> = Effect.gen(function* () {
  const metrics = yield* Metrics;
  const gates = yield* SynchronizedRef.make(new Map<string, Gate>());
  return {
    client: (options) =>
      Effect.gen(function* () {
        const rate = options.ratePerSec ?? options.limits?.ratePerSec ?? 5;
        const concurrency = options.concurrency ?? options.limits?.concurrency ?? 4;
        if (!(rate > 0) || !Number.isInteger(concurrency) || concurrency < 1) {
          return yield* Effect.dieMessage(
            `ProviderHttp: invalid limits for ${options.provider} (ratePerSec ${rate}, concurrency ${concurrency})`,
          );
        }
        const gate = yield* SynchronizedRef.modifyEffect(gates, (map) => {
          const existing = map.get(options.provider);
          if (existing !== undefined) return Effect.succeed([existing, map] as const);
          return Effect.map(
            makeGate(rate, concurrency),
            (g) => [g, new Map(map).set(options.provider, g)] as const,
          );
        });
        return makeClient(options, gate, metrics);
      }),
  };
});

/** The process-wide `ProviderHttp`; needs `Metrics`. */
export const ProviderHttpLive: Layer.Layer<ProviderHttp, never, Metrics> = Layer.effect(ProviderHttp, make);
