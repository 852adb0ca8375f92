import { Config, Context, Layer } from "effect";

export interface OrchestratorSettings {
  /** Attempts per task before a run fails (the original's retry chain). */
  readonly maxAttempts: number;
  /** First retry delay; later ones double, with jitter. */
  readonly retryBaseMs: number;
  /** Companies per stage command: big runs fan out in chunks and fan in by counting in Postgres. */
  readonly chunkSize: number;
  /** How long a stage task may take before it counts as failed. */
  readonly deadlineMs: {
    readonly scout: number;
    readonly analyst: number;
    readonly enrichment: number;
    readonly writer: number;
  };
  readonly sweepIntervalMs: number;
}

/** A whole number of milliseconds in `[min, max]`, the variable named when it is not. */
const millis = (name: string, fallback: number, min: number, max: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({
      message: `${name} must be a whole number of milliseconds from ${min} to ${max}`,
      validation: (n) => n >= min && n <= max,
    }),
  );

const hour = 3_600_000;

export const orchestratorConfig: Config.Config<OrchestratorSettings> = Config.all({
  maxAttempts: Config.integer("RUN_MAX_ATTEMPTS").pipe(
    Config.withDefault(3),
    Config.validate({ message: "RUN_MAX_ATTEMPTS must be 1..10", validation: (n) => n >= 1 && n <= 10 }),
  ),
  retryBaseMs: millis("RUN_RETRY_BASE_MS", 2000, 0, hour),
  chunkSize: Config.integer("RUN_CHUNK_SIZE").pipe(
    Config.withDefault(250),
    Config.validate({ message: "RUN_CHUNK_SIZE must be 1..5000", validation: (n) => n >= 1 && n <= 5000 }),
  ),
  // a deadline under 100 ms would time every task out; over a day, a stuck task is never noticed
  deadlineMs: Config.all({
    scout: millis("STAGE_DEADLINE_SCOUT_MS", 5 * 60_000, 100, 24 * hour),
    analyst: millis("STAGE_DEADLINE_ANALYST_MS", 2 * 60_000, 100, 24 * hour),
    enrichment: millis("STAGE_DEADLINE_ENRICHMENT_MS", 15 * 60_000, 100, 24 * hour),
    writer: millis("STAGE_DEADLINE_WRITER_MS", 10 * 60_000, 100, 24 * hour),
  }),
  // 0 would sweep the deadlines in a loop against Postgres
  sweepIntervalMs: millis("RUN_SWEEP_INTERVAL_MS", 5000, 50, hour),
});

export class OrchestratorConfig extends Context.Tag("leadflow/Orchestrator/OrchestratorConfig")<
  OrchestratorConfig,
  OrchestratorSettings
>() {}

export const OrchestratorConfigLive = Layer.effect(OrchestratorConfig, orchestratorConfig);
