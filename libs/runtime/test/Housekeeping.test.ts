import {
  createTestDatabase,
  createTestNats,
  type TestDatabase,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { ConfigProvider, Duration, Effect, Either, Exit, Fiber, Logger, Scope } from "effect";
import postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeDb } from "../src/Db.js";
import {
  defaultHousekeeping,
  HousekeepingConfig,
  type HousekeepingOptions,
  runHousekeeping,
  sweep,
} from "../src/Housekeeping.js";
import { Db, Metrics, startHost } from "../src/index.js";
import { makeMetrics } from "../src/Metrics.js";

let db: TestDatabase;
let nats: TestNats;

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
});

afterAll(async () => {
  await Promise.all([db?.drop(), nats?.stop()]);
});

beforeEach(async () => {
  await db.sql`truncate inbox, outbox`;
});

const options: HousekeepingOptions = { ...defaultHousekeeping, chunk: 3 };

/** Inbox rows `ageDays` old; outbox rows created and (unless `published` is false) published then. */
const seed = async () => {
  const inbox = (prefix: string, n: number, ageDays: number) =>
    db.sql`insert into inbox (consumer, message_id, processed_at)
      select 'c', ${prefix} || g, now() - make_interval(days => ${ageDays}) from generate_series(1, ${n}) g`;
  const outbox = (prefix: string, n: number, ageDays: number, published: boolean) =>
    db.sql`insert into outbox (id, subject, contract, payload, created_at, published_at)
      select gen_random_uuid(), 'leadflow.evt.t', ${prefix}, '{}',
        now() - make_interval(days => ${ageDays}),
        case when ${published}::boolean then now() - make_interval(days => ${ageDays}) end
      from generate_series(1, ${n}) g`;
  await inbox("old-", 7, 20); // past the 15 days
  await inbox("recent-", 4, 3);
  await outbox("published-old", 8, 10, true); // past the 7 days
  await outbox("unpublished-old", 2, 10, false); // never published: kept, however old
  await outbox("published-recent", 3, 1, true);
};

const left = async () => ({
  inbox: (await db.sql`select message_id from inbox order by message_id`).map((r) => r.message_id as string),
  outbox: Object.fromEntries(
    (await db.sql`select contract, count(*)::int as n from outbox group by contract`).map((r) => [
      r.contract,
      r.n,
    ]),
  ),
});

describe("housekeeping sweep", () => {
  it("deletes inbox rows and published outbox rows past their retention, chunk by chunk, and nothing else", async () => {
    await seed();
    const result = await Effect.runPromise(sweep(db.sql, options));
    // chunks of 3: 7 inbox rows take three statements, 8 outbox rows three
    expect(result).toEqual({ skipped: false, inbox: 7, outbox: 8 });
    expect(await left()).toEqual({
      inbox: ["recent-1", "recent-2", "recent-3", "recent-4"],
      outbox: { "unpublished-old": 2, "published-recent": 3 },
    });
    // nothing left to do
    expect(await Effect.runPromise(sweep(db.sql, options))).toEqual({ skipped: false, inbox: 0, outbox: 0 });
  });

  it("leaves the work to the process that holds the sweep lock (replicas take turns)", async () => {
    await seed();
    const other = postgres(db.url, { max: 1, onnotice: () => undefined });
    try {
      const holder = await other.reserve();
      await holder`select pg_advisory_lock(${0x1ead_f10e})`;
      expect(await Effect.runPromise(sweep(db.sql, options))).toEqual({ skipped: true, inbox: 0, outbox: 0 });
      expect((await left()).inbox).toHaveLength(11);
      await holder`select pg_advisory_unlock(${0x1ead_f10e})`;
      holder.release();
      expect(await Effect.runPromise(sweep(db.sql, options))).toMatchObject({ skipped: false, inbox: 7 });
    } finally {
      await other.end();
    }
  });

  it("runs on its own in a host, and counts what it deleted in /metrics", async () => {
    await seed();
    const scope = Effect.runSync(Scope.make());
    try {
      const host = await Effect.runPromise(
        startHost([], {
          name: "test",
          db: { url: db.url },
          nats: { servers: nats.url },
          housekeeping: { ...options, firstSweepAfter: Duration.millis(10) },
        }).pipe(Scope.extend(scope)),
      );
      await waitFor(async () => (await left()).inbox.length === 4, { what: "the host's first sweep" });
      const metrics = host.context.unsafeMap.get(Metrics.key) as Metrics["Type"];
      await waitFor(async () =>
        (await metrics.registry.metrics()).includes(
          'leadflow_housekeeping_deleted_rows_total{table="outbox",service="test"} 8',
        ),
      );
      const text = await metrics.registry.metrics();
      expect(text).toContain('leadflow_housekeeping_deleted_rows_total{table="inbox",service="test"} 7');
      expect(text).toContain('leadflow_housekeeping_sweeps_total{outcome="ok",service="test"} 1');
      expect((await left()).outbox).toEqual({ "unpublished-old": 2, "published-recent": 3 });
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void));
    }
  });
});

/** A logger that keeps the warnings' messages. */
const warningLog = () => {
  const logged: string[] = [];
  const logger = Logger.make(({ logLevel, message }) => {
    if (logLevel._tag === "Warning") logged.push(String(message));
  });
  return { logged, layer: Logger.replace(Logger.defaultLogger, logger) };
};

describe("housekeeping start-up", () => {
  const warnings = async (inboxRetention: Duration.Duration) => {
    const { logged, layer } = warningLog();
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* makeDb({ url: db.url });
          const fiber = yield* Effect.fork(
            runHousekeeping({ ...options, inboxRetention, firstSweepAfter: Duration.hours(1) }).pipe(
              Effect.provideService(Db, pool),
              Effect.provideService(Metrics, makeMetrics("test", { defaultMetrics: false })),
            ),
          );
          yield* Effect.sleep("50 millis");
          yield* Fiber.interrupt(fiber);
        }),
      ).pipe(Effect.provide(layer)),
    );
    return logged;
  };

  it("warns when the inbox forgets sooner than a stream could replay a message", async () => {
    expect(await warnings(Duration.days(2))).toEqual([
      expect.stringMatching(/INBOX_RETENTION \(2d\) is shorter than the streams keep a message \(14d\)/),
    ]);
    expect(await warnings(Duration.days(15))).toEqual([]);
  });

  it("counts a failed sweep, logs why and sweeps again at the next interval", async () => {
    const metrics = makeMetrics("test", { defaultMetrics: false });
    const { logged, layer } = warningLog();
    // a pool whose server is not there: every sweep fails
    const closed = postgres("postgres://postgres@127.0.0.1:1/none", { max: 1, connect_timeout: 1 });
    const fiber = Effect.runFork(
      runHousekeeping({
        ...options,
        firstSweepAfter: Duration.millis(0),
        interval: Duration.millis(20),
      }).pipe(
        Effect.provideService(Db, { sql: closed, singleConnection: false, listen: false }),
        Effect.provideService(Metrics, metrics),
        Effect.provide(layer),
      ),
    );
    const failed = async () =>
      Number(
        /leadflow_housekeeping_sweeps_total\{outcome="failed",service="test"\} (\d+)/.exec(
          await metrics.registry.metrics(),
        )?.[1] ?? 0,
      );
    await waitFor(async () => (await failed()) >= 2, { what: "two failed sweeps" });
    await Effect.runPromise(Fiber.interrupt(fiber));
    // a reconnect may still be pending (postgres.js back-off): end without waiting for it
    await closed.end({ timeout: 0 });
    expect(logged[0]).toContain("housekeeping sweep failed");
    expect(logged[0]).toContain("no database connection for housekeeping");
  });
});

describe("housekeeping configuration", () => {
  const read = (env: Record<string, string>) =>
    Effect.runSync(
      Effect.either(HousekeepingConfig).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      ),
    );

  it("defaults to 15 days of inbox, 7 of published outbox, a sweep an hour", () => {
    const config = read({});
    expect(Either.isRight(config) && config.right).toMatchObject({
      inboxRetention: Duration.days(15),
      outboxRetention: Duration.days(7),
      interval: Duration.hours(1),
    });
  });

  it("reads durations in words", () => {
    const config = read({
      INBOX_RETENTION: "30 days",
      OUTBOX_RETENTION: "36 hours",
      HOUSEKEEPING_INTERVAL: "10 minutes",
    });
    expect(Either.isRight(config) && config.right).toMatchObject({
      inboxRetention: Duration.days(30),
      outboxRetention: Duration.hours(36),
      interval: Duration.minutes(10),
    });
  });

  it.each([
    [{ INBOX_RETENTION: "15d" }, "INBOX_RETENTION"],
    [{ INBOX_RETENTION: "2 hours" }, "must be at least 1 day"],
    [{ OUTBOX_RETENTION: "10 minutes" }, "must be at least 1 hour"],
    [{ HOUSEKEEPING_INTERVAL: "5 seconds" }, "must be at least 1 minute"],
  ])("rejects %o with a clear error", (env, message) => {
    const config = read(env);
    expect(Either.isLeft(config)).toBe(true);
    if (Either.isLeft(config)) expect(String(config.left)).toContain(message);
  });

  it("stops a host with a bad value before it connects to anything", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(
        startHost([], {
          name: "test",
          db: { url: "postgres://nobody@127.0.0.1:1/none" },
          nats: { servers: "127.0.0.1:1" },
        }),
      ).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["INBOX_RETENTION", "soon"]])))),
    );
    expect(Exit.isFailure(exit) && String(Exit.isFailure(exit) ? exit.cause : "")).toContain(
      "INBOX_RETENTION",
    );
  });
});
