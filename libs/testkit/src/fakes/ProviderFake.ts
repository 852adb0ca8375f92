import type { FakeHttpServer } from "./FakeHttpServer.js";

/** What every provider fake offers on top of its API: the server and provider-shaped faults. */
export interface ProviderFake {
  readonly server: FakeHttpServer;
  readonly url: string;
  /** The next `times` calls answer 429 with the provider's body (and `Retry-After` when given). */
  readonly rateLimitNext: (times?: number, retryAfterSeconds?: number) => void;
  /** The next `times` calls answer a provider-shaped 5xx. */
  readonly serverErrorNext: (times?: number) => void;
  /** The next `times` calls answer 200 with a truncated JSON body. */
  readonly malformedNext: (times?: number) => void;
  /** Requests that reached the API route (any outcome). */
  readonly calls: () => number;
  readonly close: () => Promise<void>;
}

/** A small seeded PRNG so fake data is the same on every run. */
export const seeded = (seed: string): (() => number) => {
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

export const FAKE_SURNAMES = [
  "Abbott",
  "Barrett",
  "Calloway",
  "Delaney",
  "Ellison",
  "Fairbanks",
  "Garrison",
  "Holloway",
  "Ingram",
  "Jennings",
  "Kessler",
  "Lockwood",
  "Merriman",
  "Norwood",
  "Prescott",
  "Radcliffe",
  "Sterling",
  "Thornton",
  "Whitaker",
  "Yardley",
] as const;

export const FAKE_STREETS = [
  "Main St",
  "Elm St",
  "Oak Ave",
  "Delaware Ave",
  "Niagara St",
  "Park Pl",
  "Lake Rd",
];

export const titleCase = (s: string): string => s.replace(/\b\w/g, (c) => c.toUpperCase());
