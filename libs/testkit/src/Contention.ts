import type { Sql, TransactionSql } from "postgres";
import { waitFor } from "./Conditions.js";

/**
 * Runs `tasks` at once while another transaction holds a lock (`hold` takes it), and lets go
 * only when every task has finished or waits for a lock (read from `pg_stat_activity`): the
 * moment lock-order bugs turn into deadlocks. No sleeps, no timing. `sql` needs a connection
 * for each task, the holder and the probe. The tasks' outcomes, in order.
 */
export const contendWhileHeld = async <T>(
  sql: Sql,
  hold: (tx: TransactionSql) => Promise<unknown>,
  tasks: ReadonlyArray<() => Promise<T>>,
  what: string,
): Promise<Array<PromiseSettledResult<T>>> => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held!: () => void;
  const holding = new Promise<void>((resolve) => {
    held = resolve;
  });
  const holder = sql.begin(async (tx) => {
    await hold(tx);
    held();
    await released;
  });
  await holding;
  let settled = 0;
  const running = tasks.map((task) =>
    task().finally(() => {
      settled++;
    }),
  );
  try {
    await waitFor(
      async () => {
        const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`;
        return settled + (row?.n ?? 0) >= running.length;
      },
      { what: `every ${what} finished or waiting for a lock` },
    );
  } finally {
    release();
    await holder;
  }
  return Promise.allSettled(running);
};

/** The first line of each rejection: `[]` when every task succeeded. */
export const failuresOf = (outcomes: ReadonlyArray<PromiseSettledResult<unknown>>): string[] =>
  outcomes.flatMap((o) => (o.status === "rejected" ? [String(o.reason).split("\n")[0]!] : []));
