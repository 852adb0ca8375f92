import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envConfigProvider, MetricsTest } from "@leadflow/runtime";
import { Effect, Either, Layer } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmailTransport } from "../src/Transport.js";
import { EmailTransportLive } from "../src/Transports.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "leadflow-transports-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Builds the transport layer as a service starting with `env` would: its name, or the error's text. */
const build = (env: Record<string, string>) =>
  Effect.runPromise(
    Effect.either(
      Effect.scoped(
        Effect.map(EmailTransport, (t) => t.name).pipe(
          Effect.provide(EmailTransportLive.pipe(Layer.provide(MetricsTest))),
          Effect.withConfigProvider(envConfigProvider(env)),
        ),
      ),
    ),
  ).then(Either.mapLeft(String));

describe("the file outbox's folder at start", () => {
  it("is created when missing, and left empty", async () => {
    const outbox = join(dir, "new", "outbox");
    expect(await build({ NOTIFIER_OUTBOX_DIR: outbox })).toEqual(Either.right("file"));
    expect(await readdir(outbox)).toEqual([]);
  });

  it("that cannot be created or written stops the start, naming NOTIFIER_OUTBOX_DIR and the reason", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "not a folder");
    for (const outbox of [file, join(file, "outbox")]) {
      const result = await build({ NOTIFIER_OUTBOX_DIR: outbox });
      expect(Either.isLeft(result), outbox).toBe(true);
      const message = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : ""));
      expect(message).toContain("NOTIFIER_OUTBOX_DIR");
      expect(message).toContain(`cannot use ${outbox}`);
      expect(message).toMatch(/EEXIST|ENOTDIR/);
    }
  });

  it("defaulted from LEADFLOW_DATA_DIR says so", async () => {
    const file = join(dir, "data-file");
    await writeFile(file, "");
    const result = await build({ LEADFLOW_DATA_DIR: file });
    expect(String(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : "")))).toContain(
      "($LEADFLOW_DATA_DIR/outbox, NOTIFIER_OUTBOX_DIR unset)",
    );
  });

  it("is not looked at when SMTP or SendGrid sends the email", async () => {
    const file = join(dir, "b-file");
    await writeFile(file, "");
    expect(await build({ NOTIFIER_OUTBOX_DIR: file, SMTP_URL: "smtp://127.0.0.1:2525" })).toEqual(
      Either.right("smtp"),
    );
    expect(await build({ NOTIFIER_OUTBOX_DIR: file, SENDGRID_API_KEY: "SG.key" })).toEqual(
      Either.right("sendgrid"),
    );
  });
});
