import { join } from "node:path";
import { baseUrlConfig, ProviderHttpLive, providerLimitsConfig } from "@leadflow/runtime";
import { Config, ConfigError, Effect, Either, Layer, Option, Redacted } from "effect";
import { EmailTransport } from "./Transport.js";
import { makeFileTransport } from "./transports/FileTransport.js";
import { makeSendGridTransport } from "./transports/SendGridTransport.js";
import { makeSmtpTransport } from "./transports/SmtpTransport.js";

/** A secret that is unset when blank (`SMTP_URL=` turns SMTP off, as elsewhere in Leadflow). */
const secret = (name: string) =>
  Config.option(Config.redacted(name)).pipe(
    Config.map(Option.filter((r) => Redacted.value(r).trim() !== "")),
  );

export const transportConfig = Config.all({
  smtpUrl: secret("SMTP_URL").pipe(
    Config.mapOrFail((url) =>
      Option.isNone(url) || /^smtps?:\/\/[^\s/]/.test(Redacted.value(url.value).trim())
        ? Either.right(url)
        : Either.left(
            ConfigError.InvalidData(
              ["SMTP_URL"],
              "must be an smtp:// or smtps:// URL, e.g. smtps://user:pass@smtp.example.com",
            ),
          ),
    ),
  ),
  sendGridApiKey: secret("SENDGRID_API_KEY"),
  sendGridBaseUrl: baseUrlConfig("SENDGRID_BASE_URL", "https://api.sendgrid.com"),
  sendGridLimits: providerLimitsConfig("SENDGRID", { ratePerSec: 10, concurrency: 2, timeoutMs: 15_000 }),
  outboxDir: Config.option(Config.string("NOTIFIER_OUTBOX_DIR")).pipe(
    Config.map(Option.filter((s) => s.trim() !== "")),
  ),
  dataDir: Config.string("LEADFLOW_DATA_DIR").pipe(
    Config.map((s) => s.trim() || ".data"),
    Config.withDefault(".data"),
  ),
});

/**
 * The transport by configuration: SMTP when `SMTP_URL` is set, else SendGrid when
 * `SENDGRID_API_KEY` is, else the file outbox (`NOTIFIER_OUTBOX_DIR`, default `.data/outbox`),
 * whose folder must be creatable and writable at start.
 */
export const EmailTransportLive = Layer.scoped(
  EmailTransport,
  Effect.gen(function* () {
    const c = yield* transportConfig;
    const transport = Option.isSome(c.smtpUrl)
      ? yield* makeSmtpTransport(c.smtpUrl.value)
      : Option.isSome(c.sendGridApiKey)
        ? yield* makeSendGridTransport({
            apiKey: c.sendGridApiKey.value,
            baseUrl: c.sendGridBaseUrl,
            limits: c.sendGridLimits,
          })
        : yield* makeFileTransport(Option.getOrElse(c.outboxDir, () => join(c.dataDir, "outbox"))).pipe(
            Effect.mapError((e) =>
              ConfigError.InvalidData(
                ["NOTIFIER_OUTBOX_DIR"],
                `the file outbox (neither SMTP_URL nor SENDGRID_API_KEY is set) cannot use ${e.folder}${Option.isNone(c.outboxDir) ? " ($LEADFLOW_DATA_DIR/outbox, NOTIFIER_OUTBOX_DIR unset)" : ""}: ${e.reason}`,
              ),
            ),
          );
    yield* Effect.logInfo("approval email transport").pipe(
      Effect.annotateLogs({ transport: transport.name }),
    );
    return transport;
  }),
).pipe(Layer.provide(ProviderHttpLive));
