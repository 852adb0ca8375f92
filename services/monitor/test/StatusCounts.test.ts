import { CompanyStatuses } from "@leadflow/contracts";
import { createTestDatabase, type TestDatabase } from "@leadflow/testkit";
import { Effect } from "effect";
import { afterAll, beforeAll, expect, it } from "vitest";
import { compactStatusDeltas, statusCounts } from "../src/PipelineStore.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** The truth the deltas must always equal: counting the table. */
const counted = async () => {
  const rows = await db.sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from companies group by status`;
  const all = Object.fromEntries(CompanyStatuses.map((s) => [s, 0]));
  for (const r of rows) all[r.status] = r.n;
  return all;
};
const fromDeltas = () => Effect.runPromise(statusCounts(db.sql));

it("keeps exact counts per status through inserts, upserts, updates, deletes, compaction and truncate", async () => {
  const { sql } = db;
  await sql`insert into companies (name, industry, dedupe_key, source)
    select 'c' || i, 'hospital', 'k' || i, 'sample' from generate_series(1, 200) i`;
  expect(await fromDeltas()).toEqual(await counted());

  await sql`update companies set status = 'scored' where name in ('c1', 'c2', 'c3', 'c4')`;
  await sql`update companies set phone = '+17165550100' where name = 'c5'`; // no status change
  // the scout's upsert: one row updated through on conflict, one inserted
  await sql`insert into companies (name, industry, dedupe_key, source)
    values ('c1', 'hospital', 'k1', 'sample'), ('fresh', 'hospital', 'kfresh', 'sample')
    on conflict (dedupe_key) do update set status = 'approved'`;
  await sql`delete from companies where name in ('c6', 'c7')`;
  // a transaction that rolls back leaves no delta
  await sql
    .begin(async (tx) => {
      await tx`update companies set status = 'lost'`;
      throw new Error("rolled back");
    })
    .catch(() => undefined);
  const expected = await counted();
  expect(expected).toMatchObject({ new: 195, scored: 3, approved: 1, lost: 0 });
  expect(await fromDeltas()).toEqual(expected);

  const before = (await sql<{ n: number }[]>`select count(*)::int as n from company_status_deltas`)[0]!.n;
  await Effect.runPromise(compactStatusDeltas(db.sql));
  const after = (await sql<{ n: number }[]>`select count(*)::int as n from company_status_deltas`)[0]!.n;
  expect(after).toBeLessThan(before);
  expect(after).toBe(3); // one row per status in use
  expect(await fromDeltas()).toEqual(expected);

  await sql`truncate companies cascade`;
  expect(await fromDeltas()).toEqual(await counted());
  expect(Object.values(await fromDeltas()).every((n) => n === 0)).toBe(true);
});

it("two compactions at once count nothing twice", async () => {
  const { sql } = db;
  for (let i = 0; i < 5; i++) {
    await sql`insert into companies (name, industry, dedupe_key, source)
      select 'p' || ${i} || '-' || g, 'school', 'p' || ${i} || '-' || g, 'sample' from generate_series(1, 10) g`;
  }
  await Promise.all([
    Effect.runPromise(compactStatusDeltas(db.sql)),
    Effect.runPromise(compactStatusDeltas(db.sql)),
    sql`update companies set status = 'enriched' where name like 'p1-%'`,
  ]);
  expect(await fromDeltas()).toEqual(await counted());
});
