// The worker side of `callInWorker` (IsolatedCall.ts): imports one module, calls one of its
// exports with the given arguments and posts the result back; the thread then ends, and the
// module's code and heap go with it. Plain JavaScript: a worker thread does not inherit the
// main thread's TypeScript loader.
import { parentPort, workerData } from "node:worker_threads";

const { moduleUrl, exportName, args } = workerData;
const mod = await import(moduleUrl);
const fn = exportName === "default" ? (mod.default?.default ?? mod.default) : mod[exportName];
if (typeof fn !== "function") throw new Error(`${moduleUrl} has no function export "${exportName}"`);
parentPort.postMessage(await fn(...args));
