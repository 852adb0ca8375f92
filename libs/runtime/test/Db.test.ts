import { createTestDatabase, type TestDatabase } from "@leadflow/testkit";
import { Effect, Either } from "effect";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonRows, query, textRows } from "../src/Db.js";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`create table json_rows_test (id integer primary key, name text, at timestamptz, raw jsonb)`;
});

afterAll(async () => {
  await db?.drop();
});

const insert = (rows: ReadonlyArray<Record<string, unknown>>) =>
  db.sql`insert into json_rows_test (id, name, at, raw)
    select * from jsonb_to_recordset(${jsonRows(db.sql, rows)}) as r(id integer, name text, at timestamptz, raw jsonb)`;

describe("jsonRows", () => {
  it("inserts any number of rows with one statement: nulls, dates, nested JSON, quotes and Unicode", async () => {
    const at = new Date("2026-11-24T05:00:00.000Z");
    await insert([
      { id: 1, name: `O'Brien "Clinic" \\ 🏥`, at, raw: { tags: ["a", "b"], n: 1.5, none: null } },
      { id: 2, name: null, at: null, raw: null },
      { id: 3 },
    ]);
    const rows = await db.sql`select id, name, at, raw from json_rows_test order by id`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { id: 1, name: `O'Brien "Clinic" \\ 🏥`, at, raw: { tags: ["a", "b"], n: 1.5, none: null } },
      { id: 2, name: null, at: null, raw: null },
      { id: 3, name: null, at: null, raw: null },
    ]);
  });

  it("drops NUL characters (Postgres stores none) from strings, nested values and keys instead of failing", async () => {
    await insert([
      {
        id: 10,
        name: "Acme\u0000 Clinic",
        at: new Date("2026-01-02T03:04:05.000Z"),
        raw: { "no\u0000te": ["x\u0000y", { deep: "\u0000z" }], literal: "\\u0000 stays" },
      },
    ]);
    const [row] = await db.sql`select name, at, raw from json_rows_test where id = 10`;
    expect(row!.name).toBe("Acme Clinic");
    expect(row!.at).toEqual(new Date("2026-01-02T03:04:05.000Z"));
    // a backslash followed by "u0000" is text, not a NUL: kept as it was
    expect(row!.raw).toEqual({ note: ["xy", { deep: "z" }], literal: "\\u0000 stays" });
  });
});

describe("textRows", () => {
  const zip = async (values: ReadonlyArray<string>) =>
    (
      await db.sql`select r.id, r.body from rows from (
        jsonb_to_recordset(${jsonRows(
          db.sql,
          values.map((_, i) => ({ id: i + 1 })),
        )}) as (id integer),
        ${textRows(db.sql, values)}) as r(id, body)`
    ).map((r) => [r.id, r.body]);

  it("gives row k the k-th value, whatever the text holds (quotes, backslashes, newlines, Unicode, HTML)", async () => {
    const html = `<td style="font-family:'Helvetica'">Caf\u00e9 \\ "quoted" \r\n${"x".repeat(20_000)}</td>`;
    const values = [html, "", "  ", "O'Brien\\n", "🏥 {a,b} NULL", ""];
    expect(await zip(values)).toEqual(values.map((v, i) => [i + 1, v]));
  });

  it("keeps one row for one value, empty or not, and no row for none", async () => {
    expect(await zip([""])).toEqual([[1, ""]]);
    expect(await zip(["only"])).toEqual([[1, "only"]]);
    const html = `<a href="x">"{a,b}" \\ NULL</a>`;
    expect(await zip([html])).toEqual([[1, html]]);
    expect(await zip([])).toEqual([]);
  });

  it("drops NUL and the separator (U+0001) from a value instead of shifting the rows after it", async () => {
    expect(await zip(["a\u0001b", "c\u0000d", "e"])).toEqual([
      [1, "ab"],
      [2, "cd"],
      [3, "e"],
    ]);
  });
});

describe("DbError routing", () => {
  const failure = async (statement: () => Promise<unknown>) => {
    const result = await Effect.runPromise(Effect.either(query(statement as never)));
    if (Either.isRight(result)) throw new Error("the statement was expected to fail");
    return result.left;
  };

  it("a data exception (class 22) is permanent: it fails the same way every time", async () => {
    for (const statement of [
      () => db.sql`select ${"twelve"}::int`,
      () => db.sql`select 2147483647::int + 1`,
      () => db.sql`select ${"[1,"}::text::jsonb`,
    ]) {
      const error = await failure(statement);
      expect(error._tag).toBe("DbError");
      expect((error.cause as { code: string }).code.startsWith("22")).toBe(true);
      expect(error.retryable).toBe(false);
    }
  });

  it("anything else may pass later: a missing table, a constraint, a closed pool", async () => {
    await db.sql`create table if not exists db_error_test (id int primary key)`;
    await db.sql`insert into db_error_test values (1) on conflict do nothing`;
    const missing = await failure(() => db.sql`select * from no_such_table_yet`);
    expect((missing.cause as { code: string }).code).toBe("42P01");
    expect(missing.retryable).toBe(true);
    const duplicate = await failure(() => db.sql`insert into db_error_test values (1)`);
    expect((duplicate.cause as { code: string }).code).toBe("23505");
    expect(duplicate.retryable).toBe(true);
    const closed = postgres(db.url, { max: 1, onnotice: () => undefined });
    await closed.end();
    const lost = await failure(() => closed`select 1`);
    expect(lost.retryable).toBe(true);
  });
});
