import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MonitorPlugin } from "@leadflow/monitor";
import {
  createTestDatabase,
  createTestNats,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * A real Prometheus (Debian's package) scrapes the monitor's /metrics, and a PromQL query
 * through its HTTP API returns the status counts this test seeded.
 */
const PROMETHEUS = "/usr/bin/prometheus";
const present = existsSync(PROMETHEUS);

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

let db: TestDatabase;
let nats: TestNats;
let host: TestHost;
let prometheus: ChildProcess | undefined;
let promLog = "";
let dir: string;
let promUrl: string;

const seeded: Record<string, number> = { new: 4, scored: 2, contacted: 1, won: 3 };

describe.skipIf(!present)("Prometheus scrapes the monitor", () => {
  beforeAll(async () => {
    [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
    for (const [status, n] of Object.entries(seeded)) {
      await db.sql`insert into companies (name, industry, dedupe_key, source, status)
        select 'Company ' || g, 'hospital', ${status} || '-' || g, 'test', ${status} from generate_series(1, ${n}) g`;
    }
    process.env.MONITOR_REFRESH_INTERVAL = "250 millis";
    host = await startTestHost([MonitorPlugin], {
      databaseUrl: db.url,
      natsUrl: nats.url,
      name: "monitor",
      port: 0,
    });
    dir = await mkdtemp(join(tmpdir(), "leadflow-prom-"));
    const config = join(dir, "prometheus.yml");
    await writeFile(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "scrape_configs:",
        "  - job_name: leadflow-monitor",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${host.port}"]`,
        "",
      ].join("\n"),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    prometheus.stderr?.on("data", (c: Buffer) => {
      promLog = (promLog + c.toString()).slice(-4000);
    });
    await waitFor(async () => (await fetch(`${promUrl}/-/ready`)).ok, {
      what: "prometheus ready",
      timeoutMs: 30_000,
    });
  });

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus?.once("exit", r));
      prometheus.kill("SIGTERM");
      await exited;
    }
    await host?.stop();
    await Promise.all([db?.drop(), nats?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("returns the seeded status counts for leadflow_companies", async () => {
    type Answer = {
      status: string;
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    const byStatus = await waitFor(
      async () => {
        const response = await fetch(
          `${promUrl}/api/v1/query?query=${encodeURIComponent("leadflow_companies")}`,
        );
        const answer = (await response.json()) as Answer;
        if (answer.status !== "success" || answer.data.result.length < 11) return false;
        return Object.fromEntries(answer.data.result.map((r) => [r.metric.status!, Number(r.value[1])]));
      },
      { what: `Prometheus to scrape the monitor (log: ${promLog})`, timeoutMs: 45_000, intervalMs: 500 },
    );
    expect(byStatus).toEqual({
      new: 4,
      enriched: 0,
      scored: 2,
      approved: 0,
      contacted: 1,
      replied: 0,
      meeting_booked: 0,
      won: 3,
      lost: 0,
      no_response: 0,
      archived: 0,
    });
    // and a PromQL aggregation over the same series
    const sum = (await (
      await fetch(
        `${promUrl}/api/v1/query?query=${encodeURIComponent('sum(leadflow_companies{job="leadflow-monitor"})')}`,
      )
    ).json()) as Answer;
    expect(Number(sum.data.result[0]?.value[1])).toBe(10);
  });
});

describe.runIf(!present)("Prometheus scrape", () => {
  it.skip(`skipped: ${PROMETHEUS} is not installed (Debian: apt-get install -y prometheus)`, () => {});
});
