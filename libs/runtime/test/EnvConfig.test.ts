import { Config, Effect } from "effect";
import { describe, expect, it } from "vitest";
import { envConfigProvider, failureLine } from "../src/Host.js";
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

describe("failureLine", () => {
  it("names the variable of a configuration error, once", () => {
    const port = read(Config.integer("PORT"), { PORT: "eighty" });
    expect(failureLine((port as { left: unknown }).left)).toBe(
      'PORT: Expected an integer value but received "eighty"',
    );
    const pool = Config.integer("DATABASE_POOL_MAX").pipe(
      Config.validate({
        message: "DATABASE_POOL_MAX must be a whole number from 1 to 100",
        validation: (n) => n >= 1,
      }),
    );
    expect(failureLine((read(pool, { DATABASE_POOL_MAX: "0" }) as { left: unknown }).left)).toBe(
      "DATABASE_POOL_MAX must be a whole number from 1 to 100",
    );
    const both = Config.all([Config.integer("PORT"), Config.string("DATABASE_URL")]);
    expect(failureLine((read(both, { PORT: "x" }) as { left: unknown }).left)).toBe(
      'PORT: Expected an integer value but received "x"; Expected DATABASE_URL to exist in the provided map',
    );
  });

  it("keeps a failure's reason from its cause", () => {
    const error = { message: "cannot connect to NATS at nats://x:1", cause: new Error("connection refused") };
    expect(failureLine(error)).toBe("cannot connect to NATS at nats://x:1: connection refused");
  });
});
