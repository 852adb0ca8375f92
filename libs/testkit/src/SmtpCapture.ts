import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { type ParsedEmail, parseEmail } from "./Mime.js";

/** One message as the server received it. */
export interface CapturedEmail extends ParsedEmail {
  readonly envelope: { readonly from: string; readonly to: ReadonlyArray<string> };
  readonly raw: string;
}

export interface SmtpCapture {
  /** `smtp://127.0.0.1:<port>`: a value for `SMTP_URL`. */
  readonly url: string;
  readonly port: number;
  readonly messages: ReadonlyArray<CapturedEmail>;
  /** The next `times` messages are refused at DATA with `code` (e.g. 451 temporary, 550 permanent). */
  readonly refuseNext: (code: number, message?: string, times?: number) => void;
  readonly close: () => Promise<void>;
}

/**
 * A real SMTP server (smtp-server) in this process on an ephemeral port, keeping every message it
 * accepts, parsed. No TLS, no auth: the client speaks plain SMTP to 127.0.0.1.
 */
export const startSmtpCapture = async (): Promise<SmtpCapture> => {
  const messages: Array<CapturedEmail> = [];
  const refusals: Array<{ code: number; message: string }> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    size: 25 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Array<Buffer> = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const refusal = refusals.shift();
        if (refusal !== undefined) {
          const error = Object.assign(new Error(refusal.message), { responseCode: refusal.code });
          return callback(error);
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        const from = session.envelope.mailFrom;
        messages.push({
          ...parseEmail(raw),
          raw,
          envelope: {
            from: from === false ? "" : from.address,
            to: session.envelope.rcptTo.map((r) => r.address),
          },
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    refuseNext: (code, message = "refused by the test", times = 1) => {
      for (let i = 0; i < times; i++) refusals.push({ code, message });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
