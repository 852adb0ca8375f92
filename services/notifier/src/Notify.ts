import type { ApprovalRequested } from "@leadflow/contracts";
import { Db, type HandlerContext, type MessageMeta, PermanentError, RetryableError } from "@leadflow/runtime";
import { Console, Duration, Effect, Option, Redacted } from "effect";
import { ApprovalEmailRenderer, EMAIL_DETAIL_ROWS } from "./ApprovalEmail.js";
import {
  claimNotification,
  loadDigest,
  loadRequest,
  markNotified,
  releaseNotification,
} from "./ApprovalStore.js";
import { reviewUrl, signToken } from "./LinkToken.js";
import { NotifierConfig } from "./NotifierConfig.js";
import { NotifierMetrics } from "./NotifierMetrics.js";
import { EmailTransport } from "./Transport.js";

/**
 * How long a claim to send a request's email holds. A sender that dies between sending and
 * recording leaves the claim behind; after this a redelivery sends again (at least once: a lost
 * approval email would stall a run, a second copy of it harms nothing).
 */
/** A review link without its token: the page it leads to, safe to write to a log. */
const withoutToken = (url: string): string => {
  const u = new URL(url);
  u.search = "";
  return `${u.toString()} (token sent by email)`;
};

export const NOTIFY_LEASE_SECONDS = 120;

/** What `prepare` did, for `handle` to record. */
export type NotifyOutcome =
  | { readonly _tag: "Sent"; readonly transport: string; readonly reference: string | null }
  | { readonly _tag: "Skipped"; readonly reason: string };

/** A fresh review link for a request (the token is signed now, valid for `LINK_TTL`). */
export const freshLink = (id: string, type: ApprovalRequested["type"]) =>
  Effect.map(NotifierConfig, (config) => {
    const expiresAt = new Date(Date.now() + Duration.toMillis(config.linkTtl));
    const token = signToken(Redacted.value(config.linkSecret), id, type, expiresAt);
    return { url: reviewUrl(config.publicBaseUrl, id, token), expiresAt };
  });

/**
 * Sends the approval email, outside any transaction: claims the send (committed), renders, sends,
 * and gives the claim back when the transport failed. A request already notified, or claimed by
 * a sender still within its lease, sends nothing.
 */
export const sendApprovalEmail = (event: ApprovalRequested, _meta: MessageMeta) =>
  Effect.gen(function* () {
    const { sql } = yield* Db;
    const config = yield* NotifierConfig;
    const transport = yield* EmailTransport;
    const renderer = yield* ApprovalEmailRenderer;
    const metrics = yield* NotifierMetrics;
    const request = yield* loadRequest(sql, event.approvalId).pipe(
      Effect.flatMap(
        Option.match({
          onNone: () =>
            Effect.fail(
              new PermanentError({ message: `approval request ${event.approvalId} does not exist` }),
            ),
          onSome: Effect.succeed,
        }),
      ),
    );
    if (request.notifiedAt !== null) {
      return { _tag: "Skipped", reason: "already notified" } satisfies NotifyOutcome;
    }
    const link = yield* freshLink(request.id, request.type);
    const digest = yield* loadDigest(sql, request, EMAIL_DETAIL_ROWS);
    const count = digest.total;
    // the link is a credential (whoever holds it decides): the log carries it only when no email
    // will (no ALERT_EMAIL), else just the page; `leadflow approvals --pending` mints a fresh one
    yield* Effect.logInfo("approval requested: review link").pipe(
      Effect.annotateLogs({
        approvalId: request.id,
        runId: request.runId ?? "",
        type: request.type,
        items: count,
        link: Option.isNone(config.alertEmail) ? link.url : withoutToken(link.url),
      }),
    );
    if (config.printLinks) {
      yield* Console.log(
        `\nReview ${count} ${request.type === "leads" ? "leads" : "draft emails"} of run ${request.runId}: ${link.url}\n`,
      );
    }
    if (Option.isNone(config.alertEmail)) {
      metrics.emails.inc({ transport: transport.name, outcome: "skipped" });
      yield* Effect.logWarning("approval email skipped: ALERT_EMAIL is not set").pipe(
        Effect.annotateLogs({ approvalId: request.id }),
      );
      return { _tag: "Skipped", reason: "no ALERT_EMAIL" } satisfies NotifyOutcome;
    }
    const claimed = yield* claimNotification(sql, request.id, NOTIFY_LEASE_SECONDS);
    if (!claimed) {
      const again = yield* loadRequest(sql, request.id);
      if (Option.isSome(again) && again.value.notifiedAt !== null) {
        return { _tag: "Skipped", reason: "already notified" } satisfies NotifyOutcome;
      }
      return yield* new RetryableError({
        message: `the email of ${request.id} is being sent by another delivery`,
      });
    }
    const email = renderer.render({ request, digest, link: link.url, linkExpiresAt: link.expiresAt });
    const sent = yield* transport
      .send({
        from: config.emailFrom,
        to: config.alertEmail.value,
        subject: email.subject,
        html: email.html,
        text: email.text,
        messageId: `<approval-${request.id}@leadflow>`,
        approvalId: request.id,
      })
      .pipe(
        Effect.tapError((e) =>
          Effect.zipRight(
            Effect.sync(() => metrics.emails.inc({ transport: transport.name, outcome: "failed" })),
            releaseNotification(sql, request.id, e.message).pipe(Effect.ignore),
          ),
        ),
        Effect.mapError((e) =>
          e.retryable
            ? new RetryableError({
                message: e.message,
                cause: e,
                ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
              })
            : new PermanentError({ message: e.message, cause: e }),
        ),
      );
    metrics.emails.inc({ transport: transport.name, outcome: "sent" });
    yield* Effect.logInfo("approval email sent").pipe(
      Effect.annotateLogs({
        approvalId: request.id,
        transport: transport.name,
        reference: sent.reference ?? "",
      }),
    );
    return { _tag: "Sent", transport: transport.name, reference: sent.reference } satisfies NotifyOutcome;
  });

/** Records the sent email with the message's inbox row. */
export const recordNotification = (event: ApprovalRequested, ctx: HandlerContext, outcome: NotifyOutcome) =>
  outcome._tag === "Sent"
    ? markNotified(ctx.tx, event.approvalId, outcome.transport, outcome.reference)
    : Effect.void;
