import { createTestDatabase, type TestDatabase } from "@leadflow/testkit";
import { Effect } from "effect";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { migrate } from "../src/index.js";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("lf_migrate");
  // start from nothing: the test database comes migrated
  await db.sql.unsafe("drop schema public cascade; create schema public;").simple();
});

afterAll(async () => {
  await db?.drop();
});

it("two services migrating at the same moment: one applies, the other waits and finds nothing to do", async () => {
  const a = postgres(db.url, { max: 1, onnotice: () => undefined });
  const b = postgres(db.url, { max: 1, onnotice: () => undefined });
  try {
    const [ra, rb] = await Promise.all([Effect.runPromise(migrate(a)), Effect.runPromise(migrate(b))]);
    const applied = [ra.applied.length, rb.applied.length].sort();
    expect(applied[0]).toBe(0);
    expect(applied[1]).toBeGreaterThan(0);
    const rows = await db.sql`select version from schema_migrations`;
    expect(rows.length).toBe(applied[1]);
    const tables = await db.sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`;
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining([
        "runs",
        "tasks",
        "companies",
        "run_companies",
        "company_features",
        "lead_scores",
        "contacts",
        "human_approval_requests",
        "email_drafts",
        "outreach_events",
        "suppressions",
        "outbox",
        "inbox",
        "provider_cache",
      ]),
    );
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
});

it("refuses a landed migration whose file changed", async () => {
  await db.sql`update schema_migrations set checksum = 'tampered' where version = 1`;
  const exit = await Effect.runPromiseExit(migrate(db.sql));
  expect(exit._tag).toBe("Failure");
  expect(JSON.stringify(exit)).toContain("changed after it was applied");
});

it("keeps company status transitions to the table in libs/contracts", async () => {
  const { allowedFrom, canTransition } = await import("@leadflow/contracts");
  expect(canTransition("new", "enriched")).toBe(true);
  expect(canTransition("new", "won")).toBe(false);
  expect(canTransition("archived", "new")).toBe(false);
  expect(allowedFrom("scored")).toEqual(["enriched", "scored"]);
});
