import { describe, expect, it } from "vitest";
import { dedupeCompanies, dedupeKey, normalizeDomain, normalizeName } from "../src/Dedupe.js";

describe("normalizeDomain", () => {
  it.each([
    ["https://www.Example.com/about?x=1", "example.com"],
    ["http://shop.acme.co.uk:8080/", "shop.acme.co.uk"],
    ["WWW.ACME.COM", "acme.com"],
    ["acme.com/contact", "acme.com"],
    ["www2.acme.com", "acme.com"],
    ["https://acme.com.", "acme.com"],
    ["  acme-tools.example  ", "acme-tools.example"],
    ["https://bücher.de", "xn--bcher-kva.de"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeDomain(input)).toBe(expected);
  });

  it.each([
    null,
    "",
    "   ",
    "localhost",
    "http://localhost:3000",
    "http://127.0.0.1/",
    "192.168.1.20",
    "http://[::1]/",
    "mailto:info@acme.com",
    "ftp://acme.com",
    "not a website",
    "acme",
    "n/a",
    "-acme.com",
    "acme.c0m",
  ])("rejects %s", (input) => {
    expect(normalizeDomain(input)).toBeNull();
  });
});

describe("normalizeName", () => {
  it.each([
    ["The Acme Corporation", "acme"],
    ["ACME, Inc.", "acme"],
    ["Acme L.L.C.", "acme"],
    ["Acme Co", "acme"],
    ["Smith & Co.", "smith"],
    ["Johnson & Johnson", "johnson and johnson"],
    ["St. Mary's Hospital", "st marys hospital"],
    ["Café  Rouge   Ltd", "cafe rouge"],
    ["Buffalo General Medical Center, LLC", "buffalo general medical center"],
    ["The Company", "company"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeName(input)).toBe(expected);
  });
});

const company = (
  name: string,
  website: string | null,
  city: string | null = "Buffalo",
  state: string | null = "NY",
) => ({
  name,
  website,
  city,
  state,
});

describe("dedupeKey", () => {
  it("prefers the domain", () => {
    expect(dedupeKey(company("Acme Inc", "https://www.acme.com/x"))).toBe("domain:acme.com");
  });

  it("falls back to name, city and state", () => {
    expect(dedupeKey(company("The Acme Corp.", null, "Buffalo ", "ny"))).toBe("name:acme|buffalo|NY");
    expect(dedupeKey(company("Acme", "garbage"))).toBe("name:acme|buffalo|NY");
  });

  it("does not treat a shared platform host as identity", () => {
    expect(dedupeKey(company("Joe's Diner", "https://facebook.com/joesdiner"))).toBe(
      "name:joes diner|buffalo|NY",
    );
  });
});

describe("dedupeCompanies", () => {
  it("drops repeats by domain or by name and place, keeping the first", () => {
    const list = [
      company("Acme Inc", "acme.com"),
      company("ACME Incorporated", "https://www.acme.com"),
      company("Beta LLC", null),
      company("Beta", "https://beta-buffalo.com"),
      company("Beta", null, "Rochester"),
      company("Gamma", null),
    ];
    expect(dedupeCompanies(list).map((c) => `${c.name}|${c.city}`)).toEqual([
      "Acme Inc|Buffalo",
      "Beta LLC|Buffalo",
      "Beta|Rochester",
      "Gamma|Buffalo",
    ]);
  });
});
