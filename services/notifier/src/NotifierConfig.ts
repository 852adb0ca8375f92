import { randomBytes } from "node:crypto";
import { defaultEmailFrom, isEmailAddress } from "@leadflow/contracts";
import { isBaseUrl } from "@leadflow/runtime";
import { Config, ConfigError, Context, Duration, Effect, Either, Layer, Option, Redacted } from "effect";

/** What the notifier needs to know about where it lives and whom it writes to. */
export interface NotifierSettings {
  /** Base of every link in an email (never the Host header of a request), no trailing slash. */
  readonly publicBaseUrl: string;
  readonly linkSecret: Redacted.Redacted<Uint8Array>;
  readonly linkTtl: Duration.Duration;
  /** Where approval emails go; none = sending is skipped (the link is still logged). */
  readonly alertEmail: Option.Option<string>;
  readonly emailFrom: string;
  /** Also print each review link as a plain line on stdout (`leadflow dev`). */
  readonly printLinks: boolean;
}

export class NotifierConfig extends Context.Tag("leadflow/notifier/NotifierConfig")<
  NotifierConfig,
  NotifierSettings
>() {}

export { isEmailAddress };

/**
 * An optional setting: unset or blank is none (as `DATABASE_URL=` means "not set" elsewhere), a
 * value that fails `valid` is a configuration error naming the variable.
 */
const optional = (name: string, message: string, valid: (value: string) => boolean) =>
  Config.option(Config.string(name)).pipe(
    Config.map(Option.map((s) => s.trim())),
    Config.map(Option.filter((s) => s !== "")),
    Config.mapOrFail((value) =>
      Option.isNone(value) || valid(value.value)
        ? Either.right(value)
        : Either.left(ConfigError.InvalidData([name], message)),
    ),
  );

const EMAIL_MESSAGE = "must be one email address like ops@example.com";

const MIN_SECRET_LENGTH = 32;

/**
 * `LINK_TTL`: how long a review link is valid (default 7 days, 1 minute – 90 days), for the
 * notifier's links and the ones `leadflow approvals` signs alike.
 */
export const linkTtlConfig = Config.duration("LINK_TTL").pipe(
  Config.validate({
    message: "must be between 1 minute and 90 days",
    validation: (d) =>
      Duration.greaterThanOrEqualTo(d, Duration.minutes(1)) &&
      Duration.lessThanOrEqualTo(d, Duration.days(90)),
  }),
  Config.withDefault(Duration.days(7)),
);

export const notifierSettings = Config.all({
  publicBaseUrl: optional(
    "PUBLIC_BASE_URL",
    "must be an absolute http(s) URL without query or fragment, e.g. https://leadflow.example.com",
    isBaseUrl,
  ).pipe(Config.map(Option.map((s) => s.replace(/\/+$/, "")))),
  linkSecret: optional(
    "LINK_SECRET",
    `must be at least ${MIN_SECRET_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`,
    (s) => s.length >= MIN_SECRET_LENGTH,
  ).pipe(Config.map(Option.map((s) => Redacted.make(new TextEncoder().encode(s))))),
  linkTtl: linkTtlConfig,
  alertEmail: optional("ALERT_EMAIL", EMAIL_MESSAGE, isEmailAddress),
  emailFrom: optional("EMAIL_FROM", EMAIL_MESSAGE, isEmailAddress).pipe(
    Config.map(Option.getOrElse(() => defaultEmailFrom)),
  ),
  printLinks: Config.boolean("NOTIFIER_PRINT_LINKS").pipe(Config.withDefault(false)),
  port: Config.integer("PORT").pipe(Config.withDefault(8002)),
});

/**
 * Reads the settings. Without `LINK_SECRET` a random per-process secret is used (links die with
 * the process) and without `PUBLIC_BASE_URL` a localhost URL: both are warned about loudly, so a
 * development host starts while a deployment is told what to set.
 */
export const NotifierConfigLive = Layer.effect(
  NotifierConfig,
  Effect.gen(function* () {
    const c = yield* notifierSettings;
    if (Option.isNone(c.linkSecret)) {
      yield* Effect.logWarning(
        "LINK_SECRET is not set: review links are signed with a random key and stop working when this process stops",
      );
    }
    if (Option.isNone(c.publicBaseUrl)) {
      yield* Effect.logWarning(`PUBLIC_BASE_URL is not set: links point to http://127.0.0.1:${c.port}`);
    }
    if (Option.isNone(c.alertEmail)) {
      yield* Effect.logWarning("ALERT_EMAIL is not set: approval emails are skipped, links are only logged");
    }
    return {
      publicBaseUrl: Option.getOrElse(c.publicBaseUrl, () => `http://127.0.0.1:${c.port}`),
      linkSecret: Option.getOrElse(c.linkSecret, () => Redacted.make(new Uint8Array(randomBytes(32)))),
      linkTtl: c.linkTtl,
      alertEmail: c.alertEmail,
      emailFrom: c.emailFrom,
      printLinks: c.printLinks,
    } satisfies NotifierSettings;
  }),
);
