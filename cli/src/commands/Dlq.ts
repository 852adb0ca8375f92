import { DeadLetterInfo, Headers, Streams } from "@leadflow/contracts";
import { makeNats, natsOptionsFromConfig } from "@leadflow/runtime";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { Console, Effect, Schema } from "effect";
import { resolveConnections } from "../Connections.js";

interface DeadLetter {
  readonly seq: number;
  readonly info: DeadLetterInfo | null;
  readonly data: Uint8Array;
  readonly headers: Array<[string, string]>;
}

const decodeInfo = Schema.decodeUnknownOption(Schema.parseJson(DeadLetterInfo));

const readAll = (limit: number) =>
  Effect.gen(function* () {
    const connections = yield* resolveConnections;
    const nats = yield* Effect.flatMap(natsOptionsFromConfig(connections.natsUrl, "leadflow-cli"), makeNats);
    const stream = Streams.dlq.name;
    const info = yield* Effect.promise(() => nats.jsm.streams.info(stream));
    const letters: DeadLetter[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && letters.length < limit; seq++) {
      const msg = yield* Effect.promise(() => nats.jsm.streams.getMessage(stream, { seq }).catch(() => null));
      if (!msg) continue;
      const headers: Array<[string, string]> = [];
      for (const [k, v] of msg.header ?? []) if (v[0] !== undefined) headers.push([k, v[0]]);
      const raw = msg.header?.get(Headers.deadLetter);
      const decoded = raw ? decodeInfo(raw) : undefined;
      letters.push({ seq, info: decoded?._tag === "Some" ? decoded.value : null, data: msg.data, headers });
    }
    return { nats, letters };
  });

/** `leadflow dlq list [--json]`: every dead letter with its consumer, reason and error. */
export const dlqList = (json: boolean) =>
  Effect.gen(function* () {
    const { letters } = yield* readAll(10_000);
    if (json) {
      return yield* Console.log(
        JSON.stringify(
          letters.map((l) => ({
            seq: l.seq,
            ...l.info,
            body: new TextDecoder().decode(l.data).slice(0, 2000),
          })),
        ),
      );
    }
    if (letters.length === 0) return yield* Console.log("no dead letters");
    for (const l of letters) {
      const i = l.info;
      yield* Console.log(
        `#${l.seq}  ${i?.failedAt ?? "?"}  ${i?.consumer ?? "?"}  ${i?.subject ?? "?"}  ${i?.reason ?? "?"} after ${i?.deliveries ?? "?"} deliveries\n` +
          `      ${i?.error.tag ?? ""}: ${i?.error.message ?? "(no record)"}`,
      );
    }
  });

/**
 * `leadflow dlq replay <seq…> | --all`: publishes each original body to its original subject
 * (with a new message id, so JetStream's duplicate window does not drop it), then removes it
 * from the dead-letter stream.
 */
export const dlqReplay = (seqs: ReadonlyArray<number>, all: boolean) =>
  Effect.gen(function* () {
    const { nats, letters } = yield* readAll(10_000);
    const chosen = all ? letters : letters.filter((l) => seqs.includes(l.seq));
    if (chosen.length === 0) return yield* Console.log("nothing to replay");
    for (const l of chosen) {
      if (!l.info) {
        yield* Console.error(`#${l.seq}: no dead-letter record, skipped`);
        continue;
      }
      const h = natsHeaders();
      for (const [k, v] of l.headers) if (k !== Headers.deadLetter && k !== Headers.messageId) h.set(k, v);
      yield* Effect.promise(() =>
        nats.js.publish(l.info!.subject, l.data, { headers: h, msgID: `replay:${l.seq}:${Date.now()}` }),
      );
      yield* Effect.promise(() => nats.jsm.streams.deleteMessage(Streams.dlq.name, l.seq));
      yield* Console.log(`#${l.seq} replayed to ${l.info.subject}`);
    }
  });
