import { Effect, Either } from "effect";
import { describe, expect, it } from "vitest";
import { gather } from "../src/Scout.js";
import { type FoundCompany, type ScoutSource, type SearchQuery, SourceError } from "../src/Source.js";
import { sampleSource } from "../src/sources/SampleSource.js";

const company = (name: string, source: string, website: string | null = null): FoundCompany => ({
  name,
  industry: "hospital",
  address: null,
  city: "Buffalo",
  state: "NY",
  postalCode: null,
  country: "US",
  phone: null,
  website,
  latitude: null,
  longitude: null,
  employeeCount: null,
  sites: null,
  source,
  sourceRef: null,
  isSample: source === "sample",
  raw: null,
});

/** A source returning fixed companies (at most the asked count) and recording what it was asked. */
const fixed = (name: string, names: ReadonlyArray<string>, asked: Array<number> = []): ScoutSource => ({
  name,
  search: (q) =>
    Effect.sync(() => {
      asked.push(q.count);
      return names
        .slice(0, q.count)
        .map((n) => company(n, name, `https://${n.toLowerCase().replace(/\W+/g, "")}.com`));
    }),
});

const failing = (name: string, message: string, retryable = true): ScoutSource => ({
  name,
  search: () => Effect.fail(new SourceError({ source: name, message, retryable })),
});

const query: SearchQuery = { industry: "hospital", location: "Buffalo, NY", count: 3, seed: "run-1" };

describe("gather", () => {
  it("stops at the first source that fills the count", async () => {
    const asked: Array<number> = [];
    const result = await Effect.runPromise(
      gather([fixed("a", ["A1", "A2", "A3", "A4"]), fixed("b", ["B1"], asked)], query),
    );
    expect(result.companies.map((c) => c.name)).toEqual(["A1", "A2", "A3"]);
    expect(result.bySource).toEqual({ a: 3 });
    expect(result.warnings).toEqual([]);
    expect(result.sampleData).toBe(false);
    expect(asked).toEqual([]);
  });

  it("asks the next source for what is still missing, de-duplicating across sources", async () => {
    const asked: Array<number> = [];
    const result = await Effect.runPromise(
      gather([fixed("a", ["A1"]), fixed("b", ["A1", "B1", "B2"], asked)], { ...query, count: 3 }),
    );
    expect(asked).toEqual([2]);
    // b's A1 is a duplicate, so only B1 fits in the 2 it was asked for
    expect(result.companies.map((c) => c.name)).toEqual(["A1", "B1"]);
    expect(result.bySource).toEqual({ a: 1, b: 1 });
    expect(result.warnings).toEqual(["found 2 of 3 requested companies"]);
  });

  it("records a failing source as a warning and falls back to the next", async () => {
    const result = await Effect.runPromise(
      gather(
        [
          failing("google_places", "google_places rejected the credentials"),
          fixed("yelp", ["Y1", "Y2", "Y3"]),
        ],
        query,
      ),
    );
    expect(result.companies.map((c) => c.name)).toEqual(["Y1", "Y2", "Y3"]);
    expect(result.warnings).toEqual(["google_places: google_places rejected the credentials"]);
    expect(result.bySource).toEqual({ yelp: 3 });
  });

  it("falls back to sample data and says so", async () => {
    const result = await Effect.runPromise(
      gather([failing("yelp", "down"), sampleSource], { ...query, count: 5 }),
    );
    expect(result.companies).toHaveLength(5);
    expect(result.sampleData).toBe(true);
    expect(result.bySource).toEqual({ sample: 5 });
  });

  it("fails with the last error when every source fails", async () => {
    const result = await Effect.runPromise(
      Effect.either(gather([failing("a", "first", true), failing("b", "second", false)], query)),
    );
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toBeInstanceOf(SourceError);
    expect(error).toMatchObject({ source: "b", message: "second", retryable: false });
  });

  it("succeeds empty when a source answered with nothing", async () => {
    const result = await Effect.runPromise(gather([failing("a", "down"), fixed("b", [])], query));
    expect(result.companies).toEqual([]);
    expect(result.bySource).toEqual({ b: 0 });
    expect(result.warnings).toEqual(["a: down", "found 0 of 3 requested companies"]);
  });

  it("refuses to run without sources", async () => {
    const result = await Effect.runPromise(Effect.either(gather([], query)));
    expect(Either.isLeft(result)).toBe(true);
  });
});

describe("text from sources", () => {
  it("drops control characters (a terminal escape, NUL) and turns tabs and line breaks into spaces, keeping the source's record", async () => {
    const hostile: FoundCompany = {
      ...company("Acme\u001b[31m\tGeneral\r\nHospital\u0000", "csv", "https://acme.test/\u0007"),
      address: " 1 Main St\u2028Suite 2 ",
      city: "Buf\u0085falo",
      raw: { name: "Acme\u001b[31m\tGeneral\r\nHospital\u0000" },
    };
    const clean = company("Erie County Medical Center", "csv", "https://ecmc.test/");
    const result = await Effect.runPromise(
      gather([{ name: "csv", search: () => Effect.succeed([hostile, clean]) }], query),
    );
    expect(result.companies[0]).toMatchObject({
      name: "Acme[31m General Hospital",
      address: "1 Main St Suite 2",
      city: "Buffalo",
      website: "https://acme.test/",
      raw: { name: "Acme\u001b[31m\tGeneral\r\nHospital\u0000" },
    });
    // a company with nothing to clean comes through as it was
    expect(result.companies[1]).toBe(clean);
  });

  it("de-duplicates what is the same company once cleaned", async () => {
    const result = await Effect.runPromise(
      gather(
        [
          {
            name: "csv",
            search: () =>
              Effect.succeed([
                company("Lakeside Hospital", "csv", "https://lakeside.test/\u0001"),
                company("Lakeside\tHospital", "csv", "https://lakeside.test/"),
                company("\u0007\u0008", "csv", null),
              ]),
          },
        ],
        query,
      ),
    );
    expect(result.companies.map((c) => c.name)).toEqual(["Lakeside Hospital", "(no name)"]);
  });
});
