import { DeadLetterInfo, Headers, Streams } from "@leadflow/contracts";
import { NatsError, type NatsShape } from "@leadflow/runtime";
import { Effect, Schema } from "effect";

export interface ConsumerLag {
  readonly stream: string;
  readonly consumer: string;
  /** Messages not yet delivered plus delivered and not yet acknowledged. */
  readonly lag: number;
}

/** The streams whose durables carry work; the dead-letter stream has no consumers of ours. */
export const WorkStreams = [Streams.cmd.name, Streams.evt.name] as const;

const natsCall = <A>(message: string, f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (cause) => new NatsError({ message, cause }) });

/** `num_pending + num_ack_pending` of every durable on the command and event streams. */
export const consumerLag = (nats: NatsShape) =>
  Effect.forEach(WorkStreams, (stream) =>
    natsCall(`cannot list the consumers of ${stream}`, async () => {
      const out: ConsumerLag[] = [];
      for await (const ci of nats.jsm.consumers.list(stream)) {
        out.push({ stream, consumer: ci.name, lag: ci.num_pending + ci.num_ack_pending });
      }
      return out;
    }),
  ).pipe(Effect.map((lists) => lists.flat()));

const decodeInfo = Schema.decodeUnknownOption(Schema.parseJson(DeadLetterInfo));

/**
 * Counts dead letters by the stream they came from. The dead-letter stream keeps one subject
 * per consumer (`leadflow.dlq.<consumer>`) and a consumer reads one stream, so the per-subject
 * counts JetStream keeps are read in one call and each subject's origin comes from the
 * `Leadflow-Dead-Letter` header of its last message (remembered in `origins`: it never changes).
 * Streams other than the two work streams (or a letter without a readable record) count as
 * `unknown`; label values stay bounded by the number of streams.
 */
export const makeDeadLetterCounter = (nats: NatsShape) => {
  const origins = new Map<string, string>();
  const dlq = Streams.dlq.name;
  return natsCall("cannot read the dead-letter stream", async () => {
    const info = await nats.jsm.streams.info(dlq, { subjects_filter: ">" });
    const counts: Record<string, number> = Object.fromEntries(WorkStreams.map((s) => [s, 0]));
    for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
      let origin = origins.get(subject);
      if (origin === undefined) {
        const last = await nats.jsm.streams.getMessage(dlq, { last_by_subj: subject }).catch(() => null);
        const raw = last?.header?.get(Headers.deadLetter);
        const decoded = raw ? decodeInfo(raw) : undefined;
        const stream = decoded?._tag === "Some" ? decoded.value.stream : "unknown";
        origin = (WorkStreams as ReadonlyArray<string>).includes(stream) ? stream : "unknown";
        if (decoded?._tag === "Some") origins.set(subject, origin);
      }
      counts[origin] = (counts[origin] ?? 0) + n;
    }
    return counts;
  });
};
