import { Effect, Either, Layer } from "effect";
import { describe, expect, it } from "vitest";
import { contactsFromFindings, makeWebsiteContactFinder } from "../../src/contacts/WebsiteContactFinder.js";
import { makeWebsitePhoneSource } from "../../src/phones/WebsitePhoneSource.js";
import { WebsiteError, type WebsiteFindings } from "../../src/web/Website.js";
import { emptyFindings, memoryCache, ttl, websiteStub } from "./support.js";

const acme: WebsiteFindings = {
  url: "https://www.acme.com/",
  pagesScanned: 3,
  phones: [
    { e164: "+17165550101", national: "(716) 555-0101", source: "tel_link", page: "https://www.acme.com/" },
    {
      e164: "+17165550102",
      national: "(716) 555-0102",
      source: "text",
      page: "https://www.acme.com/contact",
    },
  ],
  emails: [
    { email: "info@acme.com", page: "https://www.acme.com/contact", source: "mailto" },
    { email: "jane.roe@acme.com", page: "https://www.acme.com/team", source: "text" },
    { email: "noreply@acme.com", page: "https://www.acme.com/", source: "text" },
  ],
  people: [
    {
      name: "Jane Roe",
      title: null,
      email: "jane.roe@acme.com",
      phone: null,
      page: "https://www.acme.com/team",
    },
    {
      name: "Carl Q. Cole",
      title: "Plant Manager",
      email: "carl.cole@acme.com",
      phone: "+17165550103",
      page: "https://www.acme.com/team",
    },
    { name: "Pat Page", title: "CEO", email: null, phone: null, page: "https://www.acme.com/team" },
  ],
};

const company = {
  name: "Acme",
  city: "Buffalo",
  state: "NY",
  website: "https://www.acme.com/",
  domain: "acme.com",
};

describe("website phone source", () => {
  it("takes the scan's first valid number", async () => {
    const site = websiteStub({ "https://www.acme.com/": acme });
    const hit = await Effect.runPromise(
      makeWebsitePhoneSource({ ttl }).pipe(
        Effect.flatMap((s) => s.lookup(company)),
        Effect.provide(Layer.merge(site.layer, memoryCache().layer)),
      ),
    );
    expect(hit).toMatchObject({
      e164: "+17165550101",
      national: "(716) 555-0101",
      source: "website",
      confidence: 75,
    });
    expect(site.scanned).toEqual(["https://www.acme.com/"]);
  });

  it("scans https://<domain> when there is no website, and answers null without either", async () => {
    const site = websiteStub({ "https://acme.com": emptyFindings("https://acme.com/") });
    const results = await Effect.runPromise(
      makeWebsitePhoneSource({ ttl }).pipe(
        Effect.flatMap((s) =>
          Effect.all([
            s.lookup({ ...company, website: null }),
            s.lookup({ ...company, website: null, domain: null }),
          ]),
        ),
        Effect.provide(Layer.merge(site.layer, memoryCache().layer)),
      ),
    );
    expect(results).toEqual([null, null]);
    expect(site.scanned).toEqual(["https://acme.com"]);
  });

  it("a site that cannot be fetched is a PhoneLookupError carrying the website's reason", async () => {
    const failure = new WebsiteError({
      reason: "timeout",
      retryable: true,
      url: "https://www.acme.com/",
      status: null,
      message: "timed out after 10000 ms",
    });
    const site = websiteStub({ "https://www.acme.com/": failure });
    const result = await Effect.runPromise(
      makeWebsitePhoneSource({ ttl }).pipe(
        Effect.flatMap((s) => Effect.either(s.lookup(company))),
        Effect.provide(Layer.merge(site.layer, memoryCache().layer)),
      ),
    );
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toMatchObject({
      _tag: "PhoneLookupError",
      source: "website",
      kind: "website",
      retryable: true,
    });
    expect(error?.message).toContain("timed out");
  });
});

describe("website contact finder", () => {
  it("prefers a named person with a title, then people, then a role mailbox with low confidence", () => {
    const contacts = contactsFromFindings(acme);
    expect(contacts.map((c) => [c.email, c.confidence])).toEqual([
      ["carl.cole@acme.com", 60],
      ["jane.roe@acme.com", 50],
      ["info@acme.com", 20],
      [null, 0],
    ]);
    expect(contacts[0]).toMatchObject({
      fullName: "Carl Q. Cole",
      firstName: "Carl",
      lastName: "Cole",
      title: "Plant Manager",
      phone: "+17165550103",
      source: "website",
    });
  });

  it("falls back to a role mailbox when the site names nobody", () => {
    const contacts = contactsFromFindings({ ...acme, people: [], emails: [acme.emails[0]!] });
    expect(contacts).toEqual([
      {
        fullName: null,
        firstName: null,
        lastName: null,
        title: null,
        email: "info@acme.com",
        phone: null,
        source: "website",
        confidence: 20,
      },
    ]);
  });

  it("shares one cached scan with the phone source", async () => {
    const site = websiteStub({ "https://www.acme.com/": acme });
    const cache = memoryCache();
    const [phone, contacts] = await Effect.runPromise(
      Effect.all([makeWebsitePhoneSource({ ttl }), makeWebsiteContactFinder({ ttl })]).pipe(
        Effect.flatMap(([phones, finder]) => Effect.all([phones.lookup(company), finder.find(company)])),
        Effect.provide(Layer.merge(site.layer, cache.layer)),
      ),
    );
    expect(phone?.e164).toBe("+17165550101");
    expect(contacts[0]?.email).toBe("carl.cole@acme.com");
    expect(site.scanned).toHaveLength(1);
  });
});
