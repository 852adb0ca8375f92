import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Effect, Either, Layer, Redacted, Schema } from "effect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Metrics, type MetricsShape, makeMetrics } from "../src/Metrics.js";
import {
  type ProviderClientOptions,
  ProviderError,
  ProviderHttp,
  ProviderHttpLive,
  parseRetryAfter,
} from "../src/ProviderHttp.js";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A local server whose next answers are queued handlers; falls back to `fallback`. */
let server: Server;
let baseUrl: string;
let queue: Array<Handler> = [];
let arrivals: Array<number> = [];
let inFlight = 0;
let maxInFlight = 0;
let lastHeaders: IncomingMessage["headers"] = {};
const ok: Handler = (_req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ value: 42 }));
};
let fallback: Handler = ok;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Array<Buffer> = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      arrivals.push(performance.now());
      lastHeaders = req.headers;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on("close", () => inFlight--);
      (queue.shift() ?? fallback)(req, res, Buffer.concat(chunks).toString("utf8"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  queue = [];
  arrivals = [];
  fallback = ok;
  maxInFlight = 0;
});

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

const Value = Schema.Struct({ value: Schema.Number });

let providerSeq = 0;
/** A fresh provider name per test, so no test shares another's rate gate. */
const options = (overrides: Partial<ProviderClientOptions> = {}): ProviderClientOptions => ({
  provider: `test_${++providerSeq}`,
  baseUrl,
  retryBaseMs: 10,
  ratePerSec: 1000,
  concurrency: 16,
  ...overrides,
});

const run = <A, E>(
  f: (http: Effect.Effect.Success<typeof ProviderHttp>) => Effect.Effect<A, E>,
  metrics: MetricsShape = makeMetrics("test", { defaultMetrics: false }),
) =>
  Effect.runPromise(
    Effect.flatMap(ProviderHttp, f).pipe(
      Effect.provide(ProviderHttpLive),
      Effect.provide(Layer.succeed(Metrics, metrics)),
    ),
  );

const call = (o: ProviderClientOptions, path = "/thing") =>
  run((http) => Effect.flatMap(http.client(o), (c) => Effect.either(c.json({ path, schema: Value }))));

const counts = async (m: MetricsShape) =>
  Object.fromEntries((await m.providerCalls.get()).values.map((v) => [String(v.labels.outcome), v.value]));

describe("ProviderHttp", () => {
  it("returns the decoded body and counts an ok call", async () => {
    const metrics = makeMetrics("test", { defaultMetrics: false });
    const result = await run(
      (http) => Effect.flatMap(http.client(options()), (c) => c.json({ path: "/thing", schema: Value })),
      metrics,
    );
    expect(result).toEqual({ value: 42 });
    expect(await counts(metrics)).toEqual({ ok: 1 });
    expect(
      (await metrics.providerDuration.get()).values.find((v) => v.metricName?.endsWith("_count"))?.value,
    ).toBe(1);
  });

  it("waits out a 429 Retry-After (seconds) before retrying", async () => {
    queue.push(
      json(
        429,
        { error: { code: 429, message: "quota", status: "RESOURCE_EXHAUSTED" } },
        { "retry-after": "1" },
      ),
    );
    const metrics = makeMetrics("test", { defaultMetrics: false });
    const started = performance.now();
    const result = await run(
      (http) => Effect.flatMap(http.client(options()), (c) => c.json({ path: "/thing", schema: Value })),
      metrics,
    );
    expect(result).toEqual({ value: 42 });
    expect(arrivals).toHaveLength(2);
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(990);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(await counts(metrics)).toEqual({ rate_limited: 1, ok: 1 });
  });

  it("retries 5xx with backoff, then succeeds", async () => {
    queue.push(json(503, { error: "busy" }), json(500, { error: "oops" }));
    const result = await call(options());
    expect(Either.getOrThrow(result)).toEqual({ value: 42 });
    expect(arrivals).toHaveLength(3);
  });

  it("gives up after maxAttempts with a retryable server error", async () => {
    fallback = json(502, { message: "bad gateway" });
    const result = await call(options({ maxAttempts: 3 }));
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: "server", status: 502, retryable: true });
    expect(error?.message).toContain("bad gateway");
    expect(arrivals).toHaveLength(3);
  });

  it("401 is unauthorized, not retried, and names the setting to fix", async () => {
    fallback = json(401, { error: { code: "TOKEN_INVALID", description: "Invalid access token" } });
    const result = await call(
      options({ credentialHint: "YELP_API_KEY", headers: { Authorization: Redacted.make("Bearer s3cret") } }),
    );
    expect(Either.isLeft(result)).toBe(true);
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toMatchObject({ kind: "unauthorized", status: 401, retryable: false });
    expect(error?.message).toContain("YELP_API_KEY");
    expect(error?.message).toContain("Invalid access token");
    expect(error?.message).not.toContain("s3cret");
    expect(lastHeaders.authorization).toBe("Bearer s3cret");
    expect(arrivals).toHaveLength(1);
  });

  it("403 is unauthorized too; other 4xx are client errors, not retried", async () => {
    fallback = json(403, { error: { code: 403, message: "denied", status: "PERMISSION_DENIED" } });
    const forbidden = await call(options());
    expect(Either.getLeft(forbidden).pipe((o) => (o._tag === "Some" ? o.value.kind : undefined))).toBe(
      "unauthorized",
    );
    fallback = json(404, { error: "nope" });
    arrivals = [];
    const missing = await call(options());
    expect(Either.getLeft(missing).pipe((o) => (o._tag === "Some" ? o.value : undefined))).toMatchObject({
      kind: "client",
      status: 404,
      retryable: false,
    });
    expect(arrivals).toHaveLength(1);
  });

  it("a classifier can remap statuses", async () => {
    fallback = json(403, { errors: [{ id: "restricted_account", details: "too many requests" }] });
    const result = await call(
      options({
        classify: (status) => (status === 403 ? { kind: "rate_limited", retryable: false } : undefined),
      }),
    );
    expect(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined))).toMatchObject({
      kind: "rate_limited",
      retryable: false,
    });
    expect(arrivals).toHaveLength(1);
  });

  it("malformed JSON is invalid_response", async () => {
    fallback = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"value": 4');
    };
    const metrics = makeMetrics("test", { defaultMetrics: false });
    const result = await run(
      (http) =>
        Effect.flatMap(http.client(options()), (c) => Effect.either(c.json({ path: "/x", schema: Value }))),
      metrics,
    );
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toMatchObject({ kind: "invalid_response", retryable: false });
    expect(error?.message).toContain("not JSON");
    expect(arrivals).toHaveLength(1);
    expect(await counts(metrics)).toEqual({ invalid_response: 1 });
  });

  it("a body of the wrong shape is invalid_response with the schema's message", async () => {
    fallback = json(200, { value: "forty-two" });
    const result = await call(options());
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error?.kind).toBe("invalid_response");
    expect(error?.message).toMatch(/value/);
    expect(error?.message).toMatch(/Expected number/);
  });

  it("a streamed body over the cap is cut off as invalid_response", async () => {
    fallback = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(256 * 1024, " ");
      let sent = 0;
      const pump = () => {
        while (sent < 8 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end("{}");
      };
      res.on("error", () => undefined);
      pump();
    };
    const result = await call(options({ maxBodyBytes: 1024 * 1024 }));
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toMatchObject({ kind: "invalid_response", retryable: false });
    expect(error?.message).toContain("exceeds 1048576 bytes");
  });

  it("a declared content-length over the cap is refused without reading", async () => {
    fallback = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(6 * 1024 * 1024) });
      res.on("error", () => undefined);
      res.write("{");
    };
    const result = await call(options());
    expect(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value.kind : undefined))).toBe(
      "invalid_response",
    );
  });

  it("times out a silent server, retries, then fails as timeout", async () => {
    fallback = () => undefined;
    const metrics = makeMetrics("test", { defaultMetrics: false });
    const started = performance.now();
    const result = await run(
      (http) =>
        Effect.flatMap(http.client(options({ timeoutMs: 100, maxAttempts: 2 })), (c) =>
          Effect.either(c.json({ path: "/slow", schema: Value })),
        ),
      metrics,
    );
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toMatchObject({ kind: "timeout", status: null, retryable: true });
    expect(arrivals).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(await counts(metrics)).toEqual({ timeout: 2 });
  });

  it("an interrupted call closes its request at once and counts no outcome", async () => {
    let closed = 0;
    fallback = (_req, res) => {
      res.on("close", () => closed++);
    };
    const metrics = makeMetrics("test", { defaultMetrics: false });
    const started = performance.now();
    const result = await run(
      (http) =>
        Effect.flatMap(http.client(options({ timeoutMs: 5_000, maxAttempts: 3 })), (c) =>
          c.json({ path: "/never", schema: Value }).pipe(Effect.timeoutOption("100 millis")),
        ),
      metrics,
    );
    expect(result._tag).toBe("None");
    expect(performance.now() - started).toBeLessThan(2_000);
    const until = Date.now() + 2_000;
    while (closed === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(1);
    expect(arrivals).toHaveLength(1);
    expect(await counts(metrics)).toEqual({});
  });

  it("a body that stalls past the timeout is a timeout too", async () => {
    fallback = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"value":');
    };
    const result = await call(options({ timeoutMs: 150, maxAttempts: 1 }));
    expect(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value.kind : undefined))).toBe(
      "timeout",
    );
  });

  it("network errors are retried", async () => {
    queue.push((req) => req.socket.destroy());
    const result = await call(options());
    expect(Either.getOrThrow(result)).toEqual({ value: 42 });
    expect(arrivals).toHaveLength(2);
  });

  it("a refused connection is a network error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await call(options({ baseUrl: `http://127.0.0.1:${port}`, maxAttempts: 2 }));
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toMatchObject({ kind: "network", retryable: true });
    expect(error?.message).toContain("ECONNREFUSED");
  });

  it("a Retry-After longer than the in-process cap goes back to the caller", async () => {
    fallback = json(429, { error: "slow down" }, { "retry-after": "120" });
    const result = await call(options({ maxRetryAfterMs: 5_000 }));
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toMatchObject({ kind: "rate_limited", retryable: true, retryAfterMs: 120_000 });
    expect(arrivals).toHaveLength(1);
  });

  it("never exceeds the rate limit with many concurrent callers", async () => {
    const rate = 20;
    const started = performance.now();
    const results = await run((http) =>
      Effect.flatMap(http.client(options({ ratePerSec: rate, concurrency: 8 })), (c) =>
        Effect.forEach(
          Array.from({ length: 30 }, (_, i) => i),
          () => c.json({ path: "/thing", schema: Value }),
          { concurrency: "unbounded" },
        ),
      ),
    );
    expect(results).toHaveLength(30);
    // 30 calls spaced 1/20 s apart span at least 29/20 s
    expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
    const sorted = [...arrivals].sort((a, b) => a - b);
    let worst = 0;
    for (let i = 0; i < sorted.length; i++) {
      const inWindow = sorted.filter((t) => t >= (sorted[i] ?? 0) && t < (sorted[i] ?? 0) + 950).length;
      worst = Math.max(worst, inWindow);
    }
    expect(worst).toBeLessThanOrEqual(rate);
  });

  it("bounds calls in flight", async () => {
    fallback = (req, res) => setTimeout(() => ok(req, res, ""), 40);
    await run((http) =>
      Effect.flatMap(http.client(options({ concurrency: 2 })), (c) =>
        Effect.forEach(
          Array.from({ length: 8 }, (_, i) => i),
          () => c.json({ path: "/thing", schema: Value }),
          { concurrency: "unbounded" },
        ),
      ),
    );
    expect(arrivals).toHaveLength(8);
    expect(maxInFlight).toBeLessThanOrEqual(2);
  });

  it("clients of the same provider share one rate gate", async () => {
    const provider = `shared_${++providerSeq}`;
    const started = performance.now();
    await run((http) =>
      Effect.gen(function* () {
        const a = yield* http.client(options({ provider, ratePerSec: 10 }));
        const b = yield* http.client(options({ provider, ratePerSec: 1000 }));
        yield* Effect.all(
          [a, b, a, b, a, b].map((c) => c.json({ path: "/thing", schema: Value })),
          { concurrency: "unbounded" },
        );
      }),
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(480);
  });

  it("sends JSON bodies, query strings and redacted query values", async () => {
    let seen: { url?: string; body?: string; type?: string } = {};
    fallback = (req, res, body) => {
      seen = { url: req.url ?? "", body, type: req.headers["content-type"] ?? "" };
      ok(req, res, body);
    };
    await run((http) =>
      Effect.flatMap(http.client(options({ baseUrl: `${baseUrl}/prefix/` })), (c) =>
        c.json({
          method: "POST",
          path: "/v1/search",
          query: { q: "a b", key: Redacted.make("k"), skip: undefined },
          json: { hello: "world" },
          schema: Value,
        }),
      ),
    );
    expect(seen).toEqual({
      url: "/prefix/v1/search?q=a+b&key=k",
      body: '{"hello":"world"}',
      type: "application/json",
    });
  });
});

describe("ProviderHttp over keep-alive connections", () => {
  it("answers with the status and the headers, reuses the connection, and follows a redirect", async () => {
    const ports: number[] = [];
    fallback = (req, res, body) => {
      ports.push(req.socket.remotePort ?? 0);
      if (req.url === "/old") {
        res.writeHead(301, { location: "/thing" });
        res.end();
        return;
      }
      res.setHeader("x-message-id", "m-1");
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      ok(req, res, body);
    };
    const [first, again, moved] = await run((http) =>
      Effect.flatMap(http.client(options({ concurrency: 1 })), (c) =>
        Effect.all([
          c.request({ path: "/thing", schema: Value }),
          c.request({ path: "/thing", schema: Value }),
          c.request({ path: "/old", schema: Value }),
        ]),
      ),
    );
    expect(first.status).toBe(200);
    expect(first.headers.get("x-message-id")).toBe("m-1");
    expect(first.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    // one call after the other over one kept-alive connection
    expect(again.body).toEqual({ value: 42 });
    expect(ports[1]).toBe(ports[0]);
    // the redirect is followed: two exchanges, one answer
    expect(moved).toMatchObject({ status: 200, body: { value: 42 } });
    expect(arrivals).toHaveLength(4);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("0.5", now)).toBe(500);
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:59:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("an HTTP-date Retry-After is honoured", async () => {
    queue.push(json(503, { error: "later" }, { "retry-after": new Date(Date.now() + 2000).toUTCString() }));
    const result = await call(options());
    expect(Either.isRight(result)).toBe(true);
    expect(arrivals).toHaveLength(2);
    // HTTP dates have 1 s resolution
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(900);
  });
});
