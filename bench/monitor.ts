/**
 * Benchmark 8 — the monitor over a big database (`BENCH_ONLY=monitor`).
 *
 * Seeds 1,000,000 companies (with features), 1,000,000 scores and 5,000,000 outreach events
 * spread over the last year with COPY into a database of its own, VACUUM ANALYZEs it (the
 * counts are index-only scans, which need the visibility map), then runs `leadflow service
 * monitor` as a child process and measures, each beside a same-run baseline:
 *   - GET /api/reports/weekly (one week)  vs  the same questions as raw SQL through postgres.js
 *   - GET /api/pipeline/counts            vs  raw `select status, count(*) … group by status`
 *   - GET /api/pipeline/value             vs  the same aggregate as raw SQL
 *   - GET /metrics (gauges refreshed in the background) vs the raw counts query it replaces
 *   - GET /healthz requests/s, 50 keep-alive connections  vs  a bare node:http server answering
 *     the same JSON in a child process (what the framework and runtime cost)
 *   - one background refresh of every gauge (SQL + JetStream), for the record
 * Medians of BENCH_MONITOR_REPS (default 15; quick 7) after a warm-up; the seeding time is printed.
 * Sizes: BENCH_MONITOR_COMPANIES (1,000,000), BENCH_MONITOR_EVENTS (5,000,000).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import type { TestDatabase } from "@leadflow/testkit";
import type { Sql } from "postgres";
import { log, trackPid, untrackPid, withDatabase, withNatsServer } from "./infra.js";
import { type Figure, fmt, rate, ratioOf, type Summary, summarize } from "./stats.js";

const group = "8. Monitor over 1M companies, 1M scores, 5M events (medians)";
const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const cliBin = join(repoRoot, "cli", "bin", "leadflow.js");

const int = (name: string, fallback: number) => {
  const raw = process.env[name]?.trim();
  const n = raw ? Number(raw) : fallback;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
};

const DAY = 86_400_000;
const STATUSES: ReadonlyArray<[string, number]> = [
  ["new", 10],
  ["enriched", 5],
  ["scored", 40],
  ["approved", 10],
  ["contacted", 15],
  ["replied", 3],
  ["meeting_booked", 1],
  ["won", 1],
  ["lost", 5],
  ["no_response", 5],
  ["archived", 5],
];
const EVENTS: ReadonlyArray<[string, number]> = [
  ["sent", 30],
  ["followup_sent", 15],
  ["delivered", 20],
  ["opened", 18],
  ["clicked", 5],
  ["replied", 3],
  ["bounced", 3],
  ["unsubscribed", 1],
  ["deferred", 3],
  ["spamreport", 1],
  ["dropped", 1],
];
const INDUSTRIES = ["hospital", "hotel", "school", "office", "warehouse", "restaurant", "retail", "factory"];
const STATES = ["NY", "PA", "OH", "NJ", "CA", "TX", "FL", "IL", "MI", "GA", "NC", "VA", "MA", "WA", "AZ"];

/** A deterministic pseudo-random sequence (the seed data is the same every run). */
const lcg = (seed: number) => {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
};
const pick = (weights: ReadonlyArray<[string, number]>, r: number) => {
  const total = weights.reduce((a, [, w]) => a + w, 0);
  let x = r * total;
  for (const [v, w] of weights) {
    x -= w;
    if (x < 0) return v;
  }
  return weights[weights.length - 1]![0];
};

/** Streams generated rows (COPY text format) into `copy … from stdin`. */
const copy = async (statement: Promise<Writable>, rows: number, line: (i: number) => string) => {
  const writable = await statement;
  async function* chunks() {
    const batch = 5_000;
    for (let i = 0; i < rows; i += batch) {
      let out = "";
      for (let j = i; j < Math.min(rows, i + batch); j++) out += line(j);
      yield out;
    }
  }
  await pipeline(Readable.from(chunks()), writable);
};

/** A valid UUID (version 4 layout) whose order is `i`'s. */
const sequentialUuid = (i: number, table = 0) =>
  `${table.toString(16).padStart(8, "0")}-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;

/**
 * Drops the table's plain indexes (not those behind primary keys or unique constraints) for the
 * length of `load` and builds them again after it: one sorted build is much cheaper than a
 * million random B-tree inserts. The definitions come from pg_indexes, so the migrations stay
 * the only source of them.
 */
const withoutIndexes = async (sql: Sql, table: string, load: () => Promise<void>) => {
  const defs = await sql<{ name: string; def: string }[]>`
    select i.indexname as name, i.indexdef as def from pg_indexes i
    where i.schemaname = 'public' and i.tablename = ${table}
      and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`;
  for (const d of defs) await sql`drop index ${sql(d.name)}`;
  await load();
  for (const d of defs) await sql.unsafe(d.def);
};

export const seed = async (sql: Sql, companies: number, events: number, now: number) => {
  await sql`insert into runs (id, industry, location, requested_count, request, status)
    values ('bench', 'hospital', 'Buffalo, NY', 1000, '{}'::jsonb, 'completed')`;
  // ascending ids: primary-key inserts append to the B-tree instead of landing at random pages
  // (random UUIDs make the COPY several times slower once the index outgrows shared_buffers)
  const ids = Array.from({ length: companies }, (_, i) => sequentialUuid(i));
  const r = lcg(42);
  const found = (i: number) => new Date(now - ((i * 7919) % 365) * DAY - ((i * 104729) % DAY)).toISOString();
  let t = performance.now();
  await withoutIndexes(sql, "companies", () =>
    copy(
      sql`copy companies (id, name, industry, city, state, dedupe_key, source, status, date_found, updated_at) from stdin`.writable(),
      companies,
      (i) => {
        const at = found(i);
        return `${ids[i]}\tCompany ${i}\t${INDUSTRIES[i % INDUSTRIES.length]}\tCity ${i % 97}\t${STATES[i % STATES.length]}\tbench-${i}\tbench\t${pick(STATUSES, r())}\t${at}\t${at}\n`;
      },
    ),
  );
  log(`monitor: companies copied in ${fmt((performance.now() - t) / 1000)} s`);
  t = performance.now();
  await copy(
    sql`copy company_features (company_id, industry_key, employees_estimate, size_band, sites, floor_area_sqft,
      energy_intensity_kwh_sqft, electricity_price_kwh, annual_kwh, annual_utility_spend,
      savings_low, savings_mid, savings_high, assumptions, model_version) from stdin`.writable(),
    companies,
    (i) => {
      const spend = 20_000 + ((i * 7919) % 2_000_000);
      return `${ids[i]}\thospital\t100\tmedium\t1\t10000\t20\t0.12\t200000\t${spend}\t${Math.round(spend * 0.04)}\t${Math.round(spend * 0.08)}\t${Math.round(spend * 0.15)}\t{}\tbench\n`;
    },
  );
  log(`monitor: features copied in ${fmt((performance.now() - t) / 1000)} s`);
  t = performance.now();
  await withoutIndexes(sql, "lead_scores", () =>
    copy(
      sql`copy lead_scores (company_id, run_id, score, tier, reasons, model_version, scored_at, approved_human) from stdin`.writable(),
      companies,
      (i) => {
        const score = Math.floor(r() * 101);
        const tier = score >= 85 ? "high" : score >= 45 ? "medium" : "low";
        const scored = new Date(Date.parse(found(i)) + 3_600_000).toISOString();
        return `${ids[i]}\tbench\t${score}\t${tier}\t[]\tbench\t${scored}\t${r() < 0.5 ? "t" : "f"}\n`;
      },
    ),
  );
  log(`monitor: scores copied in ${fmt((performance.now() - t) / 1000)} s`);
  t = performance.now();
  await withoutIndexes(sql, "outreach_events", () =>
    copy(
      sql`copy outreach_events (id, company_id, event_type, reply_sentiment, event_at) from stdin`.writable(),
      events,
      (i) => {
        const type = pick(EVENTS, r());
        const sentiment = type === "replied" ? (["positive", "neutral", "negative"][i % 3] as string) : "\\N";
        const at = new Date(now - Math.floor(r() * 365 * DAY)).toISOString();
        return `${sequentialUuid(i, 1)}\t${ids[Math.floor(r() * companies)]}\t${type}\t${sentiment}\t${at}\n`;
      },
    ),
  );
  log(`monitor: events copied in ${fmt((performance.now() - t) / 1000)} s`);
  t = performance.now();
  await sql`vacuum analyze`;
  log(`monitor: vacuum analyze in ${fmt((performance.now() - t) / 1000)} s`);
};

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const startChild = async (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, readyUrl: string) => {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ["ignore", "ignore", "pipe"] });
  trackPid(child.pid);
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    err = (err + c.toString()).slice(-3000);
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`child exited: ${err}`);
    const ok = await fetch(readyUrl).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${readyUrl} not ready: ${err}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return child;
};

const stopChild = async (child: ChildProcess | undefined) => {
  if (!child || child.exitCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
  untrackPid(child.pid);
};

/** Milliseconds of each of `reps` runs of `f`, after one warm-up run. */
const times = async (reps: number, f: () => Promise<unknown>): Promise<Summary> => {
  await f();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await f();
    out.push(performance.now() - t);
  }
  return summarize(out);
};

const getText = async (url: string) => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.text();
};

/**
 * Requests per second to `url` from `connections` keep-alive connections for `ms`: each socket
 * sends a GET, reads one whole response (headers + Content-Length body), sends the next. Raw
 * sockets like autocannon, so the client is not the bottleneck `node:http`'s client would be.
 */
const load = async (url: string, connections: number, ms: number): Promise<number> => {
  const target = new URL(url);
  const requestBytes = Buffer.from(
    `GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n\r\n`,
  );
  let done = 0;
  let failed = 0;
  const until = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(Number(target.port), target.hostname);
          socket.setNoDelay(true);
          let buffer: Buffer = Buffer.alloc(0);
          const next = () => {
            if (performance.now() >= until) {
              socket.end();
              resolve();
            } else socket.write(requestBytes);
          };
          socket.on("connect", next);
          socket.on("error", reject);
          socket.on("data", (chunk: Buffer) => {
            buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
            for (;;) {
              const head = buffer.indexOf("\r\n\r\n");
              if (head < 0) return;
              const headers = buffer.subarray(0, head).toString("latin1");
              const declared = /content-length:\s*(\d+)/i.exec(headers)?.[1];
              if (declared === undefined) throw new Error(`${url}: an answer without Content-Length`);
              const length = Number(declared);
              if (buffer.length < head + 4 + length) return;
              if (headers.startsWith("HTTP/1.1 200")) done++;
              else failed++;
              buffer = buffer.subarray(head + 4 + length);
              next();
            }
          });
        }),
    ),
  );
  const elapsed = performance.now() - started;
  if (failed > 0) throw new Error(`${url}: ${failed} answers were not 200`);
  return rate(done, elapsed);
};

const BARE_SERVER = `
const http = require("node:http");
const body = JSON.stringify({ status: "ok" });
http.createServer((req, res) => { res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }); res.end(body); })
  .listen(Number(process.env.PORT), "127.0.0.1");
`;

const figure = (
  id: string,
  label: string,
  unit: string,
  value: Summary,
  baseline: { label: string; value: Summary; unit?: string },
  target?: { text: string; met: boolean },
  note?: string,
): Figure => ({
  id,
  group,
  label,
  unit,
  value,
  baseline: { label: baseline.label, unit: baseline.unit ?? unit, value: baseline.value },
  ratio: (baseline.unit ?? unit) === unit ? ratioOf(value, baseline.value) : undefined,
  target,
  note,
});

export async function runMonitor(opts: { quick: boolean }): Promise<ReadonlyArray<Figure>> {
  const companies = int("BENCH_MONITOR_COMPANIES", 1_000_000);
  const events = int("BENCH_MONITOR_EVENTS", 5_000_000);
  const reps = int("BENCH_MONITOR_REPS", opts.quick ? 7 : 15);
  const loadMs = opts.quick ? 3_000 : 5_000;
  return withDatabase((db: TestDatabase) =>
    withNatsServer(async (nats) => {
      const now = Date.now();
      const t0 = performance.now();
      await seed(db.sql, companies, events, now);
      const seedSeconds = (performance.now() - t0) / 1000;
      log(
        `monitor: seeded ${companies} companies, ${companies} scores, ${events} events in ${fmt(seedSeconds)} s`,
      );

      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const env = {
        ...process.env,
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        PORT: String(port),
        LOG_LEVEL: "warn",
        // one refresh at start; none during the timings (it is measured on its own below)
        MONITOR_REFRESH_INTERVAL: "1 hour",
      };
      const monitor = await startChild([cliBin, "service", "monitor"], env, `${base}/readyz`);
      const barePort = await freePort();
      const bare = await startChild(
        ["-e", BARE_SERVER],
        { ...process.env, PORT: String(barePort) },
        `http://127.0.0.1:${barePort}/`,
      );
      try {
        const end = new Date(now - 30 * DAY);
        const start = new Date(end.getTime() - 6 * DAY);
        const day = (d: Date) => d.toISOString().slice(0, 10);
        const from = new Date(`${day(start)}T00:00:00Z`);
        const to = new Date(Date.parse(`${day(end)}T00:00:00Z`) + DAY);
        const sql = db.sql;
        const inactive = ["lost", "archived", "no_response"];

        const rawValue = () => sql`
          select count(*), sum(f.savings_low), sum(f.savings_mid), sum(f.savings_high)
          from lead_scores s join companies c on c.id = s.company_id join company_features f on f.company_id = s.company_id
          where s.tier = 'high' and c.status <> all(${inactive}::text[])
            and not exists (select 1 from lead_scores n where n.company_id = s.company_id
              and (n.scored_at, n.id) > (s.scored_at, s.id))`;
        const rawCounts = () => sql`select status, count(*) from companies group by status`;
        const rawWeekly = () =>
          Promise.all([
            sql`select industry, state, count(*) from companies where date_found >= ${from} and date_found < ${to} group by 1, 2`,
            sql`select tier, count(*) from lead_scores where scored_at >= ${from} and scored_at < ${to} group by 1`,
            sql`select event_type, count(*) from outreach_events where event_type in ('sent','followup_sent','opened','clicked','replied','unsubscribed')
              and event_at >= ${from} and event_at < ${to} group by 1`,
            sql`select reply_sentiment, count(*) from outreach_events where event_type = 'replied' and event_at >= ${from} and event_at < ${to} group by 1`,
            rawValue(),
            sql`select s.company_id, s.score from lead_scores s join companies c on c.id = s.company_id
              where s.tier = 'high' and c.status <> all(${inactive}::text[])
                and not exists (select 1 from lead_scores n where n.company_id = s.company_id and (n.scored_at, n.id) > (s.scored_at, s.id))
              order by s.score desc, s.scored_at desc, s.id desc limit 10`,
          ]);

        const weeklyUrl = `${base}/api/reports/weekly?start=${day(start)}&end=${day(end)}`;
        const weekly = await times(reps, () => getText(weeklyUrl));
        const weeklyRaw = await times(reps, rawWeekly);
        const counts = await times(reps, () => getText(`${base}/api/pipeline/counts`));
        const countsRaw = await times(reps, rawCounts);
        const value = await times(reps, () => getText(`${base}/api/pipeline/value`));
        const valueRaw = await times(reps, rawValue);
        const stuck = await times(reps, () => getText(`${base}/api/pipeline/stuck`));
        const scrape = await times(reps * 3, () => getText(`${base}/metrics`));
        const metricsText = await getText(`${base}/metrics`);
        if (!/leadflow_companies\{status="scored"/.test(metricsText))
          throw new Error("gauges missing from /metrics");

        const healthz: number[] = [];
        const bareRps: number[] = [];
        await load(`${base}/healthz`, 50, 1_000);
        await load(`http://127.0.0.1:${barePort}/`, 50, 1_000);
        for (let i = 0; i < 3; i++) {
          healthz.push(await load(`${base}/healthz`, 50, loadMs));
          bareRps.push(await load(`http://127.0.0.1:${barePort}/`, 50, loadMs));
        }

        const report = JSON.parse(await getText(weeklyUrl)) as {
          emails: { total_sent: number };
          top_leads: unknown[];
        };
        const note =
          `the report's pipeline_value is the one the gauge refresh computed (≤ 2 intervals old; live: the value figure below), ` +
          `the baseline computes it live; seeding (COPY + VACUUM ANALYZE) took ${fmt(seedSeconds)} s; the week holds ${report.emails.total_sent} sends`;
        return [
          figure(
            "monitor.weekly",
            "GET /api/reports/weekly (one week)",
            "ms",
            weekly,
            { label: "same SQL, postgres.js", value: weeklyRaw },
            { text: "≤ 100 ms", met: weekly.median <= 100 },
            note,
          ),
          figure(
            "monitor.counts",
            "GET /api/pipeline/counts",
            "ms",
            counts,
            { label: "raw group by status", value: countsRaw },
            { text: "≤ 50 ms", met: counts.median <= 50 },
          ),
          figure("monitor.value", "GET /api/pipeline/value", "ms", value, {
            label: "same SQL, postgres.js",
            value: valueRaw,
          }),
          figure("monitor.stuck", "GET /api/pipeline/stuck", "ms", stuck, {
            label: "raw group by status",
            value: countsRaw,
          }),
          figure(
            "monitor.metrics",
            "GET /metrics (gauges refreshed in background)",
            "ms",
            scrape,
            { label: "raw group by status", value: countsRaw },
            { text: "≤ 10 ms", met: scrape.median <= 10 },
          ),
          figure("monitor.healthz", "GET /healthz, 50 connections", "req/s", summarize(healthz), {
            label: "bare node:http server",
            value: summarize(bareRps),
          }),
        ];
      } finally {
        await stopChild(monitor);
        await stopChild(bare);
      }
    }),
  );
}
