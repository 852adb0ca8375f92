import { randomUUID } from "node:crypto";
import { type Contract, Headers } from "@leadflow/contracts";
import { type MsgHdrs, headers as natsHeaders } from "@nats-io/transport-node";
import { Either, ParseResult, Schema } from "effect";

export interface Envelope {
  readonly messageId: string;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly traceparent: string | null;
  readonly occurredAt: string;
}

/** Header values are single-line by construction; anything else is dropped, never sent. */
const safeHeader = (value: string | null | undefined): string | null =>
  value && !/[\r\n\0]/.test(value) ? value : null;

// from one random UUID (cheap, pooled randomness): 32 hex digits of trace id, 16 of span id
const newTraceparent = () => {
  const hex = randomUUID().replace(/-/g, "");
  return `00-${hex}-${hex.slice(8, 24)}-01`;
};

/** Encodes a message of a contract to its JSON text (fails loudly: our own message is wrong). */
export const encode = <A, I>(contract: Contract<A, I>, message: A): string =>
  JSON.stringify(Schema.encodeSync(contract.schema)(message));

export interface EncodedMessage {
  readonly id: string;
  readonly subject: string;
  readonly contract: string;
  readonly payload: string;
  readonly headers: Record<string, string>;
}

export interface EnvelopeOptions {
  readonly correlationId?: string | null;
  readonly causationId?: string | null;
  readonly traceparent?: string | null;
  readonly id?: string;
}

/** A message ready for the outbox or a direct publish: subject, body and envelope headers. */
export const toEncoded = <A, I>(
  contract: Contract<A, I>,
  message: A,
  options: EnvelopeOptions = {},
): EncodedMessage => {
  const id = options.id ?? randomUUID();
  const headers: Record<string, string> = {
    [Headers.contract]: contract.name,
    [Headers.occurredAt]: new Date().toISOString(),
  };
  const correlationId = safeHeader(options.correlationId);
  const causationId = safeHeader(options.causationId);
  // a message that starts a trace gets a W3C traceparent; later ones carry it on
  const traceparent = safeHeader(options.traceparent) ?? newTraceparent();
  if (correlationId) headers[Headers.correlationId] = correlationId;
  if (causationId) headers[Headers.causationId] = causationId;
  if (traceparent) headers[Headers.traceparent] = traceparent;
  return {
    id,
    subject: contract.subject(message),
    contract: contract.name,
    payload: encode(contract, message),
    headers,
  };
};

export const toNatsHeaders = (values: Record<string, string>): MsgHdrs => {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(values)) if (safeHeader(v)) h.set(k, v);
  return h;
};

// the envelope's headers, at their place in `EnvelopeValues`
const envelopeHeaders = new Map<string, number>(
  [
    Headers.messageId,
    Headers.correlationId,
    Headers.causationId,
    Headers.traceparent,
    Headers.occurredAt,
  ].map((key, i) => [key, i]),
);

/** Message id, correlation id, causation id, traceparent, occurred-at ("" when absent). */
type EnvelopeValues = [string, string, string, string, string];

const buildEnvelope = <T>(values: EnvelopeValues, fallbackId: (of: T) => string, of: T): Envelope => ({
  messageId: values[0] || fallbackId(of),
  correlationId: values[1] || null,
  causationId: values[2] || null,
  // a message from outside with no trace starts one, shared by everything its handler publishes
  traceparent: values[3] || newTraceparent(),
  occurredAt: values[4] || new Date().toISOString(),
});

/**
 * The envelope from a message's header block as text (`NATS/1.0[ status]\r\nKey: value\r\n…`),
 * read the way the NATS client reads it (key up to the first colon, as is; value trimmed; the
 * first value of a key wins) in one scan, with no header object: the client's own decoding
 * (canonical keys, a validation and an array per value) was a tenth of a no-op consumer's CPU
 * per message (24 Nov). A key the client would refuse to decode is skipped here, not thrown.
 */
export const readEnvelopeText = <T>(text: string, fallbackId: (of: T) => string, of: T): Envelope => {
  const values: EnvelopeValues = ["", "", "", "", ""];
  // the first line is the version and status
  let start = text.indexOf("\r\n");
  while (start !== -1) {
    start += 2;
    let end = text.indexOf("\r\n", start);
    if (end === -1) end = text.length;
    const colon = text.indexOf(":", start);
    if (colon !== -1 && colon < end) {
      const i = envelopeHeaders.get(text.slice(start, colon));
      if (i !== undefined && values[i] === "") values[i] = text.slice(colon + 1, end).trim();
    }
    start = end < text.length ? end : -1;
  }
  return buildEnvelope(values, fallbackId, of);
};

/**
 * The header block of a delivered message as text, read where the 3.x client keeps the raw
 * bytes (`msg._rdata`, the first `msg._msg.hdr` bytes), or `undefined` when the client does not
 * (then `readEnvelope` on `m.headers` is the way); `""` for a message without headers.
 */
export const rawHeaderText = (m: unknown): string | undefined => {
  const inner = (m as { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } }).msg;
  const data = inner?._rdata;
  const length = inner?._msg?.hdr;
  if (!(data instanceof Uint8Array) || typeof length !== "number" || length > data.byteLength)
    return undefined;
  if (length < 0) return "";
  return Buffer.from(data.buffer, data.byteOffset, length).toString("utf8");
};

/**
 * The envelope of a received message, in one pass over its headers (a `get` per header costs a
 * scan of every key each). `fallbackId` names a message that came without an id (from outside).
 */
export const readEnvelope = (h: MsgHdrs | undefined, fallbackId: () => string): Envelope => {
  const values: EnvelopeValues = ["", "", "", "", ""];
  if (h) {
    for (const [key, all] of h) {
      const i = envelopeHeaders.get(key);
      if (i !== undefined && values[i] === "") values[i] = all[0] ?? "";
    }
  }
  return buildEnvelope(values, fallbackId, undefined);
};

const textDecoder = new TextDecoder("utf-8", { fatal: true });

// one decoder per contract, built on first use (building it per message shows in profiles)
const decoders = new WeakMap<object, (u: unknown) => Either.Either<unknown, ParseResult.ParseError>>();
const decoderFor = <A, I>(contract: Contract<A, I>) => {
  let d = decoders.get(contract);
  if (!d) {
    d = Schema.decodeUnknownEither(contract.schema, { errors: "all" });
    decoders.set(contract, d);
  }
  return d as (u: unknown) => Either.Either<A, ParseResult.ParseError>;
};

/** Decodes bytes with a contract's schema; every problem is listed, in words. */
export const decode = <A, I>(
  contract: Contract<A, I>,
  data: Uint8Array,
): Either.Either<A, ReadonlyArray<string>> => {
  if (contract.maxBytes !== undefined && data.byteLength > contract.maxBytes) {
    return Either.left([`body is ${data.byteLength} bytes, over the limit of ${contract.maxBytes}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(textDecoder.decode(data));
  } catch (error) {
    return Either.left([`body is not valid UTF-8 JSON: ${(error as Error).message}`]);
  }
  const decoded = decoderFor(contract)(json);
  // a Right carries no error: the same value under the error type this returns
  if (Either.isRight(decoded)) return decoded as unknown as Either.Either<A, ReadonlyArray<string>>;
  return Either.left(
    ParseResult.ArrayFormatter.formatErrorSync(decoded.left).map(
      (issue) => `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`,
    ),
  );
};
