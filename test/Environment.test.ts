import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  adminUrl,
  type ChildService,
  createTestDatabase,
  runLeadflow,
  spawnLeadflow,
  type TestDatabase,
  waitFor,
} from "@leadflow/testkit";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The environment as real processes read it: blank variables, NATS credentials, a pool size,
// and the commands that need only some of the connections.

let dataDir: string;
let db: TestDatabase;
let nats: { url: string; child: ChildProcess; dir: string };
const children: Array<ChildService> = [];

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });

/** A nats-server that wants a user and password, as the Kubernetes secret's NATS_USER/NATS_PASSWORD. */
const startAuthNats = async () => {
  const dir = await mkdtemp(join(tmpdir(), "leadflow-nats-auth-"));
  const port = await freePort();
  const child = spawn(
    "nats-server",
    ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir, "--user", "leadflow", "--pass", "s3cret"],
    { stdio: "ignore" },
  );
  const url = `nats://127.0.0.1:${port}`;
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = createServer();
        s.once("error", () => resolve(true));
        s.listen(port, "127.0.0.1", () => s.close(() => resolve(false)));
      }),
    { what: "nats-server with auth up", timeoutMs: 10_000 },
  );
  return { url, child, dir };
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "leadflow-env-"));
  db = await createTestDatabase();
  nats = await startAuthNats();
});

afterAll(async () => {
  for (const c of children) await c.kill("SIGKILL");
  nats?.child.kill("SIGKILL");
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
  if (nats) await rm(nats.dir, { recursive: true, force: true });
});

// no stack file to fall back on, and nothing from the shell that runs the tests
const base = () => ({ LEADFLOW_DATA_DIR: dataDir, DATABASE_URL: "", NATS_URL: "", LOG_LEVEL: "warn" });
const withCredentials = () => ({
  ...base(),
  DATABASE_URL: db.url,
  NATS_URL: nats.url,
  NATS_USER: "leadflow",
  NATS_PASSWORD: "s3cret",
});

describe("NATS credentials", () => {
  it("are used by the command line's own connections (dlq list), and their absence is a clear error", async () => {
    const ok = await runLeadflow(["dlq", "list"], withCredentials());
    expect(ok.output).not.toContain("leadflow:");
    expect(ok.code).toBe(0);

    const denied = await runLeadflow(["dlq", "list"], { ...withCredentials(), NATS_PASSWORD: "wrong" });
    expect(denied.code).toBe(1);
    expect(denied.output).toMatch(/leadflow: cannot connect to NATS/);
  });

  it("are used by `leadflow dev` on an external NATS", async () => {
    const dev = spawnLeadflow(["dev", "--port", "0"], { ...withCredentials(), LOG_LEVEL: "info" });
    children.push(dev);
    await waitFor(() => dev.output().includes("Leadflow dev stack is running"), {
      what: "dev stack up on an authenticated NATS",
      timeoutMs: 60_000,
    }).catch((e) => {
      throw new Error(`${e.message}\n${dev.output()}`);
    });
    expect(await dev.kill("SIGTERM")).toBe(0);
  });
});

describe("blank variables", () => {
  it("count as unset in a service: blank numbers and lists take their defaults, not 0 or nothing", async () => {
    // with Effect's plain environment provider a blank ENRICHMENT_CONCURRENCY is "" and fails
    // validation, a blank DATABASE_POOL_MAX too, and a blank LOG_LEVEL is not a level
    const service = spawnLeadflow(["service", "enrichment"], {
      ...withCredentials(),
      PORT: "0",
      LOG_LEVEL: "",
      ENRICHMENT_CONCURRENCY: "",
      ENRICHMENT_PHONE_SOURCES: " ",
      DATABASE_POOL_MAX: "",
    });
    children.push(service);
    await waitFor(() => service.output().includes('"message":"service started"'), {
      what: "enrichment service started",
      timeoutMs: 60_000,
    }).catch((e) => {
      throw new Error(`${e.message}\n${service.output()}`);
    });
    expect(await service.kill("SIGTERM")).toBe(0);
  });

  it("a bad pool size or port stops the process with a message that names the variable", async () => {
    const pool = await runLeadflow(["service", "analyst"], {
      ...withCredentials(),
      PORT: "0",
      DATABASE_POOL_MAX: "0",
    });
    expect(pool.code).not.toBe(0);
    expect(pool.output).toContain("DATABASE_POOL_MAX must be a whole number from 1 to 100");

    const port = await runLeadflow(["service", "analyst"], { ...withCredentials(), PORT: "70000" });
    expect(port.code).not.toBe(0);
    expect(port.output).toContain("PORT must be a whole number from 0 to 65535");

    // a port another process holds: one line naming it, not an unhandled 'error' event
    const holder = createServer();
    const held = await new Promise<number>((resolve) =>
      holder.listen(0, "0.0.0.0", () => resolve((holder.address() as { port: number }).port)),
    );
    try {
      const busy = await runLeadflow(["service", "analyst"], { ...withCredentials(), PORT: String(held) });
      expect(busy.code).toBe(1);
      expect(busy.output).toContain(`port ${held} on 0.0.0.0 is in use (PORT / --port)`);
      expect(busy.output).not.toContain("Unhandled 'error' event");
    } finally {
      holder.close();
    }

    const devPort = await runLeadflow(["dev", "--port", "eighty"], base());
    expect(devPort.code).toBe(2);
    expect(devPort.output).toContain('--port (or PORT) must be a whole number from 0 to 65535, got "eighty"');
  });
});

describe("files, folders and lifetimes", () => {
  it("that cannot work stop the service at start with one line naming the variable, not each run or email later", async () => {
    const file = join(dataDir, "a-file");
    await writeFile(file, "");
    const cases: Array<[string, Record<string, string>, string]> = [
      [
        "notifier",
        { NOTIFIER_OUTBOX_DIR: join(file, "outbox") },
        `"message":"NOTIFIER_OUTBOX_DIR: the file outbox (neither SMTP_URL nor SENDGRID_API_KEY is set) cannot use ${join(file, "outbox")}: ENOTDIR`,
      ],
      [
        "scout",
        { SCOUT_SOURCES: "csv", SCOUT_CSV_PATH: join(dataDir, "missing.csv") },
        `"message":"SCOUT_CSV_PATH: ${join(dataDir, "missing.csv")} does not exist"`,
      ],
      [
        "enrichment",
        { ENRICHMENT_CACHE_TTL_NOT_FOUND: "-1 days" },
        '"message":"ENRICHMENT_CACHE_TTL_NOT_FOUND: must be a positive duration of at most 3650 days',
      ],
    ];
    for (const [service, env, line] of cases) {
      const result = await runLeadflow(["service", service], { ...withCredentials(), PORT: "0", ...env });
      expect(result.code, service).toBe(1);
      expect(result.output, service).toContain(line);
    }
    // the links `leadflow approvals` signs follow the notifier's LINK_TTL rule: "0 days" is no link
    const approvals = await runLeadflow(["approvals"], { ...withCredentials(), LINK_TTL: "0 days" });
    expect(approvals.code).toBe(1);
    expect(approvals.output).toContain("leadflow: LINK_TTL: must be between 1 minute and 90 days");
  });
});

describe("leadflow migrate", () => {
  it("needs only the database: no NATS_URL, no stack", async () => {
    const name = `lf_test_migrate_${randomBytes(4).toString("hex")}`;
    const admin = postgres(adminUrl(), { max: 1, onnotice: () => undefined });
    await admin.unsafe(`create database ${name}`);
    try {
      const url = new URL(adminUrl());
      url.pathname = `/${name}`;
      const result = await runLeadflow(["migrate"], { ...base(), DATABASE_URL: url.toString() });
      expect(result.output).toMatch(/applied 0001_initial/);
      expect(result.code).toBe(0);
      const again = await runLeadflow(["migrate"], { ...base(), DATABASE_URL: url.toString() });
      expect(again.output).toMatch(/up to date/);
      expect(existsSync(join(dataDir, "stack.json"))).toBe(false);
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    }
  });

  it('says why the database refused: the driver\'s reason, not just "migration failed"; a malformed URL is named', async () => {
    const missing = new URL(adminUrl());
    missing.pathname = `/lf_test_absent_${randomBytes(4).toString("hex")}`;
    const absent = await runLeadflow(["migrate"], { ...base(), DATABASE_URL: missing.toString() });
    expect(absent.code).toBe(1);
    expect(absent.output).toMatch(
      /leadflow: migration failed: database "lf_test_absent_\w+" does not exist \(3D000\)/,
    );
    const garbage = await runLeadflow(["migrate"], { ...base(), DATABASE_URL: "garbage" });
    expect(garbage.output).toContain("leadflow: DATABASE_URL is not a postgres:// (or postgresql://) URL");
    const service = await runLeadflow(["service", "analyst"], {
      ...withCredentials(),
      DATABASE_URL: "garbage",
    });
    expect(service.code).toBe(1);
    expect(service.output).toContain('"message":"DATABASE_URL is not a postgres:// (or postgresql://) URL"');
  });

  it("without any database says how to get one", async () => {
    const result = await runLeadflow(["migrate"], base());
    expect(result.code).toBe(1);
    expect(result.output).toContain("or set DATABASE_URL.");
    expect(result.output).not.toContain("NATS_URL");
  });
});
