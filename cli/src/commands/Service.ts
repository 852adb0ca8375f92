import { runService } from "@leadflow/runtime";
import { Effect } from "effect";
import { resolveConnections } from "../Connections.js";
import { Services } from "../Plugins.js";

/** `leadflow service <name>`: one service in this process (one per pod in Kubernetes). */
export const service = (name: string) =>
  Effect.gen(function* () {
    const entry = Services[name];
    if (!entry) {
      return yield* Effect.fail(
        new Error(`unknown service "${name}"; one of: ${Object.keys(Services).join(", ")}`),
      );
    }
    const connections = yield* resolveConnections;
    return yield* runService(entry.plugin, entry.port, connections);
  });
