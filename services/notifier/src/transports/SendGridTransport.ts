import { type ProviderError, ProviderHttp, type ProviderLimits } from "@leadflow/runtime";
import { Effect, Redacted, Schema } from "effect";
import { type EmailTransportShape, TransportError } from "../Transport.js";

export interface SendGridOptions {
  readonly apiKey: Redacted.Redacted<string>;
  readonly baseUrl: string;
  readonly limits: ProviderLimits;
}

/**
 * SendGrid v3 `POST /v3/mail/send` through the runtime's provider client (rate limit, timeout,
 * metrics). 202 = accepted; the id is the `X-Message-Id` header. One try per delivery: the
 * notifier's redelivery (5 s … 5 min, 8 deliveries) is the one retry layer of an email (STYLE 5),
 * and waits at least the `Retry-After` a 429 or 503 sent.
 */
export const makeSendGridTransport = (options: SendGridOptions) =>
  Effect.gen(function* () {
    const http = yield* ProviderHttp;
    const client = yield* http.client({
      provider: "sendgrid",
      baseUrl: options.baseUrl,
      headers: { authorization: Redacted.make(`Bearer ${Redacted.value(options.apiKey)}`) },
      limits: options.limits,
      credentialHint: "SENDGRID_API_KEY",
      maxAttempts: 1,
    });
    return {
      name: "sendgrid",
      send: (email) =>
        client
          .request({
            method: "POST",
            path: "/v3/mail/send",
            json: {
              personalizations: [{ to: [{ email: email.to }] }],
              from: { email: email.from, name: "Leadflow" },
              subject: email.subject,
              content: [
                { type: "text/plain", value: email.text },
                { type: "text/html", value: email.html },
              ],
              headers: { "Auto-Submitted": "auto-generated" },
              custom_args: { approval_id: email.approvalId },
              // click tracking would rewrite the review link through SendGrid (and its scanner)
              tracking_settings: {
                click_tracking: { enable: false, enable_text: false },
                open_tracking: { enable: false },
              },
            },
            schema: Schema.Unknown,
          })
          .pipe(
            Effect.map((res) => ({ reference: res.headers.get("x-message-id") })),
            Effect.mapError(
              (e: ProviderError) =>
                new TransportError({
                  transport: "sendgrid",
                  retryable: e.retryable,
                  ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
                  message: e.message,
                  cause: e,
                }),
            ),
          ),
    } satisfies EmailTransportShape;
  });
