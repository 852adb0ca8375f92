/**
 * Benchmark 6 — end to end to drafts: 10 runs × 1000 high-tier hospitals (CSV scout source, one
 * town per run, no phones in the file, a domain each) through the whole pipeline in a
 * `leadflow dev` child on a fresh PostgreSQL database: scout → analyst → enrichment (phone from
 * Google Places, contact from Hunter) → writer (template backend) → draft-approval gate. The
 * fakes answer at once and enforce no limit; the clients' limits are lifted by environment
 * (`<P>_RATE_PER_SEC=100000`, `<P>_CONCURRENCY=16`) so the pipeline, not a configured limit,
 * is measured. Everything else (ENRICHMENT_CONCURRENCY, WRITER_CONCURRENCY, RUN_CHUNK_SIZE) is at
 * its default unless set in the bench's environment.
 *
 * Google Places is the testkit's phone fake (its server, key check, answer shapes, request log)
 * with the Text Search route answered from an index by query: the fake's own directory search
 * scans every listing per request (≈ 8 ms at 10,000 listings, measured), which would make this
 * benchmark measure the fake. Hunter is the testkit's fake with every domain known.
 *
 * Timed from the trigger until every run is `awaiting_approval` after the writer; then checked
 * in SQL: every company scored high, one draft per company, one email approval request per run.
 * Peak RSS (VmHWM) and CPU time of the dev process, its Postgres backends, nats-server and this
 * process (the fakes) are reported.
 *
 * Baseline, same bench run: benchmark 4's PostgreSQL mode (sample source, trigger → gate, no
 * provider calls, no drafts) — its repetitions from this run when benchmark 4 ran, else measured
 * here with the same workload and repetitions.
 */

import {
  type GooglePlacesPhoneFake,
  type HunterFake,
  type RecordedRequest,
  startGooglePlacesPhoneFake,
  startHunterFake,
  usPhoneForms,
} from "@leadflow/testkit/fakes";
import { cpuSeconds, type E2eSample, gaugeMb, handlerSeconds, oneRepetition } from "./endToEnd.js";
import type { BenchConfig } from "./infra.js";
import { log, makeTempDir, removeTempDir, runToGate, sleep } from "./infra.js";
import { type HospitalRow, hospitalRows, towns, withDevStack, writeHospitalCsv } from "./pipelineRun.js";
import { type Figure, fmt, rate, ratioOf, summarize } from "./stats.js";

const group =
  "6. End to end to drafts (leadflow dev, PostgreSQL, CSV source, zero-latency fakes, template writer)";
const TARGET = 1_000;

export interface DraftsSample {
  readonly companies: number;
  readonly runMs: number;
  readonly companiesPerSecond: number;
  readonly startupMs: number;
  readonly peakRssMb: number;
  readonly peakRssDuringRunMb: number;
  readonly rssAtReadyMb: number;
  /** CPU seconds over the timed run: dev process, its Postgres backends, nats-server, this process (fakes). */
  readonly cpu: {
    readonly dev: number;
    readonly postgres: number;
    readonly nats: number;
    readonly bench: number;
  };
  readonly memory: { readonly heapTotalMb: number; readonly heapUsedMb: number; readonly externalMb: number };
  readonly handlerSeconds: Record<string, { readonly count: number; readonly sum: number }>;
  readonly calls: { readonly google: number; readonly hunter: number };
  readonly phones: number;
  readonly contacts: number;
  readonly drafts: number;
  readonly emailApprovals: number;
  /** Committed transactions in the run's database over the timed run (pg_stat_database). */
  readonly commits: number;
  /** Per stage, over all runs: first task dispatched → last task completed, seconds. */
  readonly stageSeconds: Record<string, number>;
}

/** Google's Text Search answered from an index on the testkit fake's server (see the header). */
const startGoogle = async (rows: ReadonlyArray<HospitalRow>): Promise<GooglePlacesPhoneFake> => {
  const google = await startGooglePlacesPhoneFake({ directory: [] });
  const index = new Map(rows.map((r) => [`${r.name} ${r.city} ${r.state}`.toLowerCase(), r]));
  const place = (r: HospitalRow) => {
    const phone = usPhoneForms(r.phone)!;
    return {
      id: `ChIJ${r.domain.replace(/[^a-z0-9]/g, "")}`,
      displayName: { text: r.name, languageCode: "en" },
      formattedAddress: `100 Main St, ${r.city}, ${r.state} 14202, USA`,
      nationalPhoneNumber: phone.national,
      internationalPhoneNumber: phone.international,
    };
  };
  const decoy = (r: HospitalRow) => ({
    id: "ChIJvisitorcenter0000",
    displayName: { text: `${r.city} Visitor Center`, languageCode: "en" },
    formattedAddress: `1 Visitor Way, ${r.city}, ${r.state} 14201, USA`,
    nationalPhoneNumber: "(716) 555-0000",
    internationalPhoneNumber: "+1 716-555-0000",
  });
  google.server.route("POST", "/v1/places:searchText", (req: RecordedRequest) => {
    if (req.headers["x-goog-api-key"] !== google.apiKey) {
      return { status: 403, json: { error: { code: 403, message: "bad key", status: "PERMISSION_DENIED" } } };
    }
    const textQuery = String((JSON.parse(req.body) as { textQuery?: unknown }).textQuery ?? "");
    const row = index.get(textQuery.toLowerCase());
    return { status: 200, json: row ? { places: [decoy(row), place(row)] } : {} };
  });
  return google;
};

const pgBackendPids = async (sql: import("postgres").Sql) =>
  (
    await sql<{ pid: number }[]>`
      select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`
  ).map((r) => r.pid);

const oneRepetitionDrafts = async (config: BenchConfig, rep: number): Promise<DraftsSample> => {
  const runs = config.e2eRuns;
  const count = config.e2eCount;
  const rows = hospitalRows(runs, count, `drafts${rep}`);
  const dir = await makeTempDir("leadflow-bench-drafts-csv-");
  let google: GooglePlacesPhoneFake | undefined;
  let hunter: HunterFake | undefined;
  try {
    const csv = await writeHospitalCsv(dir, rows);
    google = await startGoogle(rows);
    hunter = await startHunterFake();
    const g = google;
    const h = hunter;
    const env: Record<string, string> = {
      SCOUT_SOURCES: "csv",
      SCOUT_CSV_PATH: csv,
      ENRICHMENT_PHONE_SOURCES: "google_places",
      ENRICHMENT_CONTACT_SOURCES: "hunter",
      WRITER_BACKEND: "template",
      GOOGLE_PLACES_API_KEY: g.apiKey,
      GOOGLE_PLACES_BASE_URL: g.url,
      GOOGLE_PLACES_RATE_PER_SEC: "100000",
      GOOGLE_PLACES_CONCURRENCY: "16",
      HUNTER_API_KEY: h.apiKey,
      HUNTER_BASE_URL: h.url,
      HUNTER_RATE_PER_SEC: "100000",
      HUNTER_CONCURRENCY: "16",
    };
    return await withDevStack("drafts", env, async (stack) => {
      const runIds = Array.from(
        { length: runs },
        (_, r) => `bench_drafts_${rep}_${r}_${Date.now().toString(36)}`,
      );
      const requests = runIds.map((requestId, r) => {
        const town = rows[r * count]!;
        return { requestId, industry: "hospital", location: `${town.city}, ${town.state}`, count };
      });
      const commits = async () =>
        (
          await stack.db.sql<{ n: number }[]>`
            select xact_commit::float8 as n from pg_stat_database where datname = current_database()`
        )[0]?.n ?? 0;
      const commits0 = await commits();
      const pg0 = new Map<number, number>();
      for (const pid of await pgBackendPids(stack.db.sql)) pg0.set(pid, await cpuSeconds(pid));
      const dev0 = await cpuSeconds(stack.dev.pid);
      const nats0 = await cpuSeconds(stack.nats.pid!);
      const bench0 = process.cpuUsage();
      stack.rss.startWindow();
      const { started, finished } = await runToGate(stack.client, requests, config.e2eTimeoutMs);
      await stack.rss.stopWindow();
      const benchCpu = process.cpuUsage(bench0);
      const dev1 = await cpuSeconds(stack.dev.pid);
      const nats1 = await cpuSeconds(stack.nats.pid!);
      let pgCpu = 0;
      for (const pid of await pgBackendPids(stack.db.sql))
        pgCpu += (await cpuSeconds(pid)) - (pg0.get(pid) ?? 0);
      const runMs = finished - started;

      // the outcome, checked after the clock stopped
      const [c] = await stack.db.sql<
        {
          gate: number;
          scores: number;
          high: number;
          phones: number;
          contacts: number;
          drafts: number;
          approvals: number;
        }[]
      >`
        select
          (select count(*)::int from runs where id = any(${runIds}) and status = 'awaiting_approval') as gate,
          (select count(*)::int from lead_scores where run_id = any(${runIds})) as scores,
          (select count(*)::int from lead_scores where run_id = any(${runIds}) and tier = 'high') as high,
          (select count(*)::int from companies where phone_source = 'google_places') as phones,
          (select count(distinct company_id)::int from contacts) as contacts,
          (select count(*)::int from email_drafts where run_id = any(${runIds})) as drafts,
          (select count(*)::int from human_approval_requests
             where run_id = any(${runIds}) and approval_type = 'emails') as approvals`;
      const expected = runs * count;
      if (!c || c.gate !== runs) throw new Error(`expected ${runs} runs at the gate, found ${c?.gate}`);
      if (c.scores !== expected || c.high !== expected) {
        throw new Error(`expected ${expected} high-tier scores, found ${c.high} high of ${c.scores}`);
      }
      if (c.drafts !== expected) throw new Error(`expected ${expected} drafts, found ${c.drafts}`);
      await sleep(1000); // backends report their statistics at most once a second
      const commits1 = await commits();
      const stages = await stack.db.sql<{ agent: string; s: number }[]>`
        select agent, (extract(epoch from max(ended_at) - min(started_at)))::float8 as s
        from tasks where run_id = any(${runIds}) group by agent`;
      const metrics = await fetch(`${stack.base}/metrics`)
        .then((r) => r.text())
        .catch(() => "");
      await stack.rss.sample();
      return {
        companies: c.scores,
        runMs,
        companiesPerSecond: rate(c.scores, runMs),
        startupMs: stack.startupMs,
        peakRssMb: stack.rss.hwmMb,
        peakRssDuringRunMb: stack.rss.windowPeakMb,
        rssAtReadyMb: stack.rssAtReadyMb,
        cpu: {
          dev: dev1 - dev0,
          postgres: pgCpu,
          nats: nats1 - nats0,
          bench: (benchCpu.user + benchCpu.system) / 1e6,
        },
        memory: {
          heapTotalMb: gaugeMb(metrics, "leadflow_nodejs_heap_size_total_bytes"),
          heapUsedMb: gaugeMb(metrics, "leadflow_nodejs_heap_size_used_bytes"),
          externalMb: gaugeMb(metrics, "leadflow_nodejs_external_memory_bytes"),
        },
        handlerSeconds: handlerSeconds(metrics),
        calls: { google: g.calls(), hunter: h.calls() },
        phones: c.phones,
        contacts: c.contacts,
        drafts: c.drafts,
        emailApprovals: c.approvals,
        commits: commits1 - commits0,
        stageSeconds: Object.fromEntries(stages.map((s) => [s.agent, s.s])),
      } satisfies DraftsSample;
    });
  } finally {
    await google?.close().catch(() => undefined);
    await hunter?.close().catch(() => undefined);
    await removeTempDir(dir);
  }
};

export interface DraftsResult {
  readonly figures: ReadonlyArray<Figure>;
  readonly samples: ReadonlyArray<DraftsSample>;
  /** Benchmark 4 repetitions measured here for the baseline (none when they were reused). */
  readonly baselineSamples: ReadonlyArray<E2eSample>;
}

/**
 * `e2eBaseline`: benchmark 4's PostgreSQL samples from this bench run, when it ran (else they are
 * measured here).
 */
export const runEndToEndDrafts = async (
  config: BenchConfig,
  e2eBaseline: ReadonlyArray<E2eSample>,
): Promise<DraftsResult> => {
  if (config.e2eRuns > towns.length) {
    throw new Error(
      `benchmark 6 has ${towns.length} towns, one per run: BENCH_E2E_RUNS must be ≤ ${towns.length}`,
    );
  }
  const samples: DraftsSample[] = [];
  for (let rep = 0; rep < config.draftsReps; rep++) {
    const s = await oneRepetitionDrafts(config, rep);
    samples.push(s);
    log(
      `e2e-drafts rep ${rep + 1}/${config.draftsReps}: ${fmt(s.companiesPerSecond)} companies/s (${fmt(s.runMs / 1000)} s, startup ${fmt(s.startupMs / 1000)} s), peak RSS ${fmt(s.peakRssMb)} MB; CPU dev ${fmt(s.cpu.dev)} s / postgres ${fmt(s.cpu.postgres)} s / nats ${fmt(s.cpu.nats)} s / fakes ${fmt(s.cpu.bench)} s; stages ${Object.entries(
        s.stageSeconds,
      )
        .map(([k, v]) => `${k} ${fmt(v)} s`)
        .join(
          ", ",
        )}; calls google ${s.calls.google}, hunter ${s.calls.hunter}; ${s.drafts} drafts; handlers ${Object.entries(
        s.handlerSeconds,
      )
        .map(([k, v]) => `${k} ${v.count}× ${fmt(v.sum)} s`)
        .join(", ")}`,
    );
  }
  let baselineSamples = e2eBaseline.filter((s) => s.mode === "postgres");
  const measured: E2eSample[] = [];
  if (baselineSamples.length === 0) {
    for (let rep = 0; rep < config.e2eReps; rep++) {
      const s = await oneRepetition(config, "postgres", rep);
      measured.push(s);
      log(
        `e2e-drafts baseline (benchmark 4, PostgreSQL) rep ${rep + 1}/${config.e2eReps}: ${fmt(s.companiesPerSecond)} companies/s (${fmt(s.runMs / 1000)} s), peak RSS ${fmt(s.peakRssMb)} MB`,
      );
    }
    baselineSamples = measured;
  }
  const tput = summarize(samples.map((s) => s.companiesPerSecond));
  const rss = summarize(samples.map((s) => s.peakRssMb));
  const base = summarize(baselineSamples.map((s) => s.companiesPerSecond));
  const baseRss = summarize(baselineSamples.map((s) => s.peakRssMb));
  const med = (f: (s: DraftsSample) => number) => fmt(summarize(samples.map(f)).median);
  const stageNames = Object.keys(samples[0]?.stageSeconds ?? {});
  const workload = `${config.e2eRuns} runs × ${config.e2eCount}`;
  const baselineFrom = measured.length > 0 ? "measured in this step" : "benchmark 4 above";
  const figures: Figure[] = [
    {
      id: "e2eDrafts.throughput",
      group,
      label: `${workload} companies → draft-approval gate`,
      unit: "companies/s",
      value: tput,
      baseline: {
        label: "benchmark 4, PostgreSQL: sample source → gate (no lookups, no drafts)",
        unit: "companies/s",
        value: base,
      },
      ratio: ratioOf(tput, base),
      target: { text: "≥ 1,000/s", met: tput.median >= TARGET },
      note: `${med((s) => s.runMs / 1000)} s trigger → last run at the gate; stages (first dispatch → last completion) ${stageNames.map((n) => `${n} ${med((s) => s.stageSeconds[n] ?? 0)} s`).join(", ")}; CPU dev ${med((s) => s.cpu.dev)} s, Postgres ${med((s) => s.cpu.postgres)} s, nats ${med((s) => s.cpu.nats)} s, fakes ${med((s) => s.cpu.bench)} s; baseline: ${baselineFrom} (its raw insert of the same rows: ${fmt(summarize(baselineSamples.map((s) => s.baselineRowsPerSecond)).median)} rows/s)`,
    },
    {
      id: "e2eDrafts.peakRss",
      group,
      label: `peak RSS of leadflow dev (VmHWM), ${workload} to drafts`,
      unit: "MB",
      value: rss,
      baseline: { label: "benchmark 4, PostgreSQL", unit: "MB", value: baseRss },
      ratio: ratioOf(rss, baseRss),
      note: `VmRSS when ready ${med((s) => s.rssAtReadyMb)} MB, highest during the run ${med((s) => s.peakRssDuringRunMb)} MB; V8 heap at the end ${med((s) => s.memory.heapTotalMb)} MB`,
    },
  ];
  return { figures, samples, baselineSamples: measured };
};

/** Where the time went, medians over the repetitions. */
export const describeDrafts = (samples: ReadonlyArray<DraftsSample>): string[] => {
  if (samples.length === 0) return [];
  const med = (f: (s: DraftsSample) => number) => fmt(summarize(samples.map(f)).median);
  const out = ["", "End to end to drafts, where the time goes (medians):"];
  out.push(
    `  wall ${med((s) => s.runMs / 1000)} s for ${med((s) => s.companies)} companies; CPU dev process ${med((s) => s.cpu.dev)} s (${med((s) => (s.cpu.dev / s.runMs) * 100_000)} % of one core), Postgres backends ${med((s) => s.cpu.postgres)} s, nats-server ${med((s) => s.cpu.nats)} s, fakes (this process) ${med((s) => s.cpu.bench)} s; dev CPU per company ${med((s) => (s.cpu.dev / s.companies) * 1000)} ms`,
  );
  out.push(
    `      ${med((s) => s.commits)} committed transactions (${med((s) => s.commits / s.companies)} per company); provider calls google ${med((s) => s.calls.google)}, hunter ${med((s) => s.calls.hunter)}; ${med((s) => s.phones)} phones, ${med((s) => s.contacts)} contacts, ${med((s) => s.drafts)} drafts, ${med((s) => s.emailApprovals)} email approval requests`,
  );
  out.push(
    `      stages over all runs (first dispatch → last completion; they overlap): ${Object.keys(
      samples[0]!.stageSeconds,
    )
      .map((n) => `${n} ${med((s) => s.stageSeconds[n] ?? 0)} s`)
      .join(", ")}`,
  );
  out.push(
    `      memory at the end: V8 heap ${med((s) => s.memory.heapTotalMb)} MB (used ${med((s) => s.memory.heapUsedMb)} MB), external ${med((s) => s.memory.externalMb)} MB; RSS when ready ${med((s) => s.rssAtReadyMb)} MB, peak ${med((s) => s.peakRssMb)} MB`,
  );
  for (const c of Object.keys(samples[0]!.handlerSeconds)) {
    const sum = summarize(samples.map((s) => s.handlerSeconds[c]?.sum ?? 0)).median;
    const count = summarize(samples.map((s) => s.handlerSeconds[c]?.count ?? 0)).median;
    out.push(
      `      ${c.padEnd(34)} ${String(count).padStart(5)} handler calls, ${fmt(sum).padStart(6)} s in them (${fmt((sum / Math.max(count, 1)) * 1000)} ms each; a group commit is one call)`,
    );
  }
  return out;
};
