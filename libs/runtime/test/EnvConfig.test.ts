import { Config, Effect } from "effect";
import { describe, expect, it } from "vitest";
import { envConfigProvider } from "../src/Host.js";
import { baseUrlConfig } from "../src/ProviderLimits.js";

const read = <A>(config: Config.Config<A>, env: Record<string, string | undefined>) =>
  Effect.runSync(Effect.either(Effect.withConfigProvider(config, envConfigProvider(env))));

describe("envConfigProvider", () => {
  it("reads a blank or whitespace variable as unset: the default applies", () => {
    const port = Config.integer("PORT").pipe(Config.withDefault(8012));
    expect(read(port, { PORT: "" })).toEqual(read(port, {}));
    expect(read(port, { PORT: "  " })._tag).toBe("Right");
    expect((read(port, { PORT: " " }) as { right: number }).right).toBe(8012);
    const sources = Config.array(Config.string(), "SOURCES").pipe(Config.withDefault(["google", "yelp"]));
    expect((read(sources, { SOURCES: "" }) as { right: string[] }).right).toEqual(["google", "yelp"]);
  });

  it("reads set variables as the environment provider does (numbers, lists, names with underscores)", () => {
    expect(
      (read(Config.integer("DATABASE_POOL_MAX"), { DATABASE_POOL_MAX: "7" }) as { right: number }).right,
    ).toBe(7);
    const sources = Config.array(Config.string(), "ENRICHMENT_PHONE_SOURCES");
    expect(
      (read(sources, { ENRICHMENT_PHONE_SOURCES: "yelp,website" }) as { right: string[] }).right,
    ).toEqual(["yelp", "website"]);
    expect(read(Config.nested(Config.string("URL"), "NATS"), { NATS_URL: "nats://x:1" })).toMatchObject({
      right: "nats://x:1",
    });
  });

  it("still fails a required variable that is blank, naming it", () => {
    const result = read(Config.string("DATABASE_URL"), { DATABASE_URL: "" });
    expect(result._tag).toBe("Left");
    expect(String((result as { left: unknown }).left)).toContain("DATABASE_URL");
  });
});

describe("baseUrlConfig", () => {
  const url = baseUrlConfig("GOOGLE_PLACES_BASE_URL", "https://places.googleapis.com");
  it("defaults, takes an http(s) URL (without a trailing slash), and refuses anything else naming the variable", () => {
    expect(read(url, {})).toMatchObject({ right: "https://places.googleapis.com" });
    expect(read(url, { GOOGLE_PLACES_BASE_URL: "http://127.0.0.1:9999/google/" })).toMatchObject({
      right: "http://127.0.0.1:9999/google",
    });
    for (const bad of ["garbage", "ftp://x", "http://x/?q=1", "places.googleapis.com"]) {
      const result = read(url, { GOOGLE_PLACES_BASE_URL: bad });
      expect(result._tag, bad).toBe("Left");
      expect(String((result as { left: unknown }).left)).toContain(
        'GOOGLE_PLACES_BASE_URL: "must be an absolute http(s) URL',
      );
    }
  });
});
