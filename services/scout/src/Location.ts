import { stateCode, US_STATES } from "@leadflow/contracts";

export { stateCode, US_STATES };

/** State names that are also the name of a well-known city: alone, they mean the city. */
const CITY_STATES: Readonly<Record<string, string>> = { "new york": "NY" };

export interface ParsedLocation {
  readonly city: string | null;
  /** 2-letter code. */
  readonly state: string | null;
}

const tidy = (s: string): string => s.trim().replace(/\s+/g, " ");

/**
 * Parses a free-text US location: "Buffalo, NY", "Buffalo NY", "Austin, Texas", "New York",
 * "Texas", "Buffalo, NY 14202, USA". Anything without a recognisable state is a city.
 */
export const parseLocation = (input: string): ParsedLocation => {
  let s = tidy(input)
    .replace(/,?\s*(USA|U\.S\.A\.|US|United States( of America)?)$/i, "")
    .replace(/[,\s]+\d{5}(-\d{4})?$/, "");
  s = tidy(s.replace(/,\s*$/, ""));
  if (s === "") return { city: null, state: null };

  const whole = s.toLowerCase();
  const cityState = CITY_STATES[whole];
  if (cityState !== undefined) return { city: s, state: cityState };
  const asState = stateCode(s);
  if (asState !== null) return { city: null, state: asState };

  const comma = s.lastIndexOf(",");
  if (comma >= 0) {
    const city = tidy(s.slice(0, comma));
    const state = stateCode(s.slice(comma + 1));
    if (state !== null) return { city: city === "" ? null : city, state };
    return { city: s, state: null };
  }
  // "Buffalo NY", "Salt Lake City Utah", "Fargo North Dakota": try the longest state-name tail first
  const words = s.split(" ");
  for (let take = Math.min(3, words.length - 1); take >= 1; take--) {
    const state = stateCode(words.slice(words.length - take).join(" "));
    if (state !== null) return { city: words.slice(0, words.length - take).join(" "), state };
  }
  return { city: s, state: null };
};

export interface ParsedAddress {
  /** Street part, null when the address has none. */
  readonly address: string | null;
  readonly city: string | null;
  readonly state: string | null;
  readonly postalCode: string | null;
  /** `US` for US addresses, else the country as written (or null when absent). */
  readonly country: string | null;
}

/**
 * Splits a one-line address as providers format it ("1 Main St, Buffalo, NY 14202, USA") into
 * parts. What does not fit the US pattern stays in `address`.
 */
export const parseUsAddress = (formatted: string): ParsedAddress => {
  const parts = formatted
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  let country: string | null = null;
  const last = parts[parts.length - 1];
  if (last !== undefined && /^(USA|US|United States( of America)?)$/i.test(last)) {
    country = "US";
    parts.pop();
  }
  const stateZip = /^([A-Za-z]{2}|[A-Za-z][A-Za-z .]+?)(?:\s+(\d{5}(?:-\d{4})?))?$/.exec(
    parts[parts.length - 1] ?? "",
  );
  const state = stateZip?.[1] !== undefined ? stateCode(stateZip[1]) : null;
  if (state === null || parts.length < 2) {
    return {
      address: parts.length > 0 ? parts.join(", ") : null,
      city: null,
      state: null,
      postalCode: null,
      country,
    };
  }
  parts.pop();
  const city = parts.pop() ?? null;
  return {
    address: parts.length > 0 ? parts.join(", ") : null,
    city,
    state,
    postalCode: stateZip?.[2] ?? null,
    country: "US",
  };
};
