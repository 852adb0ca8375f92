import { Metrics, type MetricsShape, makeMetrics } from "@leadflow/runtime";
import { Effect, Either, Layer } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { meteredFetch } from "../../src/web/MeteredFetch.js";
import {
  defaultFetchPolicy,
  type ResolvedAddress,
  SafeFetch,
  safeFetchLayer,
} from "../../src/web/SafeFetch.js";
import {
  makeWebsite,
  pickFollowLinks,
  toAbsoluteUrl,
  Website,
  type WebsiteError,
  type WebsiteFindings,
  WebsiteLive,
  websiteLayer,
} from "../../src/web/Website.js";
import { page, type Route, redirect, startSite, type TestSite } from "./TestSite.js";

const sites: Array<TestSite> = [];
afterEach(async () => {
  await Promise.all(sites.splice(0).map((s) => s.close()));
});
const site = async (routes: Parameters<typeof startSite>[0]) => {
  const s = await startSite(routes);
  sites.push(s);
  return s;
};

/** `leadflow_provider_calls_total{provider="website"}` by outcome. */
const websiteCalls = async (metrics: MetricsShape) => {
  const { values } = await metrics.providerCalls.get();
  return Object.fromEntries(
    values.filter((v) => v.labels.provider === "website").map((v) => [v.labels.outcome, v.value]),
  );
};

/** How many website fetches have a duration observed. */
const websiteDurations = async (metrics: MetricsShape) => {
  const { values } = await metrics.providerDuration.get();
  return values.find((v) => v.metricName?.endsWith("_count") && v.labels.provider === "website")?.value ?? 0;
};

/** Test names that resolve to the local servers; only these host:port pairs are allow-listed. */
const scanWith = (
  names: Readonly<Record<string, TestSite>>,
  url: string,
  options?: { readonly country?: string },
): Promise<Either.Either<WebsiteFindings, WebsiteError>> => {
  const resolve = async (host: string): Promise<ReadonlyArray<ResolvedAddress>> => {
    if (names[host] === undefined) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return [{ address: "127.0.0.1", family: 4 }];
  };
  const allowHosts = Object.entries(names).map(([name, s]) => `${name}:${s.port}`);
  return Effect.runPromise(
    Effect.either(Effect.flatMap(Website, (w) => w.scan(url, options))).pipe(
      Effect.provide(websiteLayer({ ...defaultFetchPolicy, allowHosts, resolve, timeoutMs: 3_000 })),
    ),
  );
};

const HOME = (other: string) => `<!doctype html><html><head><title>Acme Mechanical | (716) 899-0000</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"HVACBusiness","name":"Acme Mechanical",
 "telephone":"(716) 856-4100","email":"office@acme-mechanical.com"}</script>
</head><body>
<script>window.tracking = { phone: "(716) 881-7000", mail: "leak@acme-mechanical.com" };</script>
<style>.hotline::after { content: "(716) 847-1900"; }</style>
<header><a href="tel:+17168452000">(716) 845-2000</a>
 <a href="mailto:Service@Acme-Mechanical.com?subject=Service%20request&amp;body=Hi">Email us</a></header>
<main><h1>Heating and cooling since 1962</h1>
 <p>Emergency line:
 716-842-6100</p>
 <img src="/img/logo@2x.png" alt="logo@2x.png"><p>Template by someone@example.com</p>
 <p>Errors: 605a7baede844d278b89dc95ae0a9123@sentry-next.wixpress.com</p>
 <div><h3>Jane Smith</h3><p>Director of Facilities</p></div>
</main>
<nav><a href="/about-us">About</a> <a href="/our-people">Our people</a> <a href="/contact">Get in touch</a>
 <a href="/blog">Blog</a> <a href="/services">Services</a> <a href="${other}/team">Partner team</a>
 <a href="/files/team.pdf">Team PDF</a> <a href="javascript:void(0)">Menu</a></nav>
</body></html>`;

const TEAM = `<!doctype html><html><body><main><h1>Our Team</h1>
<section class="grid">
 <article class="person"><img src="/img/jane.jpg" alt=""><h3>Jane&#13;&#10;Smith\u0007</h3>
  <p class="role">Director of
  Facilities</p>
  <p><a href="mailto:JSmith@Acme-Mechanical.com?subject=Hello">jsmith@acme-mechanical.com</a></p></article>
 <article class="person"><h3>Robert Chen</h3><p class="role">Chief Financial Officer</p>
  <a href="tel:716-845-2003">Direct</a> <a href="mailto:rchen@acme-mechanical.com">Email Robert</a></article>
 <article class="person"><h3>Our Values</h3><p>Service Manager mindset in everything</p></article>
</section></main>
<footer><a href="mailto:info@acme-mechanical.com">info@acme-mechanical.com</a></footer>
</body></html>`;

describe("Website.scan", () => {
  it("reads the home page and the team page, then stops: phones, emails and people with their sources", async () => {
    const other = await site({ "/team": page("<h3>Eve Stone</h3><p>Owner</p>") });
    const acme = await site({
      "/": page(HOME(`http://other.test:${other.port}`)),
      "/our-people": page(TEAM),
    });
    const result = await scanWith(
      { "acme.test": acme, "other.test": other },
      `http://acme.test:${acme.port}`,
    );
    const found = Either.getOrThrow(result);
    const home = `http://acme.test:${acme.port}/`;
    const team = `http://acme.test:${acme.port}/our-people`;

    expect(found.url).toBe(home);
    // the team page gave a phone and a person with an email: contact and about pages are not needed
    expect(found.pagesScanned).toBe(2);
    expect(acme.requests.map((r) => r.path)).toEqual(["/", "/our-people"]);
    expect(other.requests).toEqual([]);

    expect(found.phones).toEqual([
      { e164: "+17168452000", national: "(716) 845-2000", source: "tel_link", page: home },
      { e164: "+17168564100", national: "(716) 856-4100", source: "schema_org", page: home },
      { e164: "+17168426100", national: "(716) 842-6100", source: "text", page: home },
      { e164: "+17168452003", national: "(716) 845-2003", source: "tel_link", page: team },
    ]);
    expect(found.emails).toEqual([
      { email: "service@acme-mechanical.com", source: "mailto", page: home },
      { email: "office@acme-mechanical.com", source: "text", page: home },
      { email: "jsmith@acme-mechanical.com", source: "mailto", page: team },
      { email: "rchen@acme-mechanical.com", source: "mailto", page: team },
      { email: "info@acme-mechanical.com", source: "mailto", page: team },
    ]);
    // Jane's heading on the home page is not read (home pages get schema.org people only)
    expect(found.people).toEqual([
      {
        name: "Jane Smith",
        title: "Director of Facilities",
        email: "jsmith@acme-mechanical.com",
        phone: null,
        page: team,
      },
      {
        name: "Robert Chen",
        title: "Chief Financial Officer",
        email: "rchen@acme-mechanical.com",
        phone: "+17168452003",
        page: team,
      },
    ]);
    // nothing from <script>, <style> or <title>
    const all = JSON.stringify(found);
    for (const leaked of ["8817000", "8471900", "8990000", "leak@", "example.com", "wixpress", "logo@2x"]) {
      expect(all).not.toContain(leaked);
    }
  });

  it("keeps going through contact and about pages when the team page has no emails, skipping failures", async () => {
    const other = await site({ "/contact": page('<a href="tel:716-845-2009">x</a>') });
    const acme = await site({
      "/": page('<a href="/team">Team</a><a href="/contact-us">Contact</a><a href="/about">About us</a>'),
      "/team": page("<div><h3>Robert Chen</h3><p>Chief Financial Officer</p></div>"),
      "/contact-us": (_req, res) => {
        res.writeHead(500, { "content-type": "text/html" });
        res.end("<p>oops</p>");
      },
      "/about": redirect(`http://other.test:${other.port}/contact`),
    });
    const found = Either.getOrThrow(
      await scanWith({ "acme.test": acme, "other.test": other }, `http://acme.test:${acme.port}/`),
    );
    expect(acme.requests.map((r) => r.path)).toEqual(["/", "/team", "/contact-us", "/about"]);
    // the failed page and the page that redirected off-site are not counted or read
    expect(found.pagesScanned).toBe(2);
    expect(found.phones).toEqual([]);
    expect(found.people.map((p) => [p.name, p.title, p.email])).toEqual([
      ["Robert Chen", "Chief Financial Officer", null],
    ]);
  });

  it("takes a bare domain, follows the www redirect and treats www and bare host as one site", async () => {
    const bareRoutes: Record<string, Route> = {};
    const wwwRoutes: Record<string, Route> = {};
    const bare = await site(bareRoutes);
    const www = await site(wwwRoutes);
    Object.assign(bareRoutes, {
      "/": redirect(`http://www.acme.test:${www.port}/`, 301),
      "/staff": page(
        '<p><strong>Maria Lopez</strong> – Operations Manager <a href="mailto:ml@acme.com">e</a></p>',
      ),
    });
    Object.assign(wwwRoutes, {
      "/": page(`<a href="http://acme.test:${bare.port}/staff">Staff</a><a href="/contact">Contact</a>`),
      "/contact": page('<p>Call <a href="tel:7168452000">(716) 845-2000</a></p>'),
    });
    // as provider data often has it: no scheme
    const found = Either.getOrThrow(
      await scanWith({ "acme.test": bare, "www.acme.test": www }, `acme.test:${bare.port}`),
    );
    expect(found.url).toBe(`http://www.acme.test:${www.port}/`);
    expect(found.pagesScanned).toBe(3);
    expect(found.phones.map((p) => p.e164)).toEqual(["+17168452000"]);
    expect(found.people).toEqual([
      {
        name: "Maria Lopez",
        title: "Operations Manager",
        email: "ml@acme.com",
        phone: null,
        page: `http://acme.test:${bare.port}/staff`,
      },
    ]);
    expect(bare.requests.map((r) => r.path)).toEqual(["/", "/staff"]);
    expect(www.requests.map((r) => r.path)).toEqual(["/", "/contact"]);
  });

  it("reads national numbers for the country asked for", async () => {
    const acme = await site({ "/": page("<p>Ring us on 020 7946 0958</p>") });
    const gb = Either.getOrThrow(
      await scanWith({ "acme.test": acme }, `http://acme.test:${acme.port}/`, { country: "gb" }),
    );
    expect(gb.phones.map((p) => [p.e164, p.national])).toEqual([["+442079460958", "020 7946 0958"]]);
    const us = Either.getOrThrow(await scanWith({ "acme.test": acme }, `http://acme.test:${acme.port}/`));
    expect(us.phones).toEqual([]);
  });

  it("fails with the fetcher's reason when the home page cannot be read", async () => {
    const acme = await site({ "/json": page("{}", { "content-type": "application/json" }) });
    const names = { "acme.test": acme };
    const reason = async (url: string) => {
      const r = await scanWith(names, url);
      return Either.isLeft(r) ? r.left.reason : "found";
    };
    expect(await reason(`http://acme.test:${acme.port}/missing`)).toBe("http_status");
    expect(await reason(`http://acme.test:${acme.port}/json`)).toBe("not_html");
    expect(await reason("javascript:alert(document.cookie)")).toBe("bad_scheme");
    expect(await reason("file:///etc/passwd")).toBe("bad_scheme");
    expect(await reason("http://169.254.169.254/latest/meta-data/")).toBe("forbidden_address");
  });

  it("WebsiteLive builds from the environment with nothing allow-listed, and counts the refusal", async () => {
    const metrics = makeMetrics("test", { defaultMetrics: false });
    const result = await Effect.runPromise(
      Effect.either(Effect.flatMap(Website, (w) => w.scan("http://127.0.0.1/"))).pipe(
        Effect.provide(Layer.orDie(WebsiteLive).pipe(Layer.provide(Layer.succeed(Metrics, metrics)))),
      ),
    );
    expect(Either.isLeft(result) && result.left.reason).toBe("forbidden_address");
    // no request was made: a refusal, and no duration
    expect(await websiteCalls(metrics)).toEqual({ refused: 1 });
    expect(await websiteDurations(metrics)).toBe(0);
  });

  it("counts every fetch in the provider metrics, by outcome, with its duration", async () => {
    const acme = await site({
      "/": page('<a href="tel:716-845-2000">Call</a><a href="/team">Team</a><a href="/contact">Contact</a>'),
      "/contact": page("<p>Write to office@acme.test</p>"),
      // /team has no route: 404
    });
    const metrics = makeMetrics("test", { defaultMetrics: false });
    const policy = {
      ...defaultFetchPolicy,
      allowHosts: [`acme.test:${acme.port}`],
      resolve: async () => [{ address: "127.0.0.1", family: 4 }],
      timeoutMs: 3_000,
    };
    const layer = Layer.effect(
      Website,
      Effect.map(SafeFetch, (fetch) => makeWebsite(meteredFetch(fetch, metrics))),
    ).pipe(Layer.provide(safeFetchLayer(policy)));
    const found = await Effect.runPromise(
      Effect.flatMap(Website, (w) => w.scan(`http://acme.test:${acme.port}/`)).pipe(Effect.provide(layer)),
    );
    expect(acme.requests.map((r) => r.path)).toEqual(["/", "/team", "/contact"]);
    expect(found.pagesScanned).toBe(2);
    expect(await websiteCalls(metrics)).toEqual({ ok: 2, client_error: 1 });
    expect(await websiteDurations(metrics)).toBe(3);
  });
});

describe("link choice and URL input", () => {
  const home = new URL("https://www.acme.com/");
  it("prefers team pages, then contact, then about, same site only, three at most", () => {
    const links = [
      { url: "https://www.acme.com/about", text: "About" },
      { url: "https://acme.com/contact-us", text: "Contact" },
      { url: "https://www.acme.com/leadership", text: "Leaders" },
      { url: "https://www.acme.com/x", text: "Meet the team" },
      { url: "https://evil.com/team", text: "Team" },
      { url: "https://www.acme.com/team.pdf", text: "Team" },
      { url: "https://www.acme.com/", text: "Home" },
    ];
    expect(pickFollowLinks(links, home)).toEqual([
      "https://www.acme.com/leadership",
      "https://www.acme.com/x",
      "https://acme.com/contact-us",
    ]);
  });

  it("turns provider website values into URLs, keeping foreign schemes for the fetcher to refuse", () => {
    expect(toAbsoluteUrl(" acme.com ")).toBe("http://acme.com");
    expect(toAbsoluteUrl("www.acme.com/contact")).toBe("http://www.acme.com/contact");
    expect(toAbsoluteUrl("acme.com:8080")).toBe("http://acme.com:8080");
    expect(toAbsoluteUrl("//acme.com")).toBe("http://acme.com");
    expect(toAbsoluteUrl("https://acme.com")).toBe("https://acme.com");
    expect(toAbsoluteUrl("javascript:alert(1)")).toBe("javascript:alert(1)");
    expect(toAbsoluteUrl("file:/etc/passwd")).toBe("file:/etc/passwd");
  });
});
