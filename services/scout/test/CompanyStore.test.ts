import { withTransaction } from "@leadflow/runtime";
import { createTestDatabase, type TestDatabase } from "@leadflow/testkit";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeCompanies } from "../src/CompanyStore.js";
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

const store = (runId: string, companies: ReturnType<typeof generateSampleCompanies>) =>
  Effect.runPromise(withTransaction(db.sql, (tx) => storeCompanies(tx, runId, companies)));

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
});
