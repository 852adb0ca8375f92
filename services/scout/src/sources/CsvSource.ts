import { open, readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { parse } from "csv-parse/sync";
import { Config, ConfigError, Effect, Layer } from "effect";
import { dedupeCompanies, normalizeDomain } from "../Dedupe.js";
import { parseLocation, stateCode } from "../Location.js";
import {
  type FoundCompany,
  type ScoutSource,
  ScoutSources,
  type SearchQuery,
  SourceError,
} from "../Source.js";

/** Canonical column → accepted headers (compared after lowercasing and `_`-joining words). */
const COLUMNS = {
  name: ["name", "company", "company_name", "business", "business_name", "organization", "organisation"],
  industry: ["industry", "category", "sector", "type"],
  address: ["address", "street", "street_address", "address1", "address_1", "address_line_1"],
  city: ["city", "town"],
  state: ["state", "st", "province", "region"],
  postal_code: ["postal_code", "postcode", "zip", "zip_code", "zipcode"],
  country: ["country"],
  phone: ["phone", "phone_number", "telephone", "tel"],
  website: ["website", "url", "web", "domain", "site", "homepage"],
  employees: ["employees", "employee_count", "num_employees", "headcount", "staff"],
  sites: ["sites", "site_count", "locations", "num_locations"],
} as const;
type Column = keyof typeof COLUMNS;

const headerKey = (h: string): string =>
  h
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");

/** A CSV row that was not imported, and why. `line` is the file line where the row ends. */
export interface SkippedRow {
  readonly line: number;
  readonly reason: string;
}

export interface CsvParseResult {
  readonly companies: ReadonlyArray<FoundCompany>;
  readonly skipped: ReadonlyArray<SkippedRow>;
}

class RowInvalid {
  constructor(readonly reason: string) {}
}

const integer = (value: string | null, column: string, min: number): number | null => {
  if (value === null) return null;
  const n = Number(value.replace(/[,_\s]/g, ""));
  if (!Number.isInteger(n) || n < min)
    throw new RowInvalid(`${column} "${value}" is not a whole number ≥ ${min}`);
  return n;
};

/**
 * Parses an import file's text into companies. Columns are matched by header (case-insensitive,
 * with aliases); rows that fail validation are skipped with a reason, never fatal. Fails when
 * the file has no usable header (no name column), or when a quote is never closed (the rest of
 * the file would be read as one field and lost).
 */
export const parseCsvCompanies = (
  text: string,
  file: string,
):
  | { readonly ok: true; readonly result: CsvParseResult }
  | { readonly ok: false; readonly message: string } => {
  const skipped: Array<SkippedRow> = [];
  let unclosed: { opened: number; lost: number } | undefined;
  let records: Array<{ info: { lines: number }; record: Array<string> }>;
  try {
    records = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      trim: true,
      on_skip: (err) => {
        const line = typeof err?.lines === "number" ? err.lines : 0;
        if (err?.code === "CSV_QUOTE_NOT_CLOSED") {
          // the quote opened in the record after the last one read, and swallowed the rest
          const before = typeof err.bytes_records === "number" ? err.bytes_records : 0;
          const opened = Buffer.from(text).subarray(0, before).toString("utf8").split("\n").length;
          unclosed = { opened, lost: Math.max(1, line - opened + 1) };
          return undefined;
        }
        // one malformed field can raise several errors for the same line: report it once
        if (skipped[skipped.length - 1]?.line !== line) {
          skipped.push({ line, reason: `unreadable CSV: ${err?.message ?? "unknown error"}` });
        }
        return undefined;
      },
    }) as unknown as Array<{ info: { lines: number }; record: Array<string> }>;
  } catch (error) {
    return { ok: false, message: `${file}: not a readable CSV: ${(error as Error).message}` };
  }
  // not one bad row: every line after the quote would be lost, so the file is refused
  if (unclosed !== undefined) {
    return {
      ok: false,
      message: `${file}: the quote opened on line ${unclosed.opened} is never closed, so the ${unclosed.lost} line(s) from there to the end cannot be read (a field holding a quote must be quoted, its quotes doubled)`,
    };
  }
  const [header, ...rows] = records;
  if (header === undefined) return { ok: true, result: { companies: [], skipped } };

  const index = new Map<Column, number>();
  header.record.forEach((h, i) => {
    const key = headerKey(h);
    for (const [column, aliases] of Object.entries(COLUMNS) as Array<[Column, ReadonlyArray<string>]>) {
      if (!index.has(column) && aliases.includes(key)) index.set(column, i);
    }
  });
  if (!index.has("name")) {
    return {
      ok: false,
      message: `${file}: no company name column (expected a header named one of: ${COLUMNS.name.join(", ")})`,
    };
  }

  const source = basename(file);
  const companies: Array<FoundCompany> = [];
  for (const { info, record } of rows) {
    const cell = (column: Column): string | null => {
      const i = index.get(column);
      const v = i === undefined ? undefined : record[i];
      return v === undefined || v === "" ? null : v;
    };
    try {
      const name = cell("name");
      if (name === null) throw new RowInvalid("name is empty");
      if (name.length > 300) throw new RowInvalid("name is longer than 300 characters");
      const countryRaw = cell("country");
      const isUs =
        countryRaw === null || /^(us|usa|u\.s\.a?\.?|united states( of america)?)$/i.test(countryRaw);
      const stateRaw = cell("state");
      const state = stateRaw !== null && isUs ? stateCode(stateRaw) : null;
      if (stateRaw !== null && isUs && state === null)
        throw new RowInvalid(`state "${stateRaw}" is not a US state`);
      let postalCode = cell("postal_code");
      if (postalCode !== null && isUs) {
        // spreadsheets drop the leading zero of New England ZIPs
        if (/^\d{4}$/.test(postalCode)) postalCode = `0${postalCode}`;
        if (!/^\d{5}(-\d{4})?$/.test(postalCode))
          throw new RowInvalid(`postal code "${postalCode}" is not a US ZIP`);
      }
      const website = cell("website");
      if (website !== null && normalizeDomain(website) === null) {
        throw new RowInvalid(`website "${website}" is not a usable domain`);
      }
      const phone = cell("phone");
      if (phone !== null && phone.replace(/\D/g, "").length < 7) {
        throw new RowInvalid(`phone "${phone}" has too few digits`);
      }
      companies.push({
        name,
        industry: cell("industry") ?? "",
        address: cell("address"),
        city: cell("city"),
        state,
        postalCode,
        country: isUs ? "US" : (countryRaw ?? "US"),
        phone,
        website,
        latitude: null,
        longitude: null,
        employeeCount: integer(cell("employees"), "employees", 0),
        sites: integer(cell("sites"), "sites", 1),
        source: "csv",
        sourceRef: `${source}:${info.lines}`,
        isSample: false,
        raw: Object.fromEntries(header.record.map((h, i) => [h, record[i] ?? null])),
      });
    } catch (error) {
      if (!(error instanceof RowInvalid)) throw error;
      skipped.push({ line: info.lines, reason: error.reason });
    }
  }
  return { ok: true, result: { companies, skipped: skipped.sort((a, b) => a.line - b.line) } };
};

const looselyMatches = (value: string, wanted: string): boolean => {
  const a = value.toLowerCase();
  const b = wanted.toLowerCase();
  return a.includes(b) || b.includes(a);
};

/**
 * Whether a row fits the query: industry and city contain the asked text (either way round,
 * case-insensitive), state equal. A row that leaves a field empty is not filtered on it.
 */
export const queryMatcher = (q: SearchQuery): ((c: FoundCompany) => boolean) => {
  const industry = q.industry.trim();
  const where = parseLocation(q.location);
  return (c) => {
    if (industry !== "" && c.industry !== "" && !looselyMatches(c.industry, industry)) return false;
    if (where.state !== null && c.state !== null && c.state !== where.state) return false;
    if (where.city !== null && c.city !== null && !looselyMatches(c.city, where.city)) return false;
    return true;
  };
};

export interface CsvSourceOptions {
  readonly path: string;
  /** Larger files are refused. Default 20 MB. */
  readonly maxBytes?: number;
}

/**
 * A source that reads companies from a CSV file. The parsed rows are kept while the file's
 * identity, size and modification time stay the same (ten runs over one 10,000-row file parsed
 * it ten times); an edited or replaced file is read again on the next search.
 */
export const makeCsvSource = (options: CsvSourceOptions): ScoutSource => {
  const maxBytes = options.maxBytes ?? 20 * 1024 * 1024;
  const fail = (message: string, cause?: unknown) =>
    new SourceError({ source: "csv", message, retryable: false, ...(cause !== undefined ? { cause } : {}) });

  let cached: { readonly version: string; readonly result: CsvParseResult } | undefined;

  const load = Effect.tryPromise({
    try: async () => {
      const info = await stat(options.path);
      if (!info.isFile()) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
      if (info.size > maxBytes)
        throw Object.assign(new Error("too large"), { code: "ETOOBIG", size: info.size });
      const version = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
      if (cached?.version === version) return { version, text: null };
      return { version, text: await readFile(options.path, "utf8") };
    },
    catch: (cause) => {
      const code = (cause as { code?: string }).code;
      if (code === "ENOENT") return fail(`CSV file not found: ${options.path} (check SCOUT_CSV_PATH)`, cause);
      if (code === "ETOOBIG") {
        return fail(
          `CSV file ${options.path} is larger than the ${maxBytes}-byte limit (SCOUT_CSV_MAX_BYTES)`,
          cause,
        );
      }
      if (code === "EISDIR") return fail(`SCOUT_CSV_PATH ${options.path} is not a file`, cause);
      return fail(`CSV file ${options.path} could not be read: ${(cause as Error).message}`, cause);
    },
  });

  const rows = Effect.gen(function* () {
    const { version, text } = yield* load;
    if (text === null && cached !== undefined) return cached.result;
    const parsed = parseCsvCompanies(text ?? "", options.path);
    if (!parsed.ok) return yield* fail(parsed.message);
    cached = { version, result: parsed.result };
    return parsed.result;
  });

  return {
    name: "csv",
    search: (q) =>
      Effect.gen(function* () {
        const { companies, skipped } = yield* rows;
        if (skipped.length > 0) {
          yield* Effect.logWarning(`CSV import skipped ${skipped.length} row(s)`).pipe(
            Effect.annotateLogs({
              file: options.path,
              skipped: skipped.slice(0, 20).map((s) => `line ${s.line}: ${s.reason}`),
            }),
          );
        }
        const matching = dedupeCompanies(companies.filter(queryMatcher(q)));
        return matching
          .slice(0, q.count)
          .map((c) => (c.industry === "" ? { ...c, industry: q.industry } : c));
      }).pipe(Effect.withSpan("CsvSource.search", { attributes: { path: options.path } })),
  };
};

/** The CSV source's settings. */
export const csvSourceConfig = Config.all({
  path: Config.string("SCOUT_CSV_PATH"),
  maxBytes: Config.integer("SCOUT_CSV_MAX_BYTES").pipe(
    Config.validate({ message: "must be a whole number of bytes, at least 1", validation: (n) => n >= 1 }),
    Config.withDefault(20 * 1024 * 1024),
  ),
});

/**
 * The file as the source is built: there, a file, readable (opened, not just `access`ed) and
 * within the size limit. A source that would refuse every run says so at start instead; a file
 * that changes later is still checked on each search.
 */
export const checkCsvFile = (options: Required<CsvSourceOptions>) =>
  Effect.tryPromise({
    try: async () => {
      const info = await stat(options.path);
      if (!info.isFile()) return "is not a file";
      if (info.size > options.maxBytes) {
        return `is ${info.size} bytes, larger than the ${options.maxBytes}-byte limit (SCOUT_CSV_MAX_BYTES)`;
      }
      await (await open(options.path, "r")).close();
      return undefined;
    },
    catch: (cause) => {
      const code = (cause as { code?: string }).code;
      return code === "ENOENT" ? "does not exist" : `cannot be read: ${(cause as Error).message}`;
    },
  }).pipe(
    Effect.merge,
    Effect.flatMap((problem) =>
      problem === undefined
        ? Effect.void
        : Effect.fail(ConfigError.InvalidData(["SCOUT_CSV_PATH"], `${options.path} ${problem}`)),
    ),
  );

/** The CSV source built from configuration, its file checked (`checkCsvFile`). */
export const csvSourceFromConfig = Effect.gen(function* () {
  const options = yield* csvSourceConfig;
  yield* checkCsvFile(options);
  return makeCsvSource(options);
});

/** Only the CSV source. */
export const CsvSourceLive = Layer.effect(
  ScoutSources,
  Effect.map(csvSourceFromConfig, (s) => [s]),
);
