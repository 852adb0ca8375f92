import { ConfigProvider, Effect, Either } from "effect";
import { describe, expect, it } from "vitest";
import { orchestratorConfig } from "../src/OrchestratorConfig.js";

const read = (env: Record<string, string>) =>
  Effect.runSync(
    Effect.either(orchestratorConfig).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    ),
  );

describe("orchestrator settings", () => {
  it("defaults: 3 attempts, 2 s retry base, chunks of 250, the stage deadlines, a 5 s sweep", () => {
    expect(Either.getOrThrow(read({}))).toEqual({
      maxAttempts: 3,
      retryBaseMs: 2000,
      chunkSize: 250,
      deadlineMs: { scout: 300_000, analyst: 120_000, enrichment: 900_000, writer: 600_000 },
      sweepIntervalMs: 5000,
    });
  });

  it("refuses times that would spin or time every task out, naming the variable", () => {
    for (const [name, value] of [
      ["RUN_SWEEP_INTERVAL_MS", "0"],
      ["RUN_SWEEP_INTERVAL_MS", "-5"],
      ["RUN_RETRY_BASE_MS", "-5"],
      ["STAGE_DEADLINE_SCOUT_MS", "-1"],
      ["STAGE_DEADLINE_WRITER_MS", "0"],
      ["STAGE_DEADLINE_ANALYST_MS", "90000000"],
    ] as const) {
      const result = read({ [name]: value });
      expect(Either.isLeft(result) && String(result.left), `${name}=${value}`).toContain(
        `${name} must be a whole number of milliseconds`,
      );
    }
    expect(Either.getOrThrow(read({ RUN_RETRY_BASE_MS: "0", RUN_SWEEP_INTERVAL_MS: "100" }))).toMatchObject({
      retryBaseMs: 0,
      sweepIntervalMs: 100,
    });
  });
});
