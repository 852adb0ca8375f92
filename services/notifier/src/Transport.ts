import { Context, Data, type Effect } from "effect";

/** One email as every transport sends it. */
export interface OutgoingEmail {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** A stable `Message-ID` (`<approval-<id>@leadflow>`), so a rare second copy threads with the first. */
  readonly messageId: string;
  /** The request the email is about, for file names and provider metadata. */
  readonly approvalId: string;
}

export interface SentEmail {
  /** The transport's id for the message (SMTP queue id, SendGrid `X-Message-Id`, file path). */
  readonly reference: string | null;
}

export type TransportName = "smtp" | "sendgrid" | "file";

/** A send that failed; `retryable` says whether a later delivery of the request may succeed. */
export class TransportError extends Data.TaggedError("TransportError")<{
  readonly transport: TransportName;
  readonly message: string;
  readonly retryable: boolean;
  /** The provider's `Retry-After`: the next delivery waits at least this long. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}> {}

/** An email transport plugin: SMTP, SendGrid or the file outbox, chosen by configuration. */
export interface EmailTransportShape {
  readonly name: TransportName;
  readonly send: (email: OutgoingEmail) => Effect.Effect<SentEmail, TransportError>;
}

export class EmailTransport extends Context.Tag("leadflow/notifier/EmailTransport")<
  EmailTransport,
  EmailTransportShape
>() {}
