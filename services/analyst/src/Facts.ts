import { stateCode } from "@leadflow/contracts";
/**
 * The public facts the analyst's model rests on. Every figure names its source; where a figure
 * is not read straight off the cited table it says it is an approximation of that table. These
 * are reference data, not knobs: the knobs live in AnalystConfig.
 *
 * Sources:
 * - [CBECS-C14] EIA, Commercial Buildings Energy Consumption Survey (CBECS) 2012, Table C14
 *   "Electricity consumption and conditional energy intensity by building activity"
 *   (per square foot, per worker), https://www.eia.gov/consumption/commercial/data/2012/c&e/cfm/c14.php
 *   The 2018 CBECS (https://www.eia.gov/consumption/commercial/data/2018/, tables C14 / C24)
 *   reports intensities of the same magnitude; the 2012 table is the one with per-worker figures.
 * - [CBECS-C24] EIA, CBECS 2012, Table C24 "Natural gas consumption and conditional energy
 *   intensity by building activity" (cubic feet per square foot, among buildings using gas),
 *   https://www.eia.gov/consumption/commercial/data/2012/c&e/cfm/c24.php — approximations.
 * - [CBECS-B23] EIA, CBECS 2012, Table B23 "Energy sources, floorspace" (floorspace of buildings
 *   using natural gas / all floorspace), https://www.eia.gov/consumption/commercial/data/2012/bc/cfm/b23.php
 * - [CBECS-B15] EIA, CBECS 2012, Table B15 "Employment size category, number of buildings",
 *   https://www.eia.gov/consumption/commercial/data/2012/bc/cfm/b15.cfm
 * - [MECS] EIA, Manufacturing Energy Consumption Survey (MECS) 2018, Tables 1.2 (first use of
 *   energy for all purposes) and 6.1 (consumption ratios), https://www.eia.gov/consumption/manufacturing/data/2018/
 * - [LBNL-DC] Shehabi et al., "United States Data Center Energy Usage Report", LBNL-1005775
 *   (2016), https://eta.lbl.gov/publications/united-states-data-center-energy ; and ENERGY STAR,
 *   "Data centers use 10 to 50 times the energy per square foot of a typical office",
 *   https://www.energystar.gov/products/data_center_equipment
 * - [EPA-2023] EIA, Electric Power Annual 2023 (released Oct 2024), Table 2.10 "Average price of
 *   electricity to ultimate customers by end-use sector, by state", commercial column,
 *   https://www.eia.gov/electricity/annual/table.php?t=epa_02_10.html — the same annual figure as
 *   Electric Power Monthly Table 5.6.B (year-to-date through December 2023),
 *   https://www.eia.gov/electricity/monthly/epm_table_grapher.php?t=epmt_5_06_b
 * - [NGA-2023] EIA, Natural Gas Annual / Natural Gas Monthly Table 3, average price delivered to
 *   commercial consumers, US, 2023, https://www.eia.gov/dnav/ng/ng_pri_sum_dcu_nus_a.htm
 * - [ESTAR] ENERGY STAR, "Facility owners and managers: guidelines for energy management" and
 *   the ENERGY STAR Portfolio Manager data trends, https://www.energystar.gov/buildings/tools-and-resources
 */

/** One building type the model knows. */
export type IndustryKey =
  | "hospital"
  | "outpatient"
  | "nursing"
  | "education"
  | "lodging"
  | "food_sales"
  | "food_service"
  | "office"
  | "retail"
  | "warehouse"
  | "cold_storage"
  | "public_assembly"
  | "public_order"
  | "religious"
  | "service"
  | "manufacturing"
  | "data_center"
  | "generic";

export interface IndustryFacts {
  readonly label: string;
  /** Annual electricity use per square foot of floor area (kWh/sqft/year). */
  readonly electricityKwhPerSqft: number;
  /** Annual natural gas use per square foot, averaged over all buildings of the type (therms/sqft/year). */
  readonly gasThermsPerSqft: number;
  /** Floor area per worker (sqft). */
  readonly sqftPerEmployee: number;
  /** Employees of a typical establishment of this type, used when the count is unknown. */
  readonly typicalEmployees: number;
  /** Where the figures come from. */
  readonly source: string;
}

/** 1 cubic foot of natural gas ≈ 1,037 Btu (EIA heat content, NGA-2023); 1 therm = 100,000 Btu. */
const THERMS_PER_CUBIC_FOOT = 0.01037;

/**
 * Gas use averaged over all floorspace of a type: the conditional intensity of the buildings that
 * use gas [CBECS-C24] times the share of the type's floorspace that uses gas [CBECS-B23].
 */
const gas = (conditionalCubicFeetPerSqft: number, shareOfFloorspaceUsingGas: number): number =>
  Math.round(conditionalCubicFeetPerSqft * shareOfFloorspaceUsingGas * THERMS_PER_CUBIC_FOOT * 1000) / 1000;

/**
 * Intensities and workforce density by building type.
 * Electricity kWh/sqft and sqft/worker: [CBECS-C14] "per square foot" column, and sqft/worker =
 * ("per worker" thousand kWh × 1000) / "per square foot" kWh, where the row is marked C14;
 * rows marked "≈" are approximations of the 2012/2018 CBECS tables. Gas: gas(C24 cf/sqft ≈, B23 share).
 * Typical employees: an assumption informed by [CBECS-B15] (most buildings of each type have
 * fewer than 50 workers; inpatient buildings mostly 100 or more).
 */
export const INDUSTRY_FACTS: Readonly<Record<IndustryKey, IndustryFacts>> = {
  // C14 inpatient: 31.0 kWh/sqft, 17.2 thousand kWh/worker → 555 sqft/worker; B23 2,113/2,374 use gas.
  hospital: {
    label: "Hospital (inpatient health care)",
    electricityKwhPerSqft: 31.0,
    gasThermsPerSqft: gas(123, 0.89),
    sqftPerEmployee: 555,
    typicalEmployees: 450,
    source: "CBECS 2012 C14/C24/B23 inpatient health care",
  },
  // C14 outpatient: 18.7 kWh/sqft, 10.0 thousand kWh/worker → 535 sqft/worker; B23 1,179/1,781.
  outpatient: {
    label: "Outpatient health care",
    electricityKwhPerSqft: 18.7,
    gasThermsPerSqft: gas(40, 0.66),
    sqftPerEmployee: 535,
    typicalEmployees: 25,
    source: "CBECS 2012 C14/C24/B23 outpatient health care",
  },
  // ≈ CBECS nursing / assisted living (a lodging sub-activity): between lodging and outpatient.
  nursing: {
    label: "Nursing / assisted living",
    electricityKwhPerSqft: 17.0,
    gasThermsPerSqft: gas(80, 0.85),
    sqftPerEmployee: 800,
    typicalEmployees: 80,
    source: "≈ CBECS 2012 nursing (lodging sub-activity)",
  },
  // C14 education: 11.0 kWh/sqft, 12.3 thousand kWh/worker → 1,118 sqft/worker; B23 9,520/12,239.
  education: {
    label: "Education (K-12, college)",
    electricityKwhPerSqft: 11.0,
    gasThermsPerSqft: gas(37, 0.78),
    sqftPerEmployee: 1118,
    typicalEmployees: 60,
    source: "CBECS 2012 C14/C24/B23 education",
  },
  // C14 lodging: 15.3 kWh/sqft, 29.1 thousand kWh/worker → 1,902 sqft/worker; B23 4,918/5,826.
  lodging: {
    label: "Lodging (hotel, motel)",
    electricityKwhPerSqft: 15.3,
    gasThermsPerSqft: gas(74, 0.84),
    sqftPerEmployee: 1902,
    typicalEmployees: 40,
    source: "CBECS 2012 C14/C24/B23 lodging",
  },
  // C14 food sales: 48.7 kWh/sqft, 52.0 thousand kWh/worker → 1,068 sqft/worker; B23 846/1,252.
  food_sales: {
    label: "Food sales (grocery)",
    electricityKwhPerSqft: 48.7,
    gasThermsPerSqft: gas(73, 0.68),
    sqftPerEmployee: 1068,
    typicalEmployees: 35,
    source: "CBECS 2012 C14/C24/B23 food sales",
  },
  // C14 food service: 44.9 kWh/sqft, 23.8 thousand kWh/worker → 530 sqft/worker; B23 1,394/1,819.
  food_service: {
    label: "Food service (restaurant)",
    electricityKwhPerSqft: 44.9,
    gasThermsPerSqft: gas(219, 0.77),
    sqftPerEmployee: 530,
    typicalEmployees: 18,
    source: "CBECS 2012 C14/C24/B23 food service",
  },
  // ≈ C14 office (~15 kWh/sqft, ~550 sqft/worker); B23 10,290/15,952.
  office: {
    label: "Office",
    electricityKwhPerSqft: 15.0,
    gasThermsPerSqft: gas(27, 0.65),
    sqftPerEmployee: 550,
    typicalEmployees: 25,
    source: "≈ CBECS 2012 C14/C24, B23 office",
  },
  // C14 retail other than mall: 15.2 kWh/sqft, 20.5 thousand kWh/worker → 1,349 sqft/worker; B23 3,371/5,439.
  retail: {
    label: "Retail (mercantile)",
    electricityKwhPerSqft: 15.2,
    gasThermsPerSqft: gas(45, 0.62),
    sqftPerEmployee: 1349,
    typicalEmployees: 15,
    source: "CBECS 2012 C14/C24/B23 retail (other than mall)",
  },
  // ≈ C14 warehouse and storage (non-refrigerated ~6.6 kWh/sqft); B23 7,007/13,077.
  warehouse: {
    label: "Warehouse and storage",
    electricityKwhPerSqft: 6.6,
    gasThermsPerSqft: gas(26, 0.54),
    sqftPerEmployee: 2500,
    typicalEmployees: 20,
    source: "≈ CBECS 2012 C14/C24, B23 warehouse and storage",
  },
  // ≈ CBECS refrigerated warehouse (sub-activity of warehouse and storage), ~25 kWh/sqft.
  cold_storage: {
    label: "Refrigerated warehouse / cold storage",
    electricityKwhPerSqft: 25.0,
    gasThermsPerSqft: gas(10, 0.3),
    sqftPerEmployee: 2500,
    typicalEmployees: 40,
    source: "≈ CBECS refrigerated warehouse",
  },
  // ≈ C14 public assembly (~12.5 kWh/sqft); B23 3,888/5,559.
  public_assembly: {
    label: "Public assembly (recreation, entertainment, venues)",
    electricityKwhPerSqft: 12.5,
    gasThermsPerSqft: gas(47, 0.7),
    sqftPerEmployee: 2000,
    typicalEmployees: 20,
    source: "≈ CBECS 2012 C14/C24, B23 public assembly",
  },
  // ≈ C14 public order and safety (~15.5 kWh/sqft); B23 1,007/1,440.
  public_order: {
    label: "Public order and safety",
    electricityKwhPerSqft: 15.5,
    gasThermsPerSqft: gas(54, 0.7),
    sqftPerEmployee: 900,
    typicalEmployees: 40,
    source: "≈ CBECS 2012 C14/C24, B23 public order and safety",
  },
  // ≈ C14 religious worship (~4.9 kWh/sqft); B23 3,016/4,557.
  religious: {
    label: "Religious worship",
    electricityKwhPerSqft: 4.9,
    gasThermsPerSqft: gas(34, 0.66),
    sqftPerEmployee: 4500,
    typicalEmployees: 6,
    source: "≈ CBECS 2012 C14/C24, B23 religious worship",
  },
  // ≈ C14 service (~11 kWh/sqft); B23 2,790/4,630.
  service: {
    label: "Service (repair, laundry, personal care)",
    electricityKwhPerSqft: 11.0,
    gasThermsPerSqft: gas(61, 0.6),
    sqftPerEmployee: 1300,
    typicalEmployees: 10,
    source: "≈ CBECS 2012 C14/C24, B23 service",
  },
  // ≈ MECS 2018: net electricity ≈ 950 billion kWh over ≈ 12 million manufacturing employees is
  // ≈ 75,000 kWh/employee, dominated by heavy industry; a typical light/medium plant is taken at
  // ~30,000 kWh/employee (30 kWh/sqft × 1,000 sqft/employee) and ~1.5 therms/sqft of gas.
  manufacturing: {
    label: "Manufacturing plant",
    electricityKwhPerSqft: 30.0,
    gasThermsPerSqft: gas(170, 0.85),
    sqftPerEmployee: 1000,
    typicalEmployees: 80,
    source: "≈ EIA MECS 2018 Tables 1.2/6.1 (light/medium plant)",
  },
  // ≈ LBNL-DC / ENERGY STAR: 10–50× an office's ~15 kWh/sqft; 150 kWh/sqft, sparse staffing.
  data_center: {
    label: "Data center",
    electricityKwhPerSqft: 150.0,
    gasThermsPerSqft: 0.02,
    sqftPerEmployee: 2500,
    typicalEmployees: 40,
    source: "≈ LBNL-1005775 (2016) and ENERGY STAR data center guidance",
  },
  // C14 all buildings: 14.6 kWh/sqft, 14.1 thousand kWh/worker → 966 sqft/worker; B23 58,725/87,093.
  generic: {
    label: "Commercial building (all types)",
    electricityKwhPerSqft: 14.6,
    gasThermsPerSqft: gas(44, 0.67),
    sqftPerEmployee: 966,
    typicalEmployees: 20,
    source: "CBECS 2012 C14/C24/B23 all buildings (fallback)",
  },
};

export const INDUSTRY_KEYS: ReadonlyArray<IndustryKey> = Object.keys(INDUSTRY_FACTS) as Array<IndustryKey>;

/**
 * Free-text industry → key, first rule wins, so specific phrases come before general ones
 * ("animal hospital" before "hospital", "medical office" before "office", "cold storage" before
 * "storage", "medical device manufacturer" to manufacturing before "medical" to outpatient). A keyword matches at the start of a word ("hospital" matches "hospitals"); a
 * trailing space demands the whole word ("bar " does not match "barber").
 */
const INDUSTRY_RULES: ReadonlyArray<readonly [IndustryKey, ReadonlyArray<string>]> = [
  ["data_center", ["data center", "data centre", "datacenter", "datacentre", "colocation", "server farm"]],
  ["cold_storage", ["cold storage", "cold chain", "refrigerated", "freezer", "frozen storage", "ice plant"]],
  [
    "outpatient",
    [
      "animal hospital",
      "veterinar",
      "medical office",
      "clinic",
      "urgent care",
      "outpatient",
      "dental",
      "dentist",
      "orthodont",
      "physician",
      "doctor",
      "surgery center",
      "surgical center",
      "ambulatory",
      "dialysis",
      "imaging",
      "physical therapy",
      "chiropract",
      "optometr",
    ],
  ],
  [
    "hospital",
    [
      // whole words: "hospital" must not match "hospitality"
      "hospital ",
      "hospitals ",
      "medical center",
      "medical centre",
      "health system",
      "healthcare system",
      "inpatient",
      "infirmary",
    ],
  ],
  [
    "nursing",
    [
      "nursing",
      "assisted living",
      "senior living",
      "senior care",
      "retirement home",
      "retirement community",
      "long term care",
      "memory care",
      "hospice",
    ],
  ],
  [
    "education",
    [
      "school",
      "k 12 ",
      "k12 ",
      "college",
      "university",
      "academy",
      "campus",
      "education",
      "preschool",
      "daycare",
      "day care",
      "child care",
      "childcare",
      "kindergarten",
    ],
  ],
  [
    "lodging",
    ["hotel", "motel", "resort", "lodging", "inn ", "inns ", "hostel", "bed and breakfast", "hospitality"],
  ],
  [
    "food_sales",
    [
      "grocery",
      "groceries",
      "supermarket",
      "convenience store",
      "food market",
      "market ",
      "food store",
      "gas station",
      "butcher",
    ],
  ],
  [
    "food_service",
    [
      "restaurant",
      "cafe",
      "caf\u00e9",
      "coffee",
      "diner",
      "bar ",
      "bars ",
      "pub ",
      "pubs ",
      "tavern",
      "pizza",
      "bakery",
      "bakeries",
      "catering",
      "fast food",
      "food service",
      "foodservice",
      "grill",
      "bistro",
      "steakhouse",
      "eatery",
      "brewpub",
    ],
  ],
  [
    "warehouse",
    [
      "warehouse",
      "distribution center",
      "distribution centre",
      "logistics",
      "storage",
      "fulfillment",
      "fulfilment",
      "3pl ",
    ],
  ],
  [
    "manufacturing",
    [
      "manufactur",
      "factory",
      "factories",
      "plant ",
      "plants ",
      "fabricat",
      "foundry",
      "machining",
      "machine shop",
      "mill ",
      "mills ",
      "sawmill",
      "steel",
      "plastics",
      "chemical",
      "food processing",
      "processing plant",
      "brewery",
      "winery",
      "distillery",
      "printing",
      "industrial",
    ],
  ],
  [
    "public_order",
    [
      "police",
      "fire station",
      "fire department",
      "courthouse",
      "jail",
      "prison",
      "correctional",
      "detention",
    ],
  ],
  [
    "religious",
    [
      "church",
      "temple",
      "mosque",
      "synagogue",
      "chapel",
      "cathedral",
      "parish",
      "ministry",
      "worship",
      "religious",
    ],
  ],
  [
    "public_assembly",
    [
      "gym",
      "fitness",
      "health club",
      "theater",
      "theatre",
      "cinema",
      "museum",
      "library",
      "arena",
      "stadium",
      "convention",
      "recreation",
      "community center",
      "bowling",
      "casino",
      "entertainment",
      "venue",
      "sports",
      "ice rink",
      "aquatic",
      "golf",
    ],
  ],
  // generic health words after the specific rules: "medical device manufacturer" is manufacturing,
  // "health club" is public assembly, "health insurance" is an office
  ["office", ["health insurance", "health plan"]],
  ["outpatient", ["health", "medical"]],
  [
    "service",
    [
      "auto repair",
      "car wash",
      "laundromat",
      "laundry",
      "dry clean",
      "salon",
      "barber",
      "spa ",
      "repair",
      "mechanic",
      "auto body",
      "service station",
    ],
  ],
  [
    "retail",
    [
      "retail",
      "store",
      "shop",
      "boutique",
      "dealership",
      "mall",
      "shopping",
      "pharmacy",
      "outlet",
      "showroom",
    ],
  ],
  [
    "office",
    [
      "office",
      "law ",
      "law firm",
      "legal",
      "accounting",
      "bank",
      "insurance",
      "financial",
      "consult",
      "agency",
      "software",
      "real estate",
      "architect",
      "engineering",
      "headquarters",
      "corporate",
      "marketing",
      "technology",
      "call center",
      "government",
    ],
  ],
];

interface Needle {
  readonly key: IndustryKey;
  readonly needle: string;
  readonly keyword: string;
}

const NON_ALNUM = /[^a-z0-9\u00e0-\u00ff]+/g;

/** Lower-case, punctuation to single spaces, padded with a space each side. */
const normalise = (text: string): string => ` ${text.toLowerCase().replace(NON_ALNUM, " ").trim()} `;

// Precomputed once: " keyword" (word-prefix) or " keyword " (whole word).
const NEEDLES: ReadonlyArray<Needle> = INDUSTRY_RULES.flatMap(([key, keywords]) =>
  keywords.map((keyword) => ({ key, keyword: keyword.trim(), needle: ` ${keyword.toLowerCase()}` })),
);

export interface IndustryMatch {
  readonly key: IndustryKey;
  /** The keyword that matched, or null when the fallback was used. */
  readonly keyword: string | null;
}

const FALLBACK_MATCH: IndustryMatch = { key: "generic", keyword: null };
const MATCH_CACHE_LIMIT = 4096;
const matchCache = new Map<string, IndustryMatch>();

/**
 * Maps free text ("Hospitals", "K-12 school", "cold storage") to an industry key by keyword rules;
 * unknown text maps to `generic`. Results are memoised (runs repeat a handful of industries).
 */
export const matchIndustry = (industry: string): IndustryMatch => {
  const cached = matchCache.get(industry);
  if (cached !== undefined) return cached;
  const padded = normalise(industry);
  let match = FALLBACK_MATCH;
  for (const n of NEEDLES) {
    if (padded.includes(n.needle)) {
      match = { key: n.key, keyword: n.keyword };
      break;
    }
  }
  if (matchCache.size >= MATCH_CACHE_LIMIT) matchCache.clear();
  matchCache.set(industry, match);
  return match;
};

/**
 * Average commercial-sector electricity price by state, 2023, cents/kWh [EPA-2023].
 * Wyoming and the US average were not in the extract we read and are approximations of the table.
 */
export const STATE_COMMERCIAL_PRICE_CENTS_2023: Readonly<Record<string, number>> = {
  AL: 13.16,
  AK: 20.87,
  AZ: 11.79,
  AR: 10.34,
  CA: 23.91,
  CO: 11.64,
  CT: 19.99,
  DE: 11.83,
  DC: 16.94,
  FL: 11.95,
  GA: 10.7,
  HI: 39.03,
  ID: 8.78,
  IL: 11.24,
  IN: 12.55,
  IA: 10.33,
  KS: 10.85,
  KY: 11.38,
  LA: 10.45,
  ME: 17.88,
  MD: 12.77,
  MA: 19.62,
  MI: 13.4,
  MN: 12.39,
  MS: 12.37,
  MO: 10.14,
  MT: 12.11,
  NE: 8.76,
  NV: 11.91,
  NH: 20.4,
  NJ: 14.0,
  NM: 10.68,
  NY: 18.01,
  NC: 9.67,
  ND: 7.38,
  OH: 10.75,
  OK: 9.34,
  OR: 9.92,
  PA: 11.26,
  RI: 17.68,
  SC: 10.39,
  SD: 10.16,
  TN: 11.8,
  TX: 8.82,
  UT: 8.51,
  VT: 18.0,
  VA: 8.95,
  WA: 9.92,
  WV: 11.03,
  WI: 12.76,
  WY: 10.1, // ≈ EPA 2023 (2022 was 9.55)
};

/** US average commercial price, 2023, cents/kWh — ≈ [EPA-2023] US total (2022: 12.41). */
export const US_AVERAGE_COMMERCIAL_PRICE_CENTS_2023 = 12.74;

/** US average commercial natural gas price, 2023, USD/therm — ≈ [NGA-2023] ~$11.9/Mcf ÷ 10.37. */
export const US_COMMERCIAL_GAS_PRICE_PER_THERM_2023 = 1.15;

/** Two-letter code for "NY", "ny", "New York", "D.C." …; null when not a US state or DC. */
export const normaliseState = (state: string | null): string | null => {
  if (state === null) return null;
  return stateCode(state.replace(/,/g, " "));
};

/** Company size bands by employee count (upper bound exclusive), with a representative size. */
export type SizeBand = "small" | "medium" | "large" | "enterprise";

/**
 * Employee-count bands. The bounds follow the common small/medium business cut-offs (under 50,
 * under 250) and CBECS B15's top class (250 or more workers per building), split at 1,000 for
 * multi-building enterprises; `typicalEmployees` is the band's rough geometric middle (assumption).
 */
export const SIZE_BANDS: ReadonlyArray<{
  readonly band: SizeBand;
  readonly maxEmployeesExclusive: number;
  readonly typicalEmployees: number;
}> = [
  { band: "small", maxEmployeesExclusive: 50, typicalEmployees: 15 },
  { band: "medium", maxEmployeesExclusive: 250, typicalEmployees: 110 },
  { band: "large", maxEmployeesExclusive: 1000, typicalEmployees: 500 },
  { band: "enterprise", maxEmployeesExclusive: Number.POSITIVE_INFINITY, typicalEmployees: 2500 },
];

/** The size band of an employee count. */
export const sizeBandFor = (employees: number): SizeBand => {
  for (const b of SIZE_BANDS) if (employees < b.maxEmployeesExclusive) return b.band;
  return "enterprise";
};

/**
 * Share of annual utility spend an audit typically recovers or saves — ASSUMPTIONS, not measured
 * facts: utility-bill audit firms commonly report finding billing errors and tariff/rate savings of a
 * few percent to ~15% of spend, and ENERGY STAR [ESTAR] cites up to ~30% savings from energy
 * management. Defaults for AnalystConfig; override there.
 */
export const AUDIT_SAVINGS_SHARE_ASSUMPTION = { low: 0.04, mid: 0.08, high: 0.15 } as const;

/**
 * Other utilities (water/sewer, waste, telecom — also within an audit's scope) as a multiplier on
 * electricity + gas spend. ASSUMPTION: water and sewer are commonly ~10–15% of a commercial
 * building's utility bills (ENERGY STAR Portfolio Manager water data trends). Default for AnalystConfig.
 */
export const OTHER_UTILITIES_MULTIPLIER_ASSUMPTION = 1.15;
