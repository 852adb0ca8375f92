import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { dedupeKey, normalizeDomain } from "../src/Dedupe.js";
import { generateSampleCompanies, sampleSource } from "../src/sources/SampleSource.js";

const q = (over: Partial<{ industry: string; location: string; count: number; seed: string }> = {}) => ({
  industry: "hospital",
  location: "Buffalo, NY",
  count: 25,
  seed: "run-1",
  ...over,
});

describe("sample source", () => {
  it("is stable for the same seed, industry and location", () => {
    expect(generateSampleCompanies(q())).toEqual(generateSampleCompanies(q()));
  });

  it("differs for another seed, industry or location", () => {
    const names = (x: ReturnType<typeof q>) => generateSampleCompanies(x).map((c) => c.name);
    expect(names(q({ seed: "run-2" }))).not.toEqual(names(q()));
    expect(names(q({ location: "Austin, TX" }))).not.toEqual(names(q()));
    expect(names(q({ industry: "hotel" }))).not.toEqual(names(q()));
  });

  it("a smaller count is a prefix of a larger one", () => {
    const small = generateSampleCompanies(q({ count: 10 }));
    const large = generateSampleCompanies(q({ count: 200 }));
    expect(large.slice(0, 10)).toEqual(small);
  });

  it.each([1, 7, 100, 1000])("returns exactly %i distinct companies", (count) => {
    const companies = generateSampleCompanies(q({ count }));
    expect(companies).toHaveLength(count);
    expect(new Set(companies.map(dedupeKey)).size).toBe(count);
  });

  it.each([
    "hospital",
    "school",
    "hotel",
    "manufacturing",
    "grocery",
    "restaurant",
    "office",
    "warehouse",
    "data center",
    "retail",
    "dental practice",
    "",
  ])("produces 1000 distinct plausible companies for %j", (industry) => {
    const companies = generateSampleCompanies(q({ industry, count: 1000 }));
    expect(new Set(companies.map(dedupeKey)).size).toBe(1000);
    expect(new Set(companies.map((c) => c.name)).size).toBe(1000);
  });

  it("uses industry-fitting names", () => {
    const hospitals = generateSampleCompanies(q({ count: 50 }));
    expect(hospitals.every((c) => /Hospital|Medical|Health|Surgical/.test(c.name))).toBe(true);
    const dental = generateSampleCompanies(q({ industry: "dental practice", count: 20 }));
    expect(dental.every((c) => c.name.includes("Dental Practice"))).toBe(true);
  });

  it("says it is sample data and cannot reach real businesses", () => {
    for (const c of generateSampleCompanies(q({ count: 300 }))) {
      expect(c).toMatchObject({
        isSample: true,
        source: "sample",
        country: "US",
        state: "NY",
        city: "Buffalo",
      });
      expect(c.phone).toMatch(/^\(\d{3}\) 555-01\d\d$/);
      if (c.website !== null) {
        expect(c.website).toMatch(/^https:\/\/www\.[a-z0-9-]+\.example$/);
        expect(normalizeDomain(c.website)?.endsWith(".example")).toBe(true);
      }
      expect(c.postalCode).toMatch(/^1[0-4]\d{3}$/);
      expect(c.address).toMatch(/^\d+ \w+/);
    }
  });

  it("spreads employee counts and sites realistically", () => {
    const companies = generateSampleCompanies(q({ industry: "manufacturing", count: 1000 }));
    const employees = companies.map((c) => c.employeeCount ?? 0).sort((a, b) => a - b);
    const median = employees[500] ?? 0;
    expect(median).toBeGreaterThan(60);
    expect(median).toBeLessThan(250);
    expect(employees[0]).toBeGreaterThanOrEqual(10);
    expect(employees[999]).toBeGreaterThan(1000);
    const sites = companies.map((c) => c.sites ?? 0);
    const single = sites.filter((s) => s === 1).length;
    expect(single).toBeGreaterThan(550);
    expect(single).toBeLessThan(850);
    expect(Math.max(...sites)).toBeGreaterThan(5);
  });

  it("handles a state-only or unknown location", () => {
    const texas = generateSampleCompanies(q({ location: "Texas", count: 20 }));
    expect(texas.every((c) => c.state === "TX" && c.city !== null && c.phone?.startsWith("(512)"))).toBe(
      true,
    );
    const nowhere = generateSampleCompanies(q({ location: "Atlantis", count: 20 }));
    expect(nowhere.every((c) => c.city === "Atlantis" && c.state === null && c.postalCode === null)).toBe(
      true,
    );
  });

  it("generates 10,000 in well under 100 ms", () => {
    generateSampleCompanies(q({ count: 100 }));
    const started = performance.now();
    const companies = generateSampleCompanies(q({ count: 10_000 }));
    const elapsed = performance.now() - started;
    expect(companies).toHaveLength(10_000);
    expect(new Set(companies.map(dedupeKey)).size).toBe(10_000);
    expect(elapsed).toBeLessThan(100);
  });

  it("is a ScoutSource named sample", async () => {
    const found = await Effect.runPromise(sampleSource.search(q({ count: 3 })));
    expect(sampleSource.name).toBe("sample");
    expect(found).toHaveLength(3);
  });
});
