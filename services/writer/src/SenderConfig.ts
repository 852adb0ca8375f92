import { Config, Context, Layer } from "effect";
import type { DraftInput } from "./DraftInput.js";

/** Who the drafts are from: every email carries the sender's identity and postal address (CAN-SPAM). */
export class Sender extends Context.Tag("leadflow/writer/Sender")<Sender, DraftInput["sender"]>() {}

export const senderConfig = Config.all({
  name: Config.string("SENDER_NAME").pipe(Config.withDefault("Alex Morgan")),
  company: Config.string("SENDER_COMPANY").pipe(Config.withDefault("Leadflow Utility Audits")),
  email: Config.string("EMAIL_FROM").pipe(Config.withDefault("audits@leadflow.invalid")),
  postalAddress: Config.string("SENDER_POSTAL_ADDRESS").pipe(
    Config.withDefault("100 Example Street, Suite 1, Buffalo, NY 14202"),
  ),
  unsubscribeUrl: Config.succeed(null),
});

export const SenderLive = Layer.effect(Sender, senderConfig);
