import { Metrics } from "@leadflow/runtime";
import { Context, Effect, Layer } from "effect";
import { Counter } from "prom-client";

export interface NotifierMetricsShape {
  /** `transport` smtp|sendgrid|file; `outcome` sent|failed|skipped. */
  readonly emails: Counter<"transport" | "outcome">;
  /** `type` leads|emails; `decision` approved|rejected|partially_approved. */
  readonly decisions: Counter<"type" | "decision">;
}

export class NotifierMetrics extends Context.Tag("leadflow/notifier/NotifierMetrics")<
  NotifierMetrics,
  NotifierMetricsShape
>() {}

/** The notifier's counters, on the process's registry (never prom-client's global one). */
export const NotifierMetricsLive = Layer.effect(
  NotifierMetrics,
  Effect.map(Metrics, ({ registry }) => ({
    emails: new Counter({
      name: "leadflow_approval_emails_total",
      help: "Approval emails, by transport and outcome (sent, failed, skipped)",
      labelNames: ["transport", "outcome"],
      registers: [registry],
    }),
    decisions: new Counter({
      name: "leadflow_approval_decisions_total",
      help: "Approval decisions taken on the review pages, by request type and decision",
      labelNames: ["type", "decision"],
      registers: [registry],
    }),
  })),
);
