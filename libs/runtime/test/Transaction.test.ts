import { createTestDatabase, startTcpForwarder, type TestDatabase, waitFor } from "@leadflow/testkit";
import { Cause, Data, Effect, Exit, Fiber, Scope } from "effect";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDb, query, type Tx } from "../src/Db.js";
import { DbError } from "../src/Errors.js";
import { withConnection, withTransaction } from "../src/Transaction.js";

class Boom extends Data.TaggedError("Boom")<{ readonly n: number }> {}

let db: TestDatabase;
// one connection: a transaction that did not give its connection back blocks every later query
let one: Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`create table tx_test (id integer primary key)`;
  one = postgres(db.url, { max: 1, onnotice: () => undefined });
});

afterAll(async () => {
  await one?.end({ timeout: 1 });
  await db?.drop();
});

const ids = async () => (await db.sql<{ id: number }[]>`select id from tx_test order by id`).map((r) => r.id);
const insert = (n: number) => (tx: Sql | Tx) => query(tx`insert into tx_test (id) values (${n})`);
/** The pool's one connection answers, outside any transaction. */
const poolFree = () =>
  Promise.race([
    one`select 1 as ok, pg_current_xact_id_if_assigned() is null as idle`.then((r) => r[0]),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error("the pool's connection was not given back")), 3000),
    ),
  ]);

describe("withTransaction", () => {
  it("commits the body's statements and the last statement together, and returns the body's value", async () => {
    await db.sql`truncate tx_test`;
    const value = await Effect.runPromise(
      withTransaction(
        one,
        (tx) => Effect.as(insert(1)(tx), "done"),
        (tx) => tx`insert into tx_test (id) values (2)`,
      ),
    );
    expect(value).toBe("done");
    expect(await ids()).toEqual([1, 2]);
    expect(await poolFree()).toEqual({ ok: 1, idle: true });
  });

  it("rolls back on a failure or a defect of the body, which come out unchanged", async () => {
    await db.sql`truncate tx_test`;
    const failed = await Effect.runPromiseExit(
      withTransaction(one, (tx) => Effect.zipRight(insert(1)(tx), Effect.fail(new Boom({ n: 7 })))),
    );
    const error = Exit.isFailure(failed) ? Cause.failureOption(failed.cause) : undefined;
    expect(error?._tag === "Some" && error.value).toBeInstanceOf(Boom);
    expect(error?._tag === "Some" && error.value).toMatchObject({ n: 7 });
    const died = await Effect.runPromiseExit(
      withTransaction(one, (tx) => Effect.zipRight(insert(2)(tx), Effect.die("bug"))),
    );
    expect(Exit.isFailure(died) && Cause.dieOption(died.cause)._tag).toBe("Some");
    expect(await ids()).toEqual([]);
    expect(await poolFree()).toEqual({ ok: 1, idle: true });
  });

  it("is a DbError, rolled back, when the last statement fails (the commit answers ROLLBACK)", async () => {
    await db.sql`truncate tx_test`;
    const exit = await Effect.runPromiseExit(
      withTransaction(one, insert(1), (tx) => tx`insert into tx_test (id) values (1)`),
    );
    expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject({
      value: expect.any(DbError),
    });
    expect(await ids()).toEqual([]);
    expect(await poolFree()).toEqual({ ok: 1, idle: true });
  });

  it("rolls back an interrupted body and gives the connection back", async () => {
    await db.sql`truncate tx_test`;
    const fiber = Effect.runFork(withTransaction(one, (tx) => Effect.zipRight(insert(1)(tx), Effect.never)));
    await new Promise((r) => setTimeout(r, 200));
    await Effect.runPromise(Fiber.interrupt(fiber));
    expect(await ids()).toEqual([]);
    expect(await poolFree()).toEqual({ ok: 1, idle: true });
  });

  it("can be interrupted while it waits for a connection; one that comes later goes back to the pool", async () => {
    const held = await one.reserve();
    const waiting = Effect.runFork(withTransaction(one, insert(5)));
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    await Effect.runPromise(Fiber.interrupt(waiting));
    expect(performance.now() - started).toBeLessThan(1000);
    // the reservation the interrupted wait left behind is served now, and released at once
    held.release();
    expect(await poolFree()).toEqual({ ok: 1, idle: true });
    expect(await ids()).not.toContain(5);
  });
});

describe("a closed pool", () => {
  it("gives no connection to a transaction (postgres.js would open one nobody closes)", async () => {
    const scope = Effect.runSync(Scope.make());
    const { sql } = await Effect.runPromise(makeDb({ url: db.url }).pipe(Scope.extend(scope)));
    await Effect.runPromise(Scope.close(scope, Exit.void));
    await db.sql`truncate tx_test`;
    const exit = await Effect.runPromiseExit(withTransaction(sql, insert(9)));
    expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject({
      value: { message: "no database connection for a transaction: the pool is closed" },
    });
    expect(await ids()).toEqual([]);
    // the closed pool's own backends leave pg_stat_activity a moment after their sockets close;
    // one the transaction opened would stay
    await waitFor(
      async () =>
        (
          await db.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and application_name = 'leadflow'`
        )[0]!.n === 0,
      { what: "no runtime connection left open", timeoutMs: 5_000 },
    );
  });
});

describe("withConnection", () => {
  it("releases the connection however the use ends", async () => {
    const ok = await Effect.runPromise(withConnection(one, "no connection", (c) => query(c`select 2 as n`)));
    expect(ok[0]).toEqual({ n: 2 });
    const failed = await Effect.runPromiseExit(
      withConnection(one, "no connection", () => Effect.fail(new Boom({ n: 1 }))),
    );
    expect(Exit.isFailure(failed)).toBe(true);
    expect(await poolFree()).toEqual({ ok: 1, idle: true });
  });

  it("stops waiting for a server that is not there when interrupted (not after postgres.js's back-off)", async () => {
    const away = postgres("postgres://postgres@127.0.0.1:1/none", {
      max: 1,
      connect_timeout: 1,
      backoff: () => 30,
    });
    try {
      // the first attempt fails at once; the next waits out the back-off (30 s here)
      const first = await Effect.runPromiseExit(withConnection(away, "no connection", () => Effect.void));
      expect(Exit.isFailure(first) && Cause.failureOption(first.cause)).toMatchObject({
        value: { message: "no connection" },
      });
      const fiber = Effect.runFork(withConnection(away, "no connection", () => Effect.void));
      await new Promise((r) => setTimeout(r, 100));
      const started = performance.now();
      await Effect.runPromise(Fiber.interrupt(fiber));
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      await away.end({ timeout: 0 });
    }
  });
});

describe("a connection lost in the middle (the server restarted, an admin killed it)", () => {
  /** Ends the backend with this pid from another connection, and waits till the client has seen it go. */
  const kill = (pid: number) =>
    Effect.promise(async () => {
      await db.sql`select pg_terminate_backend(${pid})`;
      await new Promise((r) => setTimeout(r, 300));
    });
  const pidOf = (tx: Sql | Tx) =>
    Effect.map(query(tx<{ pid: number }[]>`select pg_backend_pid() as pid`), (rows) => rows[0]!.pid);

  it("between two statements: the transaction fails with a DbError, nothing crashes, and the pool goes on", async () => {
    await db.sql`truncate tx_test`;
    const exit = await Effect.runPromiseExit(
      withTransaction(one, (tx) =>
        Effect.gen(function* () {
          yield* kill(yield* pidOf(tx));
          yield* insert(20)(tx);
        }),
      ),
    );
    expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject({
      _tag: "Some",
      value: expect.any(DbError),
    });
    // the pool's one connection is a new one, outside any transaction, and nothing of the
    // broken transaction ran on it
    for (const n of [21, 22, 23]) await Effect.runPromise(withTransaction(one, insert(n)));
    expect(await poolFree()).toEqual({ ok: 1, idle: true });
    expect(await ids()).toEqual([21, 22, 23]);
  });

  it("while the body works outside SQL: the commit fails, nothing of it is kept", async () => {
    await db.sql`truncate tx_test`;
    const exit = await Effect.runPromiseExit(
      withTransaction(one, (tx) =>
        Effect.gen(function* () {
          const pid = yield* pidOf(tx);
          yield* insert(30)(tx);
          yield* kill(pid);
        }),
      ),
    );
    expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject({
      _tag: "Some",
      value: expect.any(DbError),
    });
    await Effect.runPromise(withTransaction(one, insert(31)));
    expect(await ids()).toEqual([31]);
    expect(await poolFree()).toEqual({ ok: 1, idle: true });
  });

  it("in a reserved connection outside a transaction: the next use fails, the pool is not handed the dead one", async () => {
    const exit = await Effect.runPromiseExit(
      withConnection(one, "no connection", (c) =>
        Effect.gen(function* () {
          yield* kill(yield* pidOf(c));
          return yield* query(c`select 1 as n`);
        }),
      ),
    );
    expect(Exit.isFailure(exit)).toBe(true);
    expect(await poolFree()).toEqual({ ok: 1, idle: true });
  });
});

describe("a connection cut (the network, a failover): its socket errors, then closes", () => {
  it("fails a statement sent on the connection between the error and the close (postgres.js, patched)", async () => {
    // the holder's statement fails with the socket's error; it gives the connection back and
    // the next holder sends at once, before the close. postgres.js as published never answered
    // that statement (porsager/postgres#1130)
    const forwarder = await startTcpForwarder(Number(new URL(db.url).port || 5432));
    const cut = postgres(forwarder.url(db.url), { max: 1, backoff: () => 0.05, onnotice: () => undefined });
    try {
      await cut`select 1`;
      const first = await cut.reserve();
      const second = cut.reserve();
      await forwarder.down();
      const outcome = await first`select 1`.then(
        () => "answered",
        (e: { code?: string }) => e.code,
      );
      first.release();
      const next = await second;
      const late = await Promise.race([
        next`select 1`.then(
          () => "answered",
          (e: { code?: string }) => e.code ?? "failed",
        ),
        new Promise((r) => setTimeout(() => r("unanswered"), 5000)),
      ]);
      next.release();
      expect(outcome).toBe("ECONNRESET");
      expect(late).not.toBe("unanswered");
      await forwarder.up();
      expect(await cut`select 1 as n`).toEqual([{ n: 1 }]);
    } finally {
      await cut.end({ timeout: 1 });
      await forwarder.close();
    }
  });

  it("fails every transaction on it, also one handed the connection between the error and the close", async () => {
    // one connection through a forwarder the test cuts: two transactions wait for it, the
    // second gets it back from the first in that gap. postgres.js as published left the
    // second's statements unanswered for good (porsager/postgres#1130; patched at install)
    const forwarder = await startTcpForwarder(Number(new URL(db.url).port || 5432));
    const cut = postgres(forwarder.url(db.url), { max: 1, backoff: () => 0.05, onnotice: () => undefined });
    const settled =
      (ms: number) =>
      <A, E>(effect: Effect.Effect<A, E>) =>
        effect.pipe(Effect.timeoutFail({ duration: ms, onTimeout: () => "unanswered" as const }));
    try {
      for (let round = 1; round <= 3; round++) {
        await cut`select 1`;
        await forwarder.down();
        const exits = await Effect.runPromise(
          Effect.all(
            [1, 2].map((n) => Effect.exit(settled(15_000)(withTransaction(cut, insert(100 * round + n))))),
            { concurrency: "unbounded" },
          ),
        );
        for (const exit of exits) {
          expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject({
            _tag: "Some",
            value: expect.any(DbError),
          });
        }
        await forwarder.up();
      }
      // and the pool goes on
      await Effect.runPromise(withTransaction(cut, insert(400)));
      expect((await ids()).filter((n) => n >= 100)).toEqual([400]);
    } finally {
      await cut.end({ timeout: 1 });
      await forwarder.close();
    }
  });
});
