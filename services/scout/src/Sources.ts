import type { ProviderHttp } from "@leadflow/runtime";
import { Config, ConfigError, Effect, Either, Layer, Option, Redacted } from "effect";
import { type ScoutSource, ScoutSources } from "./Source.js";
import { csvSourceFromConfig } from "./sources/CsvSource.js";
import { googlePlacesSourceFromConfig } from "./sources/GooglePlacesSource.js";
import { overpassSourceFromConfig } from "./sources/OverpassSource.js";
import { sampleSource } from "./sources/SampleSource.js";
import { yelpSourceFromConfig } from "./sources/YelpSource.js";

/** Every source name `SCOUT_SOURCES` may list. */
export const SourceNames = ["google_places", "yelp", "overpass", "csv", "sample"] as const;
export type SourceName = (typeof SourceNames)[number];

/** Each source reads its own configuration when (and only when) it is selected. */
const builders: Record<SourceName, Effect.Effect<ScoutSource, ConfigError.ConfigError, ProviderHttp>> = {
  google_places: googlePlacesSourceFromConfig,
  yelp: yelpSourceFromConfig,
  overpass: overpassSourceFromConfig,
  csv: csvSourceFromConfig,
  sample: Effect.succeed(sampleSource),
};

const isSourceName = (s: string): s is SourceName => (SourceNames as ReadonlyArray<string>).includes(s);

const hasKey = (key: Option.Option<Redacted.Redacted>): boolean =>
  Option.match(key, { onNone: () => false, onSome: (k) => String(Redacted.value(k)).trim() !== "" });

/** Parses a `SCOUT_SOURCES` value: comma list, order kept, repeats dropped, unknown names refused. */
export const parseSourceList = (value: string): Either.Either<ReadonlyArray<SourceName>, string> => {
  const names = [
    ...new Set(
      value
        .split(",")
        .map((s) => s.trim().toLowerCase())
        .filter((s) => s !== ""),
    ),
  ];
  const unknown = names.filter((n) => !isSourceName(n));
  if (unknown.length > 0) {
    return Either.left(
      `unknown source ${unknown.map((u) => `"${u}"`).join(", ")}; known sources: ${SourceNames.join(", ")}`,
    );
  }
  return Either.right(names as Array<SourceName>);
};

/**
 * The selected source names: `SCOUT_SOURCES` when set, else every keyed provider
 * (google_places, yelp), else `sample`.
 */
export const sourceNamesConfig: Config.Config<ReadonlyArray<SourceName>> = Config.all({
  list: Config.option(Config.string("SCOUT_SOURCES")),
  google: Config.option(Config.redacted("GOOGLE_PLACES_API_KEY")),
  yelp: Config.option(Config.redacted("YELP_API_KEY")),
}).pipe(
  Config.mapOrFail(({ list, google, yelp }) => {
    const explicit = Option.filter(list, (s) => s.trim() !== "");
    if (Option.isSome(explicit)) {
      return Either.mapLeft(parseSourceList(explicit.value), (message) =>
        ConfigError.InvalidData(["SCOUT_SOURCES"], message),
      );
    }
    const keyed: Array<SourceName> = [];
    if (hasKey(google)) keyed.push("google_places");
    if (hasKey(yelp)) keyed.push("yelp");
    return Either.right(keyed.length > 0 ? keyed : ["sample"]);
  }),
);

/** The configured sources, in priority order. Needs `ProviderHttp` for the HTTP providers. */
export const ScoutSourcesLive: Layer.Layer<ScoutSources, ConfigError.ConfigError, ProviderHttp> =
  Layer.effect(
    ScoutSources,
    Effect.gen(function* () {
      const names = yield* sourceNamesConfig;
      const sources = yield* Effect.forEach(names, (name) => builders[name]);
      yield* Effect.logInfo(`scout sources: ${names.join(", ")}`);
      return sources;
    }),
  );
