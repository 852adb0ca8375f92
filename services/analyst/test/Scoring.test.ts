import { ConfigProvider, Effect, Layer } from "effect";
import { describe, expect, it } from "vitest";
import {
  AnalystConfig,
  AnalystConfigLive,
  analystConfig,
  defaultAnalystConfig,
} from "../src/AnalystConfig.js";
import type { CompanyInput } from "../src/Features.js";
import { analyze } from "../src/Model.js";
import { scoreLead, tierFor } from "../src/Scoring.js";

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
  website: "https://example.org",
  phone: "+1 716 555 0100",
});
const restaurant = company({
  id: "restaurant-tx",
  name: "Lone Star Tacos",
  industry: "restaurant",
  city: "Lubbock",
  state: "TX",
  employeeCount: 12,
  website: "https://example.com",
  phone: "+1 806 555 0100",
});

const sumOf = (reasons: ReadonlyArray<{ readonly points: number }>): number =>
  reasons.reduce((acc, r) => acc + r.points, 0);

/** A small seeded PRNG (mulberry32) so the synthetic population is the same on every run. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};

const INDUSTRIES = [
  "hospital",
  "medical center",
  "dental clinic",
  "K-12 school",
  "university",
  "hotel",
  "grocery store",
  "restaurant",
  "coffee shop",
  "office",
  "law firm",
  "retail store",
  "warehouse",
  "cold storage",
  "manufacturing plant",
  "data center",
  "church",
  "fitness center",
  "auto repair",
  "assisted living",
  "something unusual",
];
const STATES = ["NY", "CA", "TX", "FL", "OH", "HI", "MA", "WA", "ND", "IL", "GA", "Ontario", null];

const population = (n: number): Array<CompanyInput> => {
  const rnd = prng(42);
  const pick = <T>(xs: ReadonlyArray<T>): T => xs[Math.floor(rnd() * xs.length)] as T;
  return Array.from({ length: n }, (_, i) =>
    company({
      id: `synthetic-${i}`,
      name: `Company ${i}`,
      industry: pick(INDUSTRIES),
      state: pick(STATES),
      employeeCount: rnd() < 0.4 ? null : Math.max(1, Math.round(10 ** (rnd() * 3.7))),
      sites: rnd() < 0.6 ? null : 1 + Math.floor(rnd() * 20),
      website: rnd() < 0.7 ? `https://c${i}.example` : null,
      phone: rnd() < 0.6 ? "+1 555 0100" : null,
      isSample: rnd() < 0.2,
    }),
  );
};

describe("scoreLead", () => {
  const config = defaultAnalystConfig;

  it("scores a Buffalo hospital above a small restaurant in a cheap-power state", () => {
    const h = analyze(hospital, config);
    const r = analyze(restaurant, config);
    expect(h.features.annualUtilitySpend).toBeGreaterThan(r.features.annualUtilitySpend);
    expect(h.score.score).toBeGreaterThan(r.score.score);
    expect(h.score.tier).toBe("high");
    expect(r.score.tier).not.toBe("high");
    const price = (s: typeof h) => s.score.reasons.find((x) => x.factor === "electricity_price")!.points;
    expect(price(h)).toBeGreaterThan(price(r));
  });

  it("explains every score: integer points that sum to the score", () => {
    for (const c of population(300)) {
      const { score } = analyze(c, config);
      expect(Number.isInteger(score.score)).toBe(true);
      expect(sumOf(score.reasons)).toBe(score.score);
      for (const r of score.reasons) {
        expect(Number.isInteger(r.points)).toBe(true);
        expect(r.detail).not.toBe("");
      }
      expect(score.reasons.map((r) => r.factor)).toEqual(
        expect.arrayContaining([
          "annual_spend",
          "energy_intensity",
          "electricity_price",
          "multi_site",
          "contactability",
          "data_quality",
        ]),
      );
    }
  });

  it.each([
    ["0 employees", { employeeCount: 0 }],
    ["1e6 employees", { employeeCount: 1e6, sites: 5000, industry: "data center", state: "HI" }],
    ["NaN employees", { employeeCount: Number.NaN, sites: Number.NaN }],
    ["infinite employees", { employeeCount: Number.POSITIVE_INFINITY, sites: Number.POSITIVE_INFINITY }],
    ["negative inputs", { employeeCount: -10, sites: -3 }],
    ["empty strings", { id: "", name: "", industry: "", state: "", website: " ", phone: "" }],
  ] as const)("keeps the score within 0..100 for %s", (_, over) => {
    const { features, score } = analyze(company(over), config);
    expect(Number.isFinite(features.annualUtilitySpend)).toBe(true);
    expect(score.score).toBeGreaterThanOrEqual(0);
    expect(score.score).toBeLessThanOrEqual(100);
    expect(sumOf(score.reasons)).toBe(score.score);
  });

  it("scores a broken features row as 0 for its factor instead of NaN", () => {
    const f = analyze(hospital, config).features;
    const broken = { ...f, annualUtilitySpend: Number.NaN, electricityPriceKwh: Number.NaN };
    const s = scoreLead(hospital, broken, config);
    expect(Number.isNaN(s.score)).toBe(false);
    expect(s.reasons.find((r) => r.factor === "annual_spend")!.points).toBe(0);
    expect(sumOf(s.reasons)).toBe(s.score);
  });

  it("caps at 100 with a visible reason when configured weights exceed 100", () => {
    const heavy = {
      ...config,
      weights: { spend: 100, intensity: 100, price: 100, sites: 100, contact: 100, dataQuality: 100 },
    };
    const s = analyze({ ...hospital, sites: 12 }, heavy).score;
    expect(s.score).toBe(100);
    expect(sumOf(s.reasons)).toBe(100);
    expect(s.reasons.at(-1)!.factor).toBe("cap");
    expect(s.reasons.at(-1)!.points).toBeLessThan(0);
  });

  it("flags sample data without penalising it", () => {
    const real = analyze(hospital, config).score;
    const sample = analyze({ ...hospital, isSample: true }, config).score;
    expect(sample.score).toBe(real.score);
    expect(sample.reasons.find((r) => r.factor === "sample_data")).toMatchObject({ points: 0 });
    expect(real.reasons.some((r) => r.factor === "sample_data")).toBe(false);
  });

  it("rewards multi-site, contactable, well-described companies", () => {
    const bare = company({ industry: "office", employeeCount: 200, state: "OH" });
    const base = analyze(bare, config).score;
    const better = analyze({ ...bare, sites: 8, website: "https://x.example", phone: "555" }, config).score;
    expect(better.score).toBeGreaterThan(base.score);
    const unknown = analyze({ ...bare, employeeCount: null, state: null }, config).score;
    const dq = (s: typeof base) => s.reasons.find((r) => r.factor === "data_quality")!.points;
    expect(dq(unknown)).toBeLessThan(dq(base));
  });

  it("is deterministic", () => {
    for (const c of population(50)) {
      expect(analyze(c, config)).toEqual(analyze({ ...c }, config));
    }
  });

  it("spreads a plausible population of 1000 companies across all three tiers", () => {
    const counts = { high: 0, medium: 0, low: 0 };
    for (const c of population(1000)) counts[analyze(c, config).score.tier]++;
    expect(counts.high).toBeGreaterThan(50);
    expect(counts.medium).toBeGreaterThan(50);
    expect(counts.low).toBeGreaterThan(50);
  });

  it("analyses 10,000 companies quickly", () => {
    const companies = population(10_000);
    const start = performance.now();
    for (const c of companies) analyze(c, config);
    // a generous bound: this runs in tens of milliseconds; it guards against accidental O(n²) work
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});

describe("tiers and configuration", () => {
  it("tiers by the configured thresholds, inclusive", () => {
    const tiers = { high: 70, medium: 40 };
    expect(tierFor(100, tiers)).toBe("high");
    expect(tierFor(70, tiers)).toBe("high");
    expect(tierFor(69, tiers)).toBe("medium");
    expect(tierFor(40, tiers)).toBe("medium");
    expect(tierFor(39, tiers)).toBe("low");
    expect(tierFor(0, tiers)).toBe("low");
  });

  const load = (env: Record<string, string>) =>
    Effect.runSync(
      Effect.either(
        AnalystConfig.pipe(
          Effect.provide(AnalystConfigLive),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
        ),
      ),
    );

  it("defaults to the plain defaults, high ≥ 70 and medium ≥ 40", () => {
    const loaded = load({});
    expect(loaded._tag).toBe("Right");
    if (loaded._tag === "Right") expect(loaded.right).toEqual(defaultAnalystConfig);
    expect(defaultAnalystConfig.tiers).toEqual({ high: 70, medium: 40 });
    const w = defaultAnalystConfig.weights;
    expect(w.spend + w.intensity + w.price + w.sites + w.contact + w.dataQuality).toBe(100);
  });

  it("reads tier thresholds from the environment and scores with them", () => {
    const loaded = load({ ANALYST_TIER_HIGH: "90", ANALYST_TIER_MEDIUM: "85", ANALYST_WEIGHT_SPEND: "30" });
    expect(loaded._tag).toBe("Right");
    if (loaded._tag !== "Right") return;
    const cfg = loaded.right;
    expect(cfg.tiers).toEqual({ high: 90, medium: 85 });
    expect(cfg.weights.spend).toBe(30);
    const s = analyze(hospital, cfg).score;
    expect(s.tier).toBe(tierFor(s.score, { high: 90, medium: 85 }));
    expect(analyze(restaurant, cfg).score.tier).toBe("low");
  });

  it.each([
    [{ ANALYST_TIER_HIGH: "30", ANALYST_TIER_MEDIUM: "40" }],
    [{ ANALYST_TIER_HIGH: "abc" }],
    [{ ANALYST_SAVINGS_SHARE_LOW: "0.5", ANALYST_SAVINGS_SHARE_MID: "0.1" }],
    [{ ANALYST_SAVINGS_SHARE_HIGH: "2" }],
    [{ ANALYST_WEIGHT_PRICE: "-1" }],
    [{ ANALYST_UTILITY_OVERHEAD_MULTIPLIER: "0.5" }],
    [{ ANALYST_SPEND_FLOOR_USD: "1000000", ANALYST_SPEND_CEILING_USD: "1000" }],
  ])("rejects an invalid configuration %j", (env) => {
    expect(load(env)._tag).toBe("Left");
  });

  it("exposes the Config for composition", () => {
    const layer = Layer.succeed(AnalystConfig, defaultAnalystConfig);
    const viaTag = Effect.runSync(AnalystConfig.pipe(Effect.provide(layer)));
    const viaConfig = Effect.runSync(
      analystConfig.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))),
    );
    expect(viaConfig).toEqual(viaTag);
  });
});
