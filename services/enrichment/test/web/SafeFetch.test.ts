import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { ConfigProvider, Effect, Either } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import {
  defaultFetchPolicy,
  type FetchedPage,
  type FetchPolicy,
  fetchPolicyConfig,
  makeSafeFetch,
  type ResolvedAddress,
} from "../../src/web/SafeFetch.js";
import type { WebsiteError } from "../../src/web/WebsiteError.js";
import { page, redirect, startSite, type TestSite } from "./TestSite.js";

const sites: Array<TestSite> = [];
afterEach(async () => {
  await Promise.all(sites.splice(0).map((s) => s.close()));
});
const site = async (routes: Parameters<typeof startSite>[0]) => {
  const s = await startSite(routes);
  sites.push(s);
  return s;
};

/** A resolver that knows only the names given, and records every lookup. */
const fakeDns = (table: Readonly<Record<string, ReadonlyArray<string>>>) => {
  const lookups: Array<string> = [];
  const resolve = async (host: string): Promise<ReadonlyArray<ResolvedAddress>> => {
    lookups.push(host);
    const found = table[host];
    if (found === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { resolve, lookups };
};

const get = (
  url: string,
  policy: Partial<FetchPolicy> = {},
): Promise<Either.Either<FetchedPage, WebsiteError>> =>
  Effect.runPromise(
    Effect.scoped(
      makeSafeFetch({ ...defaultFetchPolicy, ...policy }).pipe(
        Effect.flatMap((f) => Effect.either(f.get(url))),
      ),
    ),
  );

const refusal = async (url: string, policy: Partial<FetchPolicy> = {}): Promise<WebsiteError> => {
  const result = await get(url, policy);
  if (Either.isRight(result))
    throw new Error(`expected ${url} to be refused, got a page from ${result.right.url}`);
  return result.left;
};

const ok = async (url: string, policy: Partial<FetchPolicy> = {}): Promise<FetchedPage> => {
  const result = await get(url, policy);
  if (Either.isLeft(result))
    throw new Error(`expected a page from ${url}, got ${result.left.reason}: ${result.left.message}`);
  return result.right;
};

const HTML = "<!doctype html><title>t</title><p>hello</p>";

describe("SafeFetch: literal addresses (default policy)", () => {
  // none of these may even be looked up: the URL check refuses them before any connection
  const vectors: ReadonlyArray<readonly [string, string]> = [
    ["http://127.0.0.1/", "loopback"],
    ["http://127.255.255.254/", "loopback"],
    ["http://[::1]/", "loopback"],
    ["http://localhost/", "loopback"],
    ["http://api.localhost/", "loopback"],
    ["http://10.0.0.1/", "private"],
    ["http://172.16.5.4/", "private"],
    ["http://172.31.255.255/", "private"],
    ["http://192.168.1.1/", "private"],
    ["http://[fc00::1]/", "unique-local"],
    ["http://[fd12:3456:789a::1]/", "unique-local"],
    ["http://169.254.169.254/latest/meta-data/", "link-local"],
    ["http://[fe80::1]/", "link-local"],
    ["http://100.64.0.1/", "carrier-grade NAT"],
    ["http://100.127.255.254/", "carrier-grade NAT"],
    ["http://224.0.0.1/", "multicast"],
    ["http://239.255.255.250/", "multicast"],
    ["http://[ff02::1]/", "multicast"],
    ["http://240.0.0.1/", "reserved/broadcast"],
    ["http://255.255.255.255/", "reserved/broadcast"],
    ["http://0.0.0.0/", "this-network"],
    ["http://0/", "this-network"],
    ["http://[::]/", "unspecified"],
    ["http://[::ffff:127.0.0.1]/", "IPv4-mapped"],
    ["http://[::ffff:7f00:1]/", "IPv4-mapped"],
    ["http://[::ffff:169.254.169.254]/", "IPv4-mapped"],
    ["http://[::ffff:8.8.8.8]/", "IPv4-mapped"],
    ["http://[::127.0.0.1]/", "IPv4-compatible"],
    ["http://[64:ff9b::7f00:1]/", "NAT64 of loopback"],
    ["http://[64:ff9b::169.254.169.254]/", "NAT64 of link-local"],
    ["http://[2002:7f00:1::]/", "6to4 of loopback"],
    ["http://192.0.0.8/", "IETF protocol assignments"],
    ["http://198.18.0.1/", "benchmarking"],
    ["http://198.19.255.1/", "benchmarking"],
    ["http://192.0.2.10/", "documentation"],
    ["http://198.51.100.7/", "documentation"],
    ["http://203.0.113.9/", "documentation"],
    ["http://[2001:db8::1]/", "documentation"],
    // the forms an attacker writes to slip past string checks; Node's URL parser normalises them
    ["http://2130706433/", "loopback"],
    ["http://0x7f000001/", "loopback"],
    ["http://0x7F.0.0.1/", "loopback"],
    ["http://0177.0.0.1/", "loopback"],
    ["http://017700000001/", "loopback"],
    ["http://127.1/", "loopback"],
    ["http://127.0.0.1./", "loopback"],
    ["http://2852039166/latest/meta-data/", "link-local"],
    ["http://0xA9FEA9FE/", "link-local"],
    ["http://0251.0376.0251.0376/", "link-local"],
    ["http://0xa.1/", "private"],
    ["https://127.0.0.1:443/", "loopback"],
    ["HTTP://127.0.0.1/", "loopback"],
  ];

  it.each(vectors)("%s is refused (%s)", async (url, why) => {
    const dns = fakeDns({});
    const error = await refusal(url, { resolve: dns.resolve });
    expect(error._tag).toBe("WebsiteError");
    expect(error.reason).toBe("forbidden_address");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(why);
    expect(dns.lookups).toEqual([]);
  });
});

describe("SafeFetch: names are checked at connect time", () => {
  it.each([
    ["a name resolving to 127.0.0.1", ["127.0.0.1"], "loopback"],
    ["a name resolving to 10.0.0.1", ["10.0.0.1"], "private"],
    ["a name resolving to ::ffff:127.0.0.1", ["::ffff:127.0.0.1"], "IPv4-mapped"],
    ["a name resolving to ::1", ["::1"], "loopback"],
    ["a name resolving to the metadata address", ["169.254.169.254"], "link-local"],
    ["a name resolving to a public and a private address", ["93.184.216.34", "10.0.0.1"], "private"],
    [
      "a name resolving to a public IPv6 and a link-local one",
      ["2606:2800:220:1::1", "fe80::1"],
      "link-local",
    ],
  ])("refuses %s", async (_label, addresses, why) => {
    const dns = fakeDns({ "evil.test": addresses });
    for (const url of ["http://evil.test/", "https://evil.test/"]) {
      const error = await refusal(url, { resolve: dns.resolve });
      expect(error.reason).toBe("forbidden_address");
      expect(error.message).toContain("evil.test resolves to");
      expect(error.message).toContain(why);
      expect(error.retryable).toBe(false);
    }
    // resolved only by the connector: one lookup per connection attempt, none before it
    expect(dns.lookups).toEqual(["evil.test", "evil.test"]);
  });

  it("connects to exactly the address the resolver gave and checked, once per connection", async () => {
    const s = await site({ "/": page(HTML) });
    const dns = fakeDns({ "shop.test": ["127.0.0.1"] });
    // allow-listing by name skips the address check, but the connection still goes where the resolver said
    const result = await ok(`http://shop.test:${s.port}/`, {
      resolve: dns.resolve,
      allowHosts: [`shop.test:${s.port}`],
    });
    expect(result.html).toBe(HTML);
    expect(dns.lookups).toEqual(["shop.test"]);
    expect(s.requests[0]?.headers.host).toBe(`shop.test:${s.port}`);
  });

  it("an allow-listed port does not open the same host on other ports", async () => {
    const s = await site({ "/": page(HTML) });
    const other = await site({ "/": page(HTML) });
    const error = await refusal(`${other.origin}/`, { allowHosts: [s.hostPort] });
    expect(error.reason).toBe("forbidden_address");
    expect(other.requests).toEqual([]);
  });

  it("lets a name with only public addresses through the check", async () => {
    const dns = fakeDns({ "public.test": ["93.184.216.34"] });
    // whatever the sandbox's network makes of the connection, the address check must not stop it
    const result = await get("http://public.test/", { resolve: dns.resolve, timeoutMs: 300 });
    expect(Either.isLeft(result) ? result.left.reason : "page").not.toBe("forbidden_address");
    expect(dns.lookups).toEqual(["public.test"]);
  });

  it("an unknown name is a retryable network error", async () => {
    const error = await refusal("http://nowhere.test/", { resolve: fakeDns({}).resolve });
    expect(error.reason).toBe("network");
    expect(error.retryable).toBe(true);
  });

  it("a name with no addresses is a network error", async () => {
    const error = await refusal("http://empty.test/", { resolve: fakeDns({ "empty.test": [] }).resolve });
    expect(error.reason).toBe("network");
  });
});

describe("SafeFetch: schemes, credentials and ports", () => {
  it.each([
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "ftp://example.com/",
    "data:text/html,<h1>hi</h1>",
    "javascript:alert(1)",
    "gopher://example.com:70/_GET",
    "ws://example.com/",
    "mailto:someone@example.com",
    "dict://127.0.0.1:11211/stat",
  ])("%s is refused as bad_scheme", async (url) => {
    const error = await refusal(url);
    expect(error.reason).toBe("bad_scheme");
    expect(error.retryable).toBe(false);
  });

  it.each(["not a url", "http://", "//example.com/", "http://exa mple.com/"])(
    "%s is bad_url",
    async (url) => {
      expect((await refusal(url)).reason).toBe("bad_url");
    },
  );

  it("refuses credentials in the URL", async () => {
    const error = await refusal("http://user:secret@example.com/");
    expect(error.reason).toBe("bad_url");
    expect(error.message).toContain("credentials");
  });

  it("refuses ports other than 80 and 443 without resolving the name", async () => {
    const dns = fakeDns({ "example.test": ["93.184.216.34"] });
    for (const url of [
      "http://example.test:8080/",
      "https://example.test:6379/",
      "http://example.test:22/",
    ]) {
      const error = await refusal(url, { resolve: dns.resolve });
      expect(error.reason).toBe("forbidden_address");
      expect(error.message).toContain("port");
    }
    expect(dns.lookups).toEqual([]);
  });
});

describe("SafeFetch: redirects", () => {
  it("follows relative and absolute redirects and reports the final URL", async () => {
    const s = await site({
      "/": redirect("/step"),
      "/step": redirect("page?x=1", 301),
      "/page?x=1": page(HTML),
    });
    const result = await ok(`${s.origin}/`, { allowHosts: [s.hostPort] });
    expect(result.url).toBe(`${s.origin}/page?x=1`);
    expect(result.html).toBe(HTML);
  });

  it("refuses a 302 to another port on 127.0.0.1, which never sees a request", async () => {
    const internal = await site({ "/": page("<p>admin</p>") });
    const s = await site({ "/": redirect(`http://127.0.0.1:${internal.port}/`) });
    const error = await refusal(`${s.origin}/`, { allowHosts: [s.hostPort] });
    expect(error.reason).toBe("forbidden_address");
    expect(error.url).toBe(`http://127.0.0.1:${internal.port}/`);
    expect(internal.requests).toEqual([]);
  });

  it("refuses a 302 to the cloud metadata endpoint", async () => {
    const s = await site({ "/": redirect("http://169.254.169.254/latest/meta-data/") });
    const error = await refusal(`${s.origin}/`, { allowHosts: [s.hostPort] });
    expect(error.reason).toBe("forbidden_address");
    expect(error.url).toBe("http://169.254.169.254/latest/meta-data/");
  });

  it("refuses a 302 to a decimal-encoded loopback address", async () => {
    const s = await site({ "/": redirect("http://2130706433/") });
    expect((await refusal(`${s.origin}/`, { allowHosts: [s.hostPort] })).reason).toBe("forbidden_address");
  });

  it("refuses a 307 to a name that resolves to a private address", async () => {
    const s = await site({ "/": redirect("http://intranet.test/", 307) });
    const dns = fakeDns({ "intranet.test": ["10.0.0.1"] });
    const error = await refusal(`${s.origin}/`, { allowHosts: [s.hostPort], resolve: dns.resolve });
    expect(error.reason).toBe("forbidden_address");
    expect(dns.lookups).toEqual(["intranet.test"]);
  });

  it.each([
    ["file:///etc/passwd", "bad_scheme"],
    ["gopher://127.0.0.1:6379/_INFO", "bad_scheme"],
    ["http://admin:pw@example.com/", "bad_url"],
  ])("refuses a redirect to %s", async (location, reason) => {
    const s = await site({ "/": redirect(location) });
    expect((await refusal(`${s.origin}/`, { allowHosts: [s.hostPort] })).reason).toBe(reason);
  });

  it("follows five redirects but not six", async () => {
    const chain = (n: number) =>
      Object.fromEntries(
        Array.from({ length: n + 1 }, (_, i) => [`/r${i}`, i === n ? page(HTML) : redirect(`/r${i + 1}`)]),
      );
    const five = await site(chain(5));
    expect((await ok(`${five.origin}/r0`, { allowHosts: [five.hostPort] })).url).toBe(`${five.origin}/r5`);
    const six = await site(chain(6));
    const error = await refusal(`${six.origin}/r0`, { allowHosts: [six.hostPort] });
    expect(error.reason).toBe("too_many_redirects");
    expect(six.requests.map((r) => r.path)).toEqual(["/r0", "/r1", "/r2", "/r3", "/r4", "/r5"]);
  });

  it("stops a redirect loop", async () => {
    const s = await site({ "/a": redirect("/b"), "/b": redirect("/a") });
    expect((await refusal(`${s.origin}/a`, { allowHosts: [s.hostPort] })).reason).toBe("too_many_redirects");
  });
});

describe("SafeFetch: size, time and content caps", () => {
  const bomb = Buffer.alloc(10 * 1024 * 1024);

  it.each([
    ["gzip", gzipSync(bomb)],
    ["deflate", deflateSync(bomb)],
    ["br", brotliCompressSync(bomb)],
  ] as const)("stops a %s bomb (10 MB of zeros) at the decompressed cap", async (encoding, body) => {
    expect(body.length).toBeLessThan(64 * 1024);
    const s = await site({ "/": page(body, { "content-encoding": encoding }) });
    const error = await refusal(`${s.origin}/`, { allowHosts: [s.hostPort], maxBytes: 1024 * 1024 });
    expect(error.reason).toBe("too_large");
    expect(error.message).toContain("decoded body");
    expect(error.retryable).toBe(false);
  });

  it("decodes a compressed page within the cap, with its charset", async () => {
    const s = await site({
      "/gz": page(gzipSync(Buffer.from("<p>Caf\u00e9 gzip</p>")), { "content-encoding": "gzip" }),
      "/latin1": page(Buffer.from("<p>Caf\u00e9</p>", "latin1"), {
        "content-type": "text/html; charset=ISO-8859-1",
      }),
    });
    const policy = { allowHosts: [s.hostPort] };
    expect((await ok(`${s.origin}/gz`, policy)).html).toBe("<p>Caf\u00e9 gzip</p>");
    expect((await ok(`${s.origin}/latin1`, policy)).html).toBe("<p>Caf\u00e9</p>");
  });

  it("refuses a huge body announced by Content-Length", async () => {
    const s = await site({ "/": page(Buffer.alloc(3 * 1024 * 1024, 0x61)) });
    const error = await refusal(`${s.origin}/`, { allowHosts: [s.hostPort] });
    expect(error.reason).toBe("too_large");
  });

  it("stops a huge chunked body with no Content-Length at the cap", async () => {
    const s = await site({
      "/": (_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        // ~6 MB, written as fast as the socket takes it
        let sent = 0;
        const pump = () => {
          while (sent < 100) {
            sent++;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        res.on("error", () => undefined);
        pump();
      },
    });
    const error = await refusal(`${s.origin}/`, { allowHosts: [s.hostPort] });
    expect(error.reason).toBe("too_large");
  });

  it("gives up on a body that trickles past the time budget", async () => {
    const s = await site({
      "/": (_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.write("<p>start");
        // never ends: the test server closes the socket in afterEach
      },
    });
    const started = Date.now();
    const error = await refusal(`${s.origin}/`, { allowHosts: [s.hostPort], timeoutMs: 400 });
    expect(error.reason).toBe("timeout");
    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("gives up on a server that never sends headers", async () => {
    const s = await site({ "/": () => undefined });
    const error = await refusal(`${s.origin}/`, { allowHosts: [s.hostPort], timeoutMs: 400 });
    expect(error.reason).toBe("timeout");
  });

  it.each([
    ["application/json", '{"a":1}'],
    ["image/png", "\x89PNG"],
    ["text/plain", "hello"],
    ["application/octet-stream", "MZ"],
  ])("refuses %s as not_html", async (type, body) => {
    const s = await site({ "/": page(body, { "content-type": type }) });
    const error = await refusal(`${s.origin}/`, { allowHosts: [s.hostPort] });
    expect(error.reason).toBe("not_html");
    expect(error.retryable).toBe(false);
  });

  it("refuses a body with no content type", async () => {
    const s = await site({
      "/": (_req, res) => {
        res.removeHeader("content-type");
        res.end("<p>hi</p>");
      },
    });
    expect((await refusal(`${s.origin}/`, { allowHosts: [s.hostPort] })).reason).toBe("not_html");
  });

  it("reads application/xhtml+xml", async () => {
    const s = await site({ "/": page(HTML, { "content-type": "application/xhtml+xml" }) });
    expect((await ok(`${s.origin}/`, { allowHosts: [s.hostPort] })).html).toBe(HTML);
  });

  it("maps error statuses: 404 final, 503 and 429 retryable", async () => {
    const status =
      (code: number): Parameters<typeof startSite>[0][string] =>
      (_req, res) => {
        res.writeHead(code, { "content-type": "text/html" });
        res.end("<p>error</p>");
      };
    const s = await site({
      "/404": status(404),
      "/503": status(503),
      "/429": status(429),
      "/304": status(304),
    });
    const policy = { allowHosts: [s.hostPort] };
    const e404 = await refusal(`${s.origin}/404`, policy);
    expect([e404.reason, e404.status, e404.retryable]).toEqual(["http_status", 404, false]);
    const e503 = await refusal(`${s.origin}/503`, policy);
    expect([e503.reason, e503.status, e503.retryable]).toEqual(["http_status", 503, true]);
    expect((await refusal(`${s.origin}/429`, policy)).retryable).toBe(true);
    // a redirect status without a Location is just a status
    expect((await refusal(`${s.origin}/304`, policy)).reason).toBe("http_status");
  });

  it("a refused connection is a retryable network error", async () => {
    const s = await site({});
    const port = s.port;
    await s.close();
    sites.length = 0;
    const error = await refusal(`http://127.0.0.1:${port}/`, { allowHosts: [`127.0.0.1:${port}`] });
    expect(error.reason).toBe("network");
    expect(error.retryable).toBe(true);
  });

  it("sends the configured User-Agent and asks for HTML", async () => {
    const s = await site({ "/": page(HTML) });
    await ok(`${s.origin}/`, { allowHosts: [s.hostPort], userAgent: "LeadflowBot/9 (+https://x.invalid)" });
    expect(s.requests[0]?.headers["user-agent"]).toBe("LeadflowBot/9 (+https://x.invalid)");
    expect(s.requests[0]?.headers.accept).toContain("text/html");
  });
});

describe("fetchPolicyConfig", () => {
  const load = (env: Record<string, string>) =>
    Effect.runPromise(
      Effect.either(
        Effect.withConfigProvider(fetchPolicyConfig, ConfigProvider.fromMap(new Map(Object.entries(env)))),
      ),
    );

  it("defaults: 10 s, 2 MB, a descriptive User-Agent, ports 80/443, nothing allow-listed", async () => {
    const policy = Either.getOrThrow(await load({}));
    expect(policy).toMatchObject({ timeoutMs: 10_000, maxBytes: 2 * 1024 * 1024, maxRedirects: 5 });
    expect(policy.userAgent).toMatch(/^LeadflowBot\/\S+ \(\+https?:\/\//);
    expect(policy.allowedPorts).toEqual([80, 443]);
    expect(policy.allowHosts).toEqual([]);
  });

  it("reads overrides and refuses nonsense", async () => {
    const policy = Either.getOrThrow(
      await load({
        WEBSITE_FETCH_TIMEOUT_MS: "2500",
        WEBSITE_FETCH_MAX_BYTES: "65536",
        WEBSITE_FETCH_USER_AGENT: "Bot/1 (+https://a.example)",
      }),
    );
    expect(policy).toMatchObject({
      timeoutMs: 2500,
      maxBytes: 65536,
      userAgent: "Bot/1 (+https://a.example)",
    });
    expect(Either.isLeft(await load({ WEBSITE_FETCH_TIMEOUT_MS: "0" }))).toBe(true);
    expect(Either.isLeft(await load({ WEBSITE_FETCH_MAX_BYTES: "lots" }))).toBe(true);
    expect(Either.isLeft(await load({ WEBSITE_FETCH_USER_AGENT: "Bot\r\nX-Injected: 1" }))).toBe(true);
  });
});
