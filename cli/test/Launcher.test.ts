import { execFile } from "node:child_process";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { cliLauncher, cliNodeArgs } from "@leadflow/testkit";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const { DATABASE_URL: _omit, ...envWithoutDb } = process.env;

describe("the leadflow launcher (cli/bin/leadflow)", () => {
  const dirs: Array<string> = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("gives `dev` on embedded PGlite the small heap and every other command V8's defaults", () => {
    expect(cliNodeArgs(["dev"], envWithoutDb)).toEqual([
      "--max-semi-space-size=4",
      "--max-old-space-size=192",
    ]);
    expect(cliNodeArgs(["dev", "--port", "0"], { ...envWithoutDb, DATABASE_URL: "" })).toEqual([
      "--max-semi-space-size=4",
      "--max-old-space-size=192",
    ]);
    expect(cliNodeArgs(["dev"], { ...envWithoutDb, DATABASE_URL: "postgres://127.0.0.1/x" })).toEqual([]);
    for (const command of ["run", "status", "service", "migrate", "approvals", "--help"]) {
      expect(cliNodeArgs([command], envWithoutDb)).toEqual([]);
    }
  });

  it("runs the command line through a symlink, as npm's .bin links it, passing arguments through", async () => {
    const dir = await mkdtemp(join(tmpdir(), "leadflow-launcher-"));
    dirs.push(dir);
    const link = join(dir, "leadflow");
    await symlink(cliLauncher, link);
    const { stdout } = await run(link, ["--help"], { env: envWithoutDb });
    expect(stdout).toContain("leadflow — the Leadflow command line");
    const failed = await run(link, ["no-such-command"], { env: envWithoutDb }).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('unknown command "no-such-command"');
  });
});
