import { Schema } from "effect";

/**
 * What the runtime knows about a message it gave up on. The dead-letter message's body is
 * the original body, byte for byte; this record travels in the `Leadflow-Dead-Letter` header
 * (so a message close to the size limit still fits) and replay needs nothing else.
 */
export const DeadLetterInfo = Schema.Struct({
  stream: Schema.String,
  consumer: Schema.String,
  subject: Schema.String,
  streamSeq: Schema.NonNegativeInt,
  deliveries: Schema.NonNegativeInt,
  error: Schema.Struct({ tag: Schema.String, message: Schema.String }),
  reason: Schema.Literal("permanent", "max_deliveries", "undecodable", "advisory"),
  failedAt: Schema.String,
});
export type DeadLetterInfo = typeof DeadLetterInfo.Type;

/** `leadflow.dlq.<consumer>`: one subject per consumer so `dlq list` can filter. */
export const deadLetterSubject = (consumer: string): string => `leadflow.dlq.${consumer}`;
