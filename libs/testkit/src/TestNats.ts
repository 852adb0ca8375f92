import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NatsServerProcess } from "@leadflow/runtime/embedded";

export interface TestNats {
  readonly url: string;
  readonly server: NatsServerProcess;
  readonly stop: () => Promise<void>;
}

/**
 * A nats-server of the test file's own (a child process on a free port with its own store),
 * so files run in parallel without sharing streams, and a test may restart it.
 */
export const createTestNats = async (): Promise<TestNats> => {
  const dir = await mkdtemp(join(tmpdir(), "leadflow-nats-"));
  const server = await NatsServerProcess.create({ dataDir: dir });
  return {
    url: server.url,
    server,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
};
