/**
 * Benchmark 3 — insert + outbox per message, batch mode: a plugin whose batch handler does one
 * multi-row insert into a bench table and `ctx.publish`es one outbox message per input
 * message. Measured end to end, from the first batch handled until the outbox relay has
 * published every outbox row to JetStream. Baseline, in the same repetition: a raw postgres.js
 * multi-row insert of the same rows (same batch size, same 4 in flight) plus a raw JetStream
 * async publish of the same number of messages.
 */
import { contract, Streams } from "@leadflow/contracts";
import { definePlugin, query } from "@leadflow/runtime";
import type { TestDatabase } from "@leadflow/testkit";
import { Effect, Schema } from "effect";
import {
  type BenchConfig,
  body,
  connectJetStream,
  envelope,
  type JsClient,
  log,
  publishAll,
  publishBench,
  sleep,
  traceparentFor,
  withDatabase,
  withNatsServer,
  withTimeout,
} from "./infra.js";
import { makeProbe, withHost } from "./runtimeNoop.js";
import { type Figure, fmt, rate, ratioOf, summarize } from "./stats.js";

const group = "3. Insert + outbox per message, batch mode";

const Input = contract({
  name: "bench-insert",
  stream: "cmd",
  filter: "leadflow.cmd.bench.insert",
  subject: () => "leadflow.cmd.bench.insert",
  schema: Schema.Struct({ n: Schema.Int }),
  messageId: (m) => `bench-insert:${m.n}`,
});

const Inserted = contract({
  name: "bench-inserted",
  stream: "evt",
  filter: "leadflow.evt.bench.inserted.*",
  subject: (m: { rep: number; n: number }) => `leadflow.evt.bench.inserted.${m.rep}`,
  schema: Schema.Struct({ rep: Schema.Int, n: Schema.Int }),
  messageId: (m) => `bench-inserted:${m.rep}:${m.n}`,
});

const row = (rep: number, n: number) => ({
  rep,
  n,
  name: `Bench Company ${n}`,
  city: "Buffalo",
  state: "NY",
  score: n % 101,
});

const createTables = (db: TestDatabase) =>
  db.sql.unsafe(`
    create table bench_items (
      rep int not null, n int not null, name text not null, city text not null, state text not null,
      score int not null, created_at timestamptz not null default now(), primary key (rep, n));
    create table bench_items_raw (like bench_items including all);`);

/** Messages in the event stream (the relay's output). */
const evtCount = async (client: JsClient) => (await client.jsm.streams.info(Streams.evt.name)).state.messages;

/** Raw work of the same size: multi-row inserts (batch size, 4 in flight), then async publish. */
const baseline = async (client: JsClient, db: TestDatabase, rep: number, n: number, config: BenchConfig) => {
  const size = config.batchSize;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      const from = next;
      next = Math.min(n, next + size);
      const rows = Array.from({ length: next - from }, (_, k) => row(rep, from + k));
      await db.sql`insert into bench_items_raw ${db.sql(rows)}`;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const insertMs = performance.now() - started;
  const traceparent = traceparentFor(`raw-out-${rep}`);
  const publishMs = await publishAll(
    client.js,
    n,
    (i) => ({
      subject: `leadflow.evt.bench.raw.${rep}`,
      data: body({ rep, n: i }),
      msgID: `raw-out-${rep}-${i}`,
      headers: envelope(Inserted.name, `raw-out-${rep}`, traceparent),
    }),
    config.publishWindow,
  );
  return { insertMs, publishMs };
};

export const runInsertOutbox = (config: BenchConfig): Promise<ReadonlyArray<Figure>> =>
  withNatsServer((server) =>
    withDatabase(async (db) => {
      await createTables(db);
      const client = await connectJetStream(server.url);
      const n = config.messages;
      const size = config.batchSize;
      const endToEnd: number[] = [];
      const handledOnly: number[] = [];
      const cpuPerMsg: number[] = [];
      const baselineRates: number[] = [];
      const insertRates: number[] = [];
      const publishRates: number[] = [];
      try {
        for (let rep = 0; rep < config.reps; rep++) {
          await db.sql`truncate inbox, outbox`;
          await publishBench(
            client,
            Input.subject({ n: 0 }),
            Input.name,
            `insert-${rep}`,
            n,
            config.publishWindow,
          );
          const before = await evtCount(client);
          const probe = makeProbe(n);
          const plugin = definePlugin({
            name: "bench",
            consumers: [
              {
                contract: Input,
                batch: {
                  size,
                  handle: (items, ctx) =>
                    Effect.gen(function* () {
                      yield* query(
                        ctx.tx`insert into bench_items ${ctx.tx(items.map((i) => row(rep, i.message.n)))}`,
                      );
                      for (const item of items) ctx.publish(Inserted, { rep, n: item.message.n });
                      probe.add(items.length);
                    }),
                },
              },
            ],
          });
          const result = await withHost([plugin], db, server.url, async () => {
            await withTimeout(probe.all, 300_000, `${n} messages inserted`);
            const deadline = Date.now() + 300_000;
            for (;;) {
              if ((await evtCount(client)) >= before + n) break;
              if (Date.now() > deadline) throw new Error("outbox relay did not publish every row in time");
              await sleep(5);
            }
            const published = performance.now();
            const cpuUs = probe.cpuSinceFirst();
            // not timed: the relay marks rows published after the stream's ack
            for (let i = 0; i < 2000; i++) {
              const [row0] = await db.sql<{ n: number }[]>`
                select count(*)::int as n from outbox where published_at is null`;
              if (row0?.n === 0) break;
              await sleep(10);
            }
            return { published, cpuUs };
          });
          const [{ rows } = { rows: 0 }] = await db.sql<{ rows: number }[]>`
            select count(*)::int as rows from bench_items where rep = ${rep}`;
          if (rows !== n) throw new Error(`expected ${n} bench rows, found ${rows}`);
          endToEnd.push(rate(n, result.published - probe.first));
          handledOnly.push(rate(n, probe.handled - probe.first));
          cpuPerMsg.push(result.cpuUs / n);

          const raw = await baseline(client, db, rep, n, config);
          baselineRates.push(rate(n, raw.insertMs + raw.publishMs));
          insertRates.push(rate(n, raw.insertMs));
          publishRates.push(rate(n, raw.publishMs));
          log(
            `outbox rep ${rep + 1}/${config.reps}: runtime ${fmt(endToEnd.at(-1)!)} msg/s (handled ${fmt(handledOnly.at(-1)!)}), baseline ${fmt(baselineRates.at(-1)!)} msg/s (insert ${fmt(insertRates.at(-1)!)} rows/s, publish ${fmt(publishRates.at(-1)!)} msg/s)`,
          );
        }
      } finally {
        await client.close();
      }
      const e2e = summarize(endToEnd);
      const base = summarize(baselineRates);
      const ratio = ratioOf(e2e, base);
      return [
        {
          id: "outbox.baseline.insert",
          group,
          label: `raw postgres.js multi-row insert (${size} rows/stmt, 4 in flight)`,
          unit: "rows/s",
          value: summarize(insertRates),
          note: "DESIGN §12 budget ≈ 59k rows/s",
        },
        {
          id: "outbox.baseline.publish",
          group,
          label: "raw JetStream async publish of the same count",
          unit: "msg/s",
          value: summarize(publishRates),
        },
        {
          id: "outbox.baseline",
          group,
          label: "baseline: raw insert + raw publish, sequential",
          unit: "msg/s",
          value: base,
        },
        {
          id: "outbox.handled",
          group,
          label: `runtime: consumed + inserted + outbox written (size ${size})`,
          unit: "msg/s",
          value: summarize(handledOnly),
          baseline: { label: "raw insert + publish", unit: "msg/s", value: base },
          ratio: ratioOf(summarize(handledOnly), base),
        },
        {
          id: "outbox.endToEnd",
          group,
          label: "runtime: … until the relay published every outbox row",
          unit: "msg/s",
          value: e2e,
          baseline: { label: "raw insert + publish", unit: "msg/s", value: base },
          ratio,
          note: `CPU ${fmt(summarize(cpuPerMsg).median)} µs/msg in this process`,
        },
      ] satisfies Figure[];
    }),
  );
