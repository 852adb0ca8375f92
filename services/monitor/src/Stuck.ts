import { Duration } from "effect";
import type { StuckThresholds } from "./MonitorConfig.js";

/** The four checks of the original's `detect_stuck_pipeline`, as metric label values. */
export const StuckCheckNames = [
  "new_over_24h",
  "unapproved_over_48h",
  "drafts_unsent_over_6h",
  "no_email_today",
] as const;
export type StuckCheckName = (typeof StuckCheckNames)[number];

export interface StuckCheck {
  readonly check: StuckCheckName;
  readonly count: number;
  readonly stuck: boolean;
  readonly message: string;
}

/** The instants the checks compare with; a row exactly at a cutoff is not stuck (strictly older). */
export interface StuckCutoffs {
  readonly newBefore: Date;
  readonly unapprovedBefore: Date;
  readonly unsentBefore: Date;
  /** Midnight UTC of `now`'s day: "today" for the no-email check. */
  readonly dayStart: Date;
  readonly now: Date;
  readonly weekday: boolean;
}

/** Monday to Friday in UTC; the no-email check is off at weekends, as in the original. */
export const isWeekday = (d: Date): boolean => d.getUTCDay() >= 1 && d.getUTCDay() <= 5;

export const startOfUtcDay = (d: Date): Date =>
  new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));

export const stuckCutoffs = (now: Date, t: StuckThresholds): StuckCutoffs => ({
  newBefore: new Date(now.getTime() - Duration.toMillis(t.newCompany)),
  unapprovedBefore: new Date(now.getTime() - Duration.toMillis(t.unapprovedLead)),
  unsentBefore: new Date(now.getTime() - Duration.toMillis(t.unsentDraft)),
  dayStart: startOfUtcDay(now),
  now,
  weekday: isWeekday(now),
});

export interface StuckCounts {
  readonly newCompanies: number;
  readonly unapprovedLeads: number;
  readonly unsentDrafts: number;
  readonly emailsSentToday: number;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The service that sends emails; until it runs in a deployment, no email is expected of one. */
export const SenderService = "outreach";

/**
 * The checks with the original's messages; `no_email_today` counts 1 when it fires. The two
 * email checks fire only where a sender is expected (`sender`: the outreach service is among the
 * monitor's expected services): without one no email can go out, and they would fire every
 * weekday and for every approved draft, an alert nobody can act on. The drafts waiting are still
 * told in the message.
 */
export const stuckChecks = (
  counts: StuckCounts,
  cutoffs: StuckCutoffs,
  t: StuckThresholds,
  sender: boolean,
): StuckCheck[] => {
  const noEmail = sender && cutoffs.weekday && counts.emailsSentToday === 0;
  const unsent = sender ? counts.unsentDrafts : 0;
  const noSender = `no email sender here (${SenderService} is not among MONITOR_EXPECTED_SERVICES)`;
  const h = (d: Duration.Duration) => {
    const hours = Duration.toHours(d);
    return Number.isInteger(hours) ? `${hours} h` : Duration.format(d);
  };
  return [
    {
      check: "new_over_24h",
      count: counts.newCompanies,
      stuck: counts.newCompanies > 0,
      message:
        counts.newCompanies > 0
          ? `${plural(counts.newCompanies, "company", "companies")} found but not yet analyzed (new for over ${h(t.newCompany)})`
          : `no company new for over ${h(t.newCompany)}`,
    },
    {
      check: "unapproved_over_48h",
      count: counts.unapprovedLeads,
      stuck: counts.unapprovedLeads > 0,
      message:
        counts.unapprovedLeads > 0
          ? `${plural(counts.unapprovedLeads, "high-score lead", "high-score leads")} waiting approval for over ${h(t.unapprovedLead)}`
          : `no high-score lead waiting approval for over ${h(t.unapprovedLead)}`,
    },
    {
      check: "drafts_unsent_over_6h",
      count: unsent,
      stuck: unsent > 0,
      message: !sender
        ? `${noSender}: ${plural(counts.unsentDrafts, "approved email waits", "approved emails wait")} for one (over ${h(t.unsentDraft)})`
        : unsent > 0
          ? `${plural(unsent, "approved email", "approved emails")} not yet sent after ${h(t.unsentDraft)}`
          : `no approved email unsent for over ${h(t.unsentDraft)}`,
    },
    {
      check: "no_email_today",
      count: noEmail ? 1 : 0,
      stuck: noEmail,
      message: !sender
        ? `${noSender}: no email expected`
        : !cutoffs.weekday
          ? "weekend: no email expected"
          : noEmail
            ? "No emails sent today — check outreach agent"
            : `${plural(counts.emailsSentToday, "email", "emails")} sent today`,
    },
  ];
};
