import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { EmbeddedPostgres } from "./EmbeddedPostgres.js";

const childScript = fileURLToPath(new URL("./EmbeddedPostgresChild.js", import.meta.url));

/**
 * Node options of the child. `--liftoff-only`: V8 compiles PGlite's 9 MB of WebAssembly once
 * with its baseline compiler and never again with the optimising one, whose second copy of the
 * code is most of the process (≈ 215 → 135 MB after a workload, measured); Postgres spends its
 * time in I/O and small queries here, not in tight loops where optimised code would pay.
 */
const childNodeOptions = ["--liftoff-only"];

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
