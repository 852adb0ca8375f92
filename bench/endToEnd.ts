/**
 * Benchmark 4 — end to end: a 10,000-company workload through the real pipeline (scout with
 * the `sample` source → analyst → enrichment, as `leadflow dev` runs it today → lead-approval
 * gate) in a separate `leadflow dev` process.
 * A run's `count` is capped at 1000 by the public contract, so 10 runs × 1000 are triggered at
 * once (RunStartContract messages with distinct request ids, one industry and city each, so
 * the 10,000 companies are distinct). Timed from the trigger until every run is
 * `awaiting_approval` (its `leadflow.evt.run.<id>.awaiting_approval` event); then checked in
 * SQL: every run there, one `lead_scores` row per company.
 *
 * Two modes: `DATABASE_URL` → a fresh database on the local PostgreSQL, and no `DATABASE_URL`
 * → the dev stack's embedded PGlite (what `leadflow dev` uses with no environment). Both get
 * `NATS_URL` → a nats-server child of this benchmark. The dev process's peak RSS is sampled
 * from /proc every 100 ms, and its CPU time (and Postgres's and nats-server's) over the run.
 *
 * Baseline, same repetition: a raw postgres.js multi-row insert of the same number of company
 * rows (sample companies mapped as the scout stores them, 1000 per statement) into the same
 * database — the local PostgreSQL, or the same PGlite folder opened in this process — and,
 * for comparison, the same rows sent as one jsonb parameter per statement.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmbeddedPostgres } from "@leadflow/runtime/embedded";
import { companyRow, dedupeKey, generateSampleCompanies } from "@leadflow/scout";
import { cliNodeArgs } from "@leadflow/testkit";
import postgres, { type Sql } from "postgres";
import {
  type BenchConfig,
  connectJetStream,
  log,
  makeTempDir,
  removeTempDir,
  runToGate,
  sleep,
  trackPid,
  untrackPid,
  withDatabase,
  withNatsServer,
} from "./infra.js";
import type { RawJetStreamResult } from "./rawJetStream.js";
import { type Figure, fmt, rate, ratioOf, summarize } from "./stats.js";

const group = "4. End to end (leadflow dev, sample source, trigger → lead-approval gate)";
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const cliBin = join(repoRoot, "cli", "bin", "leadflow.js");

export const industries = [
  "hospital",
  "hotel",
  "school",
  "grocery",
  "data center",
  "restaurant",
  "warehouse",
  "manufacturing",
  "office",
  "retail",
];
export const cities = [
  "Buffalo, NY",
  "Austin, TX",
  "Denver, CO",
  "Columbus, OH",
  "Phoenix, AZ",
  "Atlanta, GA",
  "Seattle, WA",
  "Nashville, TN",
  "Portland, OR",
  "Raleigh, NC",
];

export type Mode = "postgres" | "pglite";

/** One repetition's measurements. */
export interface E2eSample {
  readonly mode: Mode;
  readonly companies: number;
  readonly startupMs: number;
  readonly runMs: number;
  readonly companiesPerSecond: number;
  /** VmHWM of the dev process at the end (peak since it started), MB. */
  readonly peakRssMb: number;
  /** Highest VmRSS sampled during the timed run, MB. */
  readonly peakRssDuringRunMb: number;
  /** Highest summed VmRSS of the dev process and its children (embedded PGlite) during the timed run, MB. */
  readonly peakTreeRssDuringRunMb: number;
  /** The processes behind that peak, MB each. */
  readonly peakTreeRssParts: string;
  /** The same since the dev process started (includes a first start's initdb child), MB. */
  readonly peakTreeRssMb: number;
  /** VmRSS once the stack was ready, before the workload, MB. */
  readonly rssAtReadyMb: number;
  /** CPU seconds over the timed run: the dev process, Postgres backends, nats-server. */
  readonly cpu: { readonly dev: number; readonly postgres: number | null; readonly nats: number };
  /** From the dev process's /metrics at the end: V8 heap and external (ArrayBuffer, wasm) memory, MB. */
  readonly memory: { readonly heapTotalMb: number; readonly heapUsedMb: number; readonly externalMb: number };
  /** From the dev process's /metrics at the end: seconds spent in handlers, per consumer. */
  readonly handlerSeconds: Record<string, { readonly count: number; readonly sum: number }>;
  /** Raw multi-row insert of the same number of company rows (postgres.js parameters). */
  readonly baselineRowsPerSecond: number;
  readonly baselineCpuUsPerRow: number;
  /** The same rows as one jsonb parameter per statement. */
  readonly jsonbRowsPerSecond: number;
  readonly jsonbCpuUsPerRow: number;
  readonly distinctCompanies: number;
}

type BaselineKeys =
  | "baselineRowsPerSecond"
  | "baselineCpuUsPerRow"
  | "jsonbRowsPerSecond"
  | "jsonbCpuUsPerRow";

// ---------------------------------------------------------------------------------------------
// /proc

const clockTicks = 100; // USER_HZ on Linux

/** utime + stime of a process, in seconds (0 when it is gone). */
export const cpuSeconds = async (pid: number): Promise<number> => {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return 0;
  }
};

/**
 * CPU seconds so far of each Postgres backend serving the current database, the asking one
 * included (a pool's next reading may ask through another of its connections).
 */
export const backendCpu = async (sql: Sql): Promise<Map<number, number>> => {
  const cpu = new Map<number, number>();
  const backends = await sql<{ pid: number }[]>`select pid from pg_stat_activity
    where datname = current_database()`;
  for (const { pid } of backends) cpu.set(pid, await cpuSeconds(pid));
  return cpu;
};

/** What the backends spent between two readings; one that started in between counts from zero. */
export const backendCpuSince = (before: Map<number, number>, after: Map<number, number>): number => {
  let seconds = 0;
  for (const [pid, s] of after) seconds += s - (before.get(pid) ?? 0);
  return seconds;
};

const statusKb = (status: string, key: string): number => {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) : 0;
};

/** A short name for a child of the dev process, from its command line. */
const processLabel = (cmdline: string): string => {
  if (cmdline.includes("EmbeddedPostgresChild")) return "PGlite child";
  if (cmdline.includes("esbuild")) return "esbuild";
  return cmdline.split("\0")[0]?.split("/").pop() || "child";
};

/** The child of `pid` whose command line `processLabel` names `label`. */
const childByLabel = async (pid: number, label: string): Promise<number | undefined> => {
  for (const p of (await processTree(pid)).slice(1)) {
    if (processLabel(await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "")) === label) return p;
  }
  return undefined;
};

/** `pid` and all its descendants (`/proc/<pid>/task/<tid>/children`); none once it is gone. */
export const processTree = async (pid: number): Promise<number[]> => {
  const out: number[] = [];
  const visit = async (p: number) => {
    out.push(p);
    const tasks = await readdir(`/proc/${p}/task`).catch(() => [] as string[]);
    for (const task of tasks) {
      const children = await readFile(`/proc/${p}/task/${task}/children`, "utf8").catch(() => "");
      for (const child of children.split(" ")) if (child.trim() !== "") await visit(Number(child));
    }
  };
  await visit(pid);
  return out;
};

/**
 * Samples VmRSS / VmHWM of `pid` every 100 ms until stopped, and the summed VmRSS of `pid` and
 * its child processes (`leadflow dev` starts the embedded database as a child: its memory is
 * part of what `leadflow dev` costs).
 */
export const rssSampler = (pid: number) => {
  let hwmKb = 0;
  let windowPeakKb = 0;
  let treePeakKb = 0;
  let treeWindowPeakKb = 0;
  let treeWindowPeakParts = "";
  let inWindow = false;
  const sample = async () => {
    try {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const rss = statusKb(status, "VmRSS");
      hwmKb = Math.max(hwmKb, statusKb(status, "VmHWM"), rss);
      if (inWindow) windowPeakKb = Math.max(windowPeakKb, rss);
      let treeKb = rss;
      const parts: Array<[string, number]> = [["dev", rss]];
      for (const p of (await processTree(pid)).slice(1)) {
        const kb = statusKb(await readFile(`/proc/${p}/status`, "utf8").catch(() => ""), "VmRSS");
        treeKb += kb;
        parts.push([processLabel(await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "")), kb]);
      }
      treePeakKb = Math.max(treePeakKb, treeKb);
      if (inWindow && treeKb > treeWindowPeakKb) {
        treeWindowPeakKb = treeKb;
        treeWindowPeakParts = parts.map(([name, kb]) => `${name} ${fmt(kb / 1024)}`).join(" + ");
      }
    } catch {
      // the process is gone
    }
  };
  const timer = setInterval(() => void sample(), 100);
  return {
    startWindow: () => {
      inWindow = true;
    },
    stopWindow: async () => {
      await sample();
      inWindow = false;
    },
    sample,
    current: async () => {
      const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
      return statusKb(status, "VmRSS") / 1024;
    },
    stop: () => clearInterval(timer),
    get hwmMb() {
      return hwmKb / 1024;
    },
    get windowPeakMb() {
      return windowPeakKb / 1024;
    },
    /** Highest sum over the process and its children, since sampling started. */
    get treePeakMb() {
      return treePeakKb / 1024;
    },
    get treeWindowPeakMb() {
      return treeWindowPeakKb / 1024;
    },
    /** What the processes held at that peak, MB each ("dev 203 + PGlite child 150 + …"). */
    get treeWindowPeakParts() {
      return treeWindowPeakParts;
    },
  };
};

// ---------------------------------------------------------------------------------------------
// the dev process

export interface DevProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
}

/** `nodeArgs`: options for node itself, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */
export const startDev = (
  env: NodeJS.ProcessEnv,
  dataDir: string,
  nodeArgs: ReadonlyArray<string> = [],
): DevProcess => {
  const logFile = join(dataDir, "dev.log");
  const fd = openSync(logFile, "a");
  // the bin's own node options first (what `npx leadflow dev` runs), then the benchmark's
  const args = ["dev", "--port", "0"];
  const child = spawn(process.execPath, [...cliNodeArgs(args, env), ...nodeArgs, cliBin, ...args], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", fd, fd],
  });
  if (child.pid === undefined) throw new Error("cannot start leadflow dev");
  trackPid(child.pid);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      untrackPid(child.pid);
      resolve(code ?? (signal ? 128 : null));
    }),
  );
  return { child, pid: child.pid, logFile, exited };
};

export const logTail = async (file: string) =>
  (await readFile(file, "utf8").catch(() => ""))
    .split("\n")
    .slice(-15)
    .map((l) => `    ${l.slice(0, 400)}`)
    .join("\n");

/** SIGTERM, then SIGKILL after a bound; resolves once the process is gone. */
export const stopDev = async (dev: DevProcess, graceMs = 30_000) => {
  if (dev.child.exitCode !== null || dev.child.signalCode !== null) return;
  dev.child.kill("SIGTERM");
  const timer = setTimeout(() => dev.child.kill("SIGKILL"), graceMs);
  await dev.exited;
  clearTimeout(timer);
};

/** Waits for `<dataDir>/stack.json`, then for the orchestrator's `/readyz` to answer 200. */
export const waitReady = async (dev: DevProcess, dataDir: string, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  const dead = () => dev.child.exitCode !== null || dev.child.signalCode !== null;
  let base: string | undefined;
  let databaseUrl: string | undefined;
  while (!base) {
    if (dead()) throw new Error(`leadflow dev exited during startup:\n${await logTail(dev.logFile)}`);
    if (Date.now() > deadline)
      throw new Error(`no stack.json after ${timeoutMs} ms:\n${await logTail(dev.logFile)}`);
    const text = await readFile(join(dataDir, "stack.json"), "utf8").catch(() => undefined);
    if (text) {
      const info = JSON.parse(text) as { http?: Record<string, string>; databaseUrl?: string };
      base = info.http?.orchestrator;
      databaseUrl = info.databaseUrl;
    }
    if (!base) await sleep(100);
  }
  for (;;) {
    if (dead()) throw new Error(`leadflow dev exited before it was ready:\n${await logTail(dev.logFile)}`);
    if (Date.now() > deadline) throw new Error(`${base}/readyz not 200 after ${timeoutMs} ms`);
    const ok = await fetch(`${base}/readyz`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return { base, databaseUrl: databaseUrl! };
    await sleep(100);
  }
};

/** `leadflow_handler_duration_seconds` sum and count per consumer, from a Prometheus text body. */
export const handlerSeconds = (metrics: string) => {
  const out: Record<string, { count: number; sum: number }> = {};
  for (const line of metrics.split("\n")) {
    const m = /^leadflow_handler_duration_seconds_(sum|count)\{([^}]*)\} ([0-9.e+-]+)$/.exec(line);
    if (!m) continue;
    const consumer = /consumer="([^"]+)"/.exec(m[2]!)?.[1];
    if (!consumer) continue;
    const entry = out[consumer] ?? { count: 0, sum: 0 };
    entry[m[1] as "sum" | "count"] = Number(m[3]);
    out[consumer] = entry;
  }
  return out;
};

/** A gauge's value (MB) from a Prometheus text body. */
export const gaugeMb = (metrics: string, name: string): number => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "m").exec(metrics);
  return m ? Number(m[1]) / 2 ** 20 : Number.NaN;
};

// ---------------------------------------------------------------------------------------------
// the baseline: raw multi-row insert of company rows

const companyRows = (runs: number, count: number, tag: string) =>
  Array.from({ length: runs }, (_, r) =>
    generateSampleCompanies({
      industry: industries[r % industries.length]!,
      location: cities[r % cities.length]!,
      count,
      seed: `baseline_${r}`,
    }).map((c) => ({
      ...companyRow(null, c),
      // a key of its own: these rows must not collide with what the runs stored
      dedupe_key: `bench-${tag}:${r}:${dedupeKey(c)}`,
    })),
  );

/**
 * Inserts the rows, one statement per run's worth (as the scout does): as postgres.js builds a
 * multi-row insert (one parameter per value), or as one jsonb parameter per statement
 * (`jsonb_populate_recordset`). Rows per second, and this process's CPU per row.
 */
const rawCompanyInsert = async (
  sql: Sql,
  chunks: ReturnType<typeof companyRows>,
  how: "params" | "jsonb",
) => {
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const columns = Object.keys(chunks[0]?.[0] ?? {})
    .map((c) => `"${c}"`)
    .join(", ");
  const jsonbInsert = `insert into companies (${columns})
    select ${columns} from jsonb_populate_recordset(null::companies, $1::jsonb)`;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  for (const rows of chunks) {
    if (how === "params") await sql`insert into companies ${sql(rows)}`;
    else await sql.unsafe(jsonbInsert, [rows as never]); // the server types $1 as jsonb: postgres.js sends JSON
  }
  const cpu = process.cpuUsage(cpu0);
  return { rate: rate(total, performance.now() - started), cpuUsPerRow: (cpu.user + cpu.system) / total };
};

// ---------------------------------------------------------------------------------------------

export const oneRepetition = (config: BenchConfig, mode: Mode, rep: number): Promise<E2eSample> =>
  withNatsServer(async (server) => {
    const dataDir = await makeTempDir(`leadflow-bench-dev-${mode}-`);
    const run = async (databaseUrl: string | undefined, adminSql: Sql | undefined) => {
      const env: NodeJS.ProcessEnv = { ...process.env, NATS_URL: server.url, LEADFLOW_DATA_DIR: dataDir };
      delete env.DATABASE_URL;
      delete env.PORT;
      if (databaseUrl) env.DATABASE_URL = databaseUrl;
      const spawned = performance.now();
      // BENCH_DEV_NODE_ARGS: node options for the dev child, e.g. "--max-old-space-size=128"
      const dev = startDev(
        env,
        dataDir,
        (process.env.BENCH_DEV_NODE_ARGS ?? "").split(" ").filter((a) => a !== ""),
      );
      const rss = rssSampler(dev.pid);
      let sample: Omit<E2eSample, BaselineKeys> | undefined;
      try {
        const ready = await waitReady(dev, dataDir, 180_000);
        const startupMs = performance.now() - spawned;
        const rssAtReadyMb = await rss.current();
        const client = await connectJetStream(server.url);
        try {
          const runIds = Array.from(
            { length: config.e2eRuns },
            (_, r) => `bench_${mode}_${rep}_${r}_${Date.now().toString(36)}`,
          );
          // CPU counters at the start: the dev process, its Postgres backends, nats-server
          let pg0 = new Map<number, number>();
          // embedded PGlite runs in a child process of the dev process: its CPU is Postgres's
          const pgliteChild = adminSql ? undefined : await childByLabel(dev.pid, "PGlite child");
          let pglite0 = 0;
          let dev0 = 0;
          let nats0 = 0;
          const { started, finished } = await runToGate(
            client,
            runIds.map((requestId, r) => ({
              requestId,
              industry: industries[r % industries.length]!,
              location: cities[r % cities.length]!,
              count: config.e2eCount,
            })),
            config.e2eTimeoutMs,
            {
              beforeTrigger: async () => {
                if (adminSql) pg0 = await backendCpu(adminSql);
                if (pgliteChild !== undefined) pglite0 = await cpuSeconds(pgliteChild);
                dev0 = await cpuSeconds(dev.pid);
                nats0 = await cpuSeconds(server.pid!);
                rss.startWindow();
              },
            },
          );
          await rss.stopWindow();
          const dev1 = await cpuSeconds(dev.pid);
          const nats1 = await cpuSeconds(server.pid!);
          const pgCpu = adminSql
            ? backendCpuSince(pg0, await backendCpu(adminSql))
            : pgliteChild !== undefined
              ? (await cpuSeconds(pgliteChild)) - pglite0
              : null;
          const runMs = finished - started;

          // check the outcome in SQL (after the clock stopped)
          const check = postgres(ready.databaseUrl, { max: 1, onnotice: () => undefined });
          let scores = 0;
          let distinct = 0;
          try {
            const [counts] = await check<{ gate: number; scores: number; companies: number }[]>`
              select
                (select count(*)::int from runs where id = any(${runIds}) and status = 'awaiting_approval') as gate,
                (select count(*)::int from lead_scores where run_id = any(${runIds})) as scores,
                (select count(distinct company_id)::int from run_companies where run_id = any(${runIds})) as companies`;
            if (!counts || counts.gate !== runIds.length) {
              throw new Error(`expected ${runIds.length} runs awaiting approval, found ${counts?.gate}`);
            }
            scores = counts.scores;
            distinct = counts.companies;
          } finally {
            await check.end({ timeout: 5 });
          }
          const expected = config.e2eRuns * config.e2eCount;
          if (scores !== expected) throw new Error(`expected ${expected} lead_scores rows, found ${scores}`);
          const metrics = await fetch(`${ready.base}/metrics`)
            .then((r) => r.text())
            .catch(() => "");
          await rss.sample();
          sample = {
            mode,
            companies: scores,
            startupMs,
            runMs,
            companiesPerSecond: rate(scores, runMs),
            peakRssMb: rss.hwmMb,
            peakRssDuringRunMb: rss.windowPeakMb,
            peakTreeRssDuringRunMb: rss.treeWindowPeakMb,
            peakTreeRssParts: rss.treeWindowPeakParts,
            peakTreeRssMb: rss.treePeakMb,
            rssAtReadyMb,
            cpu: { dev: dev1 - dev0, postgres: pgCpu, nats: nats1 - nats0 },
            handlerSeconds: handlerSeconds(metrics),
            memory: {
              heapTotalMb: gaugeMb(metrics, "leadflow_nodejs_heap_size_total_bytes"),
              heapUsedMb: gaugeMb(metrics, "leadflow_nodejs_heap_size_used_bytes"),
              externalMb: gaugeMb(metrics, "leadflow_nodejs_external_memory_bytes"),
            },
            distinctCompanies: distinct,
          };
        } finally {
          await client.close();
        }
      } finally {
        rss.stop();
        await stopDev(dev);
      }
      // the baseline, in the same database, once the dev process is gone
      const baselines = async (sql: Sql) => {
        const params = await rawCompanyInsert(
          sql,
          companyRows(config.e2eRuns, config.e2eCount, "params"),
          "params",
        );
        const jsonb = await rawCompanyInsert(
          sql,
          companyRows(config.e2eRuns, config.e2eCount, "jsonb"),
          "jsonb",
        );
        return {
          baselineRowsPerSecond: params.rate,
          baselineCpuUsPerRow: params.cpuUsPerRow,
          jsonbRowsPerSecond: jsonb.rate,
          jsonbCpuUsPerRow: jsonb.cpuUsPerRow,
        };
      };
      if (adminSql) return { ...sample!, ...(await baselines(adminSql)) };
      const pg = await startEmbeddedPostgres({ dataDir: join(dataDir, "pg") });
      const sql = postgres(pg.url, { max: 1, onnotice: () => undefined });
      try {
        return { ...sample!, ...(await baselines(sql)) };
      } finally {
        await sql.end({ timeout: 5 });
        await pg.stop();
      }
    };
    try {
      return mode === "postgres"
        ? await withDatabase((db) => run(db.url, db.sql))
        : await run(undefined, undefined);
    } finally {
      await removeTempDir(dataDir);
    }
  });

export interface EndToEndResult {
  readonly figures: ReadonlyArray<Figure>;
  readonly samples: ReadonlyArray<E2eSample>;
}

export const runEndToEnd = async (
  config: BenchConfig,
  raw: RawJetStreamResult | undefined,
): Promise<EndToEndResult> => {
  const samples: E2eSample[] = [];
  const figures: Figure[] = [];
  const workload = `${config.e2eRuns} runs × ${config.e2eCount}`;
  const rawNote = raw
    ? `; bench 1 raw: publish ${fmt(raw.publish.median)} msg/s, consume+ack ${fmt(raw.consume.median)} msg/s`
    : "";
  for (const mode of config.e2eModes) {
    const mine: E2eSample[] = [];
    for (let rep = 0; rep < config.e2eReps; rep++) {
      const s = await oneRepetition(config, mode, rep);
      mine.push(s);
      samples.push(s);
      log(
        `e2e ${mode} rep ${rep + 1}/${config.e2eReps}: ${fmt(s.companiesPerSecond)} companies/s (${fmt(s.runMs / 1000)} s, startup ${fmt(s.startupMs / 1000)} s), peak RSS ${fmt(s.peakRssMb)} MB (with children during the run ${fmt(s.peakTreeRssDuringRunMb)} MB: ${s.peakTreeRssParts}), CPU dev ${fmt(s.cpu.dev)} s / ${s.mode === "pglite" ? "PGlite child" : "postgres"} ${s.cpu.postgres === null ? "unknown" : `${fmt(s.cpu.postgres)} s`} / nats ${fmt(s.cpu.nats)} s; raw insert ${fmt(s.baselineRowsPerSecond)} rows/s (jsonb ${fmt(s.jsonbRowsPerSecond)})`,
      );
    }
    const tput = summarize(mine.map((s) => s.companiesPerSecond));
    const rss = summarize(mine.map((s) => s.peakRssMb));
    const treeRss = summarize(mine.map((s) => s.peakTreeRssDuringRunMb));
    const baseline = summarize(mine.map((s) => s.baselineRowsPerSecond));
    const seconds = summarize(mine.map((s) => s.runMs / 1000));
    const devCpu = summarize(mine.map((s) => s.cpu.dev / (s.runMs / 1000)));
    const label = mode === "postgres" ? "PostgreSQL (DATABASE_URL)" : "PGlite (no DATABASE_URL)";
    const dbName = mode === "postgres" ? "PostgreSQL" : "PGlite";
    figures.push(
      {
        id: `e2e.${mode}.baselineInsert`,
        group,
        label: `${dbName}: raw insert of ${config.e2eRuns * config.e2eCount} company rows`,
        unit: "rows/s",
        value: baseline,
        note: `multi-row, ${config.e2eCount} rows per statement, CPU ${fmt(summarize(mine.map((s) => s.baselineCpuUsPerRow)).median)} µs/row here${rawNote}`,
      },
      {
        id: `e2e.${mode}.jsonbInsert`,
        group,
        label: `${dbName}: the same rows as one jsonb parameter per statement`,
        unit: "rows/s",
        value: summarize(mine.map((s) => s.jsonbRowsPerSecond)),
        baseline: { label: "multi-row insert", unit: "rows/s", value: baseline },
        ratio: ratioOf(summarize(mine.map((s) => s.jsonbRowsPerSecond)), baseline),
        note: `jsonb_populate_recordset; CPU ${fmt(summarize(mine.map((s) => s.jsonbCpuUsPerRow)).median)} µs/row here (the form the pipeline's bulk writes take: runtime jsonRows)`,
      },
      {
        id: `e2e.${mode}.throughput`,
        group,
        label: `${label}: ${workload} companies → approval gate`,
        unit: "companies/s",
        value: tput,
        baseline: { label: `${dbName} raw company insert`, unit: "rows/s", value: baseline },
        ratio: ratioOf(tput, baseline),
        target: { text: "≥ 2,000/s", met: tput.median >= 2000 },
        note: `${fmt(seconds.median)} s from trigger to the last run at the gate; dev process CPU ${fmt(devCpu.median * 100)} % of one core`,
      },
      {
        id: `e2e.${mode}.peakRss`,
        group,
        label: `${label}: peak RSS of leadflow dev during the run, with its children`,
        unit: "MB",
        value: treeRss,
        target: { text: "≤ 400 MB", met: treeRss.median <= 400 },
        note: `the dev process and its child processes, summed every 100 ms from trigger to gate (at the peak of the median repetition: ${[...mine].sort((a, b) => a.peakTreeRssDuringRunMb - b.peakTreeRssDuringRunMb)[Math.floor(mine.length / 2)]?.peakTreeRssParts ?? "?"} MB); the dev process alone peaked at ${fmt(rss.median)} MB (VmHWM, whole life), ${fmt(summarize(mine.map((s) => s.peakRssDuringRunMb)).median)} MB during the run, ${fmt(summarize(mine.map((s) => s.rssAtReadyMb)).median)} MB when ready; with children since start ${fmt(summarize(mine.map((s) => s.peakTreeRssMb)).median)} MB${mode === "pglite" ? " (a fresh data folder's one-off initdb child included)" : ""}`,
      },
    );
  }
  return { figures, samples };
};
