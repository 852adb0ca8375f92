import { DbError } from "@leadflow/runtime";
import { Effect, Layer, ManagedRuntime } from "effect";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { Monitor, type MonitorShape } from "../src/Monitor.js";
import { monitorRoutes } from "../src/Routes.js";

/** A monitor whose `counts` fails with `failures` in turn, then answers. */
const appWith = (failures: ReadonlyArray<unknown>) => {
  let calls = 0;
  const counts = Effect.suspend(() => {
    const failure = failures[calls++];
    return failure === undefined
      ? Effect.succeed({ new: 3, scored: 1 })
      : Effect.fail(new DbError({ message: "database query failed", cause: failure }));
  });
  const monitor = { counts } as unknown as MonitorShape;
  const runtime = ManagedRuntime.make(Layer.succeed(Monitor, monitor));
  runtimes.push(runtime);
  const app = new Hono();
  return Effect.runPromise(runtime.runtimeEffect).then((rt) => {
    monitorRoutes(app, rt);
    return { app, calls: () => calls };
  });
};

const runtimes: Array<ManagedRuntime.ManagedRuntime<Monitor, never>> = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.dispose();
});

const closed = (code: string) => Object.assign(new Error(`write ${code}`), { code });

describe("monitor API over a dropped database connection", () => {
  it("asks a read again when it failed on a connection the server dropped, each time on the next", async () => {
    const { app, calls } = await appWith([
      closed("CONNECTION_CLOSED"),
      closed("57P01"),
      closed("ECONNRESET"),
    ]);
    const res = await app.request("/api/pipeline/counts");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ total: 4 });
    expect(calls()).toBe(4);
  });

  it("gives up after five more tries: a pool of dropped connections is an outage, answered 503", async () => {
    const { app, calls } = await appWith(Array.from({ length: 10 }, () => closed("CONNECTION_CLOSED")));
    const res = await app.request("/api/pipeline/counts");
    expect(res.status).toBe(503);
    expect(calls()).toBe(6);
  });

  it("does not ask again when the database answered with an error or could not be reached in time", async () => {
    for (const cause of [closed("42P01"), closed("CONNECT_TIMEOUT"), new Error("no code")]) {
      const { app, calls } = await appWith([cause]);
      const res = await app.request("/api/pipeline/counts");
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: "database query failed" });
      expect(calls()).toBe(1);
    }
  });
});
