import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChildService, runLeadflow, spawnLeadflow, waitFor } from "@leadflow/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";

// `leadflow dev` with no environment: embedded PGlite and a nats-server child, then a second
// "terminal" that finds the stack through .data/stack.json — the README's first command.
let dataDir: string;
let dev: ChildService;
const env = () => ({ LEADFLOW_DATA_DIR: dataDir, DATABASE_URL: "", NATS_URL: "" });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "leadflow-embedded-"));
  dev = spawnLeadflow(["dev", "--port", "0"], env());
  await waitFor(() => existsSync(join(dataDir, "stack.json")), {
    what: "dev stack up",
    timeoutMs: 60_000,
  }).catch((e) => {
    throw new Error(`${e.message}\n${dev.output()}`);
  });
});

const childrenOf = (pid: number | undefined) =>
  execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" })
    .trim()
    .split("\n")
    .filter(Boolean);

afterAll(async () => {
  const kids = childrenOf(dev.child.pid);
  // the stack's own processes: embedded Postgres and nats-server
  expect(kids.some((k) => k.includes("EmbeddedPostgresChild"))).toBe(true);
  expect(kids.some((k) => k.includes("nats-server"))).toBe(true);
  const code = await dev?.kill("SIGTERM");
  expect(code).toBe(0);
  expect(existsSync(join(dataDir, "stack.json"))).toBe(false);
  // and they stopped with it
  const left = execFileSync("ps", ["-eo", "args="], { encoding: "utf8" })
    .split("\n")
    .filter((a) => a.includes(dataDir));
  expect(left).toEqual([]);
  await rm(dataDir, { recursive: true, force: true });
});

it("runs 50 hospitals in Buffalo to 50 scored leads and a pending leads approval, on embedded defaults", async () => {
  const run = await runLeadflow(
    [
      "run",
      "--industry",
      "hospital",
      "--location",
      "Buffalo, NY",
      "--count",
      "50",
      "--request-id",
      "embedded-1",
      "--wait",
    ],
    env(),
  );
  expect(run.code, run.output).toBe(0);
  expect(run.output).toContain("awaiting_approval");
  expect(run.output).toContain("leads pending (50 items)");

  const status = await runLeadflow(["status", "embedded-1", "--json"], env());
  expect(status.code, status.output).toBe(0);
  const body = JSON.parse(status.output.trim().split("\n").at(-1)!);
  expect(body).toMatchObject({ runId: "embedded-1", status: "awaiting_approval", stage: null });
  expect(body.summary.companies.found).toBe(50);
  const { high, medium, low } = body.summary.leads;
  expect(high + medium + low).toBe(50);
  expect(body.summary.approvals).toEqual([
    expect.objectContaining({ type: "leads", status: "pending", items: 50 }),
  ]);
  expect(body.summary.companies.sampleData).toBe(true);

  const migrate = await runLeadflow(["migrate"], env());
  expect(migrate.output).toContain("up to date");
  const unknown = await runLeadflow(["status", "no-such-run"], env());
  expect(unknown.code).toBe(2);
}, 120_000);
