import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Data, Effect } from "effect";
import nodemailer from "nodemailer";
import { type EmailTransportShape, TransportError } from "../Transport.js";

/** The outbox folder cannot be created or written to. */
export class OutboxDirError extends Data.TaggedError("OutboxDirError")<{
  readonly folder: string;
  readonly reason: string;
  readonly cause: unknown;
}> {}

/**
 * Creates the folder if it is missing and writes (then removes) a file in it: a folder the
 * process cannot use is found at start, not by every approval email failing its retries.
 */
const checkWritable = (folder: string) =>
  Effect.tryPromise({
    try: async () => {
      await mkdir(folder, { recursive: true });
      const probe = join(folder, `.write-check.${process.pid}.tmp`);
      await writeFile(probe, "");
      await rm(probe, { force: true });
    },
    catch: (cause) =>
      new OutboxDirError({ folder, reason: (cause as Error)?.message ?? String(cause), cause }),
  });

/**
 * The file outbox: each email is written as `<dir>/approval-<id>.eml` (a complete MIME message
 * any mail client opens). The name is the request's, so a second send replaces the first. The
 * folder is created and checked writable here, once.
 */
export const makeFileTransport = (dir: string): Effect.Effect<EmailTransportShape, OutboxDirError> =>
  Effect.gen(function* () {
    const folder = resolve(dir);
    yield* checkWritable(folder);
    const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
    return {
      name: "file",
      send: (email) =>
        Effect.tryPromise({
          try: async () => {
            const info = await composer.sendMail({
              from: { name: "Leadflow", address: email.from },
              to: email.to,
              subject: email.subject,
              text: email.text,
              html: email.html,
              messageId: email.messageId,
              date: new Date(),
              headers: { "Auto-Submitted": "auto-generated", "X-Leadflow-Approval": email.approvalId },
            });
            // made again if it was removed since the start
            await mkdir(folder, { recursive: true });
            const file = join(folder, `approval-${email.approvalId}.eml`);
            const temp = `${file}.${process.pid}.tmp`;
            await writeFile(temp, info.message as Buffer);
            await rename(temp, file);
            return { reference: file };
          },
          catch: (cause) =>
            new TransportError({
              transport: "file",
              retryable: true,
              message: `file outbox: cannot write to ${folder}: ${(cause as Error)?.message ?? String(cause)}`,
              cause,
            }),
        }),
    } satisfies EmailTransportShape;
  });
