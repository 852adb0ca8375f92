import { describe, expect, it } from "vitest";
import {
  type ContactHit,
  companyDomain,
  isRoleMailbox,
  isUsableEmail,
  rankContacts,
  titleRelevance,
} from "../../src/contacts/ContactFinder.js";
import { cacheKey } from "../../src/ProviderCache.js";
import { bestNameMatch, firstNameMatch, nameMatchScore, normaliseName } from "../../src/phones/NameMatch.js";
import { normalisePhone } from "../../src/phones/PhoneSource.js";

describe("business names", () => {
  it("normalises case, punctuation, accents, & and legal forms", () => {
    expect(normaliseName("The Abbott Hotel, Inc.")).toBe("abbott hotel");
    expect(normaliseName("Café Ängel & Sons LLC")).toBe("cafe angel and sons");
  });

  it("scores equal names 1, contained multi-word names 0.8, others by shared words", () => {
    expect(nameMatchScore("Abbott Hotel", "ABBOTT HOTEL INC")).toBe(1);
    expect(nameMatchScore("McDonalds", "Mc Donald's")).toBe(1);
    expect(nameMatchScore("Abbott Hotel", "Abbott Hotel & Suites")).toBe(0.8);
    // one word is too little to claim a longer name
    expect(nameMatchScore("Kessler", "Kessler Plumbing")).toBeLessThan(0.75);
    expect(nameMatchScore("Abbott Hotel", "Barrett Hotel")).toBeLessThan(0.75);
    expect(nameMatchScore("", "Abbott")).toBe(0);
  });

  it("picks the best match, not the first, and none below the threshold", () => {
    const names = ["Buffalo Visitor Center", "Abbott Hotel Parking Garage", "Abbott Hotel"];
    expect(bestNameMatch("Abbott Hotel", names, (n) => n)?.candidate).toBe("Abbott Hotel");
    expect(bestNameMatch("Zeta Labs", names, (n) => n)).toBeNull();
  });

  it("firstNameMatch asks in order of match only until a candidate is taken", () => {
    const places = [
      { name: "Abbott Hotel Parking Garage", phone: "(716) 555-0101" },
      { name: "Buffalo Visitor Center", phone: "(716) 555-0000" },
      { name: "Abbott Hotel", phone: "not a number" },
      { name: "The Abbott Hotel", phone: "(716) 555-0123" },
    ];
    const asked: string[] = [];
    const found = firstNameMatch(
      "Abbott Hotel",
      places,
      (p) => p.name,
      () => 0,
      (p) => {
        asked.push(p.name);
        return normalisePhone(p.phone);
      },
    );
    // both exact names tie (the earlier first); the one with a bad number is passed over
    expect(asked).toEqual(["Abbott Hotel", "The Abbott Hotel"]);
    expect(found).toMatchObject({ candidate: places[3], score: 1, value: { e164: "+17165550123" } });
    // nothing acceptable above the threshold: null, and the visitor center is never asked
    asked.length = 0;
    expect(
      firstNameMatch(
        "Abbott Hotel",
        places.slice(0, 3),
        (p) => p.name,
        () => 0,
        (p) => {
          asked.push(p.name);
          return null;
        },
      ),
    ).toBeNull();
    expect(asked).toEqual(["Abbott Hotel", "Abbott Hotel Parking Garage"]);
  });
});

describe("phone numbers", () => {
  it("normalises any written form to E.164 and national format", () => {
    expect(normalisePhone("(716) 555-0123")).toEqual({ e164: "+17165550123", national: "(716) 555-0123" });
    expect(normalisePhone("+1 716-555-0123")).toEqual({ e164: "+17165550123", national: "(716) 555-0123" });
    expect(normalisePhone("+44 20 7946 0958", "US")?.e164).toBe("+442079460958");
    expect(normalisePhone("020 7946 0958", "GB")?.e164).toBe("+442079460958");
  });

  it("refuses what is not a valid number", () => {
    expect(normalisePhone("555-1234")).toBeNull();
    expect(normalisePhone("")).toBeNull();
    expect(normalisePhone(null)).toBeNull();
    expect(normalisePhone("call us")).toBeNull();
    expect(normalisePhone("(716) 555-0123", "not-a-country")?.e164).toBeUndefined();
  });
});

describe("emails and titles", () => {
  it("accepts real addresses, refuses junk and placeholders", () => {
    expect(isUsableEmail("Jane.Doe@Acme.com")).toBe(true);
    expect(isUsableEmail("mailto:info@acme.com?subject=hi")).toBe(true);
    for (const junk of [
      "noreply@acme.com",
      "no-reply@acme.com",
      "donotreply@acme.com",
      "email_not_unlocked@domain.com",
      "john@example.com",
      "logo@2x.png",
      "abc@o123.ingest.sentry.io",
      "not an email",
      "a@b",
      null,
    ]) {
      expect(isUsableEmail(junk), String(junk)).toBe(false);
    }
  });

  it("tells role mailboxes from people", () => {
    expect(isRoleMailbox("info@acme.com")).toBe(true);
    expect(isRoleMailbox("Contact@acme.com")).toBe(true);
    expect(isRoleMailbox("jane@acme.com")).toBe(false);
  });

  it("ranks titles by closeness to the utility bill", () => {
    expect(titleRelevance("Director of Facilities")).toBe(1);
    expect(titleRelevance("Energy Manager")).toBe(1);
    expect(titleRelevance("CFO")).toBe(0.9);
    expect(titleRelevance("President")).toBe(0.8);
    expect(titleRelevance("Vice President, Sales")).toBe(0.5);
    expect(titleRelevance("Barista")).toBe(0.2);
    expect(titleRelevance(null)).toBe(0);
  });

  it("puts usable contacts first, then relevant titles, and drops duplicate addresses", () => {
    const c = (email: string | null, title: string | null, confidence: number): ContactHit => ({
      fullName: null,
      firstName: null,
      lastName: null,
      title,
      email,
      phone: null,
      source: "hunter",
      confidence,
    });
    const ranked = rankContacts([
      c("sales@acme.com", "Sales", 99),
      c(null, "Facilities Manager", 0),
      c("cfo@acme.com", "CFO", 70),
      c("CFO@acme.com", "CFO", 70),
      c("noreply@acme.com", "Owner", 99),
    ]);
    expect(ranked.map((x) => x.email)).toEqual(["cfo@acme.com", "sales@acme.com", "noreply@acme.com", null]);
  });
});

describe("cache keys", () => {
  it("normalises domains, places and URLs", () => {
    expect(cacheKey.domain("https://WWW.Acme.com/about?x=1")).toBe("acme.com");
    expect(cacheKey.domain("acme.com.")).toBe("acme.com");
    expect(cacheKey.place(" Abbott  Hotel ", "Buffalo", "ny")).toBe("abbott hotel|buffalo|ny");
    expect(cacheKey.url("https://Acme.com/team/#top")).toBe("https://acme.com/team");
  });

  it("finds the company's own domain, not a platform's", () => {
    expect(companyDomain({ name: "A", domain: "Acme.com", website: null })).toBe("acme.com");
    expect(companyDomain({ name: "A", domain: null, website: "http://www.acme.com/x" })).toBe("acme.com");
    expect(companyDomain({ name: "A", domain: null, website: "https://facebook.com/acme" })).toBeNull();
    expect(companyDomain({ name: "A", domain: null, website: "https://acme.business.site" })).toBeNull();
    expect(companyDomain({ name: "A", domain: null, website: null })).toBeNull();
  });
});
