import type { DbError } from "@leadflow/runtime";
import { createTestDatabase, type TestDatabase } from "@leadflow/testkit";
import { Effect } from "effect";
import type { Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockRun, lockTask } from "../src/RunStore.js";

let db: TestDatabase;
const runId = "lock-test-run";
const taskId = "00000000-0000-4000-8000-000000000001";

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`insert into runs (id, industry, location, requested_count, request, status)
    values (${runId}, 'hospital', 'Buffalo, NY', 1, '{}', 'analyzing')`;
  await db.sql`insert into companies (name, industry, dedupe_key, source) values ('A', 'hospital', 'a', 'sample')`;
  await db.sql`insert into tasks (id, run_id, agent, chunk, attempt, params, status)
    values (${taskId}, ${runId}, 'analyst', 0, 1, '{}', 'running')`;
});

afterAll(async () => {
  await db?.drop();
});

/**
 * Runs `hold` in a transaction that stays open until `inside` (run meanwhile in another
 * transaction, waiting at most 1 s for any lock) has finished; `inside`'s outcome.
 */
const whileHeld = async (
  sql: Sql,
  hold: (tx: Sql) => Promise<unknown>,
  inside: (tx: Sql) => Promise<unknown>,
) => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held!: () => void;
  const holding = new Promise<void>((resolve) => {
    held = resolve;
  });
  const holder = sql.begin(async (tx) => {
    await hold(tx as unknown as Sql);
    held();
    await released;
  });
  await holding;
  try {
    return await sql
      .begin(async (tx) => {
        await tx`set local lock_timeout = '1s'`;
        return inside(tx as unknown as Sql);
      })
      .then(
        (value) => ({ ok: true as const, value }),
        (error: { code?: string }) => ({ ok: false as const, code: error.code }),
      );
  } finally {
    release();
    await holder;
  }
};

/** Runs a query Effect; a failure rejects with Postgres's error (its `code`). */
const run = async <A>(effect: Effect.Effect<A, DbError>): Promise<A> => {
  const result = await Effect.runPromise(Effect.either(effect));
  if (result._tag === "Left") throw result.left.cause;
  return result.right;
};

describe("the orchestrator's row locks", () => {
  it("do not wait for a stage transaction whose foreign-key checks hold the run (FOR NO KEY UPDATE)", async () => {
    // a stage writing a score for the run takes FOR KEY SHARE on the run row until it commits
    const scoreForRun = (tx: Sql) =>
      tx`insert into lead_scores (company_id, run_id, score, tier, reasons, model_version)
        select id, ${runId}, 50, 'medium', '[]', 'v1' from companies where dedupe_key = 'a'`;
    const locked = await whileHeld(db.sql, scoreForRun, (tx) => run(lockRun(tx as never, runId)));
    expect(locked).toEqual({ ok: true, value: { id: runId, status: "analyzing", stage: null } });
  });

  it("still take decisions about one run, or one task, one at a time", async () => {
    const second = await whileHeld(
      db.sql,
      (tx) => run(lockRun(tx as never, runId)),
      (tx) => run(lockRun(tx as never, runId)),
    );
    expect(second).toEqual({ ok: false, code: "55P03" });
    const task = await whileHeld(
      db.sql,
      (tx) => run(lockTask(tx as never, taskId)),
      (tx) => run(lockTask(tx as never, taskId)),
    );
    expect(task).toEqual({ ok: false, code: "55P03" });
  });
});
