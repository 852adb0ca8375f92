import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, NatsServerProcess } from "@leadflow/runtime/embedded";
import {
  adminUrl,
  type ChildService,
  createTestDatabase,
  createTestNats,
  spawnLeadflow,
  startTcpForwarder,
  type TestDatabase,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

// A service started before its database or its NATS server (Kubernetes and compose start them in
// any order) waits for them, saying why, within STARTUP_WAIT_MS; then it gives up in one line.

let dataDir: string;
let db: TestDatabase;
let nats: TestNats;
const children: Array<ChildService> = [];
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "leadflow-startup-"));
  db = await createTestDatabase();
  nats = await createTestNats();
});

afterEach(async () => {
  for (const c of children.splice(0)) await c.kill("SIGKILL");
  for (const clean of cleanups.splice(0)) await clean();
});

afterAll(async () => {
  await nats?.stop();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

/** `db.url` on another port of 127.0.0.1, where a forwarder may (later) listen. */
const databaseUrlOn = (port: number) => {
  const url = new URL(db.url);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return url.toString();
};

/** A TCP forwarder on `port` to the test PostgreSQL: the database "coming up" there. */
const forwardToPostgres = async (port: number) => {
  const target = new URL(adminUrl());
  const forwarder = await startTcpForwarder(Number(target.port || 5432), {
    targetHost: target.hostname,
    port,
  });
  cleanups.push(forwarder.close);
  return forwarder;
};

const start = (env: Record<string, string>) => {
  const service = spawnLeadflow(["service", "analyst"], {
    LEADFLOW_DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    PORT: "0",
    LOG_LEVEL: "info",
    ...env,
  });
  children.push(service);
  return service;
};

const waitLines = (service: ChildService, dependency: string) =>
  service
    .output()
    .split("\n")
    .filter((l) => l.includes(`"message":"waiting for ${dependency}"`))
    .map((l) => JSON.parse(l) as { logLevel: string; annotations: Record<string, unknown> });

const readyPort = (service: ChildService) => {
  const line = service
    .output()
    .split("\n")
    .find((l) => l.includes('"message":"service started"'));
  return line ? Number((JSON.parse(line) as { annotations: { port: number } }).annotations.port) : undefined;
};

const becomesReady = async (service: ChildService, what: string) => {
  const port = await waitFor(() => readyPort(service), { what, timeoutMs: 25_000 }).catch((e) => {
    throw new Error(`${e.message}\n${service.output()}`);
  });
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  expect(res.status).toBe(200);
};

describe("PostgreSQL not there yet", () => {
  it("is waited for, one warning line per refused attempt with the reason and the next pause; then the service is ready", async () => {
    const port = await freePort();
    const service = start({ DATABASE_URL: databaseUrlOn(port) });
    // two refusals (1 s apart) before the database "starts"
    await waitFor(() => waitLines(service, "PostgreSQL").length >= 2, {
      what: "two refused attempts logged",
      timeoutMs: 20_000,
    }).catch((e) => {
      throw new Error(`${e.message}\n${service.output()}`);
    });
    const [first, second] = waitLines(service, "PostgreSQL");
    expect(first).toMatchObject({ logLevel: "WARN", annotations: { attempt: 1, retryInMs: 1000 } });
    expect(String(first!.annotations.reason)).toContain("ECONNREFUSED");
    expect(second).toMatchObject({ annotations: { attempt: 2, retryInMs: 2000 } });
    await forwardToPostgres(port);
    await becomesReady(service, "service started once the database answers");
    expect(service.output()).toContain('"message":"PostgreSQL answered"');
    expect(await service.kill("SIGTERM")).toBe(0);
  });

  it("is given up on after STARTUP_WAIT_MS: exit 1 and one line with the reason", async () => {
    const port = await freePort();
    const started = Date.now();
    const service = start({ DATABASE_URL: databaseUrlOn(port), STARTUP_WAIT_MS: "2500" });
    const code = await service.exited;
    expect(code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    expect(service.output()).toMatch(
      /"level":"FATAL","message":"PostgreSQL did not answer within STARTUP_WAIT_MS \(gave up after \d+ s, \d attempts\): connect ECONNREFUSED 127\.0\.0\.1:\d+"/,
    );
    expect(waitLines(service, "PostgreSQL").length).toBeGreaterThanOrEqual(2);
  });

  it("a database that does not exist is not waited for: the reason at once", async () => {
    const url = new URL(db.url);
    url.pathname = "/lf_test_absent_startup";
    const started = Date.now();
    const service = start({ DATABASE_URL: url.toString(), STARTUP_WAIT_MS: "60000" });
    expect(await service.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(service.output()).toContain(
      '"message":"cannot connect to PostgreSQL: database \\"lf_test_absent_startup\\" does not exist (3D000)"',
    );
    expect(waitLines(service, "PostgreSQL")).toHaveLength(0);
  });
});

describe("NATS not there yet", () => {
  it("is waited for the same way; then the service is ready", async () => {
    const port = await freePort();
    const service = start({ NATS_URL: `nats://127.0.0.1:${port}` });
    await waitFor(() => waitLines(service, "NATS").length >= 2, {
      what: "two refused NATS connections logged",
      timeoutMs: 20_000,
    }).catch((e) => {
      throw new Error(`${e.message}\n${service.output()}`);
    });
    expect(String(waitLines(service, "NATS")[0]!.annotations.reason)).toContain("ECONNREFUSED");
    const dir = await mkdtemp(join(tmpdir(), "leadflow-nats-late-"));
    const late = await NatsServerProcess.create({ dataDir: dir, port });
    cleanups.push(async () => {
      await late.stop();
      await rm(dir, { recursive: true, force: true });
    });
    await becomesReady(service, "service started once NATS answers");
    expect(service.output()).toContain('"message":"NATS answered"');
    expect(await service.kill("SIGTERM")).toBe(0);
  });

  it("is given up on after STARTUP_WAIT_MS with one line naming the server", async () => {
    const port = await freePort();
    const service = start({ NATS_URL: `nats://127.0.0.1:${port}`, STARTUP_WAIT_MS: "2500" });
    expect(await service.exited).toBe(1);
    expect(service.output()).toMatch(
      new RegExp(
        `"level":"FATAL","message":"NATS at nats://127\\.0\\.0\\.1:${port} did not answer within STARTUP_WAIT_MS \\(gave up after \\d+ s, \\d attempts\\): connection refused"`,
      ),
    );
  });
});

it("a bad STARTUP_WAIT_MS stops the service before it connects to anything, naming the variable", async () => {
  const service = start({ STARTUP_WAIT_MS: "soon" });
  expect(await service.exited).toBe(1);
  expect(service.output()).toContain("STARTUP_WAIT_MS");
  expect(waitLines(service, "PostgreSQL")).toHaveLength(0);
});
