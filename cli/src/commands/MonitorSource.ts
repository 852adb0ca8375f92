import { MonitorConfig, type MonitorShape, makeMonitor, monitorConfig } from "@leadflow/monitor";
import { Db, makeDb, makeNats, Nats, natsOptionsFromConfig, setEnv } from "@leadflow/runtime";
import { Context, Data, Effect, Option } from "effect";
import { resolveConnections } from "../Connections.js";
import { defaultDataDir, readStackFile } from "../StackFile.js";

export class MonitorHttpError extends Data.TaggedError("MonitorHttpError")<{
  readonly message: string;
  readonly status?: number;
  readonly cause?: unknown;
}> {}

/**
 * Where `health` and `report` get their answers. A running monitor is asked over HTTP
 * (`MONITOR_URL`, else the `leadflow dev` stack's monitor): its health reflects the
 * configuration the services actually run with (provider keys, SMTP, LLM), not this
 * shell's, and the CLI opens no second connection to an embedded one-connection database.
 * With `DATABASE_URL` and `NATS_URL` set and no `MONITOR_URL` (or no monitor running), the
 * same monitor code runs here, in the CLI process.
 */
export type MonitorSource =
  | { readonly _tag: "Http"; readonly baseUrl: string }
  | { readonly _tag: "Direct"; readonly monitor: MonitorShape };

export const monitorSource = Effect.gen(function* () {
  const env = setEnv();
  const explicit = env.MONITOR_URL?.trim();
  if (explicit) return { _tag: "Http", baseUrl: explicit.replace(/\/+$/, "") } as MonitorSource;
  if (!(env.DATABASE_URL && env.NATS_URL)) {
    const stack = yield* readStackFile(defaultDataDir()).pipe(Effect.orElseSucceed(() => Option.none()));
    const monitorUrl = Option.getOrUndefined(stack)?.http.monitor;
    if (monitorUrl) return { _tag: "Http", baseUrl: monitorUrl.replace(/\/+$/, "") } as MonitorSource;
  }
  const connections = yield* resolveConnections;
  const db = yield* makeDb({
    url: connections.databaseUrl,
    singleConnection: connections.singleConnection,
    max: 4,
  });
  const nats = yield* Effect.flatMap(natsOptionsFromConfig(connections.natsUrl, "leadflow-cli"), makeNats);
  const config = yield* monitorConfig;
  const monitor = yield* makeMonitor.pipe(
    Effect.provide(Context.make(Db, db).pipe(Context.add(Nats, nats), Context.add(MonitorConfig, config))),
  );
  return { _tag: "Direct", monitor } as MonitorSource;
});

/** GET a monitor endpoint; a 400 becomes an error carrying the server's message. */
export const getJson = <T>(baseUrl: string, path: string) =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(30_000) });
      const body = (await response.json().catch(() => null)) as (T & { error?: string }) | null;
      return { status: response.status, body };
    },
    catch: (cause) => new MonitorHttpError({ message: `the monitor at ${baseUrl} did not answer`, cause }),
  }).pipe(
    Effect.flatMap(({ status, body }) =>
      status === 200 && body
        ? Effect.succeed(body as T)
        : Effect.fail(
            new MonitorHttpError({
              message: body?.error ?? `the monitor at ${baseUrl} answered ${status}`,
              status,
            }),
          ),
    ),
  );

/** Colour only for a terminal, and never with NO_COLOR set (https://no-color.org). */
export const useColour = (): boolean => Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
