import { type AnyPlugin, type HostOptions, startHost } from "@leadflow/runtime";
import { Cause, Effect, Exit, Logger, Scope } from "effect";

export interface TestHost {
  readonly port: number | undefined;
  readonly stop: () => Promise<void>;
}

/** Runs plugins in this process against the test's database and NATS until `stop()`. */
export const startTestHost = async (
  plugins: ReadonlyArray<AnyPlugin>,
  options: {
    databaseUrl: string;
    natsUrl: string;
    /** Receives every log line of the host's fibers instead of the console (to assert on them). */
    logger?: Logger.Logger<unknown, void>;
  } & Partial<HostOptions>,
): Promise<TestHost> => {
  const scope = Effect.runSync(Scope.make());
  const started = await Effect.runPromiseExit(
    startHost(plugins, {
      name: options.name ?? "test",
      db: options.db ?? { url: options.databaseUrl },
      nats: options.nats ?? { servers: options.natsUrl },
      port: options.port,
      heartbeatInterval: options.heartbeatInterval,
      housekeeping: options.housekeeping,
    }).pipe(
      Scope.extend(scope),
      options.logger ? Effect.provide(Logger.replace(Logger.defaultLogger, options.logger)) : (self) => self,
    ),
  );
  if (Exit.isFailure(started)) {
    // what did start (pools, connections, consumers) must not outlive the failure
    await Effect.runPromise(Scope.close(scope, started));
    throw new Error(`test host did not start: ${Cause.pretty(started.cause)}`);
  }
  const host = started.value;
  return { port: host.port, stop: () => Effect.runPromise(Scope.close(scope, Exit.void)) };
};
