import { randomBytes } from "node:crypto";
import { type RunRequest, RunStartContract, type RunSummary } from "@leadflow/contracts";
import { listRequests } from "@leadflow/notifier";
import { decode, makeDb, makeNats, Nats, natsOptionsFromConfig, publish, query } from "@leadflow/runtime";
import { Console, Effect, Either } from "effect";
import type { Sql } from "postgres";
import { resolveConnections } from "../Connections.js";
import { linkSigner } from "./Approvals.js";
import { formatSummary } from "./Status.js";

const gateStatuses = new Set(["awaiting_approval", "completed", "failed", "rejected"]);

export interface RunOptions {
  readonly industry: string;
  readonly location: string;
  readonly count: string;
  readonly requestId?: string;
  readonly wait: boolean;
  readonly json: boolean;
  readonly timeoutSeconds: number;
}

/**
 * `leadflow run`: validates the request with the same schema the orchestrator uses, publishes
 * it to `leadflow.cmd.run.start` and, with `--wait`, shows progress until the run has no
 * automated stage left.
 */
export const run = (options: RunOptions) =>
  Effect.gen(function* () {
    const body = {
      industry: options.industry,
      location: options.location,
      // a number as a number; anything else as typed, so the schema's message shows it
      count: /^\s*-?\d+(\.\d+)?\s*$/.test(options.count) ? Number(options.count) : options.count,
      requestId: options.requestId ?? `cli_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`,
    };
    const checked = decode(RunStartContract, new TextEncoder().encode(JSON.stringify(body)));
    if (Either.isLeft(checked)) {
      return yield* Effect.fail(new Error(`invalid run request:\n  ${checked.left.join("\n  ")}`));
    }
    const request: RunRequest = checked.right;
    const connections = yield* resolveConnections;
    const nats = yield* Effect.flatMap(natsOptionsFromConfig(connections.natsUrl, "leadflow-cli"), makeNats);
    // the request id as Nats-Msg-Id: publishing the same request twice in a row starts one run
    yield* publish(RunStartContract, request, {
      msgID: request.requestId,
      correlationId: request.requestId,
    }).pipe(Effect.provideService(Nats, nats));
    const runId = request.requestId!;
    if (!options.wait) {
      yield* Console.log(options.json ? JSON.stringify({ runId }) : `run ${runId} requested`);
      return;
    }
    const db = yield* makeDb({
      url: connections.databaseUrl,
      singleConnection: connections.singleConnection,
    });
    const tty = process.stdout.isTTY && !options.json;
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    let last = "";
    for (;;) {
      const rows = yield* query(db.sql<
        { status: string; stage: string | null; summary: RunSummary | Record<string, never> }[]
      >`
        select status, stage, summary from runs where id = ${runId}`);
      const row = rows[0];
      if (row) {
        const line = progressLine(row.status, row.stage, row.summary as RunSummary);
        if (line !== last) {
          if (tty) process.stdout.write(`\r\x1b[2K${line}`);
          else if (!options.json) yield* Console.log(line);
          last = line;
        }
        if (gateStatuses.has(row.status)) {
          if (tty) process.stdout.write("\n");
          const summary = row.summary as RunSummary;
          yield* Console.log(
            options.json
              ? JSON.stringify({ runId, status: row.status, stage: row.stage, summary })
              : formatSummary(summary),
          );
          if (row.status === "failed" || row.status === "rejected") process.exitCode = 1;
          if (!options.json) yield* printReviewLinks(db.sql, runId, connections.http.notifier);
          return;
        }
      }
      if (Date.now() > deadline) {
        return yield* Effect.fail(
          new Error(
            `run ${runId} did not reach an approval gate within ${options.timeoutSeconds} s (status: ${row?.status ?? "not started"})`,
          ),
        );
      }
      yield* Effect.sleep("200 millis");
    }
  });

const progressLine = (status: string, stage: string | null, summary: Partial<RunSummary>) => {
  const found = summary.companies?.found ?? 0;
  const leads = summary.leads;
  const stageInfo =
    stage && summary.stages?.[stage]
      ? ` ${summary.stages[stage]!.completedTasks}/${summary.stages[stage]!.tasks} tasks`
      : "";
  return `[${status}]${stageInfo}  companies found: ${found}${leads ? `  scored: ${leads.scored} (high ${leads.high}, medium ${leads.medium}, low ${leads.low})` : ""}`;
};

/**
 * The run's pending approval requests with a review link each (what the approval email holds),
 * so a user at the terminal goes straight to the page; without a link secret, a hint.
 */
const printReviewLinks = (sql: Sql, runId: string, notifierBase: string | undefined) =>
  Effect.gen(function* () {
    const pending = yield* listRequests(sql, { pendingOnly: true, limit: 20, runId });
    if (pending.length === 0) return;
    const sign = yield* Effect.either(linkSigner(notifierBase));
    for (const request of pending) {
      const where = Either.isRight(sign)
        ? sign.right(request).link
        : "(set LINK_SECRET and PUBLIC_BASE_URL, or run `leadflow approvals`)";
      yield* Console.log(`  review       ${request.type}: ${where}`);
    }
  }).pipe(Effect.catchAll((e) => Console.log(`  review       (links unavailable: ${String(e)})`)));
