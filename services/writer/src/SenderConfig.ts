import { defaultEmailFrom, isEmailAddress } from "@leadflow/contracts";
import { Config, ConfigError, Context, Either, Layer } from "effect";
import type { DraftInput } from "./DraftInput.js";

/** Who the drafts are from: every email carries the sender's identity and postal address (CAN-SPAM). */
export class Sender extends Context.Tag("leadflow/writer/Sender")<Sender, DraftInput["sender"]>() {}

export const senderConfig = Config.all({
  name: Config.string("SENDER_NAME").pipe(Config.withDefault("Alex Morgan")),
  company: Config.string("SENDER_COMPANY").pipe(Config.withDefault("Leadflow Utility Audits")),
  // the notifier's sender too: one setting, one default, one rule
  email: Config.string("EMAIL_FROM").pipe(
    Config.mapOrFail((s) =>
      isEmailAddress(s.trim())
        ? Either.right(s.trim())
        : Either.left(
            ConfigError.InvalidData(["EMAIL_FROM"], "must be one email address like ops@example.com"),
          ),
    ),
    Config.withDefault(defaultEmailFrom),
  ),
  postalAddress: Config.string("SENDER_POSTAL_ADDRESS").pipe(
    Config.withDefault("100 Example Street, Suite 1, Buffalo, NY 14202"),
  ),
  unsubscribeUrl: Config.succeed(null),
});

export const SenderLive = Layer.effect(Sender, senderConfig);
