import { afterEach, describe, expect, it } from "vitest";
import { type FakeHttpServer, startFakeHttpServer } from "../src/fakes/index.js";

let server: FakeHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const start = async (...args: Parameters<typeof startFakeHttpServer>) => {
  server = await startFakeHttpServer(...args);
  server.route("GET", "/ok", () => ({ json: { ok: true } }));
  return server;
};

describe("FakeHttpServer", () => {
  it("routes, logs requests and answers 404 elsewhere", async () => {
    const s = await start();
    const res = await fetch(`${s.url}/ok?a=1`, { headers: { "x-test": "yes" } });
    expect(await res.json()).toEqual({ ok: true });
    expect((await fetch(`${s.url}/missing`)).status).toBe(404);
    expect(s.requests.map((r) => [r.method, r.path])).toEqual([
      ["GET", "/ok"],
      ["GET", "/missing"],
    ]);
    expect(s.requests[0]?.query.get("a")).toBe("1");
    expect(s.requests[0]?.headers["x-test"]).toBe("yes");
  });

  it("injects queued faults for the next N answers, then recovers", async () => {
    const s = await start();
    s.inject({ type: "status", status: 429, retryAfter: 2, json: { error: "slow" } }, 2);
    s.inject({ type: "malformed" });
    const first = await fetch(`${s.url}/ok`);
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("2");
    expect((await fetch(`${s.url}/ok`)).status).toBe(429);
    const malformed = await fetch(`${s.url}/ok`);
    await expect(malformed.json()).rejects.toThrow();
    expect((await fetch(`${s.url}/ok`)).status).toBe(200);
  });

  it("streams a huge body", async () => {
    const s = await start();
    s.inject({ type: "huge", bytes: 2 * 1024 * 1024 });
    const res = await fetch(`${s.url}/ok`);
    expect(res.headers.get("content-length")).toBeNull();
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThanOrEqual(2 * 1024 * 1024);
  });

  it("delays a body, or the whole answer", async () => {
    const s = await start();
    s.inject({ type: "slowBody", ms: 200 });
    const started = performance.now();
    const res = await fetch(`${s.url}/ok`);
    const headersAt = performance.now() - started;
    expect(await res.json()).toEqual({ ok: true });
    expect(headersAt).toBeLessThan(150);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    s.inject({ type: "latency", ms: 150 });
    const again = performance.now();
    expect((await fetch(`${s.url}/ok`)).status).toBe(200);
    expect(performance.now() - again).toBeGreaterThanOrEqual(140);
  });

  it("resets the connection", async () => {
    const s = await start();
    s.inject({ type: "reset" });
    await expect(fetch(`${s.url}/ok`)).rejects.toThrow();
  });

  it("enforces a sliding-window rate limit and counts violations", async () => {
    const s = await start({
      rateLimit: { limit: 2, windowMs: 500, reply: { status: 429, json: { error: "rl" } } },
    });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${s.url}/ok`)).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(s.rateLimitViolations()).toBe(2);
    expect(s.maxInWindow(500)).toBe(4);
    s.clearLog();
    s.rateLimit(null);
    expect((await fetch(`${s.url}/ok`)).status).toBe(200);
    expect(s.rateLimitViolations()).toBe(0);
  });
});
