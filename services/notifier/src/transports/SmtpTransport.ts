import { Effect, Redacted } from "effect";
import nodemailer from "nodemailer";
import { type EmailTransportShape, TransportError } from "../Transport.js";

interface SmtpFailure {
  readonly code?: string;
  readonly responseCode?: number;
  readonly message?: string;
}

/** 4xx answers and connection trouble are worth another try; 5xx answers are final. */
const retryable = (e: SmtpFailure): boolean =>
  e.responseCode === undefined ? e.code !== "EENVELOPE" && e.code !== "EAUTH" : e.responseCode < 500;

/**
 * SMTP through nodemailer (`SMTP_URL`, e.g. `smtps://user:pass@smtp.example.com` or
 * `smtp://127.0.0.1:2525`). The pool is closed with the scope.
 */
export const makeSmtpTransport = (url: Redacted.Redacted<string>) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      nodemailer.createTransport({
        url: Redacted.value(url),
        connectionTimeout: 15_000,
        greetingTimeout: 15_000,
        socketTimeout: 30_000,
      }),
    ),
    (t) => Effect.sync(() => t.close()),
  ).pipe(
    Effect.map(
      (t): EmailTransportShape => ({
        name: "smtp",
        send: (email) =>
          Effect.tryPromise({
            try: () =>
              t.sendMail({
                from: { name: "Leadflow", address: email.from },
                to: email.to,
                subject: email.subject,
                text: email.text,
                html: email.html,
                messageId: email.messageId,
                headers: { "Auto-Submitted": "auto-generated", "X-Leadflow-Approval": email.approvalId },
              }),
            catch: (cause) => {
              const e = cause as SmtpFailure;
              return new TransportError({
                transport: "smtp",
                retryable: retryable(e),
                message:
                  `smtp: ${e.responseCode ? `${e.responseCode} ` : ""}${e.message ?? String(cause)}`.slice(
                    0,
                    500,
                  ),
                cause,
              });
            },
          }).pipe(Effect.map((info) => ({ reference: info.messageId ?? null }))),
      }),
    ),
  );
