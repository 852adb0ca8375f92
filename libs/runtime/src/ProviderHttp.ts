import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import {
  Context,
  Data,
  Duration,
  Effect,
  Either,
  Layer,
  type ParseResult,
  Redacted,
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
  /**
   * Whether trying again later may succeed. The call was retried already: the caller treats
   * what is left as an outcome (the next source, a fallback, a stage failure for the
   * orchestrator's retry chain), not as a reason for a redelivery that retries it all again.
   */
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
  | {
      readonly _tag: "response";
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      readonly text: string;
    }
  | { readonly _tag: "too_large"; readonly status: number; readonly bytes: number }
  | { readonly _tag: "timeout"; readonly cause: unknown }
  | { readonly _tag: "network"; readonly cause: unknown };

/** What one exchange sends: the parts of a request the transport needs. */
interface Outgoing {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/**
 * Keep-alive agents shared by every client in the process: zero-latency providers are called
 * thousands of times a second, and a connection per call (or fetch's heavier machinery) shows
 * in profiles. Concurrency is bounded by each provider's gate, not here.
 */
const agents = {
  "http:": new HttpAgent({ keepAlive: true, scheduling: "lifo" }),
  "https:": new HttpsAgent({ keepAlive: true, scheduling: "lifo" }),
} as const;

const MAX_REDIRECTS = 20;

const toHeaders = (raw: IncomingHttpHeaders): Headers => {
  const headers = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (Array.isArray(v)) for (const one of v) headers.append(k, one);
    else if (v !== undefined) headers.set(k, v);
  }
  return headers;
};

/**
 * One exchange over node:http(s) with keep-alive: at most `maxBytes` of body are read (a larger
 * declared or streamed body is cut off), the timeout covers the whole exchange including the
 * body and redirects. Redirects are followed as fetch follows them (303, and 301/302 after a
 * POST, become a GET without a body). `done` is called once, unless the returned canceller ran
 * first (an interrupted fiber): that destroys the request and nothing is reported.
 */
const send = (
  url: string,
  init: Outgoing,
  timeoutMs: number,
  maxBytes: number,
  done: (outcome: RawOutcome) => void,
): (() => void) => {
  let settled = false;
  let current: { destroy: (error?: Error) => void } | undefined;
  const finish = (outcome: RawOutcome) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    done(outcome);
  };
  const timer = setTimeout(() => {
    const cause = new Error(`timed out after ${timeoutMs} ms`);
    finish({ _tag: "timeout", cause });
    current?.destroy(cause);
  }, timeoutMs);
  const cancel = () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    current?.destroy(new Error("interrupted"));
  };

  const exchange = (target: URL, outgoing: Outgoing, redirects: number) => {
    const protocol = target.protocol;
    if (protocol !== "http:" && protocol !== "https:") {
      finish({ _tag: "network", cause: new Error(`unsupported protocol ${protocol}`) });
      return;
    }
    const headers =
      outgoing.body === undefined
        ? outgoing.headers
        : { ...outgoing.headers, "content-length": String(Buffer.byteLength(outgoing.body)) };
    const req = (protocol === "https:" ? httpsRequest : httpRequest)(
      target,
      { method: outgoing.method, headers, agent: agents[protocol] },
      (res) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (
          location !== undefined &&
          [301, 302, 303, 307, 308].includes(status) &&
          redirects < MAX_REDIRECTS
        ) {
          res.resume();
          const toGet = status === 303 || ((status === 301 || status === 302) && outgoing.method === "POST");
          const next: Outgoing = toGet
            ? {
                method: outgoing.method === "HEAD" ? "HEAD" : "GET",
                headers: Object.fromEntries(
                  Object.entries(outgoing.headers).filter(([k]) => k.toLowerCase() !== "content-type"),
                ),
                body: undefined,
              }
            : outgoing;
          let to: URL;
          try {
            to = new URL(location, target);
          } catch (cause) {
            finish({ _tag: "network", cause });
            return;
          }
          // once the redirect's own body is read, its connection is free for the next request
          if (res.complete) exchange(to, next, redirects + 1);
          else res.once("end", () => exchange(to, next, redirects + 1));
          return;
        }
        const declared = Number(res.headers["content-length"] ?? Number.NaN);
        if (Number.isFinite(declared) && declared > maxBytes) {
          finish({ _tag: "too_large", status, bytes: declared });
          res.destroy();
          return;
        }
        const chunks: Array<Buffer> = [];
        let total = 0;
        res.on("data", (chunk: Buffer) => {
          total += chunk.byteLength;
          if (total > maxBytes) {
            // settled first: destroying the response reports it as aborted
            finish({ _tag: "too_large", status, bytes: total });
            res.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () =>
          finish({
            _tag: "response",
            status,
            headers: res.headers,
            text: Buffer.concat(chunks, total).toString("utf8"),
          }),
        );
        res.on("error", (cause) => finish({ _tag: "network", cause }));
        res.on("aborted", () => finish({ _tag: "network", cause: new Error("response aborted") }));
      },
    );
    current = req;
    req.on("error", (cause) => finish({ _tag: "network", cause }));
    req.end(outgoing.body);
  };

  let target: URL;
  try {
    target = new URL(url);
  } catch (cause) {
    finish({ _tag: "network", cause });
    return cancel;
  }
  exchange(target, init, 0);
  return cancel;
};

// one decoder per response schema, built on first use (building it per call shows in profiles)
const decoders = new WeakMap<object, (u: unknown) => Either.Either<unknown, ParseResult.ParseError>>();
const decoderFor = <A, I>(schema: Schema.Schema<A, I, never>) => {
  let decode = decoders.get(schema);
  if (decode === undefined) {
    decode = Schema.decodeUnknownEither(schema, { errors: "all" });
    decoders.set(schema, decode);
  }
  return decode as (u: unknown) => Either.Either<A, ParseResult.ParseError>;
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
const RATE_MARGIN = 1.05;

const makeGate = (ratePerSec: number, concurrency: number): Effect.Effect<Gate> =>
  Effect.gen(function* () {
    const semaphore = yield* Effect.makeSemaphore(concurrency);
    const interval = (1000 / ratePerSec) * RATE_MARGIN;
    // the next free slot: plain state, read and written in one synchronous step (no other fiber
    // runs in between), which costs a call far less than a Ref and the clock service
    let nextSlot = 0;
    const afterSleep = (slot: number) =>
      Effect.sync(() => {
        const sent = Date.now();
        if (sent > slot) nextSlot = Math.max(nextSlot, sent + interval);
      });
    const waitTurn = Effect.suspend(() => {
      const now = Date.now();
      const slot = Math.max(now, nextSlot);
      nextSlot = slot + interval;
      return slot > now
        ? Effect.zipRight(Effect.sleep(Duration.millis(slot - now)), afterSleep(slot))
        : Effect.void;
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

  const buildInit = (req: ProviderRequest<unknown, unknown>): Outgoing => {
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
    return { method: req.method ?? (body === undefined ? "GET" : "POST"), headers, body };
  };

  const parseJson = (text: string): { ok: true; value: unknown } | { ok: false; cause: unknown } => {
    if (text.trim() === "") return { ok: true, value: null };
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (cause) {
      return { ok: false, cause };
    }
  };

  const failed = (e: ProviderError) =>
    Effect.zipRight(
      Effect.logDebug("provider call failed").pipe(
        Effect.annotateLogs({ provider, kind: e.kind, status: e.status ?? "none", retryable: e.retryable }),
      ),
      Effect.fail(e),
    );

  /**
   * One HTTP exchange turned into a value or a classified error; never retries. Kept to a few
   * Effect steps (the rest is plain code): it runs twice per company at full speed.
   */
  const attempt = <A, I>(
    req: ProviderRequest<A, I>,
    url: string,
    init: Outgoing,
    what: string,
  ): Effect.Effect<ProviderResponse<A>, ProviderError> =>
    Effect.suspend(() => {
      const started = performance.now();
      return Effect.flatMap(
        Effect.async<RawOutcome>((resume) => {
          const cancel = send(url, init, req.timeoutMs ?? timeoutMs, maxBodyBytes, (raw) =>
            resume(Effect.succeed(raw)),
          );
          return Effect.sync(cancel);
        }),
        (raw) => {
          metrics.providerDuration.observe({ provider }, (performance.now() - started) / 1000);
          const result = interpret(req, raw, what);
          if (Either.isLeft(result)) {
            metrics.providerCalls.inc({ provider, outcome: outcomeOf[result.left.kind] });
            return failed(result.left);
          }
          metrics.providerCalls.inc({ provider, outcome: "ok" });
          return Effect.succeed(result.right);
        },
      );
    });

  const interpret = <A, I>(
    req: ProviderRequest<A, I>,
    raw: RawOutcome,
    what: string,
  ): Either.Either<ProviderResponse<A>, ProviderError> => {
    switch (raw._tag) {
      case "timeout":
        return Either.left(
          fail({
            kind: "timeout",
            status: null,
            retryable: true,
            message: `${provider}: ${what} timed out after ${req.timeoutMs ?? timeoutMs} ms`,
            cause: raw.cause,
          }),
        );
      case "network": {
        const cause = raw.cause as {
          cause?: { code?: string; message?: string };
          code?: string;
          message?: string;
        };
        const detail =
          cause?.cause?.code ?? cause?.code ?? cause?.cause?.message ?? cause?.message ?? "unknown error";
        return Either.left(
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
        return Either.left(
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
      const retryAfterMs = parseRetryAfter(raw.headers["retry-after"] ?? null);
      return Either.left(
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
      return Either.left(
        fail({
          kind: "invalid_response",
          status: raw.status,
          retryable: false,
          message: `${provider}: ${what} returned a body that is not JSON: ${String((parsed.cause as Error)?.message ?? parsed.cause)}`,
          cause: parsed.cause,
        }),
      );
    }
    return Either.match(decoderFor(req.schema)(parsed.value), {
      onLeft: (cause) =>
        Either.left(
          fail({
            kind: "invalid_response",
            status: raw.status,
            retryable: false,
            message: `${provider}: ${what} returned an unexpected shape: ${cause.message.slice(0, 1000)}`,
            cause,
          }),
        ),
      onRight: (body) => {
        // a `Headers` is built only for a caller that reads it
        let headers: Headers | undefined;
        return Either.right({
          status: raw.status,
          get headers() {
            headers ??= toHeaders(raw.headers);
            return headers;
          },
          body,
        });
      },
    });
  };

  const request = <A, I>(req: ProviderRequest<A, I>): Effect.Effect<ProviderResponse<A>, ProviderError> => {
    const url = buildUrl(req as ProviderRequest<unknown, unknown>);
    const init = buildInit(req as ProviderRequest<unknown, unknown>);
    const what = `${init.method} ${req.path}`;
    const once = gate.run(attempt(req, url, init, what));
    // The retry schedule is started only once a call has failed, with that failure replayed as
    // its first input: the same attempts and delays as `Effect.retry(once, policy)`, without
    // building a schedule driver for the calls that succeed at once (nearly all of them). No
    // span per call either: this runs twice per company; spans sit on the stage's task.
    return Effect.catchAll(once, (first) => {
      let replay: ProviderError | undefined = first;
      const again = Effect.suspend(() => {
        if (replay === undefined) return once;
        const e = replay;
        replay = undefined;
        return Effect.fail(e);
      });
      return Effect.retry(again, policy);
    });
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
