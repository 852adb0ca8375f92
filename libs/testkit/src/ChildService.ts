import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The `leadflow` bin. */
export const cliBin = fileURLToPath(new URL("../../../cli/bin/leadflow.js", import.meta.url));

/**
 * The node options of the bin's shebang (`#!/usr/bin/env -S node …`), so children started with
 * `process.execPath` run the way `npx leadflow` runs.
 */
export const cliNodeArgs = (): ReadonlyArray<string> => {
  const first = readFileSync(cliBin, "utf8").split("\n", 1)[0] ?? "";
  const match = /^#!\S*env\s+-S\s+node\s+(.*)$/.exec(first);
  return match?.[1] ? match[1].trim().split(/\s+/) : [];
};

export interface ChildService {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  readonly kill: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Runs `leadflow <args>` as a child process with extra environment; output is kept for failures. */
export const spawnLeadflow = (args: ReadonlyArray<string>, env: Record<string, string>): ChildService => {
  const child = spawn(process.execPath, [...cliNodeArgs(), cliBin, ...args], {
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
