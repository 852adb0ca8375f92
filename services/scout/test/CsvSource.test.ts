import { mkdtemp, rename, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envConfigProvider } from "@leadflow/runtime";
import { Effect, Either } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SourceError } from "../src/Source.js";
import { csvSourceFromConfig, makeCsvSource, parseCsvCompanies } from "../src/sources/CsvSource.js";

const CSV = `\ufeffCompany Name,Industry,Street Address,City,State,ZIP,Phone,Website,Employees,Locations
Buffalo General Medical Center,Hospital,100 High St,Buffalo,NY,14203,(716) 859-5600,https://www.bgmc.example,"3,500",2
"Roswell Park, Inc.",hospital,665 Elm St,Buffalo,New York,14203,716-845-2300,roswell.example,3000,1
,Hospital,1 Nowhere,Buffalo,NY,,,,,
Bad State Clinic,Hospital,1 Main,Buffalo,ZZ,14201,,,,
Bad Employees Hospital,Hospital,1 Main,Buffalo,NY,14201,,,lots,
Bad Site Hospital,Hospital,1 Main,Buffalo,NY,14201,,localhost,,
Bad "Quote" Hospital,Hospital,1 Main,Buffalo,NY,14201,,,,
Austin Hotel,Hotel,1 Congress Ave,Austin,TX,78701,,,,
Boston Clinic,hospital,1 Main,Boston,MA,2134,,,50,
Duplicate of BGMC,Hospital,100 High St,Buffalo,NY,14203,,http://bgmc.example/about,,
Mercy Hospital,,565 Abbott Rd,Buffalo,NY,14220,,,,
`;

let dir: string;
let path: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "scout-csv-"));
  path = join(dir, "companies.csv");
  await writeFile(path, CSV);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const query = (over: Partial<{ industry: string; location: string; count: number }> = {}) => ({
  industry: "hospital",
  location: "Buffalo, NY",
  count: 100,
  seed: "run-1",
  ...over,
});

describe("parseCsvCompanies", () => {
  it("maps aliased headers and skips invalid rows with reasons", () => {
    const parsed = parseCsvCompanies(CSV, "companies.csv");
    if (!parsed.ok) throw new Error(parsed.message);
    const { companies, skipped } = parsed.result;
    expect(companies.map((c) => c.name)).toEqual([
      "Buffalo General Medical Center",
      "Roswell Park, Inc.",
      "Austin Hotel",
      "Boston Clinic",
      "Duplicate of BGMC",
      "Mercy Hospital",
    ]);
    expect(companies[0]).toMatchObject({
      industry: "Hospital",
      address: "100 High St",
      city: "Buffalo",
      state: "NY",
      postalCode: "14203",
      country: "US",
      phone: "(716) 859-5600",
      website: "https://www.bgmc.example",
      employeeCount: 3500,
      sites: 2,
      source: "csv",
      sourceRef: "companies.csv:2",
      isSample: false,
    });
    expect(companies[1]?.state).toBe("NY");
    expect(companies[3]?.postalCode).toBe("02134");
    expect(skipped.map((s) => s.line)).toEqual([4, 5, 6, 7, 8]);
    expect(skipped[0]?.reason).toBe("name is empty");
    expect(skipped[1]?.reason).toContain('state "ZZ"');
    expect(skipped[2]?.reason).toContain('employees "lots"');
    expect(skipped[3]?.reason).toContain('website "localhost"');
    expect(skipped[4]?.reason).toContain("unreadable CSV");
  });

  it("refuses a file with a quote never closed, naming its line, instead of losing every line after it", () => {
    const text = [
      "name,industry,city,state",
      "Good Co,hospital,Buffalo,NY",
      '"Broken Co,hospital,Buffalo,NY',
      "Later Co,hospital,Buffalo,NY",
      "Last Co,hospital,Buffalo,NY",
      "",
    ].join("\n");
    const parsed = parseCsvCompanies(text, "x.csv");
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.message).toBe(
        "x.csv: the quote opened on line 3 is never closed, so the 3 line(s) from there to the end cannot be read (a field holding a quote must be quoted, its quotes doubled)",
      );
    }
  });

  it("refuses a file without a name column", () => {
    const parsed = parseCsvCompanies("city,state\nBuffalo,NY\n", "x.csv");
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain("no company name column");
  });

  it("an empty file has no companies", () => {
    const parsed = parseCsvCompanies("", "x.csv");
    expect(parsed).toEqual({ ok: true, result: { companies: [], skipped: [] } });
  });
});

describe("CSV source", () => {
  it("filters by industry and location, de-duplicates and fills a missing industry", async () => {
    const found = await Effect.runPromise(makeCsvSource({ path }).search(query()));
    expect(found.map((c) => c.name)).toEqual([
      "Buffalo General Medical Center",
      "Roswell Park, Inc.",
      "Mercy Hospital",
    ]);
    expect(found[2]?.industry).toBe("hospital");
  });

  it("filters by state alone and caps at count", async () => {
    const texas = await Effect.runPromise(
      makeCsvSource({ path }).search(query({ industry: "", location: "Texas" })),
    );
    expect(texas.map((c) => c.name)).toEqual(["Austin Hotel"]);
    const capped = await Effect.runPromise(makeCsvSource({ path }).search(query({ count: 2 })));
    expect(capped).toHaveLength(2);
  });

  it("keeps the parsed file between searches and reads it again once it changes", async () => {
    const own = join(dir, "changing.csv");
    const header = "name,industry,city,state\n";
    await writeFile(own, `${header}First Hospital,hospital,Buffalo,NY\n`);
    const source = makeCsvSource({ path: own });
    const names = async () => (await Effect.runPromise(source.search(query()))).map((c) => c.name);
    expect(await names()).toEqual(["First Hospital"]);
    expect(await names()).toEqual(["First Hospital"]);
    // same size, new content, modification time moved: read again
    await writeFile(own, `${header}Other Hospital,hospital,Buffalo,NY\n`);
    await utimes(own, new Date(), new Date(Date.now() + 5_000));
    expect(await names()).toEqual(["Other Hospital"]);
    // replaced by a rename (another inode), even with the old times
    const next = join(dir, "next.csv");
    await writeFile(next, `${header}Third Hospital,hospital,Buffalo,NY\n`);
    await utimes(next, new Date(), new Date(Date.now() + 5_000));
    await rename(next, own);
    expect(await names()).toEqual(["Third Hospital"]);
    // a file that became unreadable as CSV is an error, not the old rows
    await writeFile(own, "just one column\nno header we know\n");
    const broken = await Effect.runPromise(Effect.either(source.search(query())));
    expect(Either.isLeft(broken)).toBe(true);
  });

  it("a missing file is a clear, non-retryable SourceError", async () => {
    const result = await Effect.runPromise(
      Effect.either(makeCsvSource({ path: join(dir, "nope.csv") }).search(query())),
    );
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error).toBeInstanceOf(SourceError);
    expect(error).toMatchObject({ source: "csv", retryable: false });
    expect(error?.message).toContain("CSV file not found");
    expect(error?.message).toContain("nope.csv");
  });

  it("refuses a file over the size cap", async () => {
    const result = await Effect.runPromise(
      Effect.either(makeCsvSource({ path, maxBytes: 100 }).search(query())),
    );
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined));
    expect(error?.message).toContain("larger than the 100-byte limit");
    expect(error?.retryable).toBe(false);
  });
});

describe("the CSV source at start", () => {
  /** Builds the source as a service starting with `env` would: its name, or the error's text. */
  const build = (env: Record<string, string>) =>
    Effect.runPromise(
      Effect.either(
        Effect.map(csvSourceFromConfig, (source) => source.name).pipe(
          Effect.withConfigProvider(envConfigProvider(env)),
        ),
      ),
    ).then(Either.mapLeft(String));

  it("takes a readable file within the size limit", async () => {
    expect(await build({ SCOUT_CSV_PATH: path })).toEqual(Either.right("csv"));
  });

  it.each([
    ["a path with nothing there", () => join(dir, "nope.csv"), {}, "does not exist"],
    ["a folder", () => dir, {}, "is not a file"],
    [
      "a file over the limit",
      () => path,
      { SCOUT_CSV_MAX_BYTES: "100" },
      "is 825 bytes, larger than the 100-byte limit",
    ],
  ] as const)("refuses %s, naming SCOUT_CSV_PATH and the path", async (_, file, extra, reason) => {
    const result = await build({ SCOUT_CSV_PATH: file(), ...extra });
    const message = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : ""));
    expect(message).toContain("SCOUT_CSV_PATH");
    expect(message).toContain(`${file()} ${reason}`);
  });

  it("refuses a size limit below one byte, naming it", async () => {
    for (const bytes of ["0", "-5"]) {
      const result = await build({ SCOUT_CSV_PATH: path, SCOUT_CSV_MAX_BYTES: bytes });
      expect(String(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : "")))).toContain(
        "SCOUT_CSV_MAX_BYTES",
      );
    }
  });

  it("without SCOUT_CSV_PATH names it", async () => {
    const result = await build({});
    expect(String(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : "")))).toContain(
      "SCOUT_CSV_PATH",
    );
  });
});
