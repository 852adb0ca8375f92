import type { Schema } from "effect";

/** The three JetStream streams every service shares (DESIGN section 4). */
export const Streams = {
  cmd: { name: "LEADFLOW_CMD", subjects: "leadflow.cmd.>" },
  evt: { name: "LEADFLOW_EVT", subjects: "leadflow.evt.>" },
  dlq: { name: "LEADFLOW_DLQ", subjects: "leadflow.dlq.>" },
} as const;

export type StreamKey = keyof typeof Streams;

/**
 * A contract ties a subject, a schema and an idempotency key together. Publishing and
 * consuming go through contracts, never through loose subject strings.
 */
export interface Contract<A, I = unknown> {
  /** A stable name, also used to derive durable consumer names. */
  readonly name: string;
  readonly stream: StreamKey;
  /** The subject filter a consumer of this contract subscribes to. */
  readonly filter: string;
  /** The concrete subject of one message. */
  readonly subject: (message: A) => string;
  readonly schema: Schema.Schema<A, I>;
  /** The idempotency key: becomes `Nats-Msg-Id` unless the outbox row id is used instead. */
  readonly messageId: (message: A) => string;
  /** Bodies larger than this are refused before they are parsed. */
  readonly maxBytes?: number;
}

/** Builds a contract; a plain constructor so every contract reads the same way. */
export const contract = <A, I>(definition: Contract<A, I>): Contract<A, I> => definition;

/** Envelope headers carried by every message (DESIGN section 4). */
export const Headers = {
  messageId: "Nats-Msg-Id",
  correlationId: "Leadflow-Correlation-Id",
  causationId: "Leadflow-Causation-Id",
  traceparent: "traceparent",
  occurredAt: "Leadflow-Occurred-At",
  contract: "Leadflow-Contract",
  deadLetter: "Leadflow-Dead-Letter",
} as const;
