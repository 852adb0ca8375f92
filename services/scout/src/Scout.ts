import { Effect } from "effect";
import { cleanCompany } from "./Clean.js";
import { makeDeduper } from "./Dedupe.js";
import { type FoundCompany, type ScoutSource, type SearchQuery, SourceError } from "./Source.js";

export interface GatherResult {
  /** At most `count` companies, distinct by dedupe key, in source priority order. */
  readonly companies: ReadonlyArray<FoundCompany>;
  /** Companies taken from each source that was asked (0 when it added nothing new). */
  readonly bySource: Record<string, number>;
  /** One line per source that failed, plus a shortfall note when fewer than `count` were found. */
  readonly warnings: ReadonlyArray<string>;
  /** Whether any company came from sample data. */
  readonly sampleData: boolean;
}

/**
 * Asks the sources in order for the companies still missing until `count` distinct ones are
 * found. A failing source becomes a warning and the next one is tried; only when every source
 * asked failed and nothing was found does this fail, with the last source's error.
 */
export const gather = (
  sources: ReadonlyArray<ScoutSource>,
  query: SearchQuery,
): Effect.Effect<GatherResult, SourceError> =>
  Effect.gen(function* () {
    if (sources.length === 0) {
      return yield* new SourceError({
        source: "scout",
        message: "no scout sources are configured",
        retryable: false,
      });
    }
    const deduper = makeDeduper();
    const companies: Array<FoundCompany> = [];
    const bySource: Record<string, number> = {};
    const warnings: Array<string> = [];
    let lastError: SourceError | undefined;
    let failures = 0;
    let asked = 0;

    for (const source of sources) {
      const missing = query.count - companies.length;
      if (missing <= 0) break;
      asked++;
      const result = yield* Effect.either(source.search({ ...query, count: missing }));
      if (result._tag === "Left") {
        failures++;
        lastError = result.left;
        warnings.push(`${source.name}: ${result.left.message}`);
        continue;
      }
      let added = 0;
      for (const found of result.right) {
        if (companies.length >= query.count) break;
        // every source's text is cleaned here, before de-duplication and storage
        const company = cleanCompany(found);
        if (!deduper.add(company)) continue;
        companies.push(company);
        added++;
      }
      bySource[source.name] = (bySource[source.name] ?? 0) + added;
    }

    if (companies.length === 0 && asked > 0 && failures === asked && lastError !== undefined) {
      return yield* lastError;
    }
    if (companies.length < query.count) {
      warnings.push(`found ${companies.length} of ${query.count} requested companies`);
    }
    return { companies, bySource, warnings, sampleData: companies.some((c) => c.isSample) };
  }).pipe(Effect.withSpan("Scout.gather", { attributes: { industry: query.industry, count: query.count } }));
