import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { Config, Context, Duration, Effect, Layer, type Scope } from "effect";
import type { ConfigError } from "effect/ConfigError";
import { Agent, buildConnector, type Dispatcher } from "undici";
import { forbiddenAddressReason, isIpLiteral } from "./AddressPolicy.js";
import { WebsiteError, type WebsiteErrorReason } from "./WebsiteError.js";

/** One address a name resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a host name to all its addresses; injected so tests can fake DNS. */
export type Resolver = (hostname: string) => Promise<ReadonlyArray<ResolvedAddress>>;

/** The operating system's resolver (`getaddrinfo`), every address, in the order it answers. */
export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** What the website fetcher may do. Build it from `fetchPolicyConfig`, or spread `defaultFetchPolicy` in tests. */
export interface FetchPolicy {
  /** Wall-clock budget for one `get`, redirects and body included. */
  readonly timeoutMs: number;
  /** Cap on the bytes received and, separately, on the bytes after decompression. */
  readonly maxBytes: number;
  readonly userAgent: string;
  /** Redirects followed before giving up. */
  readonly maxRedirects: number;
  /** Ports a URL may name (80 and 443: a website has no business elsewhere). */
  readonly allowedPorts: ReadonlyArray<number>;
  /**
   * TESTS ONLY: `host:port` pairs (lower-case, as in the URL, IPv6 in brackets) that skip the port and
   * address checks, so tests can serve pages from 127.0.0.1. Empty by default and not configurable
   * from the environment.
   */
  readonly allowHosts: ReadonlyArray<string>;
  readonly resolve: Resolver;
}

/** The policy used when nothing is configured. */
export const defaultFetchPolicy: FetchPolicy = {
  timeoutMs: 10_000,
  maxBytes: 2 * 1024 * 1024,
  userAgent:
    "LeadflowBot/0.1 (+https://leadflow.invalid/bot; company contact research; contact: set WEBSITE_FETCH_USER_AGENT)",
  maxRedirects: 5,
  allowedPorts: [80, 443],
  allowHosts: [],
  resolve: systemResolver,
};

/** `WEBSITE_FETCH_TIMEOUT_MS`, `WEBSITE_FETCH_MAX_BYTES` and `WEBSITE_FETCH_USER_AGENT` over the defaults. */
export const fetchPolicyConfig: Config.Config<FetchPolicy> = Config.all({
  timeoutMs: Config.integer("WEBSITE_FETCH_TIMEOUT_MS").pipe(
    Config.validate({
      message: "must be a whole number of milliseconds between 100 and 120000",
      validation: (n) => n >= 100 && n <= 120_000,
    }),
    Config.withDefault(defaultFetchPolicy.timeoutMs),
  ),
  maxBytes: Config.integer("WEBSITE_FETCH_MAX_BYTES").pipe(
    Config.validate({
      message: "must be a whole number of bytes between 1024 and 52428800",
      validation: (n) => n >= 1024 && n <= 50 * 1024 * 1024,
    }),
    Config.withDefault(defaultFetchPolicy.maxBytes),
  ),
  userAgent: Config.string("WEBSITE_FETCH_USER_AGENT").pipe(
    Config.validate({
      message: "must be 1-300 printable ASCII characters",
      validation: (s) => /^[\x20-\x7e]{1,300}$/.test(s),
    }),
    Config.withDefault(defaultFetchPolicy.userAgent),
  ),
}).pipe(Config.map((c) => ({ ...defaultFetchPolicy, ...c })));

/** An HTML page that was fetched and decoded. */
export interface FetchedPage {
  /** Where the page was finally read from, after redirects. */
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  readonly html: string;
}

export interface SafeFetchShape {
  /** GETs an HTML page from an untrusted URL under the policy; every refusal is a `WebsiteError`. */
  readonly get: (url: string) => Effect.Effect<FetchedPage, WebsiteError>;
}

/** Fetches web pages from hostile URLs without reaching internal addresses. */
export class SafeFetch extends Context.Tag("leadflow/enrichment/SafeFetch")<SafeFetch, SafeFetchShape>() {}

/** Thrown inside the connector and body reader; carries the reason out through undici and streams. */
class Refusal extends Error {
  constructor(
    readonly reason: WebsiteErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "Refusal";
  }
}

const HTML_TYPES = new Set(["text/html", "application/xhtml+xml"]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TIMEOUT_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ETIMEDOUT",
]);

const defaultPort = (protocol: string): number => (protocol === "https:" ? 443 : 80);

const allowKey = (host: string, port: number): string =>
  `${isIP(host) === 6 ? `[${host}]` : host}:${port}`.toLowerCase();

const header = (headers: Dispatcher.ResponseData["headers"], name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const refuse = (url: string, reason: WebsiteErrorReason, message: string, cause?: unknown) =>
  new WebsiteError({
    reason,
    retryable: reason === "network" || reason === "timeout",
    url,
    status: null,
    message,
    cause,
  });

/** Finds the refusal, undici code or abort behind an error thrown by undici, zlib or a stream. */
const classify = (error: unknown, url: string): WebsiteError => {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (e instanceof Refusal) return refuse(url, e.reason, e.message, error);
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && TIMEOUT_CODES.has(code)) return refuse(url, "timeout", e.message, error);
    if (code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") return refuse(url, "too_large", e.message, error);
    if (e.name === "AbortError" || e.name === "TimeoutError") return refuse(url, "timeout", e.message, error);
    e = e.cause;
  }
  const message = error instanceof Error ? error.message : String(error);
  return refuse(url, "network", message, error);
};

/**
 * Checks a URL before any connection: scheme, credentials, port and literal IP addresses (Node's URL
 * parser has already turned decimal, hex, octal and short IPv4 forms into dotted quads).
 */
const checkUrl = (
  raw: string,
  policy: FetchPolicy,
  allow: ReadonlySet<string>,
): Effect.Effect<URL, WebsiteError> => {
  if (raw.length > 4096)
    return Effect.fail(refuse(raw.slice(0, 200), "bad_url", "URL longer than 4096 characters"));
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    return Effect.fail(refuse(raw, "bad_url", "not an absolute URL", cause));
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Effect.fail(refuse(url.href, "bad_scheme", `scheme ${url.protocol} is not http or https`));
  }
  if (url.username !== "" || url.password !== "") {
    return Effect.fail(refuse(url.href, "bad_url", "credentials in the URL are not allowed"));
  }
  const port = url.port === "" ? defaultPort(url.protocol) : Number(url.port);
  if (allow.has(`${url.hostname}:${port}`)) return Effect.succeed(url);
  const host = url.hostname;
  if (isIpLiteral(host)) {
    const why = forbiddenAddressReason(host);
    if (why !== null) return Effect.fail(refuse(url.href, "forbidden_address", `${host} is ${why}`));
  } else if (host === "localhost" || host.endsWith(".localhost")) {
    return Effect.fail(refuse(url.href, "forbidden_address", `${host} is loopback`));
  }
  if (!policy.allowedPorts.includes(port)) {
    return Effect.fail(refuse(url.href, "forbidden_address", `port ${port} is not allowed`));
  }
  return Effect.succeed(url);
};

/**
 * The addresses to connect to for `host`, every one of them checked. A name with any forbidden
 * address is refused outright: picking the good one would still let an attacker's DNS decide.
 */
const resolveChecked = async (
  host: string,
  skipCheck: boolean,
  resolve: Resolver,
): Promise<ReadonlyArray<string>> => {
  if (isIP(host) !== 0) {
    const why = skipCheck ? null : forbiddenAddressReason(host);
    if (why !== null) throw new Refusal("forbidden_address", `${host} is ${why}`);
    return [host];
  }
  const found = await resolve(host);
  if (found.length === 0) throw new Error(`${host} has no addresses`);
  if (!skipCheck) {
    for (const { address } of found) {
      const why = forbiddenAddressReason(address);
      if (why !== null) throw new Refusal("forbidden_address", `${host} resolves to ${address} (${why})`);
    }
  }
  return found.map((a) => a.address);
};

/**
 * An undici connector that resolves the name itself, checks every address and then connects to
 * that very address (TLS still verifies the certificate against the name). Checking here, at
 * connect time, is what defeats DNS rebinding: no second lookup happens between check and connect.
 */
const makeConnector = (policy: FetchPolicy, allow: ReadonlySet<string>): buildConnector.connector => {
  const base = buildConnector({ timeout: policy.timeoutMs });
  return (options, callback) => {
    const host = options.hostname;
    const port = Number(options.port) || defaultPort(options.protocol);
    const skipCheck = allow.has(allowKey(host, port));
    if (!skipCheck && !policy.allowedPorts.includes(port)) {
      callback(new Refusal("forbidden_address", `port ${port} is not allowed`), null);
      return;
    }
    const attempt = (addresses: ReadonlyArray<string>, index: number, lastError: Error | null): void => {
      const address = addresses[index];
      if (address === undefined) {
        callback(lastError ?? new Error(`could not connect to ${host}`), null);
        return;
      }
      base(
        { ...options, hostname: address, servername: isIP(host) === 0 ? host : undefined },
        (...result) => {
          if (result[0] === null) callback(null, result[1]);
          else attempt(addresses, index + 1, result[0]);
        },
      );
    };
    resolveChecked(host, skipCheck, policy.resolve).then(
      (addresses) => attempt(addresses, 0, null),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), null),
    );
  };
};

const decoderFor = (encoding: string): Transform => {
  switch (encoding) {
    case "gzip":
    case "x-gzip":
      return createGunzip();
    case "deflate":
      return createInflate();
    case "br":
      return createBrotliDecompress();
    default:
      throw new Refusal("not_html", `unsupported content-encoding ${encoding}`);
  }
};

/** Counts bytes through a stream and stops it, by throwing, once past `max`. */
const capped = (max: number, what: string) =>
  async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let total = 0;
    for await (const chunk of source) {
      total += chunk.length;
      if (total > max) throw new Refusal("too_large", `${what} exceeds ${max} bytes`);
      yield chunk;
    }
  };

const decodeText = (bytes: Buffer, charset: string | undefined): string => {
  try {
    return new TextDecoder(charset ?? "utf-8").decode(bytes);
  } catch {
    // an unknown charset label: UTF-8 still yields readable ASCII (phones, emails)
    return new TextDecoder("utf-8").decode(bytes);
  }
};

/**
 * Reads the body with two caps: on the bytes received and on the bytes after decompression. The
 * decompressors run streaming, so a gzip bomb is cut off at the cap instead of inflating in memory.
 */
const readBody = async (
  body: Readable,
  contentEncoding: string | undefined,
  charset: string | undefined,
  maxBytes: number,
  signal: AbortSignal,
): Promise<string> => {
  const encodings = (contentEncoding ?? "")
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== "" && e !== "identity");
  if (encodings.length > 2) throw new Refusal("not_html", `too many content-encodings: ${contentEncoding}`);
  const decoders = encodings.reverse().map(decoderFor);
  const chunks: Array<Buffer> = [];
  const collect = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) chunks.push(chunk);
  };
  const stages = [
    body,
    capped(maxBytes, "response body"),
    ...decoders,
    capped(maxBytes, "decoded body"),
    collect,
  ];
  await (pipeline as (...args: ReadonlyArray<unknown>) => Promise<void>)(...stages, { signal });
  return decodeText(Buffer.concat(chunks), charset);
};

/**
 * Drops a body left unread (redirect, error status), which would otherwise pin the connection.
 * Destroying emits an abort error that nobody else listens for, and an unheard stream error
 * would crash the process.
 */
const discard = (body: Readable): void => {
  if (body.destroyed) return;
  body.on("error", () => undefined);
  body.destroy();
};

type Step =
  | { readonly _tag: "page"; readonly page: FetchedPage }
  | { readonly _tag: "redirect"; readonly to: string };

/** Builds the fetcher around one connection pool, closed (with a bound) when the scope closes. */
export const makeSafeFetch = (policy: FetchPolicy): Effect.Effect<SafeFetchShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const allow = new Set(policy.allowHosts.map((h) => h.toLowerCase()));
    const agent = yield* Effect.acquireRelease(
      Effect.sync(
        () =>
          new Agent({
            connect: makeConnector(policy, allow),
            connections: 4,
            keepAliveTimeout: 4_000,
            headersTimeout: policy.timeoutMs,
            bodyTimeout: policy.timeoutMs,
            maxResponseSize: policy.maxBytes,
          }),
      ),
      (a) => Effect.tryPromise(() => a.destroy()).pipe(Effect.timeout("2 seconds"), Effect.ignore),
    );

    const send = (url: URL) =>
      Effect.tryPromise({
        try: (signal) =>
          agent.request({
            origin: url.origin,
            path: `${url.pathname}${url.search}`,
            method: "GET",
            headers: {
              "user-agent": policy.userAgent,
              accept: "text/html,application/xhtml+xml;q=0.9",
              "accept-encoding": "gzip, deflate, br",
              "accept-language": "en",
            },
            signal,
          }),
        catch: (error) => classify(error, url.href),
      });

    const handle = (url: URL, res: Dispatcher.ResponseData): Effect.Effect<Step, WebsiteError> => {
      const status = res.statusCode;
      const location = header(res.headers, "location");
      if (REDIRECTS.has(status) && location !== undefined) {
        try {
          return Effect.succeed<Step>({ _tag: "redirect", to: new URL(location, url).href });
        } catch (cause) {
          return Effect.fail(refuse(url.href, "bad_url", "unreadable redirect location", cause));
        }
      }
      if (status < 200 || status > 299) {
        return Effect.fail(
          new WebsiteError({
            reason: "http_status",
            retryable: status >= 500 || status === 408 || status === 429,
            url: url.href,
            status,
            message: `HTTP ${status}`,
          }),
        );
      }
      const contentType = header(res.headers, "content-type") ?? "";
      const [mime = "", ...params] = contentType.split(";").map((p) => p.trim());
      if (!HTML_TYPES.has(mime.toLowerCase())) {
        return Effect.fail(
          refuse(url.href, "not_html", `content-type "${contentType.slice(0, 100)}" is not HTML`),
        );
      }
      const length = Number(header(res.headers, "content-length"));
      if (Number.isFinite(length) && length > policy.maxBytes) {
        return Effect.fail(
          refuse(url.href, "too_large", `content-length ${length} exceeds ${policy.maxBytes}`),
        );
      }
      const charset = params
        .map((p) => /^charset\s*=\s*"?([^";]+)"?$/i.exec(p)?.[1])
        .find((c) => c !== undefined);
      return Effect.tryPromise({
        try: (signal) =>
          readBody(res.body, header(res.headers, "content-encoding"), charset, policy.maxBytes, signal),
        catch: (error) => classify(error, url.href),
      }).pipe(Effect.map((html) => ({ _tag: "page", page: { url: url.href, status, contentType, html } })));
    };

    const get = Effect.fn("SafeFetch.get")(function* (raw: string) {
      let current = raw;
      const follow = Effect.gen(function* () {
        let url = yield* checkUrl(raw, policy, allow);
        for (let redirects = 0; ; redirects++) {
          const hop = url;
          current = hop.href;
          const step = yield* Effect.acquireUseRelease(
            send(hop),
            (res) => handle(hop, res),
            (res) => Effect.sync(() => discard(res.body)),
          );
          if (step._tag === "page") return step.page;
          if (redirects >= policy.maxRedirects) {
            return yield* Effect.fail(
              refuse(hop.href, "too_many_redirects", `more than ${policy.maxRedirects} redirects`),
            );
          }
          url = yield* checkUrl(step.to, policy, allow);
        }
      });
      return yield* follow.pipe(
        Effect.timeoutFail({
          duration: Duration.millis(policy.timeoutMs),
          onTimeout: () => refuse(current, "timeout", `no complete answer within ${policy.timeoutMs} ms`),
        }),
      );
    });

    return { get };
  });

/** A fetcher with an explicit policy (tests, tools). */
export const safeFetchLayer = (policy: FetchPolicy): Layer.Layer<SafeFetch> =>
  Layer.scoped(SafeFetch, makeSafeFetch(policy));

/** The fetcher with its policy read from `WEBSITE_FETCH_*`. */
export const SafeFetchLive: Layer.Layer<SafeFetch, ConfigError> = Layer.scoped(
  SafeFetch,
  Effect.flatMap(fetchPolicyConfig, makeSafeFetch),
);
