import { withTransaction } from "@leadflow/runtime";
import { contendWhileHeld, createTestDatabase, failuresOf, type TestDatabase } from "@leadflow/testkit";
import { Effect } from "effect";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAnalystConfig } from "../src/AnalystConfig.js";
import type { CompanyInput } from "../src/Features.js";
import { loadCompanies, saveAnalyses } from "../src/LeadStore.js";
import { analyze } from "../src/Model.js";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const newRun = (id: string) =>
  db.sql`insert into runs (id, industry, location, requested_count, request, status)
    values (${id}, 'hospital', 'Buffalo, NY', 120, '{}'::jsonb, 'analyzing')`;

const save = (sql: postgres.Sql, runId: string, companies: ReadonlyArray<CompanyInput>) =>
  Effect.runPromise(
    withTransaction(sql, (tx) =>
      saveAnalyses(
        tx,
        runId,
        "test",
        companies.map((company) => ({ company, analysis: analyze(company, defaultAnalystConfig) })),
      ),
    ).pipe(
      // Postgres's own error, with its SQLSTATE (40P01: deadlock detected)
      Effect.catchTag("DbError", (e) => Effect.die(e.cause)),
    ),
  );

describe("saveAnalyses in concurrent runs", () => {
  it("never deadlocks, whatever order each run's chunk lists the same companies in", async () => {
    await db.sql`insert into companies (name, industry, city, state, dedupe_key, source)
      select 'Hospital ' || n, 'hospital', 'Buffalo', 'NY', 'key-' || n, 'sample'
      from generate_series(1, 120) n`;
    const ids = (await db.sql<{ id: string }[]>`select id from companies order by id`).map((r) => r.id);
    const companies = await Effect.runPromise(withTransaction(db.sql, (tx) => loadCompanies(tx, ids)));
    const byId = [...companies].sort((a, b) => (a.id < b.id ? -1 : 1));
    // scored once by an earlier run: their features rows exist, and a new score updates them
    await newRun("scored-0");
    await save(db.sql, "scored-0", byId);

    const orders = [byId, [...byId].reverse(), [...byId.slice(70), ...byId.slice(0, 70)], byId];
    const runs = orders.map((_, i) => `scored-${i + 1}`);
    for (const run of runs) await newRun(run);
    // a connection each: the analyses, the holder and the probe below
    const sql = postgres(db.url, { max: orders.length + 2, onnotice: () => undefined });

    // another transaction holds the features of a company in the middle of the lists
    const outcomes = await contendWhileHeld(
      sql,
      (tx) => tx`select 1 from company_features where company_id = ${byId[50]!.id} for update`,
      orders.map((list, i) => () => save(sql, runs[i]!, list)),
      "analysis",
    );
    await sql.end({ timeout: 5 });
    const failures = failuresOf(outcomes);
    expect(failures).toEqual([]);
    const scores = await db.sql<{ run_id: string; n: number }[]>`
      select run_id, count(*)::int as n from lead_scores group by run_id order by run_id`;
    expect(scores).toEqual(["scored-0", ...runs].map((run_id) => ({ run_id, n: 120 })));
    const [scored] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from companies where status = 'scored'`;
    expect(scored?.n).toBe(120);
  });
});
