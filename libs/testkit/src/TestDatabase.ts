import { randomBytes } from "node:crypto";
import { migrate } from "@leadflow/db";
import { Effect } from "effect";
import postgres, { type Sql } from "postgres";

/** The server tests create their databases on: `DATABASE_URL`, else the local Postgres. */
export const adminUrl = (): string =>
  process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  readonly sql: Sql;
  readonly drop: () => Promise<void>;
}

/** A fresh, migrated database of its own for one test file. */
export const createTestDatabase = async (prefix = "lf_test"): Promise<TestDatabase> => {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 4, onnotice: () => undefined });
  await Effect.runPromise(migrate(sql));
  return {
    url: url.toString(),
    name,
    sql,
    drop: async () => {
      await sql.end({ timeout: 5 });
      const a = postgres(adminUrl(), { max: 1, onnotice: () => undefined });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end({ timeout: 5 });
      }
    },
  };
};
