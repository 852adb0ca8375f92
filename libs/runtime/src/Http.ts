import { serve } from "@hono/node-server";
import { Data, Effect, Runtime } from "effect";
import { Hono } from "hono";
import { Db, query } from "./Db.js";
import { Metrics } from "./Metrics.js";
import { Nats } from "./Nats.js";

export interface ReadinessCheck {
  readonly name: string;
  readonly check: Effect.Effect<boolean>;
}

/**
 * The health and metrics routes every service serves: `/healthz` (the process answers),
 * `/readyz` (NATS and Postgres answer within a second and every consumer is pulling),
 * `/metrics` (this process's registry).
 */
export const makeHealthApp = (extraChecks: ReadonlyArray<ReadinessCheck> = []) =>
  Effect.gen(function* () {
    const { sql } = yield* Db;
    const { nc } = yield* Nats;
    const { registry } = yield* Metrics;
    const runtime = yield* Effect.runtime<never>();
    const checks: ReadonlyArray<ReadinessCheck> = [
      {
        name: "postgres",
        check: query(() => sql`select 1`).pipe(
          Effect.timeout("1 second"),
          Effect.as(true),
          Effect.orElseSucceed(() => false),
        ),
      },
      {
        name: "nats",
        check: Effect.tryPromise(() => nc.flush()).pipe(
          Effect.timeout("1 second"),
          Effect.as(!nc.isClosed()),
          Effect.orElseSucceed(() => false),
        ),
      },
      ...extraChecks,
    ];
    const app = new Hono();
    app.get("/healthz", (c) => c.json({ status: "ok" }));
    app.get("/readyz", async (c) => {
      const results = await Runtime.runPromise(runtime)(
        Effect.forEach(checks, (k) => Effect.map(k.check, (ok) => [k.name, ok] as const), {
          concurrency: "unbounded",
        }),
      );
      const ready = results.every(([, ok]) => ok);
      return c.json(
        { status: ready ? "ready" : "not_ready", checks: Object.fromEntries(results) },
        ready ? 200 : 503,
      );
    });
    app.get("/metrics", async (c) => {
      const body = await registry.metrics();
      return c.text(body, 200, { "Content-Type": registry.contentType });
    });
    return app;
  });

/** Serves a Hono app on `host:port` for the life of the scope; port 0 picks a free one. */
export const serveHttp = (app: Hono, port: number, host = "0.0.0.0") =>
  Effect.acquireRelease(
    Effect.async<{ port: number; close: () => void }, HttpServeError>((resume) => {
      try {
        const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
          server.off("error", failed);
          resume(Effect.succeed({ port: info.port, close: () => server.close() }));
        });
        // a port in use (or not ours to take) is a failure of this step, not an uncaught error event
        const failed = (error: NodeJS.ErrnoException) =>
          resume(
            Effect.fail(
              new HttpServeError({
                message:
                  error.code === "EADDRINUSE"
                    ? `port ${port} on ${host} is in use (PORT / --port)`
                    : `cannot listen on ${host}:${port}: ${error.message}`,
                cause: error,
              }),
            ),
          );
        server.once("error", failed);
      } catch (error) {
        resume(
          Effect.fail(
            new HttpServeError({
              message: `cannot listen on ${host}:${port}: ${String(error)}`,
              cause: error,
            }),
          ),
        );
      }
    }),
    (s) => Effect.sync(() => s.close()),
  );

export class HttpServeError extends Data.TaggedError("HttpServeError")<{
  readonly message: string;
  readonly cause?: unknown;
}> {}
