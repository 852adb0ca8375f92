import type { Contract } from "@leadflow/contracts";
import { Effect } from "effect";
import { type EnvelopeOptions, toEncoded, toNatsHeaders } from "./Codec.js";
import { NatsError } from "./Errors.js";
import { Nats } from "./Nats.js";

/**
 * Publishes straight to JetStream, waiting for the stream's ack. For messages that announce
 * no database change (a CLI trigger, a test); state changes go through the outbox instead.
 */
export const publish = <A, I>(
  contract: Contract<A, I>,
  message: A,
  options: EnvelopeOptions & { msgID?: string } = {},
) =>
  Effect.flatMap(Nats, ({ js }) => {
    const encoded = toEncoded(contract, message, options);
    return Effect.tryPromise({
      try: () =>
        js.publish(encoded.subject, new TextEncoder().encode(encoded.payload), {
          msgID: options.msgID ?? encoded.id,
          headers: toNatsHeaders(encoded.headers),
        }),
      catch: (cause) => new NatsError({ message: `cannot publish ${contract.name}`, cause }),
    });
  });
