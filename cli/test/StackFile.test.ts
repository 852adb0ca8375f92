import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect, Option } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  defaultDataDir,
  readStackFile,
  removeStackFile,
  type StackInfo,
  stackFilePath,
  writeStackFile,
} from "../src/StackFile.js";

const info = (pid: number): StackInfo => ({
  pid,
  startedAt: new Date("2026-01-02T03:04:05.000Z"),
  databaseUrl: "postgres://postgres@127.0.0.1:5433/postgres",
  natsUrl: "nats://127.0.0.1:4333",
  http: { monitor: "http://127.0.0.1:8081", notifier: "http://127.0.0.1:8082" },
  embedded: { postgres: true, nats: false },
});

/** The pid of a process that has exited (and been reaped), so it is surely not alive. */
const deadPid = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", () => resolve(child.pid!));
  });

describe("StackFile", () => {
  let dir: string;

  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), "leadflow-stack-")), ".data");
  });

  afterEach(async () => {
    await rm(join(dir, ".."), { recursive: true, force: true });
  });

  it("writes the record and reads it back while its process lives", async () => {
    await Effect.runPromise(writeStackFile(dir, info(process.pid)));
    const read = await Effect.runPromise(readStackFile(dir));
    expect(Option.getOrThrow(read)).toEqual(info(process.pid));
    const json = JSON.parse(await readFile(stackFilePath(dir), "utf8"));
    expect(json.startedAt).toBe("2026-01-02T03:04:05.000Z");
    expect(await readdir(dir)).toEqual(["stack.json"]);
  });

  it("treats no file as no stack", async () => {
    expect(Option.isNone(await Effect.runPromise(readStackFile(dir)))).toBe(true);
  });

  it("treats a record whose process is gone as no stack", async () => {
    await Effect.runPromise(writeStackFile(dir, info(await deadPid())));
    expect(Option.isNone(await Effect.runPromise(readStackFile(dir)))).toBe(true);
  });

  it("fails on a file that is not a stack record", async () => {
    await Effect.runPromise(writeStackFile(dir, info(process.pid)));
    await writeFile(stackFilePath(dir), JSON.stringify({ ...info(process.pid), natsUrl: 42 }));
    const error = await Effect.runPromise(Effect.flip(readStackFile(dir)));
    expect(error._tag).toBe("StackFileError");
    await writeFile(stackFilePath(dir), "{ not json");
    expect((await Effect.runPromise(Effect.flip(readStackFile(dir))))._tag).toBe("StackFileError");
  });

  it("removes the file, and removing nothing is fine", async () => {
    await Effect.runPromise(writeStackFile(dir, info(process.pid)));
    await Effect.runPromise(removeStackFile(dir));
    expect(Option.isNone(await Effect.runPromise(readStackFile(dir)))).toBe(true);
    await Effect.runPromise(removeStackFile(dir));
  });

  it("leaves another stack's file alone when told whose to remove", async () => {
    await Effect.runPromise(writeStackFile(dir, info(process.pid)));
    await Effect.runPromise(removeStackFile(dir, { onlyIfPid: process.pid + 1 }));
    expect(Option.isSome(await Effect.runPromise(readStackFile(dir)))).toBe(true);
    await Effect.runPromise(removeStackFile(dir, { onlyIfPid: process.pid }));
    expect(Option.isNone(await Effect.runPromise(readStackFile(dir)))).toBe(true);
  });

  it("defaults the data folder to LEADFLOW_DATA_DIR, else <cwd>/.data", () => {
    expect(defaultDataDir({ LEADFLOW_DATA_DIR: "/srv/leadflow" }, "/repo")).toBe("/srv/leadflow");
    expect(defaultDataDir({ LEADFLOW_DATA_DIR: " " }, "/repo")).toBe("/repo/.data");
    expect(defaultDataDir({}, "/repo")).toBe("/repo/.data");
  });
});
