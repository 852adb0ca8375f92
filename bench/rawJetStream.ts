/**
 * Benchmark 1 — raw JetStream, the baseline of everything else: async publish of N small
 * messages to the work-queue stream the runtime uses (LEADFLOW_CMD, file storage), then
 * consume + ack with a durable pull consumer (`consumer.consume()`), @nats-io/jetstream only.
 */
import { Streams } from "@leadflow/contracts";
import {
  addConsumer,
  type BenchConfig,
  body,
  connectJetStream,
  consumeN,
  log,
  publishAll,
  withNatsServer,
} from "./infra.js";
import { type Figure, rate, ratioOf, type Summary, summarize } from "./stats.js";

export interface RawJetStreamResult {
  readonly figures: ReadonlyArray<Figure>;
  readonly publish: Summary;
  readonly consume: Summary;
}

const group = "1. Raw JetStream (baseline)";

export const runRawJetStream = (config: BenchConfig): Promise<RawJetStreamResult> =>
  withNatsServer(async (server) => {
    const client = await connectJetStream(server.url);
    const stream = Streams.cmd.name;
    const n = config.messages;
    const publishRates: number[] = [];
    const consumeRates: number[] = [];
    const smallPullRates: number[] = [];
    try {
      for (let rep = 0; rep < config.reps; rep++) {
        // publish N, consume them with the client's default pull size
        const subject = `leadflow.cmd.bench.raw.r${rep}`;
        const publishMs = await publishAll(
          client.js,
          n,
          (i) => ({ subject, data: body({ n: i }), msgID: `raw-${rep}-${i}` }),
          config.publishWindow,
        );
        publishRates.push(rate(n, publishMs));
        const durable = `bench-raw-${rep}`;
        await addConsumer(client.jsm, stream, durable, subject);
        const consumeMs = await consumeN(client, stream, durable, n, {
          maxMessages: 100,
          batch: 1,
          concurrency: 1,
        });
        consumeRates.push(rate(n, consumeMs));
        await client.jsm.consumers.delete(stream, durable);

        // the same with max_messages = 4: the pull size the runtime's single mode asks for
        // (capacity = concurrency × batch size = 4 × 1)
        const smallSubject = `leadflow.cmd.bench.rawsmall.r${rep}`;
        await publishAll(
          client.js,
          n,
          (i) => ({ subject: smallSubject, data: body({ n: i }), msgID: `rawsmall-${rep}-${i}` }),
          config.publishWindow,
        );
        const smallDurable = `bench-rawsmall-${rep}`;
        await addConsumer(client.jsm, stream, smallDurable, smallSubject);
        const smallMs = await consumeN(client, stream, smallDurable, n, {
          maxMessages: 4,
          batch: 1,
          concurrency: 1,
        });
        smallPullRates.push(rate(n, smallMs));
        await client.jsm.consumers.delete(stream, smallDurable);
        log(
          `raw rep ${rep + 1}/${config.reps}: publish ${publishRates.at(-1)!.toFixed(0)} msg/s, consume+ack ${consumeRates.at(-1)!.toFixed(0)} msg/s, max_messages=4 ${smallPullRates.at(-1)!.toFixed(0)} msg/s`,
        );
      }
    } finally {
      await client.close();
    }
    const publish = summarize(publishRates);
    const consume = summarize(consumeRates);
    const smallPull = summarize(smallPullRates);
    const figures: Figure[] = [
      {
        id: "raw.publish",
        group,
        label: `async publish, ${n} msgs, Nats-Msg-Id, ${config.publishWindow} in flight`,
        unit: "msg/s",
        value: publish,
        note: "DESIGN §12 budget ≈ 34k msg/s",
      },
      {
        id: "raw.consume",
        group,
        label: "pull consume + ack, max_messages=100",
        unit: "msg/s",
        value: consume,
        note: "DESIGN §12 budget ≈ 108k msg/s",
      },
      {
        id: "raw.consume.maxMessages4",
        group,
        label: "pull consume + ack, max_messages=4",
        unit: "msg/s",
        value: smallPull,
        baseline: { label: "consume + ack, max_messages=100", unit: "msg/s", value: consume },
        ratio: ratioOf(smallPull, consume),
        note: "the pull size the runtime asks for in single mode (concurrency 4 × batch 1)",
      },
    ];
    return { figures, publish, consume };
  });
