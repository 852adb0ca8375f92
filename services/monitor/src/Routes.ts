import { Cause, Effect, Exit, Runtime } from "effect";
import type { Hono, Context as HonoContext } from "hono";
import { Monitor, now } from "./Monitor.js";
import { BadParam, parseLimit, parseRange, parseRunId } from "./Params.js";

/** postgres.js's codes for a connection that went away, and the server's for a terminated backend. */
const LOST_CONNECTION = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "ECONNRESET",
  "EPIPE",
  "57P01",
  "57P02",
  "57P03",
]);

const lostConnection = (e: unknown): boolean => {
  const failure = e as { _tag?: string; cause?: { code?: unknown } } | null;
  return failure?._tag === "DbError" && LOST_CONNECTION.has(String(failure.cause?.code));
};

class RunNotFound {
  readonly _tag = "RunNotFound";
  constructor(readonly runId: string) {}
}

/**
 * The monitor's JSON API under /api. Bad parameters answer 400 naming the parameter; an
 * unknown run 404; a database or NATS failure 503 (the health endpoint reports those as checks).
 */
export const monitorRoutes = (app: Hono, runtime: Runtime.Runtime<Monitor>) => {
  const answer = async (c: HonoContext, effect: Effect.Effect<unknown, unknown, Monitor>) => {
    // every question here only reads: one that failed on a connection the server had dropped
    // (a restart, a terminated backend) is asked again, on the next connection of the pool: each
    // dropped one fails at once, and a restart may have dropped several
    const exit = await Runtime.runPromiseExit(runtime)(
      Effect.retry(effect, { times: 5, while: lostConnection }),
    );
    if (Exit.isSuccess(exit)) return c.json(exit.value as object);
    const failure = Cause.failureOption(exit.cause);
    if (failure._tag === "Some") {
      const e = failure.value;
      if (e instanceof BadParam) return c.json({ error: e.message, param: e.param }, 400);
      if (e instanceof RunNotFound) return c.json({ error: `no run ${e.runId}` }, 404);
      const tagged = e as { _tag?: string; message?: string; cause?: { code?: unknown; message?: unknown } };
      await Runtime.runPromise(runtime)(
        Effect.logWarning("monitor request failed", tagged.message ?? String(e)).pipe(
          Effect.annotateLogs({
            path: c.req.path,
            cause: String(tagged.cause?.code ?? tagged.cause?.message ?? "none"),
          }),
        ),
      );
      return c.json({ error: tagged.message ?? "unavailable" }, 503);
    }
    await Runtime.runPromise(runtime)(Effect.logError("monitor request crashed", exit.cause));
    return c.json({ error: "internal error" }, 500);
  };

  app.get("/api/pipeline/counts", (c) =>
    answer(
      c,
      Effect.flatMap(Monitor, (m) => m.counts).pipe(
        Effect.map((counts) => ({ counts, total: Object.values(counts).reduce((a, b) => a + b, 0) })),
      ),
    ),
  );
  app.get("/api/pipeline/value", (c) =>
    answer(
      c,
      Effect.flatMap(Monitor, (m) => m.value),
    ),
  );
  app.get("/api/pipeline/stuck", (c) =>
    answer(
      c,
      Effect.flatMap(Monitor, (m) => m.stuck),
    ),
  );
  app.get("/api/health", (c) =>
    answer(
      c,
      Effect.flatMap(Monitor, (m) => m.health),
    ),
  );
  app.get("/api/activity", (c) =>
    answer(
      c,
      Effect.gen(function* () {
        const limit = yield* parseLimit(c.req.query("limit"));
        const events = yield* (yield* Monitor).activity(limit);
        return { limit, events };
      }),
    ),
  );
  app.get("/api/reports/weekly", (c) =>
    answer(
      c,
      Effect.gen(function* () {
        const range = yield* parseRange(c.req.query("start"), c.req.query("end"), yield* now);
        return yield* (yield* Monitor).weekly(range);
      }),
    ),
  );
  app.get("/api/runs/:runId", (c) =>
    answer(
      c,
      Effect.gen(function* () {
        const runId = yield* parseRunId(c.req.param("runId"));
        const view = yield* (yield* Monitor).run(runId);
        if (!view) return yield* Effect.fail(new RunNotFound(runId));
        return view;
      }),
    ),
  );
};
