import { type Config, ConfigProvider, Duration, Effect, Either } from "effect";
import { describe, expect, it } from "vitest";
import { cacheTtlConfig, enrichmentConcurrencyConfig } from "../src/EnrichmentConfig.js";

const readConfig = <A>(config: Config.Config<A>, env: Record<string, string>) =>
  Effect.runSync(
    Effect.either(config).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    ),
  );

const read = (env: Record<string, string>) => readConfig(enrichmentConcurrencyConfig, env);

describe("ENRICHMENT_CONCURRENCY", () => {
  it("defaults to 16 and takes 1 – 256", () => {
    expect(read({})).toEqual(Either.right(16));
    expect(read({ ENRICHMENT_CONCURRENCY: "1" })).toEqual(Either.right(1));
    expect(read({ ENRICHMENT_CONCURRENCY: "256" })).toEqual(Either.right(256));
  });

  it.each(["0", "-4", "257", "2.5", "lots"])("refuses %j, naming the variable", (value) => {
    const result = read({ ENRICHMENT_CONCURRENCY: value });
    expect(Either.isLeft(result)).toBe(true);
    if (Either.isLeft(result)) expect(String(result.left)).toContain("ENRICHMENT_CONCURRENCY");
  });
});

describe("ENRICHMENT_CACHE_TTL_FOUND / _NOT_FOUND", () => {
  const ttls = (env: Record<string, string>) =>
    Either.map(readConfig(cacheTtlConfig, env), (t) => [
      Duration.toMillis(t.found),
      Duration.toMillis(t.notFound),
    ]);

  it("default to 30 and 7 days and take any positive duration up to 3650 days", () => {
    expect(ttls({})).toEqual(Either.right([Duration.toMillis("30 days"), Duration.toMillis("7 days")]));
    expect(
      ttls({ ENRICHMENT_CACHE_TTL_FOUND: "3650 days", ENRICHMENT_CACHE_TTL_NOT_FOUND: "90 minutes" }),
    ).toEqual(Either.right([Duration.toMillis("3650 days"), Duration.toMillis("90 minutes")]));
  });

  it.each([
    ["ENRICHMENT_CACHE_TTL_FOUND", "0 days"],
    ["ENRICHMENT_CACHE_TTL_FOUND", "-1 days"],
    ["ENRICHMENT_CACHE_TTL_NOT_FOUND", "0 seconds"],
    ["ENRICHMENT_CACHE_TTL_NOT_FOUND", "-7 days"],
    ["ENRICHMENT_CACHE_TTL_FOUND", "3651 days"],
    ["ENRICHMENT_CACHE_TTL_NOT_FOUND", "7"],
  ])("refuses %s=%j, naming the variable", (variable, value) => {
    const result = ttls({ [variable]: value });
    expect(Either.isLeft(result)).toBe(true);
    if (Either.isLeft(result)) expect(String(result.left)).toContain(variable);
  });
});
