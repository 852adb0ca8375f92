import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MetricsTest, ProviderHttpLive } from "@leadflow/runtime";
import { type Config, ConfigProvider, Effect, Either, Layer } from "effect";
import { describe, expect, it } from "vitest";
import { ScoutSources } from "../src/Source.js";
import { parseSourceList, ScoutSourcesLive, sourceNamesConfig } from "../src/Sources.js";
import { googlePlacesSourceConfig } from "../src/sources/GooglePlacesSource.js";
import { overpassSourceConfig } from "../src/sources/OverpassSource.js";
import { yelpSourceConfig } from "../src/sources/YelpSource.js";

const withConfig = (env: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))));

const names = (env: Record<string, string>) =>
  Effect.runPromise(Effect.either(sourceNamesConfig).pipe(Effect.provide(withConfig(env))));

const build = (env: Record<string, string>) =>
  Effect.runPromise(
    Effect.either(
      Effect.map(ScoutSources, (sources) => sources.map((s) => s.name)).pipe(
        Effect.provide(ScoutSourcesLive.pipe(Layer.provide(ProviderHttpLive), Layer.provide(MetricsTest))),
        Effect.provide(withConfig(env)),
      ),
    ),
  );

describe("source selection", () => {
  it("defaults to sample when no provider key is set", async () => {
    expect(await names({})).toEqual(Either.right(["sample"]));
    expect(await names({ GOOGLE_PLACES_API_KEY: "  " })).toEqual(Either.right(["sample"]));
  });

  it("defaults to every keyed provider, Google first", async () => {
    expect(await names({ YELP_API_KEY: "y" })).toEqual(Either.right(["yelp"]));
    expect(await names({ YELP_API_KEY: "y", GOOGLE_PLACES_API_KEY: "g" })).toEqual(
      Either.right(["google_places", "yelp"]),
    );
  });

  it("SCOUT_SOURCES sets the order", async () => {
    expect(await names({ SCOUT_SOURCES: " Yelp, sample ,yelp", GOOGLE_PLACES_API_KEY: "g" })).toEqual(
      Either.right(["yelp", "sample"]),
    );
  });

  it("an unknown source name is a clear config error", async () => {
    const result = await names({ SCOUT_SOURCES: "google_places,foursquare" });
    expect(Either.isLeft(result)).toBe(true);
    const message = String(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : "")));
    expect(message).toContain("SCOUT_SOURCES");
    expect(message).toContain('unknown source "foursquare"');
    expect(message).toContain("google_places, yelp, overpass, csv, sample");
    expect(parseSourceList("csv, sample")).toEqual(Either.right(["csv", "sample"]));
  });

  it("builds the selected sources in order", async () => {
    const dir = await mkdtemp(join(tmpdir(), "scout-sources-"));
    try {
      await writeFile(join(dir, "companies.csv"), "name,city,state\nAcme,Reno,NV\n");
      const result = await build({
        SCOUT_SOURCES: "google_places,overpass,csv,sample",
        GOOGLE_PLACES_API_KEY: "g",
        SCOUT_CSV_PATH: join(dir, "companies.csv"),
      });
      expect(result).toEqual(Either.right(["google_places", "overpass", "csv", "sample"]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a selected csv source whose file is not there is a config error naming SCOUT_CSV_PATH", async () => {
    const result = await build({ SCOUT_SOURCES: "sample,csv", SCOUT_CSV_PATH: "/nonexistent/companies.csv" });
    expect(String(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : "")))).toContain(
      'SCOUT_CSV_PATH: "/nonexistent/companies.csv does not exist',
    );
  });

  it("a selected provider without its key is a config error naming the key", async () => {
    const result = await build({ SCOUT_SOURCES: "yelp" });
    expect(Either.isLeft(result)).toBe(true);
    expect(String(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : "")))).toContain(
      "YELP_API_KEY",
    );
  });

  it("rejects nonsense limits", async () => {
    const result = await build({ SCOUT_SOURCES: "overpass", OVERPASS_RATE_PER_SEC: "0" });
    expect(String(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : "")))).toContain(
      "OVERPASS_RATE_PER_SEC",
    );
  });
});

describe("provider call settings", () => {
  const read = <A>(config: Config.Config<A>, env: Record<string, string>) =>
    Effect.runSync(
      Effect.either(Effect.withConfigProvider(config, ConfigProvider.fromMap(new Map(Object.entries(env))))),
    );

  it("the scout's Google, Yelp and Overpass clients read <PREFIX>_MAX_ATTEMPTS and _RETRY_BASE_MS, as enrichment's do", () => {
    for (const [config, prefix, extra] of [
      [googlePlacesSourceConfig, "GOOGLE_PLACES", { GOOGLE_PLACES_API_KEY: "k" }],
      [yelpSourceConfig, "YELP", { YELP_API_KEY: "k" }],
      [overpassSourceConfig, "OVERPASS", {}],
    ] as const) {
      const defaults = read(config as Config.Config<{ maxAttempts: number; retryBaseMs: number }>, extra);
      expect(Either.getOrThrow(defaults)).toMatchObject({ maxAttempts: 3, retryBaseMs: 250 });
      const set = read(config as Config.Config<{ maxAttempts: number; retryBaseMs: number }>, {
        ...extra,
        [`${prefix}_MAX_ATTEMPTS`]: "1",
        [`${prefix}_RETRY_BASE_MS`]: "40",
      });
      expect(Either.getOrThrow(set)).toMatchObject({ maxAttempts: 1, retryBaseMs: 40 });
      const bad = read(config as Config.Config<unknown>, { ...extra, [`${prefix}_MAX_ATTEMPTS`]: "0" });
      expect(Either.isLeft(bad) && String(bad.left)).toMatch(
        new RegExp(`${prefix}_MAX_ATTEMPTS.*at least 1`),
      );
    }
  });
});
