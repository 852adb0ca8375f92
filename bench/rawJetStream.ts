/**
 * Benchmark 1 — raw JetStream, the baseline of everything else: async publish of N small
 * messages to the work-queue stream the runtime uses (LEADFLOW_CMD, file storage), then
 * consume + ack with a durable pull consumer (`consumer.consume()`), @nats-io/jetstream only.
 */
import { Streams } from "@leadflow/contracts";
import { defaultMaxGroup } from "@leadflow/runtime";
import {
  addConsumer,
  type BenchConfig,
  connectJetStream,
  consumeN,
  log,
  publishBench,
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
    const noTraces = await connectJetStream(server.url, { noAsyncTraces: true });
    const stream = Streams.cmd.name;
    const n = config.messages;
    const publishRates: number[] = [];
    const consumeRates: number[] = [];
    const smallPullRates: number[] = [];
    const noTracesRates: number[] = [];
    try {
      for (let rep = 0; rep < config.reps; rep++) {
        // publish N, consume them with the client's default pull size
        const subject = `leadflow.cmd.bench.raw.r${rep}`;
        const publishMs = await publishBench(
          client,
          subject,
          "bench-raw",
          `raw-${rep}`,
          n,
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
        consumeRates.push(rate(n, consumeMs.ms));
        await client.jsm.consumers.delete(stream, durable);

        // the same with max_messages = 4: the pull of a slow stage (maxGroup 1, concurrency 4)
        // (capacity = concurrency × batch size = 4 × 1)
        const smallSubject = `leadflow.cmd.bench.rawsmall.r${rep}`;
        await publishBench(client, smallSubject, "bench-raw", `rawsmall-${rep}`, n, config.publishWindow);
        const smallDurable = `bench-rawsmall-${rep}`;
        await addConsumer(client.jsm, stream, smallDurable, smallSubject);
        const smallMs = await consumeN(client, stream, smallDurable, n, {
          maxMessages: 4,
          batch: 1,
          concurrency: 1,
        });
        smallPullRates.push(rate(n, smallMs.ms));
        await client.jsm.consumers.delete(stream, smallDurable);
        // the same publish on a connection with `noAsyncTraces: true`: no Error objects (stack
        // captures) made per request, which the client does by default
        const ntSubject = `leadflow.cmd.bench.rawnotraces.r${rep}`;
        const ntMs = await publishBench(
          noTraces,
          ntSubject,
          "bench-raw",
          `rawnt-${rep}`,
          n,
          config.publishWindow,
        );
        noTracesRates.push(rate(n, ntMs));
        await client.jsm.streams.purge(stream, { filter: ntSubject });
        log(
          `raw rep ${rep + 1}/${config.reps}: publish ${publishRates.at(-1)!.toFixed(0)} msg/s (noAsyncTraces ${noTracesRates.at(-1)!.toFixed(0)}), consume+ack ${consumeRates.at(-1)!.toFixed(0)} msg/s, max_messages=4 ${smallPullRates.at(-1)!.toFixed(0)} msg/s`,
        );
      }
    } finally {
      await client.close();
      await noTraces.close();
    }
    const publish = summarize(publishRates);
    const consume = summarize(consumeRates);
    const smallPull = summarize(smallPullRates);
    const noTracesPublish = summarize(noTracesRates);
    const figures: Figure[] = [
      {
        id: "raw.publish",
        group,
        label: `async publish, ${n} msgs (envelope headers + Nats-Msg-Id), ${config.publishWindow} in flight`,
        unit: "msg/s",
        value: publish,
        note: "DESIGN §12 budget ≈ 34k msg/s",
      },
      {
        id: "raw.publish.noAsyncTraces",
        group,
        label: "async publish, same, connection with noAsyncTraces: true",
        unit: "msg/s",
        value: noTracesPublish,
        baseline: { label: "async publish (client defaults)", unit: "msg/s", value: publish },
        ratio: ratioOf(noTracesPublish, publish),
        note: "client defaults build 2 Error objects (stack traces) per request; the runtime connects with noAsyncTraces",
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
        note: `the pull of a slow stage's consumer (concurrency 4 × maxGroup 1); the no-op runtime pulls ${4 * defaultMaxGroup}`,
      },
    ];
    return { figures, publish, consume };
  });
