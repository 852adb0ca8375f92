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

export const orchestratorConfig: Config.Config<OrchestratorSettings> = Config.all({
  maxAttempts: Config.integer("RUN_MAX_ATTEMPTS").pipe(
    Config.withDefault(3),
    Config.validate({ message: "RUN_MAX_ATTEMPTS must be 1..10", validation: (n) => n >= 1 && n <= 10 }),
  ),
  retryBaseMs: Config.integer("RUN_RETRY_BASE_MS").pipe(Config.withDefault(2000)),
  chunkSize: Config.integer("RUN_CHUNK_SIZE").pipe(
    Config.withDefault(250),
    Config.validate({ message: "RUN_CHUNK_SIZE must be 1..5000", validation: (n) => n >= 1 && n <= 5000 }),
  ),
  deadlineMs: Config.all({
    scout: Config.integer("STAGE_DEADLINE_SCOUT_MS").pipe(Config.withDefault(5 * 60_000)),
    analyst: Config.integer("STAGE_DEADLINE_ANALYST_MS").pipe(Config.withDefault(2 * 60_000)),
    enrichment: Config.integer("STAGE_DEADLINE_ENRICHMENT_MS").pipe(Config.withDefault(15 * 60_000)),
    writer: Config.integer("STAGE_DEADLINE_WRITER_MS").pipe(Config.withDefault(10 * 60_000)),
  }),
  sweepIntervalMs: Config.integer("RUN_SWEEP_INTERVAL_MS").pipe(Config.withDefault(5000)),
});

export class OrchestratorConfig extends Context.Tag("leadflow/Orchestrator/OrchestratorConfig")<
  OrchestratorConfig,
  OrchestratorSettings
>() {}

export const OrchestratorConfigLive = Layer.effect(OrchestratorConfig, orchestratorConfig);
