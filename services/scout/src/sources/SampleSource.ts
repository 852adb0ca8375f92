import { Effect, Layer } from "effect";
import { parseLocation } from "../Location.js";
import { type FoundCompany, type ScoutSource, ScoutSources, type SearchQuery } from "../Source.js";

/**
 * Deterministic demo data for any industry and location. Every record says it is sample data
 * (`isSample`, `source: "sample"`), uses 555-01xx phone numbers and `.example` websites
 * (RFC 2606), so nothing it invents can reach a real business.
 */

interface Profile {
  readonly keys: ReadonlyArray<string>;
  /** Name endings; `{}` is replaced with the industry in title case (generic profile). */
  readonly cores: ReadonlyArray<string>;
  readonly saints?: boolean;
  /** Employees: log-normal around `median`, clamped. */
  readonly median: number;
  readonly sigma: number;
  readonly min: number;
  readonly max: number;
  /** Share of companies with more than one site. */
  readonly multiSite: number;
}

const PROFILES: ReadonlyArray<Profile> = [
  {
    keys: ["data center", "datacenter", "data centre", "colocation", "colo"],
    cores: [
      "Data Center",
      "Colocation",
      "Cloud Campus",
      "Data Systems",
      "Network Center",
      "Hosting",
      "Compute Facility",
      "Digital Exchange",
    ],
    median: 35,
    sigma: 0.8,
    min: 5,
    max: 500,
    multiSite: 0.4,
  },
  {
    keys: ["hospital", "medical center", "health system", "clinic", "healthcare"],
    cores: [
      "General Hospital",
      "Medical Center",
      "Memorial Hospital",
      "Regional Medical Center",
      "Community Hospital",
      "Health Center",
      "Specialty Hospital",
      "Rehabilitation Hospital",
      "Children's Hospital",
      "Surgical Center",
    ],
    saints: true,
    median: 600,
    sigma: 0.9,
    min: 40,
    max: 15000,
    multiSite: 0.35,
  },
  {
    keys: ["school", "academy", "college", "university", "education"],
    cores: [
      "Elementary School",
      "Middle School",
      "High School",
      "Academy",
      "Preparatory School",
      "Charter School",
      "Montessori School",
      "Christian Academy",
      "Learning Center",
      "Country Day School",
    ],
    saints: true,
    median: 70,
    sigma: 0.6,
    min: 10,
    max: 400,
    multiSite: 0.1,
  },
  {
    keys: ["hotel", "motel", "lodging", "inn", "hospitality", "resort"],
    cores: [
      "Hotel",
      "Inn",
      "Suites",
      "Inn & Suites",
      "Lodge",
      "Grand Hotel",
      "Boutique Hotel",
      "Motor Inn",
      "Conference Center",
      "Resort",
    ],
    median: 60,
    sigma: 0.8,
    min: 5,
    max: 1500,
    multiSite: 0.2,
  },
  {
    keys: ["grocery", "supermarket", "food market", "grocer"],
    cores: [
      "Market",
      "Supermarket",
      "Foods",
      "Fresh Market",
      "Grocery",
      "Food Co-op",
      "Family Market",
      "Food Center",
    ],
    median: 45,
    sigma: 0.7,
    min: 8,
    max: 600,
    multiSite: 0.4,
  },
  {
    keys: ["restaurant", "diner", "cafe", "bistro", "food service", "bar"],
    cores: [
      "Grill",
      "Kitchen",
      "Bistro",
      "Diner",
      "Tavern",
      "Steakhouse",
      "Trattoria",
      "Cafe",
      "Chophouse",
      "Eatery",
    ],
    median: 25,
    sigma: 0.6,
    min: 4,
    max: 200,
    multiSite: 0.25,
  },
  {
    keys: ["warehouse", "logistics", "distribution", "storage", "fulfillment", "freight"],
    cores: [
      "Logistics",
      "Distribution",
      "Warehousing",
      "Cold Storage",
      "Fulfillment",
      "Freight",
      "Storage",
      "Supply Chain",
    ],
    median: 60,
    sigma: 0.9,
    min: 5,
    max: 1500,
    multiSite: 0.35,
  },
  {
    keys: ["manufactur", "factory", "industrial", "machining", "fabrication", "plant"],
    cores: [
      "Manufacturing",
      "Industries",
      "Precision Machining",
      "Metal Works",
      "Fabrication",
      "Plastics",
      "Tool & Die",
      "Components",
      "Castings",
      "Assembly",
    ],
    median: 120,
    sigma: 1.0,
    min: 10,
    max: 5000,
    multiSite: 0.3,
  },
  {
    keys: ["office", "professional", "law firm", "accounting", "insurance", "real estate", "commercial"],
    cores: [
      "Professional Building",
      "Office Park",
      "Business Center",
      "Corporate Center",
      "Plaza",
      "Executive Suites",
      "Office Tower",
      "Commons",
    ],
    median: 40,
    sigma: 1.0,
    min: 3,
    max: 2000,
    multiSite: 0.15,
  },
  {
    keys: ["retail", "store", "shop", "boutique", "outlet"],
    cores: [
      "Outfitters",
      "Goods",
      "Emporium",
      "Supply",
      "Home Store",
      "Department Store",
      "Trading Post",
      "Mercantile",
    ],
    median: 18,
    sigma: 0.8,
    min: 2,
    max: 400,
    multiSite: 0.35,
  },
];

const GENERIC: Profile = {
  keys: [],
  cores: [
    "{}",
    "{} Group",
    "{} Services",
    "{} Partners",
    "{} Associates",
    "{} Center",
    "{} Solutions",
    "{} Specialists",
  ],
  median: 30,
  sigma: 1.0,
  min: 2,
  max: 2000,
  multiSite: 0.2,
};

const SURNAMES = [
  "Abbott",
  "Ashford",
  "Barrett",
  "Bellamy",
  "Brennan",
  "Calloway",
  "Carver",
  "Chandler",
  "Delaney",
  "Donovan",
  "Ellison",
  "Emerson",
  "Fairbanks",
  "Fletcher",
  "Garrison",
  "Gilmore",
  "Hadley",
  "Hargrove",
  "Holloway",
  "Ingram",
  "Jennings",
  "Kendall",
  "Kessler",
  "Langford",
  "Lockwood",
  "Maddox",
  "Merriman",
  "Monroe",
  "Norwood",
  "Oakley",
  "Pendleton",
  "Prescott",
  "Quinlan",
  "Radcliffe",
  "Redmond",
  "Sheridan",
  "Sterling",
  "Sutton",
  "Thornton",
  "Tolliver",
  "Underwood",
  "Vance",
  "Wakefield",
  "Whitaker",
  "Winslow",
  "Yardley",
  "Zimmerman",
  "Ashby",
  "Beckett",
  "Crawford",
] as const;

const PLACE_WORDS = [
  "Lakeside",
  "Riverside",
  "Summit",
  "Heritage",
  "Pioneer",
  "Liberty",
  "Evergreen",
  "Keystone",
  "Maple Grove",
  "Cedar Ridge",
  "Harbor",
  "Valley",
  "Northgate",
  "Southfield",
  "Westbrook",
  "Eastwood",
  "Highland",
  "Meadowbrook",
  "Oak Hill",
  "Pinecrest",
  "Silver Creek",
  "Stonebridge",
  "Union",
  "Granite",
  "Crossroads",
  "Parkview",
  "Fairview",
  "Hillcrest",
  "Bayview",
  "Crestwood",
] as const;

const SAINTS = [
  "St. Mary's",
  "St. Joseph's",
  "St. Luke's",
  "St. John's",
  "St. Francis",
  "St. Anne's",
  "St. Vincent's",
  "St. Catherine's",
  "St. Michael's",
  "St. Elizabeth's",
  "St. Anthony's",
  "St. Paul's",
  "St. Peter's",
  "St. Clare's",
  "St. Jude",
] as const;

const DISTRICTS = [
  "North",
  "South",
  "East",
  "West",
  "Downtown",
  "Uptown",
  "Midtown",
  "the Lakeshore",
  "the Heights",
  "the Valley",
  "Westside",
  "Eastside",
] as const;

const STREETS = [
  "Main",
  "Elm",
  "Oak",
  "Maple",
  "Washington",
  "Lincoln",
  "Jefferson",
  "Park",
  "Lake",
  "Hill",
  "Church",
  "Market",
  "Franklin",
  "Madison",
  "Center",
  "River",
  "Broad",
  "Chestnut",
  "Walnut",
  "Cedar",
  "Highland",
  "Spring",
  "Union",
  "Mill",
  "Prospect",
  "Commerce",
  "Industrial",
  "Liberty",
  "Grant",
  "Pleasant",
] as const;
const STREET_TYPES = ["St", "Ave", "Blvd", "Rd", "Dr", "Pkwy", "Ln", "Way"] as const;

/** Town names found in most states, for a query that names only a state. */
const COMMON_TOWNS = [
  "Springfield",
  "Franklin",
  "Clinton",
  "Greenville",
  "Fairview",
  "Madison",
  "Georgetown",
  "Salem",
] as const;

/** Per state: ZIP3 range, a major area code, approximate centre. */
const STATE_FACTS: Readonly<Record<string, readonly [number, number, string, number, number]>> = {
  AL: [350, 369, "205", 32.8, -86.8],
  AK: [995, 999, "907", 61.2, -149.9],
  AZ: [850, 865, "602", 33.5, -112.0],
  AR: [716, 729, "501", 34.8, -92.3],
  CA: [900, 961, "213", 36.8, -119.4],
  CO: [800, 816, "303", 39.7, -105.0],
  CT: [60, 69, "203", 41.6, -72.7],
  DE: [197, 199, "302", 39.2, -75.5],
  DC: [200, 205, "202", 38.9, -77.0],
  FL: [320, 349, "305", 28.1, -81.6],
  GA: [300, 319, "404", 33.0, -83.6],
  HI: [967, 968, "808", 21.3, -157.8],
  ID: [832, 838, "208", 43.6, -116.2],
  IL: [600, 629, "312", 41.0, -89.0],
  IN: [460, 479, "317", 39.8, -86.2],
  IA: [500, 528, "515", 41.9, -93.1],
  KS: [660, 679, "316", 38.5, -98.0],
  KY: [400, 427, "502", 37.8, -85.3],
  LA: [700, 714, "504", 30.9, -92.0],
  ME: [39, 49, "207", 44.7, -69.4],
  MD: [206, 219, "410", 39.0, -76.7],
  MA: [10, 27, "617", 42.3, -71.8],
  MI: [480, 499, "313", 43.3, -84.5],
  MN: [550, 567, "612", 45.7, -93.9],
  MS: [386, 397, "601", 32.7, -89.7],
  MO: [630, 658, "314", 38.5, -92.3],
  MT: [590, 599, "406", 46.9, -110.4],
  NE: [680, 693, "402", 41.1, -98.3],
  NV: [889, 898, "702", 38.3, -117.1],
  NH: [30, 38, "603", 43.5, -71.6],
  NJ: [70, 89, "201", 40.3, -74.5],
  NM: [870, 884, "505", 34.8, -106.2],
  NY: [100, 149, "212", 42.2, -74.9],
  NC: [270, 289, "704", 35.6, -79.8],
  ND: [580, 588, "701", 47.5, -99.8],
  OH: [430, 459, "614", 40.4, -82.8],
  OK: [730, 749, "405", 35.6, -96.9],
  OR: [970, 979, "503", 44.6, -122.1],
  PA: [150, 196, "215", 40.6, -77.2],
  PR: [6, 9, "787", 18.2, -66.5],
  RI: [28, 29, "401", 41.7, -71.5],
  SC: [290, 299, "803", 33.9, -80.9],
  SD: [570, 577, "605", 44.3, -99.4],
  TN: [370, 385, "615", 35.7, -86.7],
  TX: [750, 799, "512", 31.1, -97.6],
  UT: [840, 847, "801", 40.2, -111.9],
  VT: [50, 59, "802", 44.0, -72.7],
  VA: [220, 246, "804", 37.8, -78.2],
  WA: [980, 994, "206", 47.4, -121.5],
  WV: [247, 268, "304", 38.5, -80.9],
  WI: [530, 549, "414", 44.3, -89.6],
  WY: [820, 831, "307", 42.8, -107.3],
};

/** FNV-1a → mulberry32: a small, fast, seedable PRNG (never Math.random, so runs repeat). */
const prng = (seed: string): (() => number) => {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** A seeded affine permutation of 0..n-1: visits every index once, in a scrambled order. */
const permutation = (n: number, rand: () => number): ((i: number) => number) => {
  if (n <= 1) return (i) => i;
  let step = 1 + Math.floor(rand() * (n - 1));
  while (gcd(step, n) !== 1) step = (step % (n - 1)) + 1;
  const offset = Math.floor(rand() * n);
  return (i) => (i * step + offset) % n;
};

const titleCase = (s: string): string =>
  s
    .trim()
    .replace(/\s+/g, " ")
    .replace(/\b[a-z]/g, (c) => c.toUpperCase());

const slug = (name: string): string =>
  name
    .toLowerCase()
    .replace(/['’.]/g, "")
    .replace(/&/g, "and")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");

const profileFor = (industry: string): Profile => {
  const lower = industry.toLowerCase();
  return PROFILES.find((p) => p.keys.some((k) => lower.includes(k))) ?? GENERIC;
};

/** A standard normal draw (Box–Muller). */
const normal = (rand: () => number): number => {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
};

const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));

/**
 * Generates `q.count` distinct companies (distinct dedupe keys) for the query. The result for a
 * given (seed, industry, location) never changes, and a smaller count is a prefix of a larger.
 */
export const generateSampleCompanies = (q: SearchQuery): ReadonlyArray<FoundCompany> => {
  const industry = q.industry.trim() === "" ? "business" : q.industry.trim();
  const loc = parseLocation(q.location);
  const rand = prng(`${q.seed}\u0000${industry.toLowerCase()}\u0000${q.location.trim().toLowerCase()}`);
  const profile = profileFor(industry);
  const industryTitle = titleCase(industry);
  const facts = loc.state !== null ? STATE_FACTS[loc.state] : undefined;
  const cityName = loc.city !== null ? titleCase(loc.city) : null;

  // a Set: a city may share a name with a word in the lists ("Summit, NJ")
  const prefixes: ReadonlyArray<string> = [
    ...new Set([
      ...(cityName !== null ? [cityName] : []),
      ...SURNAMES,
      ...PLACE_WORDS,
      ...(profile.saints ? SAINTS : []),
    ]),
  ];
  const cores = profile.cores.map((c) => c.replace("{}", industryTitle));
  const plain = prefixes.length * cores.length;
  const withDistrict = plain * DISTRICTS.length;
  // fixed draws first, so per-company draws (and so any prefix of the output) stay stable
  const permPlain = permutation(plain, rand);
  const permDistrict = permutation(withDistrict, rand);

  // slugs of the parts are computed once; a name's slug is their join (no regex per company)
  const prefixSlugs = prefixes.map(slug);
  const coreSlugs = cores.map(slug);
  const districtSlugs = DISTRICTS.map(slug);

  /** The i-th name and its slug: every plain combination first, then "… of <district>", then numbered. */
  const nameAt = (i: number): readonly [string, string] => {
    const compose = (idx: number, suffix: string, suffixSlug: string) => {
      const p = idx % prefixes.length;
      const c = Math.floor(idx / prefixes.length) % cores.length;
      return [
        `${prefixes[p]} ${cores[c]}${suffix}`,
        `${prefixSlugs[p]}-${coreSlugs[c]}${suffixSlug}`,
      ] as const;
    };
    if (i < plain) return compose(permPlain(i), "", "");
    const j = i - plain;
    if (j < withDistrict) {
      const idx = permDistrict(j);
      const d = Math.floor(idx / plain);
      return compose(idx % plain, ` of ${DISTRICTS[d]}`, `-of-${districtSlugs[d]}`);
    }
    // past every combination: numbered branches keep names distinct for any count
    const k = j - withDistrict;
    const n = Math.floor(k / plain) + 2;
    return compose(permPlain(k % plain), ` ${n}`, `-${n}`);
  };

  // The slug stands for both dedupe keys (it is the domain, and names differ iff slugs do).
  // Distinct combinations give distinct slugs unless two parts slug alike (a city "St Marys"
  // next to "St. Mary's"): only then is each slug checked, which is the slow path at 10,000.
  const plainSlugs = new Set<string>();
  for (let idx = 0; idx < plain; idx++) plainSlugs.add(nameAt(idx)[1]);
  const taken = plainSlugs.size === plain ? null : new Set<string>();
  const out: Array<FoundCompany> = [];
  for (let i = 0; out.length < q.count; i++) {
    const [name, key] = nameAt(i);
    const city =
      cityName ??
      (loc.state !== null ? (COMMON_TOWNS[Math.floor(rand() * COMMON_TOWNS.length)] ?? null) : null);
    const website = rand() < 0.85 ? `https://www.${key}.example` : null;
    const employeeDraw = normal(rand);
    const sitesDraw = rand();
    const sitesSize = normal(rand);
    const geoDraw = [rand(), rand()] as const;
    const number = 1 + Math.floor(rand() * 9899);
    const street = `${STREETS[Math.floor(rand() * STREETS.length)]} ${STREET_TYPES[Math.floor(rand() * STREET_TYPES.length)]}`;
    const suite = rand() < 0.2 ? `, Suite ${100 + Math.floor(rand() * 800)}` : "";
    const zipDraw = rand();
    const line = String(Math.floor(rand() * 100)).padStart(2, "0");
    if (taken !== null) {
      if (taken.has(key)) continue;
      taken.add(key);
    }

    const employeeCount = Math.round(
      clamp(Math.exp(Math.log(profile.median) + profile.sigma * employeeDraw), profile.min, profile.max),
    );
    const sites =
      sitesDraw < profile.multiSite ? Math.round(clamp(Math.exp(Math.log(3) + 0.8 * sitesSize), 2, 60)) : 1;
    const postalCode =
      facts !== undefined
        ? `${String(facts[0] + Math.floor(zipDraw * (facts[1] - facts[0] + 1))).padStart(3, "0")}${String(Math.floor(zipDraw * 9973) % 100).padStart(2, "0")}`
        : null;
    out.push({
      name,
      industry,
      address: `${number} ${street}${suite}`,
      city,
      state: loc.state,
      postalCode,
      country: "US",
      phone: `(${facts?.[2] ?? "555"}) 555-01${line}`,
      website,
      latitude: facts !== undefined ? Math.round((facts[3] + (geoDraw[0] - 0.5) * 0.5) * 1e5) / 1e5 : null,
      longitude: facts !== undefined ? Math.round((facts[4] + (geoDraw[1] - 0.5) * 0.5) * 1e5) / 1e5 : null,
      employeeCount,
      sites,
      source: "sample",
      sourceRef: `sample:${i}`,
      isSample: true,
      // nothing was received: sourceRef and the query's seed regenerate the record
      raw: null,
    });
  }
  return out;
};

/** The sample source as a plugin value. */
export const sampleSource: ScoutSource = {
  name: "sample",
  search: (q) => Effect.sync(() => generateSampleCompanies(q)).pipe(Effect.withSpan("SampleSource.search")),
};

/** Only the sample source (demos and tests). */
export const SampleSourceLive = Layer.succeed(ScoutSources, [sampleSource]);
