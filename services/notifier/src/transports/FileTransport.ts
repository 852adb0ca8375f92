import { mkdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Effect } from "effect";
import nodemailer from "nodemailer";
import { type EmailTransportShape, TransportError } from "../Transport.js";

/**
 * The file outbox: each email is written as `<dir>/approval-<id>.eml` (a complete MIME message
 * any mail client opens). The name is the request's, so a second send replaces the first.
 */
export const makeFileTransport = (dir: string): Effect.Effect<EmailTransportShape> =>
  Effect.sync(() => {
    const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
    const folder = resolve(dir);
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
    };
  });
