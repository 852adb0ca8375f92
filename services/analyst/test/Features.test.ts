import { describe, expect, it } from "vitest";
import { defaultAnalystConfig } from "../src/AnalystConfig.js";
import {
  INDUSTRY_FACTS,
  INDUSTRY_KEYS,
  matchIndustry,
  normaliseState,
  STATE_COMMERCIAL_PRICE_CENTS_2023,
  US_AVERAGE_COMMERCIAL_PRICE_CENTS_2023,
} from "../src/Facts.js";
import { type CompanyInput, computeFeatures } from "../src/Features.js";

const company = (over: Partial<CompanyInput> = {}): CompanyInput => ({
  id: "00000000-0000-4000-8000-000000000001",
  name: "Acme",
  industry: "office",
  city: null,
  state: null,
  employeeCount: null,
  sites: null,
  website: null,
  phone: null,
  isSample: false,
  ...over,
});

const hospital = company({
  id: "hospital-buffalo",
  name: "Buffalo General Medical Center",
  industry: "hospital",
  city: "Buffalo",
  state: "NY",
  employeeCount: 800,
});
const restaurant = company({
  id: "restaurant-tx",
  name: "Lone Star Tacos",
  industry: "restaurant",
  city: "Lubbock",
  state: "TX",
  employeeCount: 12,
});

const ALL_STATES_AND_DC = [
  "AL",
  "AK",
  "AZ",
  "AR",
  "CA",
  "CO",
  "CT",
  "DE",
  "DC",
  "FL",
  "GA",
  "HI",
  "ID",
  "IL",
  "IN",
  "IA",
  "KS",
  "KY",
  "LA",
  "ME",
  "MD",
  "MA",
  "MI",
  "MN",
  "MS",
  "MO",
  "MT",
  "NE",
  "NV",
  "NH",
  "NJ",
  "NM",
  "NY",
  "NC",
  "ND",
  "OH",
  "OK",
  "OR",
  "PA",
  "RI",
  "SC",
  "SD",
  "TN",
  "TX",
  "UT",
  "VT",
  "VA",
  "WA",
  "WV",
  "WI",
  "WY",
];

describe("Facts", () => {
  it("has a commercial electricity price for all 50 states and DC, and nothing else", () => {
    expect(ALL_STATES_AND_DC).toHaveLength(51);
    expect(Object.keys(STATE_COMMERCIAL_PRICE_CENTS_2023).sort()).toEqual([...ALL_STATES_AND_DC].sort());
  });

  it("has state prices between 5 and 50 cents/kWh, around a sane US average", () => {
    for (const [state, cents] of Object.entries(STATE_COMMERCIAL_PRICE_CENTS_2023)) {
      expect(cents, state).toBeGreaterThan(5);
      expect(cents, state).toBeLessThan(50);
    }
    expect(US_AVERAGE_COMMERCIAL_PRICE_CENTS_2023).toBeGreaterThan(8);
    expect(US_AVERAGE_COMMERCIAL_PRICE_CENTS_2023).toBeLessThan(20);
    // Hawaii is the dearest, and New York dearer than Texas, as in every EIA year
    const max = Math.max(...Object.values(STATE_COMMERCIAL_PRICE_CENTS_2023));
    expect(STATE_COMMERCIAL_PRICE_CENTS_2023.HI).toBe(max);
    expect(STATE_COMMERCIAL_PRICE_CENTS_2023.NY).toBeGreaterThan(STATE_COMMERCIAL_PRICE_CENTS_2023.TX!);
  });

  it("has positive, plausible intensities and densities for every industry", () => {
    for (const key of INDUSTRY_KEYS) {
      const f = INDUSTRY_FACTS[key];
      expect(f.electricityKwhPerSqft, key).toBeGreaterThan(1);
      expect(f.electricityKwhPerSqft, key).toBeLessThan(300);
      expect(f.gasThermsPerSqft, key).toBeGreaterThanOrEqual(0);
      expect(f.gasThermsPerSqft, key).toBeLessThan(5);
      expect(f.sqftPerEmployee, key).toBeGreaterThan(100);
      expect(f.typicalEmployees, key).toBeGreaterThan(0);
      expect(f.source, key).not.toBe("");
    }
    expect(INDUSTRY_FACTS.hospital.electricityKwhPerSqft).toBeGreaterThan(
      INDUSTRY_FACTS.office.electricityKwhPerSqft,
    );
    expect(INDUSTRY_FACTS.food_sales.electricityKwhPerSqft).toBeGreaterThan(
      INDUSTRY_FACTS.warehouse.electricityKwhPerSqft,
    );
  });

  it.each([
    ["hospital", "hospital"],
    ["Hospitals", "hospital"],
    ["Regional Medical Center", "hospital"],
    ["K-12 school", "education"],
    ["University", "education"],
    ["Hotel", "lodging"],
    ["hospitality group", "lodging"],
    ["cold storage", "cold_storage"],
    ["refrigerated warehouse", "cold_storage"],
    ["warehouse", "warehouse"],
    ["restaurant", "food_service"],
    ["Coffee shop", "food_service"],
    ["grocery store", "food_sales"],
    ["manufacturing plant", "manufacturing"],
    ["medical device manufacturer", "manufacturing"],
    ["data center", "data_center"],
    ["animal hospital", "outpatient"],
    ["dental clinic", "outpatient"],
    ["healthcare", "outpatient"],
    ["assisted living", "nursing"],
    ["law firm", "office"],
    ["marketing agency", "office"],
    ["barber shop", "service"],
    ["church", "religious"],
    ["fitness center", "public_assembly"],
    ["retail store", "retail"],
  ] as const)("maps %j to %s", (text, key) => {
    expect(matchIndustry(text).key).toBe(key);
  });

  it("maps unknown industries to the generic fallback", () => {
    expect(matchIndustry("zzz unknown thing")).toEqual({ key: "generic", keyword: null });
    expect(matchIndustry("")).toEqual({ key: "generic", keyword: null });
  });

  it("normalises state codes and names", () => {
    expect(normaliseState("NY")).toBe("NY");
    expect(normaliseState(" ny ")).toBe("NY");
    expect(normaliseState("New York")).toBe("NY");
    expect(normaliseState("D.C.")).toBe("DC");
    expect(normaliseState("Washington, DC")).toBe("DC");
    expect(normaliseState("Ontario")).toBeNull();
    expect(normaliseState(null)).toBeNull();
  });
});

describe("computeFeatures", () => {
  const config = defaultAnalystConfig;

  it("estimates far more spend and savings for a Buffalo hospital than a small Texas restaurant", () => {
    const h = computeFeatures(hospital, config);
    const r = computeFeatures(restaurant, config);
    expect(h.industryKey).toBe("hospital");
    expect(r.industryKey).toBe("food_service");
    expect(h.electricityPriceKwh).toBeCloseTo(STATE_COMMERCIAL_PRICE_CENTS_2023.NY! / 100, 6);
    expect(r.electricityPriceKwh).toBeCloseTo(STATE_COMMERCIAL_PRICE_CENTS_2023.TX! / 100, 6);
    expect(h.annualUtilitySpend).toBeGreaterThan(20 * r.annualUtilitySpend);
    expect(h.savingsMid).toBeGreaterThan(r.savingsMid);
    expect(h.sizeBand).toBe("large");
    expect(r.sizeBand).toBe("small");
    // a 800-person hospital: a few hundred thousand sqft, millions of kWh, a seven-figure bill
    expect(h.floorAreaSqft).toBeGreaterThan(200_000);
    expect(h.annualKwh).toBeGreaterThan(5_000_000);
    expect(h.annualUtilitySpend).toBeGreaterThan(1_000_000);
    expect(h.annualUtilitySpend).toBeLessThan(10_000_000);
    // a 12-person restaurant: tens of thousands of dollars a year
    expect(r.annualUtilitySpend).toBeGreaterThan(10_000);
    expect(r.annualUtilitySpend).toBeLessThan(200_000);
  });

  it("rounds money to whole dollars and orders the savings range", () => {
    const f = computeFeatures(hospital, config);
    for (const v of [f.annualUtilitySpend, f.savingsLow, f.savingsMid, f.savingsHigh]) {
      expect(Number.isInteger(v)).toBe(true);
    }
    expect(f.savingsLow).toBeLessThanOrEqual(f.savingsMid);
    expect(f.savingsMid).toBeLessThanOrEqual(f.savingsHigh);
    expect(f.savingsMid).toBe(Math.round(f.annualUtilitySpend * config.savingsShare.mid));
  });

  it("uses the US average price for an unknown or missing state and records it", () => {
    for (const state of ["Ontario", null]) {
      const f = computeFeatures(company({ industry: "office", state, employeeCount: 50 }), config);
      expect(f.electricityPriceKwh).toBeCloseTo(US_AVERAGE_COMMERCIAL_PRICE_CENTS_2023 / 100, 6);
      expect(f.assumptions.state).toBe("unknown");
      expect(String(f.assumptions.electricityPriceSource)).toMatch(/US average/);
    }
    const known = computeFeatures(company({ state: "new york", employeeCount: 50 }), config);
    expect(known.assumptions.state).toBe("NY");
  });

  it("falls back to the generic building type for an unknown industry and records it", () => {
    const f = computeFeatures(
      company({ industry: "Quantum widgetry", employeeCount: 30, state: "OH" }),
      config,
    );
    expect(f.industryKey).toBe("generic");
    expect(f.energyIntensityKwhSqft).toBe(INDUSTRY_FACTS.generic.electricityKwhPerSqft);
    expect(String(f.assumptions.industryMatch)).toMatch(/fallback/);
    expect(f.annualUtilitySpend).toBeGreaterThan(0);
  });

  it("records given inputs as given", () => {
    const f = computeFeatures(company({ employeeCount: 120, sites: 3, state: "CA" }), config);
    expect(f.employeesEstimate).toBe(120);
    expect(f.sites).toBe(3);
    expect(f.assumptions.employeesSource).toBe("given");
    expect(f.assumptions.sitesSource).toBe("given");
    expect(f.assumptions.modelVersion).toBe(config.modelVersion);
  });

  it("estimates unknown employees deterministically from the industry and the id", () => {
    const c = company({ id: "abc-123", industry: "restaurant", state: "FL" });
    const a = computeFeatures(c, config);
    const b = computeFeatures({ ...c }, config);
    expect(a).toEqual(b);
    expect(a.assumptions.employeesSource).toBe("estimated");
    const typical = INDUSTRY_FACTS.food_service.typicalEmployees;
    expect(a.employeesEstimate).toBeGreaterThanOrEqual(Math.floor(typical * 0.5));
    expect(a.employeesEstimate).toBeLessThanOrEqual(Math.ceil(typical * 1.5));
    // different ids spread around the typical size
    const sizes = new Set(
      Array.from(
        { length: 50 },
        (_, i) => computeFeatures({ ...c, id: `id-${i}` }, config).employeesEstimate,
      ),
    );
    expect(sizes.size).toBeGreaterThan(5);
    // more sites, more people
    const chain = computeFeatures({ ...c, sites: 10 }, config);
    expect(chain.employeesEstimate).toBeGreaterThan(5 * a.employeesEstimate);
  });

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])(
    "treats an unusable employee count (%s) as unknown",
    (employeeCount) => {
      const f = computeFeatures(company({ employeeCount, sites: Number.NaN }), config);
      expect(f.assumptions.employeesSource).toBe("estimated");
      expect(f.employeesEstimate).toBeGreaterThanOrEqual(1);
      expect(f.sites).toBe(1);
      expect(Number.isFinite(f.annualUtilitySpend)).toBe(true);
    },
  );

  it("keeps huge inputs finite", () => {
    const f = computeFeatures(company({ employeeCount: 1e12, sites: 1e12, industry: "data center" }), config);
    expect(f.sizeBand).toBe("enterprise");
    expect(Number.isFinite(f.annualUtilitySpend)).toBe(true);
    expect(Number.isSafeInteger(f.annualUtilitySpend)).toBe(true);
  });

  it("applies the configured savings shares and utility overhead", () => {
    const base = computeFeatures(hospital, config);
    const tuned = computeFeatures(hospital, {
      ...config,
      utilityOverheadMultiplier: 1,
      savingsShare: { low: 0.1, mid: 0.2, high: 0.3 },
    });
    expect(tuned.annualUtilitySpend).toBeLessThan(base.annualUtilitySpend);
    expect(tuned.savingsMid).toBe(Math.round(tuned.annualUtilitySpend * 0.2));
    // with no overhead, spend is electricity + gas (each rounded separately in the assumptions)
    const parts = Number(tuned.assumptions.annualElectricitySpend) + Number(tuned.assumptions.annualGasSpend);
    expect(Math.abs(tuned.annualUtilitySpend - parts)).toBeLessThanOrEqual(1);
  });
});
