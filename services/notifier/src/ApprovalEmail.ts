/// <reference path="../../../types/mjml.d.ts" />
import { LeadTiers } from "@leadflow/contracts";
import { callInWorker } from "@leadflow/runtime";
import { Context, Effect, Layer } from "effect";
import type { ApprovalDigest, ApprovalRequestRow } from "./ApprovalStore.js";
import { headerText, money, moneyRange, place, plural, utc } from "./Format.js";
import { escapeHtml, type Html, html } from "./Html.js";

/** An approval email, ready for any transport. */
export interface ApprovalEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface ApprovalEmailInput {
  readonly request: ApprovalRequestRow;
  /** Totals over every item and the items shown in full: the first `EMAIL_DETAIL_ROWS` (`loadDigest`). */
  readonly digest: ApprovalDigest;
  readonly link: string;
  readonly linkExpiresAt: Date;
}

const SLOTS = [
  "TITLE",
  "PREVIEW",
  "HEADING",
  "INTRO",
  "SUMMARY",
  "DETAILS",
  "BUTTON_URL",
  "BUTTON",
  "LINK",
  "FOOTER",
] as const;
type Slot = (typeof SLOTS)[number];
const slot = (name: Slot) => `%%LF_${name}%%`;

/** The approval email: a heading, a summary table, the top items, one button to the review page. */
const TEMPLATE = `<mjml lang="en">
  <mj-head>
    <mj-title>${slot("TITLE")}</mj-title>
    <mj-preview>${slot("PREVIEW")}</mj-preview>
    <mj-attributes>
      <mj-all font-family="Arial, Helvetica, sans-serif" />
      <mj-text font-size="15px" line-height="1.5" color="#1f2933" padding="0 24px 12px" />
      <mj-table font-size="14px" line-height="1.4" color="#1f2933" padding="0 24px 16px" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#f5f7fa" width="640px">
    <mj-section background-color="#ffffff" padding="24px 0 8px">
      <mj-column>
        <mj-text font-size="20px" font-weight="bold">${slot("HEADING")}</mj-text>
        <mj-text>${slot("INTRO")}</mj-text>
        <mj-table>${slot("SUMMARY")}</mj-table>
        <mj-table>${slot("DETAILS")}</mj-table>
        <mj-button href="${slot("BUTTON_URL")}" background-color="#0b5cad" color="#ffffff" font-size="16px" font-weight="bold" padding="8px 24px 16px" inner-padding="14px 28px">${slot("BUTTON")}</mj-button>
        <mj-text font-size="13px" color="#3e4c59">If the button does not work, open this address:<br />${slot("LINK")}</mj-text>
      </mj-column>
    </mj-section>
    <mj-section padding="12px 0 24px">
      <mj-column>
        <mj-text font-size="12px" color="#52606d">${slot("FOOTER")}</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;

interface Compiled {
  readonly parts: ReadonlyArray<string>;
  readonly slots: ReadonlyArray<Slot>;
}

const split = (out: string): Compiled => {
  const parts: Array<string> = [];
  const slots: Array<Slot> = [];
  let last = 0;
  for (const m of out.matchAll(/%%LF_([A-Z_]+)%%/g)) {
    const name = m[1] as Slot;
    if (!SLOTS.includes(name)) throw new Error(`unknown slot ${m[0]} in the compiled approval email`);
    parts.push(out.slice(last, m.index));
    slots.push(name);
    last = m.index + m[0].length;
  }
  parts.push(out.slice(last));
  const missing = SLOTS.filter((s) => !slots.includes(s));
  if (missing.length > 0) throw new Error(`MJML output lost the slots ${missing.join(", ")}`);
  return { parts, slots };
};

const fill = (c: Compiled, values: Readonly<Record<Slot, string>>): string => {
  let out = c.parts[0] ?? "";
  for (let i = 0; i < c.slots.length; i++) out += values[c.slots[i]!] + (c.parts[i + 1] ?? "");
  return out;
};

const TH = "text-align:left;padding:6px 8px;border-bottom:2px solid #cbd2d9;";
const TD = "padding:6px 8px;border-bottom:1px solid #e4e7eb;";
/** Items shown in full in the email; the review page has them all. */
export const EMAIL_DETAIL_ROWS = 10;

const row = (cells: ReadonlyArray<string>, header = false): Html =>
  header
    ? html`<tr>${cells.map((c) => html`<th style="${TH}">${c}</th>`)}</tr>`
    : html`<tr>${cells.map((c) => html`<td style="${TD}">${c}</td>`)}</tr>`;

const runLabel = (r: ApprovalRequestRow): string => headerText(r.runId ?? "no run", 80);
const scope = (r: ApprovalRequestRow): string =>
  r.industry && r.location ? `${headerText(r.industry, 100)} in ${headerText(r.location, 100)}` : "";

type LeadsDigest = Extract<ApprovalDigest, { type: "leads" }>;
type DraftsDigest = Extract<ApprovalDigest, { type: "emails" }>;

/** Every tier in order, an empty one included. */
const tierCounts = (digest: LeadsDigest) =>
  LeadTiers.map((tier) => {
    const t = digest.tiers.find((x) => x.tier === tier);
    return {
      tier,
      count: t?.count ?? 0,
      topScore: t?.topScore ?? null,
      low: t?.savingsLow ?? 0,
      high: t?.savingsHigh ?? 0,
    };
  });

interface Content {
  readonly subject: string;
  readonly heading: string;
  readonly intro: string;
  readonly summary: {
    readonly header: ReadonlyArray<string>;
    readonly rows: ReadonlyArray<ReadonlyArray<string>>;
  };
  readonly details: {
    readonly header: ReadonlyArray<string>;
    readonly rows: ReadonlyArray<ReadonlyArray<string>>;
  };
  readonly more: number;
  readonly button: string;
}

const leadsContent = (r: ApprovalRequestRow, digest: LeadsDigest): Content => {
  const tiers = tierCounts(digest);
  const total = digest.total;
  const counts = tiers.map((t) => `${t.count} ${t.tier}`).join(", ");
  const where = scope(r);
  return {
    subject: headerText(`Leadflow: review ${plural(total, "lead")} (${counts}) — run ${runLabel(r)}`),
    heading: `${plural(total, "lead")} to review`,
    intro: `Run ${runLabel(r)}${where ? ` (${where})` : ""} scored ${plural(total, "lead")}. Approve the leads worth contacting; the writer then drafts a first email for each and asks you again.`,
    summary: {
      header: ["Tier", "Leads", "Top score", "Savings (low – high)"],
      rows: tiers.map((t) => [
        t.tier,
        String(t.count),
        t.topScore === null ? "–" : String(t.topScore),
        t.count > 0 ? moneyRange(t.low, t.high) : "–",
      ]),
    },
    details: {
      header: ["Company", "Tier", "Score", "Savings (mid)"],
      rows: digest.top.map((l) => [
        `${l.name} (${place(l.city, l.state)})`,
        l.tier ?? "–",
        l.score === null ? "–" : String(l.score),
        money(l.savingsMid),
      ]),
    },
    more: Math.max(0, total - digest.top.length),
    button: "Review the leads",
  };
};

const draftsContent = (r: ApprovalRequestRow, digest: DraftsDigest): Content => {
  const total = digest.total;
  const withRecipient = digest.withRecipient;
  return {
    subject: headerText(`Leadflow: review ${plural(total, "draft email")} — run ${runLabel(r)}`),
    heading: `${plural(total, "draft email")} to review`,
    intro: `The writer drafted first emails for run ${runLabel(r)}. Read them, edit a subject or body if you like, and approve the ones to send.`,
    summary: {
      header: ["Drafts", "With a recipient", "Without"],
      rows: [[String(total), String(withRecipient), String(total - withRecipient)]],
    },
    details: {
      header: ["Company", "Recipient", "Subject"],
      rows: digest.top.map((d) => [d.companyName, d.toEmail ?? "no recipient", d.subject]),
    },
    more: Math.max(0, total - digest.top.length),
    button: "Review the drafts",
  };
};

const contentOf = (input: ApprovalEmailInput): Content =>
  input.digest.type === "leads"
    ? leadsContent(input.request, input.digest)
    : draftsContent(input.request, input.digest);

const footer = (input: ApprovalEmailInput) =>
  `Approval request ${input.request.id}, requested ${utc(input.request.requestedAt)}. The link is valid until ${utc(input.linkExpiresAt)}; opening it changes nothing, only the buttons on the page decide. Lost this email? Run \`leadflow approvals --pending\` for a fresh link.`;

const htmlOf = (compiled: Compiled, input: ApprovalEmailInput, c: Content): string => {
  const table = (t: Content["details"]) => html`${row(t.header, true)}${t.rows.map((cells) => row(cells))}`;
  const details =
    c.more > 0
      ? html`${table(c.details)}<tr><td colspan="${String(c.details.header.length)}" style="${TD}">… and ${c.more} more on the review page</td></tr>`
      : table(c.details);
  return fill(compiled, {
    TITLE: escapeHtml(c.subject),
    PREVIEW: escapeHtml(c.intro.slice(0, 120)),
    HEADING: escapeHtml(c.heading),
    INTRO: escapeHtml(c.intro),
    SUMMARY: table(c.summary).value,
    DETAILS: details.value,
    BUTTON_URL: escapeHtml(input.link),
    BUTTON: escapeHtml(c.button),
    LINK: html`<a href="${input.link}" style="color:#0b5cad;word-break:break-all;">${input.link}</a>`.value,
    FOOTER: escapeHtml(footer(input)),
  });
};

const textOf = (input: ApprovalEmailInput, c: Content): string => {
  const table = (t: Content["details"]) =>
    [t.header.join(" | "), ...t.rows.map((r) => r.join(" | "))].join("\n");
  return [
    c.heading,
    "",
    c.intro,
    "",
    table(c.summary),
    "",
    table(c.details),
    ...(c.more > 0 ? [`… and ${c.more} more on the review page`] : []),
    "",
    `${c.button}: ${input.link}`,
    "",
    "--",
    footer(input),
    "",
  ].join("\n");
};

type MjmlResult = Awaited<ReturnType<typeof import("mjml")>>;

/**
 * MJML → HTML with strict validation and no web fonts (mjml 5 is asynchronous), in a worker
 * thread that ends right after (runtime `callInWorker`): compiled once at start-up, the
 * compiler would otherwise stay resident in the service (≈ 60 MB RSS).
 */
const compile = async (source: string): Promise<string> => {
  const result = (await callInWorker(import.meta.resolve("mjml"), "default", [
    source,
    { validationLevel: "strict", keepComments: false, fonts: {}, ignoreIncludes: true },
  ])) as MjmlResult;
  if (result.errors.length > 0)
    throw new Error(`MJML errors: ${result.errors.map((e) => e.formattedMessage).join("; ")}`);
  return result.html;
};

export interface ApprovalEmailRendererShape {
  readonly render: (input: ApprovalEmailInput) => ApprovalEmail;
}

export class ApprovalEmailRenderer extends Context.Tag("leadflow/notifier/ApprovalEmailRenderer")<
  ApprovalEmailRenderer,
  ApprovalEmailRendererShape
>() {}

/** Compiles the MJML template once; each render fills the compiled HTML with escaped values. */
export const makeApprovalEmailRenderer: Effect.Effect<ApprovalEmailRendererShape> = Effect.tryPromise(() =>
  compile(TEMPLATE).then(split),
).pipe(
  // a template that does not compile is a bug in this file, not a runtime condition
  Effect.orDie,
  Effect.map((compiled) => ({
    render: (input) => {
      const c = contentOf(input);
      return { subject: c.subject, html: htmlOf(compiled, input, c), text: textOf(input, c) };
    },
  })),
);

export const ApprovalEmailRendererLive = Layer.effect(ApprovalEmailRenderer, makeApprovalEmailRenderer);
