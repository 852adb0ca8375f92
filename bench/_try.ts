import { Streams } from "@leadflow/contracts";
import { definePlugin } from "@leadflow/runtime";
import { Effect } from "effect";
import {
  body,
  connectJetStream,
  installExitGuards,
  publishAll,
  waitConsumerDrained,
  withDatabase,
  withNatsServer,
} from "./infra.js";
import { benchContract, makeProbe, withHost } from "./runtimeNoop.js";

installExitGuards();
const n = Number(process.env.N ?? 10000);
const conc = (process.env.CONC ?? "4").split(",").map(Number);
await withNatsServer((server) =>
  withDatabase(async (db) => {
    const client = await connectJetStream(server.url);
    for (const c of conc) {
      const k = benchContract(`noop${c}`);
      await publishAll(
        client.js,
        n,
        (i) => ({ subject: k.subject({ n: 0 }), data: body({ n: i }), msgID: `${c}-${i}` }),
        1024,
      );
      const p = makeProbe(n);
      const plugin = definePlugin({
        name: "bench",
        consumers: [{ contract: k, concurrency: c, handle: () => Effect.sync(() => p.add(1)) }],
      });
      let cpu0 = process.cpuUsage();
      const end = await withHost([plugin], db, server.url, async () => {
        cpu0 = process.cpuUsage();
        await p.all;
        return waitConsumerDrained(client.jsm, Streams.cmd.name, `bench-${k.name}`);
      });
      const cpu = process.cpuUsage(cpu0);
      const ms = end - p.first;
      console.log(
        `conc ${c}: ${((n * 1000) / ms).toFixed(0)} msg/s, node cpu ${(((cpu.user + cpu.system) / 1000 / ms) * 100).toFixed(0)}% of a core, ${((cpu.user + cpu.system) / n).toFixed(0)} µs cpu/msg`,
      );
    }
    await client.close();
  }),
);
