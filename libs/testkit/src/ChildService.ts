import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../../cli/bin/leadflow.js", import.meta.url));

export interface ChildService {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  readonly kill: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Runs `leadflow <args>` as a child process with extra environment; output is kept for failures. */
export const spawnLeadflow = (args: ReadonlyArray<string>, env: Record<string, string>): ChildService => {
  const child = spawn(process.execPath, [cli, ...args], {
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : null))),
  );
  return {
    child,
    output: () => out,
    exited,
    kill: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
};

/** Runs `leadflow <args>` to completion and returns its exit code and output. */
export const runLeadflow = async (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const s = spawnLeadflow(args, env);
  const code = await s.exited;
  return { code, output: s.output() };
};
