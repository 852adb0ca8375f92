import { type AnyPlugin, type HostOptions, startHost } from "@leadflow/runtime";
import { Effect, Exit, Scope } from "effect";

export interface TestHost {
  readonly port: number | undefined;
  readonly stop: () => Promise<void>;
}

/** Runs plugins in this process against the test's database and NATS until `stop()`. */
export const startTestHost = async (
  plugins: ReadonlyArray<AnyPlugin>,
  options: { databaseUrl: string; natsUrl: string } & Partial<HostOptions>,
): Promise<TestHost> => {
  const scope = Effect.runSync(Scope.make());
  const host = await Effect.runPromise(
    startHost(plugins, {
      name: options.name ?? "test",
      db: options.db ?? { url: options.databaseUrl },
      nats: options.nats ?? { servers: options.natsUrl },
      port: options.port,
      heartbeatInterval: options.heartbeatInterval,
    }).pipe(Scope.extend(scope)),
  );
  return { port: host.port, stop: () => Effect.runPromise(Scope.close(scope, Exit.void)) };
};
