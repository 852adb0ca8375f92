import { readFile } from "node:fs/promises";
import {
  type ApprovalRequestRow,
  linkTtlConfig,
  listRequests,
  reviewUrl,
  signToken,
} from "@leadflow/notifier";
import { makeDb } from "@leadflow/runtime";
import { Config, Console, Data, Duration, Effect, Option, Redacted } from "effect";
import { resolveConnections } from "../Connections.js";
import { defaultDataDir } from "../StackFile.js";
import { devLinkSecretFile } from "./Dev.js";

export class NoLinkSecretError extends Data.TaggedError("NoLinkSecretError")<{ readonly message: string }> {}

/** Unset or blank is none, as for the notifier. */
const setting = (name: string) =>
  Config.option(Config.string(name)).pipe(Config.map(Option.filter((s) => s.trim() !== "")));

const linkConfig = Config.all({
  secret: setting("LINK_SECRET").pipe(Config.map(Option.map(Redacted.make))),
  baseUrl: setting("PUBLIC_BASE_URL"),
  // the notifier's rule: a link signed here with "0 days" would be expired before it is printed
  ttl: linkTtlConfig,
});

/**
 * How to sign links: `LINK_SECRET` and `PUBLIC_BASE_URL` from the environment, else the secret a
 * running `leadflow dev` keeps under `.data/` and its HTTP base.
 */
export const linkSigner = (devBase: string | undefined) =>
  Effect.gen(function* () {
    const c = yield* linkConfig;
    const secret = Option.isSome(c.secret)
      ? Redacted.value(c.secret.value)
      : yield* Effect.tryPromise(() => readFile(devLinkSecretFile(defaultDataDir()), "utf8")).pipe(
          Effect.map((s) => s.trim()),
          Effect.orElseFail(
            () =>
              new NoLinkSecretError({
                message:
                  "LINK_SECRET is not set and no `leadflow dev` secret was found: set LINK_SECRET (and PUBLIC_BASE_URL) as the notifier has them.",
              }),
          ),
        );
    const baseUrl = Option.getOrElse(c.baseUrl, () => devBase ?? "http://127.0.0.1:8002").replace(/\/+$/, "");
    const key = new TextEncoder().encode(secret);
    return (r: ApprovalRequestRow) => {
      const expiresAt = new Date(Date.now() + Duration.toMillis(c.ttl));
      return { link: reviewUrl(baseUrl, r.id, signToken(key, r.id, r.type, expiresAt)), expiresAt };
    };
  });

const when = (d: Date | null) => (d === null ? "–" : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`);

/** `leadflow approvals [--pending] [--json]`: the requests, newest first, each with a fresh link. */
export const approvals = (options: { readonly pending: boolean; readonly json: boolean }) =>
  Effect.gen(function* () {
    const connections = yield* resolveConnections;
    const db = yield* makeDb({
      url: connections.databaseUrl,
      singleConnection: connections.singleConnection,
    });
    const sign = yield* linkSigner(connections.http.notifier);
    const rows = yield* listRequests(db.sql, { pendingOnly: options.pending, limit: 200 });
    const listed = rows.map((r) => ({ request: r, ...sign(r) }));
    if (options.json) {
      return yield* Console.log(
        JSON.stringify(
          listed.map(({ request: r, link, expiresAt }) => ({
            id: r.id,
            runId: r.runId,
            type: r.type,
            status: r.status,
            items: r.itemIds.length,
            requestedAt: r.requestedAt.toISOString(),
            notifiedAt: r.notifiedAt?.toISOString() ?? null,
            decidedAt: r.decidedAt?.toISOString() ?? null,
            decidedBy: r.decidedBy,
            link,
            linkExpiresAt: expiresAt.toISOString(),
          })),
        ),
      );
    }
    if (listed.length === 0)
      return yield* Console.log(options.pending ? "no pending approval requests" : "no approval requests");
    for (const { request: r, link } of listed) {
      const decided = r.decidedAt ? `  decided ${when(r.decidedAt)} by ${r.decidedBy ?? "–"}` : "";
      yield* Console.log(
        `${r.id}  run ${r.runId ?? "–"}  ${r.type}  ${r.status}  ${r.itemIds.length} items  requested ${when(r.requestedAt)}${decided}\n  ${link}`,
      );
    }
  });
