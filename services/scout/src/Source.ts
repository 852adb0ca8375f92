import { Context, Data, type Effect } from "effect";

/** What the scout was asked to find. */
export interface SearchQuery {
  readonly industry: string;
  readonly location: string;
  readonly count: number;
  /** The run id: sources that invent data (sample) derive it from this, so a run is repeatable. */
  readonly seed: string;
}

/** A company as a source reports it, before de-duplication and persistence. */
export interface FoundCompany {
  readonly name: string;
  readonly industry: string;
  readonly address: string | null;
  readonly city: string | null;
  /** 2-letter US state code. */
  readonly state: string | null;
  readonly postalCode: string | null;
  /** ISO 3166-1 alpha-2 where known (`US`). */
  readonly country: string;
  readonly phone: string | null;
  readonly website: string | null;
  readonly latitude: number | null;
  readonly longitude: number | null;
  readonly employeeCount: number | null;
  readonly sites: number | null;
  /** The source's name (`google_places`, `yelp`, `overpass`, `csv`, `sample`). */
  readonly source: string;
  /** The source's own id for the record (place id, Yelp id, OSM `node/123`, `file.csv:12`). */
  readonly sourceRef: string | null;
  readonly isSample: boolean;
  /** The provider's record as received, for audit and later re-mapping. */
  readonly raw: unknown;
}

/** A source could not answer; `retryable` says whether trying again later may help. */
export class SourceError extends Data.TaggedError("SourceError")<{
  readonly source: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly cause?: unknown;
}> {}

/** A search plugin. Returns at most `q.count` companies, already de-duplicated within its own list. */
export interface ScoutSource {
  readonly name: string;
  readonly search: (q: SearchQuery) => Effect.Effect<ReadonlyArray<FoundCompany>, SourceError>;
}

/** The configured sources, in priority order. */
export class ScoutSources extends Context.Tag("leadflow/scout/ScoutSources")<
  ScoutSources,
  ReadonlyArray<ScoutSource>
>() {}
