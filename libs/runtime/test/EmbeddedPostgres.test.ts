import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "@leadflow/db";
import { Effect } from "effect";
import postgres, { type Sql, type TransactionSql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedPostgres,
  embeddedPostgresPoolMax,
  startEmbeddedPostgres,
} from "../src/embedded/EmbeddedPostgres.js";
import { startEmbeddedPostgresProcess } from "../src/embedded/EmbeddedPostgresProcess.js";
import { defaultHousekeeping, sweep } from "../src/Housekeeping.js";

const connect = (url: string, max = embeddedPostgresPoolMax): Sql =>
  postgres(url, { max, onnotice: () => undefined, connect_timeout: 5 });

const waitFor = async (condition: () => boolean, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe("embedded Postgres (PGlite behind a wire-protocol socket)", () => {
  let dataDir: string;
  let pg: EmbeddedPostgres;
  let sql: Sql;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "leadflow-pglite-"));
    pg = await startEmbeddedPostgres({ dataDir: join(dataDir, "postgres") });
    sql = connect(pg.url);
  });

  afterAll(async () => {
    await sql?.end({ timeout: 1 });
    await pg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("serves a postgres:// URL on loopback", async () => {
    expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
    const [row] = await sql<{ version: string }[]>`select version()`;
    expect(row?.version).toContain("PGlite");
  });

  it("applies the migrations once", async () => {
    const first = await Effect.runPromise(migrate(sql));
    expect(first.applied.length).toBeGreaterThan(0);
    const again = await Effect.runPromise(migrate(sql));
    expect(again.applied).toEqual([]);
    const [approvalId] = await sql<{ id: string }[]>`
      insert into human_approval_requests (id, approval_type, item_ids, dedupe_key)
      values (gen_random_uuid(), 'leads', ${sql.array([crypto.randomUUID()], 2950)}, 'test')
      returning id`;
    expect(approvalId?.id).toMatch(/^[0-9a-f-]{36}$/);
    await expect(sql`insert into runs (id, industry, location, requested_count, request, status)
      values ('r0', 'x', 'y', 0, '{}', 'requested')`).rejects.toMatchObject({ code: "23514" });
  });

  it("runs the housekeeping sweep (BRIN indexes, advisory lock, bounded deletes)", async () => {
    await sql`insert into inbox (consumer, message_id, processed_at)
      select 'c', 'm' || g, now() - make_interval(days => case when g <= 5 then 20 else 1 end)
      from generate_series(1, 8) g`;
    const options = { ...defaultHousekeeping, chunk: 2 };
    // as `leadflow dev` runs it (one connection), and as a service would (a pool, the lock)
    expect(await Effect.runPromise(sweep(sql, options, true))).toEqual({
      skipped: false,
      inbox: 5,
      outbox: 0,
    });
    await sql`update inbox set processed_at = now() - interval '20 days' where message_id = 'm6'`;
    expect(await Effect.runPromise(sweep(sql, options, false))).toEqual({
      skipped: false,
      inbox: 1,
      outbox: 0,
    });
    expect((await sql`select count(*)::int as n from inbox`)[0]!.n).toBe(2);
  });

  it("rolls a failed transaction back and commits a good one", async () => {
    const insertRun = (tx: TransactionSql, id: string) =>
      tx`insert into runs (id, industry, location, requested_count, request, status)
         values (${id}, 'bakery', 'Austin', 5, ${sql.json({ id })}, 'requested')`;
    await expect(
      sql.begin(async (tx) => {
        await insertRun(tx, "rolled-back");
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    await sql.begin((tx) => insertRun(tx, "committed"));
    const rows = await sql<{ id: string }[]>`select id from runs where id in ('rolled-back', 'committed')`;
    expect(rows.map((r) => r.id)).toEqual(["committed"]);
  });

  it("runs multi-statement SQL with the simple protocol", async () => {
    const results = await sql
      .unsafe(
        "create table scratch (n int); insert into scratch values (1), (2); select sum(n)::int as s from scratch",
      )
      .simple();
    expect(results.at(-1)).toEqual([{ s: 3 }]);
  });

  it("keeps concurrent transactions from several pools apart", async () => {
    const pools = [connect(pg.url, 3), connect(pg.url, 2), sql];
    try {
      await sql`create table accounts (id int primary key, balance int not null)`;
      await sql`insert into accounts select g, 100 from generate_series(1, 10) g`;
      await Promise.all(
        Array.from({ length: 12 }, async (_, worker) => {
          const db = pools[worker % pools.length]!;
          for (let i = 0; i < 15; i++) {
            const from = 1 + ((worker + i) % 10);
            const to = 1 + ((worker * 3 + i * 7) % 10);
            await db
              .begin(async (tx) => {
                await tx`update accounts set balance = balance - 1 where id = ${from}`;
                const [row] = await tx<{ balance: number }[]>`select balance from accounts where id = ${to}`;
                if (i % 5 === 0) throw new Error("abandon");
                await tx`update accounts set balance = ${row!.balance + 1} where id = ${to}`;
              })
              .catch((error: Error) => expect(error.message).toBe("abandon"));
            await db`select 1 / 0`.catch((error) => expect(error.code).toBe("22012"));
          }
        }),
      );
      const [total] = await sql<{ total: number }[]>`select sum(balance)::int as total from accounts`;
      expect(total?.total).toBe(1000);
    } finally {
      await pools[0]!.end({ timeout: 1 });
      await pools[1]!.end({ timeout: 1 });
    }
  });

  it("delivers NOTIFY to sql.listen when the transaction commits, not when it rolls back", async () => {
    const received: string[] = [];
    const listener = await sql.listen("leadflow_test", (payload) => received.push(payload));
    await sql.begin((tx) => tx`select pg_notify('leadflow_test', 'committed')`);
    await sql
      .begin(async (tx) => {
        await tx`select pg_notify('leadflow_test', 'rolled back')`;
        throw new Error("abort");
      })
      .catch(() => undefined);
    await sql.notify("leadflow_test", "direct");
    await waitFor(() => received.length >= 2);
    await listener.unlisten();
    expect(received).toEqual(["committed", "direct"]);
  });

  it("closes the prepared statements of a client that goes away (the session outlives it)", async () => {
    const prepared = async () =>
      (await sql<{ n: number }[]>`select count(*)::int as n from pg_prepared_statements`)[0]?.n ?? -1;
    const before = await prepared();
    for (let round = 0; round < 3; round++) {
      const client = connect(pg.url);
      for (let k = 0; k < 5; k++) {
        const [row] = await client<{ x: number }[]>`select ${k}::int + ${round}::int as x`;
        expect(row?.x).toBe(k + round);
        await client.unsafe(`select ${k} + $1::int as y`, [round], { prepare: true });
      }
      const [live] = await client<{ n: number }[]>`select count(*)::int as n from pg_prepared_statements`;
      expect(live?.n).toBeGreaterThanOrEqual(before + 6);
      await client.end({ timeout: 1 });
    }
    // the server sees a client go a moment after the client has ended: poll for a while
    let after = await prepared();
    for (let tries = 0; after !== before && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await prepared();
    }
    expect(after).toBe(before);
  });

  it("refuses a second instance on the same data folder", async () => {
    await expect(startEmbeddedPostgres({ dataDir: join(dataDir, "postgres") })).rejects.toThrow(/in use/);
  });

  it("keeps the data across stop and start, and stop closes the port", async () => {
    await sql`create table survivors (name text)`;
    await sql`insert into survivors values ('kept')`;
    await sql.end({ timeout: 1 });
    const stopping = pg.stop();
    expect(pg.stop()).toBe(stopping);
    await stopping;

    const closed = connect(pg.url);
    await expect(closed`select 1`).rejects.toThrow();
    await closed.end({ timeout: 0 });

    pg = await startEmbeddedPostgres({ dataDir: join(dataDir, "postgres") });
    sql = connect(pg.url);
    const rows = await sql<{ name: string }[]>`select name from survivors`;
    expect(rows).toEqual([{ name: "kept" }]);
    const again = await Effect.runPromise(migrate(sql));
    expect(again.applied).toEqual([]);
  });

  it("rolls back the transaction of a client that disconnects inside it, and serves the others", async () => {
    // a bare protocol client, so the test controls exactly when the socket goes away
    const socket = createConnection(pg.port, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    await once(socket, "connect");
    const params = Buffer.from("user\0postgres\0database\0postgres\0\0");
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + params.length, 0);
    startup.writeInt32BE(196608, 4);
    const text = Buffer.from("begin; insert into survivors values ('abandoned');\0");
    const query = Buffer.alloc(5);
    query.write("Q");
    query.writeInt32BE(4 + text.length, 1);
    socket.write(Buffer.concat([startup, params, query, text]));
    // ReadyForQuery 'T': the session is inside the transaction
    await waitFor(() => Buffer.concat(received).includes(Buffer.from([0x5a, 0, 0, 0, 5, 0x54])));

    const waiting = sql<{ name: string }[]>`select name from survivors`;
    socket.destroy();
    expect(await waiting).toEqual([{ name: "kept" }]);
  });
});

describe("embedded Postgres in a child process (what leadflow dev starts)", () => {
  it("runs PGlite with optimised WebAssembly and glibc's memory settings, serves queries, and stops", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "leadflow-pglite-child-"));
    const pg = await startEmbeddedPostgresProcess({ dataDir: join(dataDir, "postgres") });
    const sql = connect(pg.url);
    const pid = pg.pid;
    try {
      if (pid === undefined) throw new Error("the child has no pid");
      const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
      expect(argv).toContain("--v8-pool-size=1");
      expect(argv).not.toContain("--liftoff-only");
      const environ = (await readFile(`/proc/${pid}/environ`, "utf8")).split("\0");
      expect(environ).toEqual(
        expect.arrayContaining(["MALLOC_ARENA_MAX=1", "MALLOC_TRIM_THRESHOLD_=131072"]),
      );
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from generate_series(1, 1000)`;
      expect(row?.n).toBe(1000);
    } finally {
      await sql.end({ timeout: 1 });
      await pg.stop();
    }
    expect(await readFile(`/proc/${pid}/status`, "utf8").catch(() => "gone")).toBe("gone");
    await rm(dataDir, { recursive: true, force: true });
  });
});
