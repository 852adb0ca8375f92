import { parseArgs } from "node:util";
import { envConfigProvider, failureLine, LoggingLive, launch, setEnv } from "@leadflow/runtime";
import { Cause, Effect, Exit } from "effect";
import { approvals } from "./commands/Approvals.js";
import { dev } from "./commands/Dev.js";
import { dlqList, dlqReplay } from "./commands/Dlq.js";
import { health } from "./commands/Health.js";
import { migrate } from "./commands/Migrate.js";
import { report } from "./commands/Report.js";
import { run } from "./commands/Run.js";
import { service } from "./commands/Service.js";
import { status } from "./commands/Status.js";
import { serviceNames } from "./Plugins.js";

const usage = `leadflow — the Leadflow command line

  leadflow dev [--port 8000]            every service in one process (embedded Postgres and NATS
                                        unless DATABASE_URL / NATS_URL are set)
  leadflow service <name>               one service: ${serviceNames.join(", ")}
  leadflow run --industry <text> --location <text> --count <1..1000>
               [--request-id <id>] [--wait] [--json] [--timeout <seconds>]
  leadflow status <runId> [--json]
  leadflow approvals [--pending] [--json]
                                        approval requests with a fresh review link each
  leadflow migrate
  leadflow dlq list [--json]
  leadflow dlq replay <seq…> | --all
  leadflow health [--json]              every dependency and service: ok, warning or error
                                        (exit code 1 when anything is error)
  leadflow report [--start YYYY-MM-DD] [--end YYYY-MM-DD] [--format table|json|csv]
                                        the weekly report (default: the last 7 days)
                                        (both ask a running monitor — MONITOR_URL or the dev
                                        stack's — else compute from DATABASE_URL / NATS_URL)

Without DATABASE_URL / NATS_URL, commands use the stack a running \`leadflow dev\` recorded in .data/.`;

/** Runs a short command: errors print as one clear line and set a non-zero exit code. */
const once = <E>(program: Effect.Effect<unknown, E, import("effect").Scope.Scope>) =>
  Effect.runPromiseExit(
    Effect.scoped(program).pipe(Effect.provide(LoggingLive), Effect.withConfigProvider(envConfigProvider())),
  ).then((exit) => {
    if (Exit.isFailure(exit)) {
      const failure = Cause.failureOption(exit.cause);
      const error = failure._tag === "Some" ? failure.value : Cause.squash(exit.cause);
      process.stderr.write(`leadflow: ${failureLine(error)}\n`);
      process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
    }
    // short commands hold no servers: leave once the output is written
    setImmediate(() => process.exit(process.exitCode ?? 0));
  });

const main = () => {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case "dev": {
      const { values } = parseArgs({ args: rest, options: { port: { type: "string" } } });
      const given = values.port ?? setEnv().PORT ?? "8000";
      const port = Number(given.trim());
      if (given.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write(
          `leadflow dev: --port (or PORT) must be a whole number from 0 to 65535, got "${given}"\n`,
        );
        process.exit(2);
      }
      return launch(dev({ port }));
    }
    case "service": {
      const name = rest[0];
      if (!name || !serviceNames.includes(name)) {
        process.stderr.write(`leadflow service: name one of ${serviceNames.join(", ")}\n`);
        process.exit(2);
      }
      return launch(service(name));
    }
    case "run": {
      const { values } = parseArgs({
        args: rest,
        options: {
          industry: { type: "string" },
          location: { type: "string" },
          count: { type: "string" },
          "request-id": { type: "string" },
          wait: { type: "boolean", default: false },
          json: { type: "boolean", default: false },
          timeout: { type: "string", default: "600" },
        },
      });
      if (!values.industry || !values.location || !values.count) {
        process.stderr.write("leadflow run: --industry, --location and --count are required\n");
        process.exit(2);
      }
      return once(
        run({
          industry: values.industry,
          location: values.location,
          count: values.count,
          requestId: values["request-id"],
          wait: values.wait,
          json: values.json,
          timeoutSeconds: Number(values.timeout),
        }),
      );
    }
    case "status": {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { json: { type: "boolean", default: false } },
      });
      if (!positionals[0]) {
        process.stderr.write("leadflow status: name a run id\n");
        process.exit(2);
      }
      return once(status(positionals[0], values.json));
    }
    case "health": {
      const { values } = parseArgs({ args: rest, options: { json: { type: "boolean", default: false } } });
      return once(health(values.json));
    }
    case "report": {
      const { values } = parseArgs({
        args: rest,
        options: {
          start: { type: "string" },
          end: { type: "string" },
          format: { type: "string", default: "table" },
        },
      });
      return once(report({ start: values.start, end: values.end, format: values.format }));
    }
    case "approvals": {
      const { values } = parseArgs({
        args: rest,
        options: { pending: { type: "boolean", default: false }, json: { type: "boolean", default: false } },
      });
      return once(approvals({ pending: values.pending, json: values.json }));
    }
    case "migrate":
      return once(migrate);
    case "dlq": {
      const [sub, ...args] = rest;
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { json: { type: "boolean", default: false }, all: { type: "boolean", default: false } },
      });
      if (sub === "list") return once(dlqList(values.json));
      if (sub === "replay") {
        const seqs = positionals.map(Number).filter((n) => Number.isInteger(n) && n > 0);
        if (seqs.length === 0 && !values.all) {
          process.stderr.write("leadflow dlq replay: name sequence numbers (from `dlq list`) or --all\n");
          process.exit(2);
        }
        return once(dlqReplay(seqs, values.all));
      }
      process.stderr.write("leadflow dlq: list | replay\n");
      process.exit(2);
      return;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(`${usage}\n`);
      return;
    default:
      process.stderr.write(`leadflow: unknown command "${command}"\n\n${usage}\n`);
      process.exit(2);
  }
};

try {
  main();
} catch (error) {
  process.stderr.write(`leadflow: ${(error as Error).message}\n`);
  process.exit(2);
}
