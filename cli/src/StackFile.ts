import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Data, Effect, Option, Schema } from "effect";

/**
 * What `leadflow dev` writes to `<dataDir>/stack.json` while it runs, so `leadflow` commands
 * in another terminal use the same database, NATS and HTTP ports.
 */
export const StackInfo = Schema.Struct({
  pid: Schema.Int.pipe(Schema.positive()),
  startedAt: Schema.Date,
  databaseUrl: Schema.NonEmptyString,
  natsUrl: Schema.NonEmptyString,
  /** Service name → its HTTP base URL. */
  http: Schema.Record({ key: Schema.String, value: Schema.NonEmptyString }),
  /** Which of the two the stack started itself (no `DATABASE_URL` / `NATS_URL`). */
  embedded: Schema.Struct({ postgres: Schema.Boolean, nats: Schema.Boolean }),
});
export type StackInfo = typeof StackInfo.Type;

/** The stack file could not be read, parsed or written. */
export class StackFileError extends Data.TaggedError("StackFileError")<{
  readonly message: string;
  readonly cause?: unknown;
}> {}

export const stackFileName = "stack.json";

export const stackFilePath = (dataDir: string): string => join(dataDir, stackFileName);

/**
 * `LEADFLOW_DATA_DIR` when set, else `<cwd>/.data`. The only place the CLI reads this
 * variable; the arguments exist for tests.
 */
export const defaultDataDir = (
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): string => {
  const configured = env.LEADFLOW_DATA_DIR?.trim();
  return configured ? configured : join(cwd, ".data");
};

/** Whether a process with this pid exists (EPERM: it does, it is someone else's). */
export const isProcessAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

const StackInfoJson = Schema.parseJson(StackInfo);

/** Writes the stack file atomically (temp file + rename): a reader never sees half of it. */
export const writeStackFile = Effect.fn("StackFile.write")(function* (dataDir: string, info: StackInfo) {
  const text = yield* Schema.encode(StackInfoJson)(info).pipe(
    Effect.mapError((cause) => new StackFileError({ message: "invalid stack info", cause })),
  );
  const file = stackFilePath(dataDir);
  const temp = `${file}.${process.pid}.tmp`;
  yield* Effect.tryPromise({
    try: async () => {
      await mkdir(dataDir, { recursive: true });
      await writeFile(temp, `${text}\n`);
      await rename(temp, file);
    },
    catch: (cause) => new StackFileError({ message: `cannot write ${file}`, cause }),
  });
});

/**
 * The running stack, or none when there is no stack file or the process that wrote it is
 * gone (a stack killed without cleaning up). A file that is not a valid stack record fails.
 */
export const readStackFile = Effect.fn("StackFile.read")(function* (dataDir: string) {
  const file = stackFilePath(dataDir);
  const text = yield* Effect.tryPromise({
    try: () =>
      readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      }),
    catch: (cause) => new StackFileError({ message: `cannot read ${file}`, cause }),
  });
  if (text === undefined) return Option.none<StackInfo>();
  const info = yield* Schema.decodeUnknown(StackInfoJson)(text).pipe(
    Effect.mapError((cause) => new StackFileError({ message: `${file} is not a valid stack file`, cause })),
  );
  return isProcessAlive(info.pid) ? Option.some(info) : Option.none<StackInfo>();
});

/**
 * Removes the stack file; no file is fine. With `onlyIfPid`, only a file that process wrote
 * (a stack shutting down must not remove the record of another one that started since).
 */
export const removeStackFile = Effect.fn("StackFile.remove")(function* (
  dataDir: string,
  options?: { readonly onlyIfPid?: number },
) {
  const file = stackFilePath(dataDir);
  const onlyIfPid = options?.onlyIfPid;
  yield* Effect.tryPromise({
    try: async () => {
      if (onlyIfPid !== undefined) {
        const text = await readFile(file, "utf8").catch(() => undefined);
        const owner = text === undefined ? undefined : Schema.decodeUnknownOption(StackInfoJson)(text);
        if (owner === undefined || Option.isNone(owner) || owner.value.pid !== onlyIfPid) return;
      }
      await rm(file, { force: true });
    },
    catch: (cause) => new StackFileError({ message: `cannot remove ${file}`, cause }),
  });
});
