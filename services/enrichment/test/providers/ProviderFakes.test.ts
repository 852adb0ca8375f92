import { startApolloFake, startHunterFake } from "@leadflow/testkit/fakes";
import { Effect, Redacted } from "effect";
import { describe, expect, it } from "vitest";
import { makeHunterContactFinder } from "../../src/contacts/HunterContactFinder.js";
import { HttpTest } from "./support.js";

describe("Hunter fake", () => {
  it("takes the key as api_key, X-API-KEY or Bearer, and answers {data, meta}", async () => {
    const fake = await startHunterFake();
    try {
      const url = `${fake.url}/v2/domain-search?domain=acme.com&type=personal&limit=2`;
      const viaParam = await fetch(`${url}&api_key=${fake.apiKey}`);
      const viaHeader = await fetch(url, { headers: { "X-API-KEY": fake.apiKey } });
      const viaBearer = await fetch(url, { headers: { authorization: `Bearer ${fake.apiKey}` } });
      expect([viaParam.status, viaHeader.status, viaBearer.status]).toEqual([200, 200, 200]);
      const body = (await viaParam.json()) as {
        data: { domain: string; emails: Array<{ type: string; sources: unknown[] }> };
        meta: { results: number; limit: number; offset: number; params: { type: string } };
      };
      expect(body.data.domain).toBe("acme.com");
      expect(body.data.emails.length).toBeLessThanOrEqual(2);
      expect(body.data.emails.every((e) => e.type === "personal" && e.sources.length > 0)).toBe(true);
      expect(body.meta).toMatchObject({ limit: 2, offset: 0, params: { type: "personal" } });
      expect(fake.creditsUsed()).toBe(3);
    } finally {
      await fake.close();
    }
  });

  it("answers Hunter's error bodies", async () => {
    const fake = await startHunterFake();
    try {
      const bad = await fetch(`${fake.url}/v2/domain-search?domain=acme.com&api_key=nope`);
      expect(bad.status).toBe(401);
      expect(await bad.json()).toEqual({
        errors: [
          { id: "authentication_failed", code: 401, details: "No user found for the API key supplied" },
        ],
      });
      const missing = await fetch(`${fake.url}/v2/domain-search?api_key=${fake.apiKey}`);
      expect(missing.status).toBe(400);
      expect(((await missing.json()) as { errors: Array<{ id: string }> }).errors[0]?.id).toBe(
        "wrong_params",
      );
    } finally {
      await fake.close();
    }
  });

  it("enforces its rate limit with a 403; a client paced below it never trips it", async () => {
    const fake = await startHunterFake({ rateLimit: { limit: 10, windowMs: 1000 } });
    try {
      const found = await Effect.runPromise(
        makeHunterContactFinder({
          apiKey: Redacted.make(fake.apiKey),
          baseUrl: fake.url,
          limits: { ratePerSec: 8, concurrency: 4, timeoutMs: 3000 },
          retryBaseMs: 10,
        }).pipe(
          Effect.flatMap((finder) =>
            Effect.forEach(
              Array.from({ length: 16 }, (_, i) => ({ name: `c${i}`, domain: `c${i}.com`, website: null })),
              (c) => finder.find(c),
              { concurrency: "unbounded" },
            ),
          ),
          Effect.provide(HttpTest),
        ),
      );
      expect(found.every((contacts) => contacts.length > 0)).toBe(true);
      expect(fake.server.rateLimitViolations()).toBe(0);
      expect(fake.server.maxInWindow(1000)).toBeLessThanOrEqual(10);

      const burst = await Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${fake.url}/v2/domain-search?domain=x.com&api_key=${fake.apiKey}`).then((r) => r.status),
        ),
      );
      expect(burst).toContain(403);
    } finally {
      await fake.close();
    }
  });
});

describe("Apollo fake", () => {
  it("reads parameters from the query string as well as the body, and sends x-rate-limit headers", async () => {
    const fake = await startApolloFake();
    try {
      const qs =
        "q_organization_domains_list[]=acme.com&person_titles[]=owner&person_titles[]=manager&per_page=5";
      const res = await fetch(`${fake.url}/api/v1/mixed_people/api_search?${qs}`, {
        method: "POST",
        headers: { "x-api-key": fake.apiKey },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-rate-limit-minute")).toBe("200");
      expect(Number(res.headers.get("x-minute-requests-left"))).toBeLessThan(200);
      const body = (await res.json()) as {
        people: Array<Record<string, unknown>>;
        pagination: { per_page: number };
        total_entries: number;
      };
      expect(body.pagination.per_page).toBe(5);
      for (const p of body.people) {
        expect(p).not.toHaveProperty("email");
        expect(p).toHaveProperty("last_name_obfuscated");
      }
      expect(fake.searches()[0]).toMatchObject({
        q_organization_domains_list: ["acme.com"],
        person_titles: ["owner", "manager"],
      });
    } finally {
      await fake.close();
    }
  });

  it("answers 422 for bad parameters, 401 for a bad key, and {person: null} for no match", async () => {
    const fake = await startApolloFake();
    try {
      const post = (path: string, body: unknown, key = fake.apiKey) =>
        fetch(`${fake.url}${path}`, {
          method: "POST",
          headers: { "x-api-key": key, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      expect((await post("/api/v1/mixed_people/api_search", { per_page: 500 })).status).toBe(422);
      expect((await post("/api/v1/people/match", {})).status).toBe(422);
      const bad = await post("/api/v1/people/match", { id: "x" }, "nope");
      expect(bad.status).toBe(401);
      expect(await bad.json()).toMatchObject({ error: "Invalid access credentials." });
      const none = await post("/api/v1/people/match", { id: "unknown" });
      expect(await none.json()).toEqual({ person: null });
      expect(fake.creditsUsed()).toBe(0);
    } finally {
      await fake.close();
    }
  });
});
