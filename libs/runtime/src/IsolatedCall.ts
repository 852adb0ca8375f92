import { Worker } from "node:worker_threads";

const workerFile = new URL("./IsolatedCallWorker.js", import.meta.url);

/**
 * Calls the function `exportName` of the module at `moduleUrl` (a `file:` URL, e.g. from the
 * caller's `import.meta.resolve`) with `args` in a worker thread that ends as soon as it has
 * answered: a heavy module needed once at start-up leaves nothing resident. MJML's compiler is
 * the case in point: importing it costs a process ≈ 60 MB RSS for the life of the process, to
 * compile two templates once; compiled in a worker, ≈ 15 MB remain. Arguments and result are
 * structured-cloned; a throw in the worker rejects with that error.
 */
export const callInWorker = (
  moduleUrl: string,
  exportName: string,
  args: ReadonlyArray<unknown>,
): Promise<unknown> =>
  new Promise((resolve, reject) => {
    let settled = false;
    const worker = new Worker(workerFile, { workerData: { moduleUrl, exportName, args } });
    worker.once("message", (value: unknown) => {
      settled = true;
      resolve(value);
      void worker.terminate();
    });
    worker.once("error", (error) => {
      settled = true;
      reject(error);
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`worker for ${moduleUrl} exited with code ${code} before answering`));
    });
  });
