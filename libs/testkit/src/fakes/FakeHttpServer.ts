import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** One request as the fake saw it. `at` is `performance.now()` at arrival (monotonic ms). */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

export interface FakeReply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Serialised as the JSON body (wins over `body`). */
  readonly json?: unknown;
  readonly body?: string | Buffer;
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

/** A fault answers one request instead of the route handler. */
export type Fault =
  /** An error status; `json`/`body` give the provider's error body. */
  | {
      readonly type: "status";
      readonly status: number;
      readonly retryAfter?: string | number;
      readonly json?: unknown;
      readonly body?: string;
    }
  /** 200 with a body that is not JSON. */
  | { readonly type: "malformed" }
  /** 200 with a streamed (chunked) body of `bytes` bytes, default 8 MB. */
  | { readonly type: "huge"; readonly bytes?: number }
  /** Headers at once, then the route's body after `ms`. */
  | { readonly type: "slowBody"; readonly ms: number }
  /** Waits `ms`, then answers through the route handler. */
  | { readonly type: "latency"; readonly ms: number }
  /** Destroys the socket without answering. */
  | { readonly type: "reset" };

export interface RateLimitOptions {
  /** Requests allowed in any sliding window of `windowMs` (default 1000). */
  readonly limit: number;
  readonly windowMs?: number;
  /** The answer when over the limit; default a bare 429. */
  readonly reply?: FakeReply;
}

export interface FakeHttpServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** Adds (or replaces) the handler for `method path` (path without query). */
  readonly route: (method: string, path: string, handler: FakeHandler) => FakeHttpServer;
  /** The next `times` requests (any route) get `fault`; queued after earlier faults. */
  readonly inject: (fault: Fault, times?: number) => void;
  /** Enforces a rate limit from now on (`null` turns it off). */
  readonly rateLimit: (options: RateLimitOptions | null) => void;
  readonly requests: ReadonlyArray<RecordedRequest>;
  /** Requests answered with the rate-limit reply. */
  readonly rateLimitViolations: () => number;
  /** The most requests seen in any window of `windowMs` (arrival times). */
  readonly maxInWindow: (windowMs: number) => number;
  readonly clearLog: () => void;
  readonly close: () => Promise<void>;
}

export interface FakeHttpServerOptions {
  readonly rateLimit?: RateLimitOptions;
  /** The answer for unknown routes; default 404 `{error: "not found"}`. */
  readonly notFound?: FakeReply;
}

const writeReply = (res: ServerResponse, reply: FakeReply): void => {
  const headers: Record<string, string> = { ...reply.headers };
  let body: string | Buffer = "";
  if (reply.json !== undefined) {
    body = JSON.stringify(reply.json);
    headers["content-type"] ??= "application/json; charset=utf-8";
  } else if (reply.body !== undefined) {
    body = reply.body;
  }
  res.writeHead(reply.status ?? 200, headers);
  res.end(body);
};

/** Counts arrivals in sliding windows over sorted times. */
const maxInWindowOf = (times: ReadonlyArray<number>, windowMs: number): number => {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
};

/**
 * A tiny HTTP server on 127.0.0.1 with an ephemeral port for testing third-party API clients:
 * per-route handlers, a request log, queued fault injection and an optional enforced rate limit.
 */
export const startFakeHttpServer = async (options: FakeHttpServerOptions = {}): Promise<FakeHttpServer> => {
  const routes = new Map<string, FakeHandler>();
  const faults: Array<Fault> = [];
  const log: Array<RecordedRequest> = [];
  let limit: RateLimitOptions | null = options.rateLimit ?? null;
  let violations = 0;
  const notFound = options.notFound ?? { status: 404, json: { error: "not found" } };

  const overLimit = (at: number): boolean => {
    if (limit === null) return false;
    const windowMs = limit.windowMs ?? 1000;
    let inWindow = 0;
    for (let i = log.length - 2; i >= 0; i--) {
      const prev = log[i];
      if (prev === undefined || at - prev.at >= windowMs) break;
      inWindow++;
    }
    return inWindow >= limit.limit;
  };

  const server = createServer((req, res) => {
    const chunks: Array<Buffer> = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: performance.now(),
      };
      log.push(recorded);
      void answer(recorded, res).catch((error: unknown) => {
        if (!res.headersSent) writeReply(res, { status: 500, json: { error: String(error) } });
        else res.destroy();
      });
    });
  });

  const handle = async (recorded: RecordedRequest): Promise<FakeReply> => {
    const handler = routes.get(`${recorded.method} ${recorded.path}`);
    return handler === undefined ? notFound : handler(recorded);
  };

  const answer = async (recorded: RecordedRequest, res: ServerResponse): Promise<void> => {
    if (overLimit(recorded.at)) {
      violations++;
      writeReply(res, limit?.reply ?? { status: 429, json: { error: "rate limited" } });
      return;
    }
    const fault = faults.shift();
    if (fault === undefined) return writeReply(res, await handle(recorded));
    switch (fault.type) {
      case "status": {
        const headers: Record<string, string> =
          fault.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : {};
        return writeReply(res, {
          status: fault.status,
          headers,
          ...(fault.json !== undefined ? { json: fault.json } : { body: fault.body ?? "" }),
        });
      }
      case "malformed":
        return writeReply(res, {
          status: 200,
          headers: { "content-type": "application/json" },
          body: '{"places": [{"id": "x", "displayName": ',
        });
      case "huge": {
        const total = fault.bytes ?? 8 * 1024 * 1024;
        const chunk = Buffer.alloc(64 * 1024, " ");
        res.writeHead(200, { "content-type": "application/json" });
        res.write("[");
        for (let sent = 1; sent < total && !res.destroyed; sent += chunk.length) {
          if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
        }
        res.end("]");
        return;
      }
      case "slowBody": {
        const reply = await handle(recorded);
        const text = reply.json !== undefined ? JSON.stringify(reply.json) : String(reply.body ?? "");
        res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers });
        res.write(text.slice(0, 1));
        await sleep(fault.ms);
        if (!res.destroyed) res.end(text.slice(1));
        return;
      }
      case "latency":
        await sleep(fault.ms);
        if (!res.destroyed) writeReply(res, await handle(recorded));
        return;
      case "reset":
        res.socket?.destroy();
        return;
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const fake: FakeHttpServer = {
    url: `http://127.0.0.1:${port}`,
    route: (method, path, handler) => {
      routes.set(`${method.toUpperCase()} ${path}`, handler);
      return fake;
    },
    inject: (fault, times = 1) => {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    rateLimit: (o) => {
      limit = o;
    },
    get requests() {
      return log;
    },
    rateLimitViolations: () => violations,
    maxInWindow: (windowMs) =>
      maxInWindowOf(
        log.map((r) => r.at),
        windowMs,
      ),
    clearLog: () => {
      log.length = 0;
      violations = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
};
