import { FAKE_STREETS, FAKE_SURNAMES, seeded } from "./ProviderFake.js";

/** A business the phone-lookup fakes know: what Google or Yelp would find by name and town. */
export interface FakeListing {
  readonly name: string;
  readonly city: string;
  /** Two-letter state code. */
  readonly state: string;
  /** A US number in any written form; absent when the listing has none. */
  readonly phone?: string;
  /** Street line, e.g. `120 Main St`. */
  readonly street?: string;
  readonly website?: string;
}

/** The written forms of a US number the fakes answer with, or null when `phone` is not 10 digits. */
export const usPhoneForms = (
  phone: string | undefined,
): { readonly e164: string; readonly national: string; readonly international: string } | null => {
  const digits = (phone ?? "").replace(/\D/g, "").replace(/^1(?=\d{10}$)/, "");
  if (digits.length !== 10) return null;
  const [a, b, c] = [digits.slice(0, 3), digits.slice(3, 6), digits.slice(6)];
  return { e164: `+1${digits}`, national: `(${a}) ${b}-${c}`, international: `+1 ${a}-${b}-${c}` };
};

const COMMON = new Set(["the", "and", "of", "inc", "llc", "co", "corp", "company", "group", "services"]);

const words = (s: string): ReadonlyArray<string> =>
  s
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/[^a-z0-9]+/g, " ")
    .trim()
    .split(" ")
    .filter((w) => w !== "");

/**
 * The listings a search would surface, most name words in common first: in `city` when one is
 * given, sharing at least one distinctive word with `text`.
 */
export const searchDirectory = (
  directory: ReadonlyArray<FakeListing>,
  text: string,
  city: string | null,
): ReadonlyArray<FakeListing> => {
  const asked = new Set(words(text));
  const town = city === null ? null : words(city).join(" ");
  return directory
    .map((listing, i) => {
      const shared = words(listing.name).filter((w) => !COMMON.has(w) && asked.has(w)).length;
      return { listing, i, shared };
    })
    .filter(({ listing, shared }) => shared > 0 && (town === null || words(listing.city).join(" ") === town))
    .sort((a, b) => b.shared - a.shared || a.i - b.i)
    .map(({ listing }) => listing);
};

/** `count` distinct businesses in one town with phones and websites, the same on every run. */
export const generateListings = (
  count: number,
  city = "Buffalo",
  state = "NY",
): ReadonlyArray<FakeListing> => {
  const rand = seeded(`listings|${city}|${state}`);
  const kinds = ["Hotel", "Foods", "Manufacturing", "Logistics", "Dental", "Printing", "Storage", "Bakery"];
  return Array.from({ length: count }, (_, i) => {
    const surname = FAKE_SURNAMES[i % FAKE_SURNAMES.length] ?? "Acme";
    const kind = kinds[Math.floor(i / FAKE_SURNAMES.length) % kinds.length] ?? "Works";
    const round = Math.floor(i / (FAKE_SURNAMES.length * kinds.length));
    const name = `${surname} ${kind}${round > 0 ? ` ${round + 1}` : ""}`;
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "");
    return {
      name,
      city,
      state,
      phone: `716555${String(i % 10_000).padStart(4, "0")}`,
      street: `${100 + Math.floor(rand() * 900)} ${FAKE_STREETS[i % FAKE_STREETS.length]}`,
      website: `https://www.${slug}.example/`,
    };
  });
};
