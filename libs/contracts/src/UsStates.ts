/**
 * US states, DC and Puerto Rico, and the one parser of a state as people write it. Shared by
 * the scout (parsing locations and addresses) and the analyst (state electricity prices).
 */

/** US states, DC and Puerto Rico: code → name. */
export const US_STATES: Readonly<Record<string, string>> = {
  AL: "Alabama",
  AK: "Alaska",
  AZ: "Arizona",
  AR: "Arkansas",
  CA: "California",
  CO: "Colorado",
  CT: "Connecticut",
  DE: "Delaware",
  DC: "District of Columbia",
  FL: "Florida",
  GA: "Georgia",
  HI: "Hawaii",
  ID: "Idaho",
  IL: "Illinois",
  IN: "Indiana",
  IA: "Iowa",
  KS: "Kansas",
  KY: "Kentucky",
  LA: "Louisiana",
  ME: "Maine",
  MD: "Maryland",
  MA: "Massachusetts",
  MI: "Michigan",
  MN: "Minnesota",
  MS: "Mississippi",
  MO: "Missouri",
  MT: "Montana",
  NE: "Nebraska",
  NV: "Nevada",
  NH: "New Hampshire",
  NJ: "New Jersey",
  NM: "New Mexico",
  NY: "New York",
  NC: "North Carolina",
  ND: "North Dakota",
  OH: "Ohio",
  OK: "Oklahoma",
  OR: "Oregon",
  PA: "Pennsylvania",
  PR: "Puerto Rico",
  RI: "Rhode Island",
  SC: "South Carolina",
  SD: "South Dakota",
  TN: "Tennessee",
  TX: "Texas",
  UT: "Utah",
  VT: "Vermont",
  VA: "Virginia",
  WA: "Washington",
  WV: "West Virginia",
  WI: "Wisconsin",
  WY: "Wyoming",
};

const byName = new Map<string, string>(
  Object.entries(US_STATES).map(([code, name]) => [name.toLowerCase(), code] as const),
);
byName.set("washington dc", "DC");
byName.set("d c", "DC");

/** A code (`ny`, `NY`, `D.C.`) or a full name (`new york`) → `NY`; anything else → null. */
export const stateCode = (input: string): string | null => {
  const s = input.trim().replace(/\./g, " ").replace(/\s+/g, " ").trim();
  if (/^[A-Za-z]{2}$/.test(s)) {
    const code = s.toUpperCase();
    return code in US_STATES ? code : null;
  }
  return byName.get(s.toLowerCase()) ?? null;
};
