import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { EmbeddedPostgres } from "./EmbeddedPostgres.js";

const childScript = fileURLToPath(new URL("./EmbeddedPostgresChild.ts", import.meta.url));
// the child runs TypeScript like its parent; resolved from here, not from the working directory
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/**
 * Embedded PGlite in a child process of its own: its WebAssembly heap (~150 MB) and its CPU
 * (the database runs on its thread) stay out of the process that runs the services, which then
 * gets a core of its own. Same interface as `startEmbeddedPostgres`; the child stops with
 * `stop()`, or by itself when the parent dies.
 */
export const startEmbeddedPostgresProcess = (options: {
  readonly dataDir: string;
}): Promise<EmbeddedPostgres & { readonly pid: number | undefined }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", tsxLoader, childScript, options.dataDir], {
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
