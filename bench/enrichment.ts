/**
 * Benchmark 5 — enrichment under a rate limit: one run of 300 high-tier hospitals (CSV scout
 * source, no phones in the file) through `leadflow dev` on a fresh PostgreSQL database, with all
 * four paid providers as fakes that answer after 100 ms and enforce 10 requests/s each (a
 * sliding 1 s window, answering the provider's own over-limit error and counting it), and the
 * clients set to 10/s by environment (`<P>_RATE_PER_SEC=10`; concurrency, ENRICHMENT_CONCURRENCY
 * and chunking at their defaults).
 *
 * The directory is split so every provider is called: Google Places knows 2/3 of the phones,
 * Yelp half of the rest; Hunter has people at 2/3 of the domains, Apollo (search, then match)
 * at the others. Phone chain `google_places,yelp`, contact chain `hunter,apollo` (the website
 * sources are left out: the `.test` domains do not resolve).
 *
 * Measured: the enrichment stage's duration from the `tasks` table (the run's enrichment tasks:
 * first `started_at` → last `ended_at`, i.e. dispatch → completion recorded), against the time
 * the limit allows — calls each fake received ÷ 10/s, the provider with the most calls bounds
 * it (target ≤ 1.1 ×); the requests each fake answered as over its limit (target 0) and the most
 * it saw in any 1 s window. Then a repeat run over the same companies (new run id, same CSV and
 * query): provider calls (target 0, the provider cache and the stored phones answer).
 */
import {
  type ApolloFake,
  type GooglePlacesPhoneFake,
  type HunterFake,
  startApolloFake,
  startGooglePlacesPhoneFake,
  startHunterFake,
  startYelpPhoneFake,
  type YelpPhoneFake,
} from "@leadflow/testkit/fakes";
import type { BenchConfig } from "./infra.js";
import { log, makeTempDir, removeTempDir, runToGate } from "./infra.js";
import { hospitalRows, listingOf, withDevStack, writeHospitalCsv } from "./pipelineRun.js";
import { type Figure, fmt, ratioOf, summarize } from "./stats.js";

const group = "5. Enrichment under a rate limit (leadflow dev, PostgreSQL, 4 fakes at 100 ms, 10 req/s)";
const RATE = 10;
const LATENCY_MS = 100;
const providers = ["google_places", "yelp", "hunter", "apollo"] as const;
type Provider = (typeof providers)[number];

export interface EnrichmentSample {
  readonly companies: number;
  /** Enrichment tasks: first started_at → last ended_at, ms. */
  readonly stageMs: number;
  readonly tasks: number;
  /** Enrichment task attempts that did not complete (failed or timed out, then retried). */
  readonly failedTasks: number;
  /** Calls each fake received in the first run (over-limit answers included). */
  readonly calls: Record<Provider, number>;
  /** Calls each fake answered within its limit: the work the run needed. */
  readonly accepted: Record<Provider, number>;
  /** The busiest provider's accepted calls ÷ 10/s, ms. */
  readonly boundMs: number;
  readonly boundProvider: Provider;
  readonly overLimit: Record<Provider, number>;
  /** The most requests each fake saw in any 1 s window. */
  readonly maxPerSecond: Record<Provider, number>;
  /** At each fake: the shortest time between a request and the 10th after it, and between two requests, ms. */
  readonly shortestSpanMs: Record<Provider, number>;
  readonly shortestGapMs: Record<Provider, number>;
  /** The dev process's `leadflow_provider_calls_total` by provider and outcome, after the first run. */
  readonly clientOutcomes: Record<string, Record<string, number>>;
  /** Trigger → awaiting_approval of the first run, ms. */
  readonly runMs: number;
  readonly phones: number;
  readonly contacts: number;
  readonly providerErrors: ReadonlyArray<string>;
  /** The repeat run: calls to all fakes (and per provider), enrichment stage ms, contacts. */
  readonly repeatCalls: number;
  readonly repeatCallsBy: Record<Provider, number>;
  readonly repeatStageMs: number;
  readonly repeatContacts: number;
  readonly startupMs: number;
}

interface Fakes {
  readonly google: GooglePlacesPhoneFake;
  readonly yelp: YelpPhoneFake;
  readonly hunter: HunterFake;
  readonly apollo: ApolloFake;
}

const startFakes = async (rows: ReturnType<typeof hospitalRows>): Promise<Fakes> => {
  const rateLimit = { limit: RATE, windowMs: 1000 };
  const started: Array<{ close: () => Promise<void> }> = [];
  try {
    const google = await startGooglePlacesPhoneFake({
      directory: rows.filter((_, i) => i % 3 !== 2).map(listingOf),
      rateLimit,
    });
    started.push(google);
    const yelp = await startYelpPhoneFake({
      directory: rows.filter((_, i) => i % 6 === 2).map(listingOf),
      rateLimit,
    });
    started.push(yelp);
    const hunter = await startHunterFake({
      domains: Object.fromEntries(rows.filter((_, i) => i % 3 === 2).map((r) => [r.domain, []])),
      rateLimit,
    });
    started.push(hunter);
    const apollo = await startApolloFake({ rateLimit });
    started.push(apollo);
    // 100 ms before every answer (the generic server's latency fault, queued for every request)
    for (const fake of [google, yelp, hunter, apollo]) {
      fake.server.inject({ type: "latency", ms: LATENCY_MS }, rows.length * 20 + 100);
    }
    return { google, yelp, hunter, apollo };
  } catch (error) {
    await Promise.all(started.map((f) => f.close().catch(() => undefined)));
    throw error;
  }
};

const byProvider = (fakes: Fakes): Record<Provider, Fakes[keyof Fakes]> => ({
  google_places: fakes.google,
  yelp: fakes.yelp,
  hunter: fakes.hunter,
  apollo: fakes.apollo,
});

const mapProviders = <A>(fakes: Fakes, f: (fake: Fakes[keyof Fakes]) => A): Record<Provider, A> => {
  const all = byProvider(fakes);
  return Object.fromEntries(providers.map((p) => [p, f(all[p])])) as Record<Provider, A>;
};

/** The shortest time from an arrival to the `n`-th after it (arrival times in order), ms. */
const shortestSpan = (times: ReadonlyArray<number>, n: number): number => {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i + n < times.length; i++) best = Math.min(best, times[i + n]! - times[i]!);
  return best;
};

/** `leadflow_provider_calls_total{provider, outcome}` from a Prometheus text body. */
const providerOutcomes = (metrics: string): Record<string, Record<string, number>> => {
  const out: Record<string, Record<string, number>> = {};
  for (const line of metrics.split("\n")) {
    const m = /^leadflow_provider_calls_total\{([^}]*)\} ([0-9.e+-]+)$/.exec(line);
    if (!m) continue;
    const provider = /provider="([^"]+)"/.exec(m[1]!)?.[1];
    const outcome = /outcome="([^"]+)"/.exec(m[1]!)?.[1];
    if (!provider || !outcome) continue;
    out[provider] = { ...out[provider], [outcome]: Number(m[2]) };
  }
  return out;
};

const oneRepetition = async (config: BenchConfig, rep: number): Promise<EnrichmentSample> => {
  const count = config.enrichCount;
  const tag = `enr${rep}`;
  const rows = hospitalRows(1, count, tag);
  const dir = await makeTempDir("leadflow-bench-enrich-csv-");
  let fakes: Fakes | undefined;
  try {
    const csv = await writeHospitalCsv(dir, rows);
    fakes = await startFakes(rows);
    const f = fakes;
    const env: Record<string, string> = {
      SCOUT_SOURCES: "csv",
      SCOUT_CSV_PATH: csv,
      ENRICHMENT_PHONE_SOURCES: "google_places,yelp",
      ENRICHMENT_CONTACT_SOURCES: "hunter,apollo",
      WRITER_BACKEND: "template",
      GOOGLE_PLACES_API_KEY: f.google.apiKey,
      GOOGLE_PLACES_BASE_URL: f.google.url,
      YELP_API_KEY: f.yelp.apiKey,
      YELP_BASE_URL: f.yelp.url,
      HUNTER_API_KEY: f.hunter.apiKey,
      HUNTER_BASE_URL: f.hunter.url,
      APOLLO_API_KEY: f.apollo.apiKey,
      APOLLO_BASE_URL: f.apollo.url,
    };
    for (const p of ["GOOGLE_PLACES", "YELP", "HUNTER", "APOLLO"])
      env[`${p}_RATE_PER_SEC`] = String(config.enrichClientRate);

    return await withDevStack("enrich", env, async (stack) => {
      const town = rows[0]!;
      const location = `${town.city}, ${town.state}`;
      const runId = `bench_enrich_${rep}_${Date.now().toString(36)}`;
      const first = await runToGate(
        stack.client,
        [{ requestId: runId, industry: "hospital", location, count }],
        config.e2eTimeoutMs,
      );
      const calls = mapProviders(f, (x) => x.calls());
      const overLimit = mapProviders(f, (x) => x.server.rateLimitViolations());
      const maxPerSecond = mapProviders(f, (x) => x.server.maxInWindow(1000));
      const accepted = mapProviders(f, (x) => x.calls() - x.server.rateLimitViolations());
      const shortestSpanMs = mapProviders(f, (x) =>
        shortestSpan(
          x.server.requests.map((r) => r.at),
          RATE,
        ),
      );
      const shortestGapMs = mapProviders(f, (x) =>
        shortestSpan(
          x.server.requests.map((r) => r.at),
          1,
        ),
      );
      const clientOutcomes = providerOutcomes(
        await fetch(`${stack.base}/metrics`)
          .then((r) => r.text())
          .catch(() => ""),
      );

      const stage = async (id: string) => {
        const [row] = await stack.db.sql<{ ms: number | null; tasks: number; open: number }[]>`
          select
            (extract(epoch from max(ended_at) - min(started_at)) * 1000)::float8 as ms,
            count(*)::int as tasks,
            count(*) filter (where status <> 'completed')::int as open
          from tasks where run_id = ${id} and agent = 'enrichment'`;
        if (!row || row.ms === null || row.tasks === 0) throw new Error(`run ${id}: no enrichment task`);
        return row;
      };
      const summary = async (id: string) => {
        const [row] = await stack.db.sql<
          {
            summary: {
              enrichment?: {
                companies: number;
                phonesBySource: Record<string, number>;
                contacts: number;
                providerErrors: ReadonlyArray<{ provider: string; message: string }>;
              };
              leads: { high: number };
            };
          }[]
        >`select summary from runs where id = ${id}`;
        const e = row?.summary.enrichment;
        if (!e) throw new Error(`run ${id}: no enrichment in the summary`);
        return e;
      };
      const firstStage = await stage(runId);
      const firstSummary = await summary(runId);
      if (firstSummary.companies !== count) {
        throw new Error(`expected ${count} companies enriched, the summary says ${firstSummary.companies}`);
      }

      // the repeat run: same companies, nothing to pay for
      const before = providers.reduce((a, p) => a + calls[p], 0);
      const repeatId = `${runId}_again`;
      await runToGate(
        stack.client,
        [{ requestId: repeatId, industry: "hospital", location, count }],
        config.e2eTimeoutMs,
      );
      const after = mapProviders(f, (x) => x.calls());
      const repeatStage = await stage(repeatId);
      const repeatSummary = await summary(repeatId);

      const boundProvider = providers.reduce((a, p) => (accepted[p] > accepted[a] ? p : a), providers[0]);
      return {
        companies: count,
        stageMs: firstStage.ms!,
        tasks: firstStage.tasks,
        failedTasks: firstStage.open,
        calls,
        accepted,
        boundMs: (accepted[boundProvider] / RATE) * 1000,
        boundProvider,
        overLimit,
        maxPerSecond,
        shortestSpanMs,
        shortestGapMs,
        clientOutcomes,
        runMs: first.finished - first.started,
        phones: Object.values(firstSummary.phonesBySource).reduce((a, b) => a + b, 0),
        contacts: firstSummary.contacts,
        providerErrors: firstSummary.providerErrors.map((e) => `${e.provider}: ${e.message}`),
        repeatCalls: providers.reduce((a, p) => a + after[p], 0) - before,
        repeatCallsBy: Object.fromEntries(providers.map((p) => [p, after[p] - calls[p]])) as Record<
          Provider,
          number
        >,
        repeatStageMs: repeatStage.ms!,
        repeatContacts: repeatSummary.contacts,
        startupMs: stack.startupMs,
      } satisfies EnrichmentSample;
    });
  } finally {
    if (fakes) await Promise.all(Object.values(fakes).map((x) => x.close().catch(() => undefined)));
    await removeTempDir(dir);
  }
};

export interface EnrichmentResult {
  readonly figures: ReadonlyArray<Figure>;
  readonly samples: ReadonlyArray<EnrichmentSample>;
}

const perProvider = (f: (p: Provider) => string) => providers.map((p) => `${p} ${f(p)}`).join(", ");

export const runEnrichment = async (config: BenchConfig): Promise<EnrichmentResult> => {
  const samples: EnrichmentSample[] = [];
  for (let rep = 0; rep < config.enrichReps; rep++) {
    const s = await oneRepetition(config, rep);
    samples.push(s);
    log(
      `enrichment rep ${rep + 1}/${config.enrichReps}: stage ${fmt(s.stageMs / 1000)} s vs ${fmt(s.boundMs / 1000)} s allowed (${s.boundProvider}; ${fmt(s.stageMs / s.boundMs)} ×); calls ${perProvider((p) => `${s.calls[p]}`)}; over limit ${perProvider((p) => `${s.overLimit[p]}`)}; most in 1 s ${perProvider((p) => `${s.maxPerSecond[p]}`)}; shortest 11-request span ${perProvider((p) => `${fmt(s.shortestSpanMs[p])} ms`)}; client outcomes ${JSON.stringify(s.clientOutcomes)}; repeat run ${s.repeatCalls} calls (${perProvider((p) => `${s.repeatCallsBy[p]}`)}), stage ${fmt(s.repeatStageMs / 1000)} s${s.providerErrors.length > 0 ? `; provider errors: ${s.providerErrors.join(" | ").slice(0, 300)}` : ""}`,
    );
  }
  const stage = summarize(samples.map((s) => s.stageMs / 1000));
  const bound = summarize(samples.map((s) => s.boundMs / 1000));
  const ratio = ratioOf(stage, bound);
  const overLimit = summarize(samples.map((s) => providers.reduce((a, p) => a + s.overLimit[p], 0)));
  const repeat = summarize(samples.map((s) => s.repeatCalls));
  const med = (f: (s: EnrichmentSample) => number) => fmt(summarize(samples.map(f)).median);
  const worst = (f: (s: EnrichmentSample) => number) => Math.max(...samples.map(f));
  const least = (f: (s: EnrichmentSample) => number) => Math.min(...samples.map(f));
  const count = config.enrichCount;
  const figures: Figure[] = [
    {
      id: "enrichment.stage",
      group,
      label: `enrichment of ${count} companies (tasks: dispatch → completed)`,
      unit: "s",
      value: stage,
      baseline: {
        label: "time the limit allows (calls answered ÷ 10/s, busiest provider)",
        unit: "s",
        value: bound,
      },
      ratio,
      target: { text: "≤ 110 % of the limit's time", met: ratio <= 1.1 },
      note: `calls answered per run (median): ${perProvider((p) => med((s) => s.accepted[p]))}; per-rep ratios ${samples.map((s) => fmt(s.stageMs / s.boundMs)).join(", ")}; trigger → gate ${med((s) => s.runMs / 1000)} s; ${med((s) => s.phones)} phones, ${med((s) => s.contacts)} contacts; ${samples[0]?.tasks ?? 0} enrichment tasks`,
    },
    {
      id: "enrichment.overLimit",
      group,
      label: "requests the fakes answered as over their 10/s limit",
      unit: "requests",
      value: overLimit,
      target: { text: "0", met: overLimit.max === 0 },
      note: `max over reps: ${perProvider((p) => String(worst((s) => s.overLimit[p])))}; most in any 1 s window ${perProvider((p) => String(worst((s) => s.maxPerSecond[p])))}; shortest span of 11 requests ${perProvider((p) => `${fmt(least((s) => s.shortestSpanMs[p]))} ms`)}`,
    },
    {
      id: "enrichment.repeatCalls",
      group,
      label: "repeat run over the same companies: provider calls",
      unit: "calls",
      value: repeat,
      target: { text: "0", met: repeat.max === 0 },
      note: `max over reps: ${perProvider((p) => String(worst((s) => s.repeatCallsBy[p])))}; enrichment stage ${med((s) => s.repeatStageMs / 1000)} s, ${med((s) => s.repeatContacts)} contacts`,
    },
  ];
  return { figures, samples };
};

/** Per repetition and provider: what each fake saw and what the client counted. */
export const describeEnrichment = (samples: ReadonlyArray<EnrichmentSample>): string[] => {
  if (samples.length === 0) return [];
  const out = ["", "Enrichment under a rate limit, per repetition and provider:"];
  samples.forEach((s, i) => {
    out.push(
      `  rep ${i + 1}: stage ${fmt(s.stageMs / 1000)} s over ${s.tasks} task(s) (${s.failedTasks} failed) vs ${fmt(s.boundMs / 1000)} s allowed (${s.boundProvider}); trigger → gate ${fmt(s.runMs / 1000)} s; ${s.phones} phones, ${s.contacts} contacts; repeat run: ${s.repeatCalls} calls, stage ${fmt(s.repeatStageMs / 1000)} s`,
    );
    for (const p of providers) {
      const client = Object.entries(s.clientOutcomes[p] ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
      out.push(
        `      ${p.padEnd(14)} ${String(s.calls[p]).padStart(4)} calls, ${String(s.overLimit[p]).padStart(3)} over the limit, most in 1 s ${String(s.maxPerSecond[p]).padStart(2)}, shortest 11-request span ${fmt(s.shortestSpanMs[p]).padStart(5)} ms, shortest gap ${fmt(s.shortestGapMs[p]).padStart(5)} ms; client: ${client || "no calls"}; repeat run ${s.repeatCallsBy[p]}`,
      );
    }
    if (s.providerErrors.length > 0)
      out.push(`      provider errors in the summary: ${s.providerErrors.join(" | ").slice(0, 400)}`);
  });
  return out;
};
