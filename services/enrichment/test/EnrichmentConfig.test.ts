import { ConfigProvider, Effect, Either } from "effect";
import { describe, expect, it } from "vitest";
import { enrichmentConcurrencyConfig } from "../src/EnrichmentConfig.js";

const read = (env: Record<string, string>) =>
  Effect.runSync(
    Effect.either(enrichmentConcurrencyConfig).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    ),
  );

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
