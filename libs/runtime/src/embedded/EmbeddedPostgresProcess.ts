import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { EmbeddedPostgres } from "./EmbeddedPostgres.js";

const childScript = fileURLToPath(new URL("./EmbeddedPostgresChild.js", import.meta.url));

/**
 * How the child runs. V8 compiles PGlite's 9 MB of WebAssembly lazily with its baseline
 * compiler (Liftoff) and, as usual, recompiles the functions that turn out hot with TurboFan:
 * Postgres's executor, parser and planner are CPU-bound code, and the optimised tier made the
 * 10 × 1,000-company run on PGlite ≈ 25 % faster (1,894 → 2,363 companies/s, medians of three
 * interleaved rounds of two runs each, 24 Nov) than `--liftoff-only`, which this child had for
 * its memory.
 *
 * What that memory was: TurboFan's scratch memory, freed after each compilation but kept by
 * glibc, whose trim threshold rises with the first large free and whose compile threads each
 * get an arena (child ≈ 170 → 185 – 220 MB). So the child gets one V8 worker thread
 * (`--v8-pool-size=1`: compilations queue on it instead of competing for two cores), one malloc
 * arena and a fixed trim threshold, which hands freed memory back: 165 – 179 MB, as with
 * `--liftoff-only` (the same rounds). glibc reads the variables at start; other C libraries
 * ignore them.
 */
const childNodeOptions = ["--v8-pool-size=1"];
const childEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  MALLOC_ARENA_MAX: "1",
  MALLOC_TRIM_THRESHOLD_: String(128 * 1024),
});

/**
 * Embedded PGlite in a child process of its own: its WebAssembly heap and its CPU
 * (the database runs on its thread) stay out of the process that runs the services, which then
 * gets a core of its own. Same interface as `startEmbeddedPostgres`; the child stops with
 * `stop()`, or by itself when the parent dies.
 */
export const startEmbeddedPostgresProcess = (options: {
  readonly dataDir: string;
}): Promise<EmbeddedPostgres & { readonly pid: number | undefined }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childNodeOptions, childScript, options.dataDir], {
      stdio: ["pipe", "pipe", "pipe"],
      env: childEnv(),
    });
    let stdout = "";
    let stderr = "";
    let ready = false;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.stdout.on("data", (chunk: Buffer) => {
      if (ready) return;
      stdout += chunk.toString();
      const line = /READY (\S+)\n/.exec(stdout);
      if (!line) return;
      ready = true;
      const url = line[1]!;
      let stopping: Promise<void> | undefined;
      resolve({
        url,
        port: Number(new URL(url).port),
        pid: child.pid,
        stop: () => {
          stopping ??= (async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
            await exited;
            clearTimeout(timer);
          })();
          return stopping;
        },
      });
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (!ready) reject(new Error(`embedded postgres exited with ${code} before it was ready: ${stderr}`));
    });
  });
