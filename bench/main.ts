/**
 * Leadflow benchmarks: `npm run bench` (= `tsx bench/main.ts`).
 *
 * Every figure is measured against real services on this machine — a nats-server child per
 * benchmark (`NatsServerProcess`), a fresh migrated database on the local PostgreSQL per
 * benchmark (`createTestDatabase`, dropped after) — and is printed next to a baseline measured
 * in the same run. Each measurement is repeated; the table shows medians with min – max. The
 * same results are written as JSON to bench/results/latest.json.
 *
 *   1. raw JetStream: async publish and pull consume + ack (@nats-io/jetstream only) — the baseline
 *   2. the runtime with a no-op handler, single and batch mode, vs raw consume + ack (target ≥ 50 %),
 *      with the cost of the per-message Postgres transaction (inbox) measured on its own
 *   3. insert + outbox per message in batch mode, until the relay published every row, vs raw
 *      postgres.js multi-row insert + raw JetStream publish
 *   4. end to end: 10 runs × 1000 companies through `leadflow dev` (a child process) with the
 *      `sample` source, on the local PostgreSQL and on embedded PGlite: companies/s (target
 *      ≥ 2,000/s) and peak RSS (target ≤ 400 MB), vs a raw multi-row insert of the same rows
 *      (sample companies are not looked up and get no draft: the run stops at the gate)
 *   5. enrichment under a rate limit (enrichment.ts): one run of 300 high-tier hospitals from a
 *      generated CSV through `leadflow dev` (PostgreSQL), Google Places → Yelp phones and Hunter →
 *      Apollo contacts as testkit fakes answering after 100 ms and enforcing 10 requests/s each,
 *      clients set to 10/s: the enrichment stage's time (tasks table) vs the time the limit
 *      allows (calls answered ÷ 10/s, busiest provider; target ≤ 1.1 ×), requests the fakes
 *      answered as over their limit (target 0), and the provider calls of a repeat run over the
 *      same companies (target 0)
 *   6. end to end to drafts (endToEndDrafts.ts): 10 runs × 1000 high-tier hospitals (CSV) through
 *      `leadflow dev` (PostgreSQL) with zero-latency fakes (Google Places phones, Hunter knowing
 *      every domain) and the template writer, trigger → all runs at the draft-approval gate:
 *      companies/s (target ≥ 1,000/s) and peak RSS, vs benchmark 4's PostgreSQL figure of the
 *      same run (measured here when benchmark 4 is not selected)
 *   7. the template writer alone (writerTemplate.ts): drafts/s with MJML compiled once (target
 *      ≥ 5,000/s) vs compiled for every draft, in this process
 *   8. the monitor (monitor.ts): 1M companies, 1M scores, 5M outreach events seeded with COPY; the
 *      weekly report (target ≤ 100 ms), counts (≤ 50 ms), value, stuck checks and a /metrics scrape
 *      (≤ 10 ms) through a `leadflow service monitor` child, each beside the same question as raw
 *      SQL; /healthz requests/s under 50 connections beside a bare node:http server
 *
 * Needs: a `nats-server` binary (or NATS_SERVER_BIN) and PostgreSQL at DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres; bench databases are created on that server).
 *
 * Sizes (environment):
 *   BENCH_QUICK=1          smoke run (~1.5 min): 3 repetitions, 2,000 messages, e2e and e2e-drafts
 *                          3 runs × 1000 once (per mode), enrichment of 100 companies once, writer 2,000 drafts
 *   BENCH_REPS=5           repetitions of benchmarks 1–3
 *   BENCH_MESSAGES=10000   messages per repetition in benchmarks 1–3
 *   BENCH_BATCH_SIZE=100   batch size of benchmark 3 (insert + outbox) and its raw multi-row inserts
 *   BENCH_PUBLISH_WINDOW=1024  async publishes in flight
 *   BENCH_E2E_REPS=3       repetitions of benchmark 4, per mode (a fresh dev process, database and nats-server each)
 *   BENCH_E2E_RUNS=10      runs triggered at once (≤ 10 for benchmark 6: one town each);
 *   BENCH_E2E_COUNT=1000   companies per run (≤ 1000), benchmarks 4 and 6
 *   BENCH_E2E_MODES=postgres,pglite   which databases benchmark 4 uses
 *   BENCH_E2E_TIMEOUT_S=300           give up on a workload after this long (benchmarks 4–6)
 *   BENCH_ENRICH_REPS=2    repetitions of benchmark 5; BENCH_ENRICH_COUNT=300 companies in its run (≤ 1000)
 *   BENCH_ENRICH_CLIENT_RATE=10       the clients' `<P>_RATE_PER_SEC` in benchmark 5 (the fakes enforce 10/s)
 *   BENCH_DRAFTS_REPS=2    repetitions of benchmark 6
 *   BENCH_DEV_NODE_ARGS    node options for the dev child of benchmarks 5–6, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"
 *   BENCH_MONITOR_COMPANIES=1000000, BENCH_MONITOR_EVENTS=5000000, BENCH_MONITOR_REPS=15   benchmark 8
 *   BENCH_ONLY=raw,runtime,outbox,e2e,enrichment,e2e-drafts,writer,monitor   which benchmarks to run
 * ENRICHMENT_CONCURRENCY, WRITER_CONCURRENCY and RUN_CHUNK_SIZE reach the dev child of
 * benchmarks 5–6 from this environment (defaults otherwise); provider, scout and writer-backend
 * settings are set by the benchmark and never taken from it.
 * The full run takes about 7–8 minutes on the 2-core machines here; progress goes to stderr, the
 * report to stdout (after the table: where the time went in benchmarks 4–6). Child processes
 * (nats-server, leadflow dev), fake servers and temp folders are removed on success, failure and
 * Ctrl-C; a database left by a killed run is dropped by the next one.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { findNatsServerBinary } from "@leadflow/runtime/embedded";
import { adminUrl } from "@leadflow/testkit";
import postgres from "postgres";
import { type E2eSample, runEndToEnd } from "./endToEnd.js";
import { type DraftsSample, describeDrafts, runEndToEndDrafts } from "./endToEndDrafts.js";
import { describeEnrichment, type EnrichmentSample, runEnrichment } from "./enrichment.js";
import { dropStaleDatabases, installExitGuards, loadConfig, log } from "./infra.js";
import { runInsertOutbox } from "./insertOutbox.js";
import { runMonitor } from "./monitor.js";
import { type RawJetStreamResult, runRawJetStream } from "./rawJetStream.js";
import { runRuntimeNoop } from "./runtimeNoop.js";
import { type Figure, fmt, fmtPct, fmtRange, formatJson, renderTable } from "./stats.js";
import { benchWriterTemplate } from "./writerTemplate.js";

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(benchDir, "..");

interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly node: string;
  readonly natsServer: string;
  readonly postgres: string;
  readonly postgresSettings: Record<string, string>;
  readonly pglite: string;
  readonly loadAverageAtStart: ReadonlyArray<number>;
}

const machine = async (): Promise<Machine> => {
  const binary = findNatsServerBinary();
  const natsServer = binary
    ? (await promisify(execFile)(binary, ["--version"])).stdout.trim()
    : "not installed";
  const sql = postgres(adminUrl(), { max: 1, onnotice: () => undefined });
  let version = "unreachable";
  const settings: Record<string, string> = {};
  try {
    version = (await sql<{ version: string }[]>`select version()`)[0]!.version;
    for (const name of ["synchronous_commit", "fsync", "shared_buffers", "max_connections"]) {
      settings[name] = (
        await sql.unsafe<{ value: string }[]>(`select current_setting('${name}') as value`)
      )[0]!.value;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  const pglite = await readFile(
    join(repoRoot, "node_modules", "@electric-sql", "pglite", "package.json"),
    "utf8",
  )
    .then((t) => (JSON.parse(t) as { version: string }).version)
    .catch(() => "unknown");
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    natsServer,
    postgres: version,
    postgresSettings: settings,
    pglite,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
};

const verdict = (f: Figure) => (f.target ? (f.target.met ? "MET" : "MISSED") : "");

const printReport = (
  figures: ReadonlyArray<Figure>,
  m: Machine,
  seconds: number,
  errors: ReadonlyArray<string>,
) => {
  const out: string[] = [];
  out.push("", "Leadflow benchmarks", "");
  out.push(`machine    ${m.cores} cores (${m.cpuModel}), ${m.memoryGb} GB`);
  out.push(`node       ${m.node}`);
  out.push(`nats       ${m.natsServer}`);
  out.push(
    `postgres   ${m.postgres.split(" on ")[0]} (${Object.entries(m.postgresSettings)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")})`,
  );
  out.push(`pglite     @electric-sql/pglite ${m.pglite}`);
  out.push(
    `load avg   ${m.loadAverageAtStart.join(" ")} at start; ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")} at end`,
  );
  out.push(`took       ${fmt(seconds)} s`, "");
  const busiest = Math.max(m.loadAverageAtStart[0] ?? 0, loadavg()[0] ?? 0);
  if (busiest > m.cores) {
    out.push(
      `WARNING: load average ${busiest.toFixed(1)} on ${m.cores} cores — other work ran beside the bench; compare figures with their same-run baselines, not across runs.`,
      "",
    );
  }

  const header = ["figure", "median", "min – max", "baseline (median)", "ratio", "target", "verdict"];
  const rows = figures.map((f) => [
    `  ${f.label}`,
    `${fmt(f.value.median)} ${f.unit}`,
    fmtRange(f.value),
    f.baseline ? `${fmt(f.baseline.value.median)} ${f.baseline.unit}` : "",
    fmtPct(f.ratio),
    f.target?.text ?? "",
    verdict(f),
  ]);
  const table = renderTable(header, rows).split("\n");
  out.push(table[0]!, table[1]!);
  let group = "";
  figures.forEach((f, i) => {
    if (f.group !== group) {
      group = f.group;
      out.push(group);
    }
    out.push(table[i + 2]!);
    if (f.note) out.push(`      ↳ ${f.note}`);
  });
  const reps = new Map<string, number>();
  for (const f of figures) if (!reps.has(f.group)) reps.set(f.group, f.value.n);
  out.push(
    "",
    `n (repetitions behind each median): ${[...reps]
      .map(([g, n]) => `${g.split(" ")[0]} ${n}`)
      .join(", ")} (benchmark 4: per mode; samples in the JSON)`,
  );
  if (errors.length > 0) {
    out.push("", "FAILED:");
    for (const e of errors) out.push(`  ${e}`);
  }
  process.stdout.write(`${out.join("\n")}\n`);
};

/** Where the end-to-end time went: CPU per process and handler time per consumer. */
const printE2eBreakdown = (samples: ReadonlyArray<E2eSample>) => {
  if (samples.length === 0) return;
  const out: string[] = ["", "End to end, where the time goes (medians per mode):"];
  for (const mode of ["postgres", "pglite"] as const) {
    const mine = samples.filter((s) => s.mode === mode);
    if (mine.length === 0) continue;
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const runS = med(mine.map((s) => s.runMs / 1000));
    const pg =
      mine[0]!.cpu.postgres === null
        ? "unknown"
        : `${fmt(med(mine.map((s) => s.cpu.postgres ?? 0)))} s${mode === "pglite" ? " (the PGlite child)" : ""}`;
    out.push(
      `  ${mode}: wall ${fmt(runS)} s; CPU dev process ${fmt(med(mine.map((s) => s.cpu.dev)))} s, Postgres backends ${pg}, nats-server ${fmt(med(mine.map((s) => s.cpu.nats)))} s; startup ${fmt(med(mine.map((s) => s.startupMs / 1000)))} s; ${fmt(med(mine.map((s) => s.distinctCompanies)))} distinct companies`,
    );
    out.push(
      `      memory at the end: V8 heap ${fmt(med(mine.map((s) => s.memory.heapTotalMb)))} MB (used ${fmt(med(mine.map((s) => s.memory.heapUsedMb)))} MB), external/ArrayBuffer ${fmt(med(mine.map((s) => s.memory.externalMb)))} MB; RSS when ready ${fmt(med(mine.map((s) => s.rssAtReadyMb)))} MB, peak ${fmt(med(mine.map((s) => s.peakRssMb)))} MB`,
    );
    const consumers = Object.keys(mine[0]!.handlerSeconds);
    for (const c of consumers) {
      const sum = med(mine.map((s) => s.handlerSeconds[c]?.sum ?? 0));
      const count = med(mine.map((s) => s.handlerSeconds[c]?.count ?? 0));
      out.push(
        `      ${c.padEnd(34)} ${String(count).padStart(5)} handler calls, ${fmt(sum).padStart(6)} s in them (${fmt((sum / Math.max(count, 1)) * 1000)} ms each)`,
      );
    }
  }
  process.stdout.write(`${out.join("\n")}\n`);
};

const main = async () => {
  installExitGuards();
  const config = loadConfig();
  const started = performance.now();
  const startedAt = new Date();
  const dropped = await dropStaleDatabases();
  if (dropped.length > 0) log(`dropped ${dropped.length} database(s) an earlier bench left behind`);
  const m = await machine();
  log(
    `config: ${config.quick ? "QUICK, " : ""}${config.reps} reps × ${config.messages} messages; e2e ${config.e2eReps} reps × ${config.e2eRuns} runs × ${config.e2eCount} (${config.e2eModes.join(", ")}); only ${config.only.join(", ")}`,
  );

  const figures: Figure[] = [];
  const errors: string[] = [];
  let raw: RawJetStreamResult | undefined;
  let e2eSamples: ReadonlyArray<E2eSample> = [];
  let enrichmentSamples: ReadonlyArray<EnrichmentSample> = [];
  let draftsSamples: ReadonlyArray<DraftsSample> = [];
  let draftsBaselineSamples: ReadonlyArray<E2eSample> = [];
  const step = async (name: string, body: () => Promise<void>) => {
    if (!config.only.includes(name)) return;
    log(`${name}: start`);
    const t = performance.now();
    try {
      await body();
    } catch (error) {
      const message = `${name}: ${(error as Error)?.stack ?? String(error)}`;
      errors.push(message.split("\n")[0]!);
      log(`FAILED ${message}`);
    }
    log(`${name}: done in ${fmt((performance.now() - t) / 1000)} s`);
  };

  await step("raw", async () => {
    raw = await runRawJetStream(config);
    figures.push(...raw.figures);
  });
  await step("runtime", async () => {
    figures.push(...(await runRuntimeNoop(config)));
  });
  await step("outbox", async () => {
    figures.push(...(await runInsertOutbox(config)));
  });
  await step("e2e", async () => {
    const result = await runEndToEnd(config, raw);
    figures.push(...result.figures);
    e2eSamples = result.samples;
  });
  await step("enrichment", async () => {
    const result = await runEnrichment(config);
    figures.push(...result.figures);
    enrichmentSamples = result.samples;
  });
  await step("e2e-drafts", async () => {
    const result = await runEndToEndDrafts(config, e2eSamples);
    figures.push(...result.figures);
    draftsSamples = result.samples;
    draftsBaselineSamples = result.baselineSamples;
  });
  await step("writer", async () => {
    figures.push(...(await benchWriterTemplate({ quick: config.quick })).figures);
  });
  await step("monitor", async () => {
    figures.push(...(await runMonitor({ quick: config.quick })));
  });

  const seconds = (performance.now() - started) / 1000;
  printReport(figures, m, seconds, errors);
  printE2eBreakdown(e2eSamples);
  const more = [...describeEnrichment(enrichmentSamples), ...describeDrafts(draftsSamples)];
  if (more.length > 0) process.stdout.write(`${more.join("\n")}\n`);

  const resultsDir = join(benchDir, "results");
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, "latest.json");
  await writeFile(
    file,
    formatJson({
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: Math.round(seconds * 10) / 10,
      config,
      machine: { ...m, loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
      figures,
      e2eSamples,
      enrichmentSamples,
      draftsSamples,
      draftsBaselineSamples,
      errors,
    }),
  );
  process.stdout.write(`\nJSON: ${file}\n`);
  process.exitCode = errors.length > 0 ? 1 : 0;
};

main().then(
  // pools and timers of the libraries may linger: leave once the report is written
  () => setImmediate(() => process.exit(process.exitCode ?? 0)),
  (error) => {
    process.stderr.write(`bench: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
