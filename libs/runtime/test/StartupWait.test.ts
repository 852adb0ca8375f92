import { adminUrl, captureLogs } from "@leadflow/testkit";
import { errors } from "@nats-io/transport-node";
import { Effect, Either, Fiber, Logger, TestClock, TestContext } from "effect";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { awaitDatabase } from "../src/Db.js";
import { isDbUnreachable } from "../src/Errors.js";
import { freePort } from "../src/embedded/index.js";
import { envConfigProvider } from "../src/Host.js";
import { isTransientNatsError } from "../src/Nats.js";
import { StartupWaitConfig, startupBackoff, waitForDependency } from "../src/StartupWait.js";

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
const sqlError = (code: string) => Object.assign(new Error(`server said ${code}`), { code });

describe("which failures are waited out", () => {
  it("the database: nothing listening, a name not resolving yet, a server starting or full; not credentials or a missing database", () => {
    for (const e of [
      refused,
      Object.assign(new Error("getaddrinfo EAI_AGAIN postgres"), { code: "EAI_AGAIN" }),
      Object.assign(new Error("write CONNECT_TIMEOUT"), { code: "CONNECT_TIMEOUT" }),
      // localhost on ::1 and 127.0.0.1, both refused
      Object.assign(new AggregateError([refused, refused], ""), { code: undefined }),
      sqlError("57P03"),
      sqlError("53300"),
      sqlError("08006"),
    ]) {
      expect(isDbUnreachable(e), String(e)).toBe(true);
    }
    for (const e of [
      sqlError("28P01"),
      sqlError("28000"),
      sqlError("3D000"),
      sqlError("42501"),
      new Error("?"),
    ]) {
      expect(isDbUnreachable(e), String(e)).toBe(false);
    }
  });

  it("NATS: a refused or unanswered connection, not a refused login", () => {
    expect(isTransientNatsError(new errors.ConnectionError("connection refused", { cause: refused }))).toBe(
      true,
    );
    expect(isTransientNatsError(new errors.TimeoutError())).toBe(true);
    expect(
      isTransientNatsError(Object.assign(new Error("getaddrinfo ENOTFOUND nats"), { code: "ENOTFOUND" })),
    ).toBe(true);
    expect(isTransientNatsError(new errors.AuthorizationError("Authorization Violation"))).toBe(false);
  });
});

describe("waitForDependency", () => {
  const options = (deadline: number) => ({
    dependency: "Thing",
    deadline,
    transient: (e: Error) => e !== permanent,
    reason: (e: Error) => e.message,
    fail: (e: Error, waited: { waitedMs: number; attempts: number } | undefined) => ({ e, waited }),
  });
  const permanent = new Error("wrong password");

  /** Runs `attempt` (failing with the given errors in turn, then succeeding) under a test clock. */
  const run = (failures: ReadonlyArray<Error>, deadline: number, advanceMs: number) => {
    const logs = captureLogs();
    let calls = 0;
    const attempt = Effect.suspend(() => {
      const failure = failures[calls++];
      return failure ? Effect.fail(failure) : Effect.succeed("up");
    });
    const result = Effect.gen(function* () {
      const fiber = yield* Effect.fork(Effect.either(waitForDependency(attempt, options(deadline))));
      yield* TestClock.adjust(advanceMs);
      return yield* Fiber.join(fiber);
    }).pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, logs.logger)),
      Effect.provide(TestContext.TestContext),
      Effect.runPromise,
    );
    return result.then((r) => ({ result: r, calls, lines: logs.lines }));
  };

  it("pauses 1 s, doubling to at most 10 s", () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(startupBackoff)).toEqual([1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  });

  it("tries again after each transient failure, one warning line each with its reason and pause", async () => {
    const { result, calls, lines } = await run([refused, refused, refused], 60_000, 7_000);
    expect(result).toEqual(Either.right("up"));
    expect(calls).toBe(4);
    const waits = lines.filter((l) => l.message === "waiting for Thing");
    expect(waits.map((l) => [l.level, l.fields.attempt, l.fields.retryInMs, l.fields.reason])).toEqual([
      ["WARN", 1, 1000, refused.message],
      ["WARN", 2, 2000, refused.message],
      ["WARN", 3, 4000, refused.message],
    ]);
    expect(lines.at(-1)).toMatchObject({
      message: "Thing answered",
      fields: { attempts: 4, waitedMs: 7000 },
    });
  });

  it("stops at once on a failure waiting will not heal", async () => {
    const { result, calls, lines } = await run([refused, permanent], 60_000, 1_000);
    expect(result).toEqual(Either.left({ e: permanent, waited: undefined }));
    expect(calls).toBe(2);
    expect(lines.filter((l) => l.message === "waiting for Thing")).toHaveLength(1);
  });

  it("gives up at the deadline, the last pause cut short to end there", async () => {
    const failures = Array.from({ length: 20 }, () => refused);
    const { result, calls, lines } = await run(failures, 5_000, 60_000);
    // attempts at 0, 1, 3 and 5 s (the 4 s pause cut to 2 s)
    expect(calls).toBe(4);
    expect(lines.map((l) => l.fields.retryInMs)).toEqual([1000, 2000, 2000]);
    expect(result).toEqual(Either.left({ e: refused, waited: { waitedMs: 5000, attempts: 4 } }));
  });

  it("without a deadline ahead (STARTUP_WAIT_MS=0) fails at the first refusal, as a command-line tool", async () => {
    const { result, calls, lines } = await run([refused], 0, 0);
    expect(result).toEqual(Either.left({ e: refused, waited: undefined }));
    expect(calls).toBe(1);
    expect(lines).toHaveLength(0);
  });
});

describe("STARTUP_WAIT_MS", () => {
  const read = (env: Record<string, string>) =>
    Effect.runSync(Effect.either(Effect.withConfigProvider(StartupWaitConfig, envConfigProvider(env))));
  it("defaults to 3 minutes (blank is unset), takes 0 – 1 hour, and refuses anything else naming itself", () => {
    expect(read({})).toEqual(Either.right(180_000));
    expect(read({ STARTUP_WAIT_MS: " " })).toEqual(Either.right(180_000));
    expect(read({ STARTUP_WAIT_MS: "0" })).toEqual(Either.right(0));
    expect(read({ STARTUP_WAIT_MS: "3600000" })).toEqual(Either.right(3_600_000));
    for (const bad of ["-1", "3600001", "2.5", "3 minutes"]) {
      const result = read({ STARTUP_WAIT_MS: bad });
      expect(result._tag, bad).toBe("Left");
      expect(String((result as { left: unknown }).left)).toContain("STARTUP_WAIT_MS");
    }
  });
});

describe("awaitDatabase", () => {
  const attempt = async (url: string, deadline: number) => {
    const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => undefined });
    try {
      return await Effect.runPromise(Effect.either(awaitDatabase(sql, deadline)));
    } finally {
      await sql.end({ timeout: 1 });
    }
  };

  it("answers at once when the database is there", async () => {
    expect(Either.isRight(await attempt(adminUrl(), Date.now() + 60_000))).toBe(true);
  });

  it("a database that does not exist fails at once, however long the wait allowed", async () => {
    const url = new URL(adminUrl());
    url.pathname = "/lf_test_absent_startup_wait";
    const started = Date.now();
    const result = await attempt(url.toString(), Date.now() + 60_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(Either.isLeft(result) && result.left.message).toBe(
      'cannot connect to PostgreSQL: database "lf_test_absent_startup_wait" does not exist (3D000)',
    );
  });

  it("nothing listening, with no time left to wait, is the refusal in one line", async () => {
    const port = await freePort();
    const result = await attempt(`postgres://postgres@127.0.0.1:${port}/postgres`, 0);
    expect(Either.isLeft(result) && result.left.message).toBe(
      `cannot connect to PostgreSQL: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
});
