import { Cause, Effect, Exit } from "effect";
import { describe, expect, it } from "vitest";
import { run } from "../src/commands/Run.js";

/** The error `leadflow run` stops with for these options (it stops before looking for a stack). */
const refusal = async (count: string, industry = "hospital") => {
  const exit = await Effect.runPromiseExit(
    Effect.scoped(
      run({ industry, location: "Buffalo, NY", count, wait: false, json: false, timeoutSeconds: 1 }),
    ),
  );
  if (Exit.isSuccess(exit)) throw new Error(`count ${count} was accepted`);
  return Cause.pretty(exit.cause);
};

describe("leadflow run refuses a bad request before publishing anything", () => {
  it.each([
    ["abc", 'count: Expected number, actual "abc"'],
    ["", 'count: Expected number, actual ""'],
    ["2.5", "count: count must be an integer"],
    ["0", "count: count must be between 1 and 1000"],
    ["1001", "count: count must be between 1 and 1000"],
  ])("--count %j", async (count, message) => {
    const error = await refusal(count);
    expect(error).toContain("invalid run request");
    expect(error).toContain(message);
  });

  it("names the field of an oversized industry", async () => {
    expect(await refusal("5", "x".repeat(500))).toContain("industry");
  });
});
