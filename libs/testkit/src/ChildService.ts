import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The command line's node entry (`node cli/bin/leadflow.js …`). */
export const cliBin = fileURLToPath(new URL("../../../cli/bin/leadflow.js", import.meta.url));

/** The `leadflow` launcher `npx leadflow` runs: it picks node's heap flags for the command. */
export const cliLauncher = fileURLToPath(new URL("../../../cli/bin/leadflow", import.meta.url));

/**
 * The node options the launcher would start `leadflow <args>` with in `env`, so children started
 * with `process.execPath` run the way `npx leadflow` runs (asked of the launcher itself: one rule).
 */
export const cliNodeArgs = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ReadonlyArray<string> => {
  const out = execFileSync(cliLauncher, [...args], {
    env: { ...env, LEADFLOW_PRINT_NODE_ARGS: "1" },
    encoding: "utf8",
  }).trim();
  return out === "" ? [] : out.split(/\s+/);
};

export interface ChildService {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  readonly kill: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Runs `leadflow <args>` as a child process with extra environment; output is kept for failures. */
export const spawnLeadflow = (args: ReadonlyArray<string>, env: Record<string, string>): ChildService => {
  const childEnv = { ...process.env, LOG_LEVEL: "warn", ...env };
  const child = spawn(process.execPath, [...cliNodeArgs(args, childEnv), cliBin, ...args], {
    env: childEnv,
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
