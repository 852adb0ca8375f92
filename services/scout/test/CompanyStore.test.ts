import { withTransaction } from "@leadflow/runtime";
import { contendWhileHeld, createTestDatabase, failuresOf, type TestDatabase } from "@leadflow/testkit";
import { Effect } from "effect";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeCompanies } from "../src/CompanyStore.js";
import { dedupeKey } from "../src/Dedupe.js";
import { generateSampleCompanies } from "../src/sources/SampleSource.js";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const newRun = (id: string) =>
  db.sql`insert into runs (id, industry, location, requested_count, request, status)
    values (${id}, 'hospital', 'Buffalo, NY', 5, '{}'::jsonb, 'scouting')`;

const store = (
  runId: string,
  companies: ReturnType<typeof generateSampleCompanies>,
  sql = db.sql,
  count = 5,
) =>
  Effect.runPromise(
    withTransaction(sql, (tx) => storeCompanies(tx, runId, companies, count)).pipe(
      // Postgres's own error, with its SQLSTATE (40P01: deadlock detected)
      Effect.catchTag("DbError", (e) => Effect.die(e.cause)),
    ),
  );

describe("storeCompanies", () => {
  it("reuses a company an earlier run found, links it to the new run, and leaves its row as it was", async () => {
    const companies = generateSampleCompanies({
      industry: "hospital",
      location: "Buffalo, NY",
      count: 5,
      seed: "store-1",
    });
    await newRun("store-a");
    expect(await store("store-a", companies)).toEqual({ found: 5, created: 5, duplicates: 0 });
    // found three days ago and never analyzed: `new` since then
    await db.sql`update companies set updated_at = now() - interval '3 days'`;
    const before = await db.sql<{ id: string; updated_at: Date }[]>`
      select id, updated_at from companies order by id`;

    await newRun("store-b");
    expect(await store("store-b", companies)).toEqual({ found: 5, created: 0, duplicates: 5 });
    const after = await db.sql<
      { id: string; updated_at: Date }[]
    >`select id, updated_at from companies order by id`;
    // finding a company again changes nothing about it: the monitor's "new for over 24 h" check
    // reads `updated_at` as the time the company entered its status
    expect(after).toEqual(before);
    const links = await db.sql<{ run_id: string; n: number; fresh: number }[]>`
      select run_id, count(*)::int as n, count(*) filter (where is_new)::int as fresh
      from run_companies group by run_id order by run_id`;
    expect(links).toEqual([
      { run_id: "store-a", n: 5, fresh: 5 },
      { run_id: "store-b", n: 5, fresh: 0 },
    ]);
  });
});

describe("storeCompanies for a stage attempted again", () => {
  it("reports every company linked to the run, whichever attempt linked it, with the new ones counted as new", async () => {
    const companies = generateSampleCompanies({
      industry: "hospital",
      location: "Buffalo, NY",
      count: 5,
      seed: "retry-1",
    });
    // two companies an earlier run found, three new to the database
    await newRun("retry-earlier");
    await store("retry-earlier", companies.slice(0, 2));
    await newRun("retry-run");
    // attempt 1: timed out as far as the orchestrator knows, but its transaction committed
    expect(await store("retry-run", companies)).toEqual({ found: 5, created: 3, duplicates: 2 });
    // attempt 2 finds the same companies, all already linked to the run by attempt 1
    expect(await store("retry-run", companies)).toEqual({ found: 5, created: 3, duplicates: 2 });
    // an attempt whose sources found nothing this time still reports what the run has
    expect(await store("retry-run", [])).toEqual({ found: 5, created: 3, duplicates: 2 });
  });

  it("never links more than the run asked for: an attempt whose sources answer differently fills only the shortfall", async () => {
    const first = generateSampleCompanies({
      industry: "dentist",
      location: "Reno, NV",
      count: 5,
      seed: "cap-1",
    });
    const other = generateSampleCompanies({
      industry: "dentist",
      location: "Reno, NV",
      count: 5,
      seed: "cap-2",
    });
    await newRun("cap-run");
    // attempt 1 found 3 of 5 (a source was down), and committed
    expect(await store("cap-run", first.slice(0, 3))).toEqual({ found: 3, created: 3, duplicates: 0 });
    // attempt 2's sources answer with five others: two fill the run, the rest are not stored
    expect(await store("cap-run", other)).toEqual({ found: 5, created: 5, duplicates: 0 });
    // attempt 3 with yet the first five again: nothing to add
    expect(await store("cap-run", first)).toEqual({ found: 5, created: 5, duplicates: 0 });
    const links = await db.sql<{ name: string; position: number }[]>`
      select c.name, rc.position from run_companies rc join companies c on c.id = rc.company_id
      where rc.run_id = 'cap-run' order by rc.position`;
    expect(links).toEqual([
      ...first.slice(0, 3).map((c, position) => ({ name: c.name, position })),
      ...other.slice(0, 2).map((c, i) => ({ name: c.name, position: 3 + i })),
    ]);
    const stored = await db.sql<{ n: number }[]>`
      select count(*)::int as n from companies where first_run_id = 'cap-run'`;
    expect(stored[0]!.n).toBe(5);
  });

  it("stores and links a company its sources returned twice once", async () => {
    const [company] = generateSampleCompanies({
      industry: "school",
      location: "Boise, ID",
      count: 1,
      seed: "twice",
    });
    await newRun("twice");
    expect(await store("twice", [company!, { ...company!, source: "csv" }])).toEqual({
      found: 1,
      created: 1,
      duplicates: 0,
    });
    const [link] = await db.sql<{ source: string; position: number }[]>`
      select source, position from run_companies where run_id = 'twice'`;
    expect(link).toEqual({ source: company!.source, position: 0 });
  });
});

describe("storeCompanies in concurrent runs", () => {
  it("never deadlocks, whatever order each run's sources returned the same companies in", async () => {
    const known = generateSampleCompanies({
      industry: "hotel",
      location: "Reno, NV",
      count: 120,
      seed: "overlap",
    });
    const fresh = generateSampleCompanies({
      industry: "hospital",
      location: "Buffalo, NY",
      count: 40,
      seed: "overlap",
    });
    await newRun("overlap-0");
    await store("overlap-0", known, db.sql, known.length);
    const all = [...known, ...fresh];
    expect(new Set(all.map(dedupeKey)).size).toBe(all.length);
    const orders = [all, [...all].reverse(), [...all.slice(80), ...all.slice(0, 80)], [...fresh, ...known]];
    const runs = orders.map((_, i) => `overlap-${i + 1}`);
    for (const run of runs) await newRun(run);
    // a connection each: the stores, the holder and the probe below
    const sql = postgres(db.url, { max: orders.length + 2, onnotice: () => undefined });

    // another transaction (an analyst's status update) holds a company in the middle of the lists
    const [middle] = await db.sql<{ id: string }[]>`
      select company_id as id from run_companies where run_id = 'overlap-0' and position = 60`;
    const outcomes = await contendWhileHeld(
      sql,
      (tx) => tx`select id from companies where id = ${middle!.id} for no key update`,
      orders.map((companies, i) => () => store(runs[i]!, companies, sql, companies.length)),
      "store",
    );
    await sql.end({ timeout: 5 });
    const failures = failuresOf(outcomes);
    expect(failures).toEqual([]);
    for (const o of outcomes) {
      expect(o.status === "fulfilled" && o.value.found).toBe(all.length);
    }
    const [companies] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from companies where dedupe_key in (
        select c.dedupe_key from companies c join run_companies rc on rc.company_id = c.id
        where rc.run_id = 'overlap-1')`;
    expect(companies?.n).toBe(all.length);
  });
});
