import { createHash } from "node:crypto";
import type { ApprovalRequestRow, DraftItem, LeadItem } from "./ApprovalStore.js";
import { Limits } from "./Decision.js";
import { money, place, plural, utc } from "./Format.js";
import { type Html, html, multiline, trusted } from "./Html.js";

/**
 * The review pages: server-rendered, no script, no external asset. One inline stylesheet, allowed
 * by its hash in the Content-Security-Policy. Colours meet WCAG AA contrast; focus is always visible.
 */
const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2933;background:#f5f7fa}
main{max-width:960px;margin:0 auto;padding:16px}
h1{font-size:1.5rem;margin:.5rem 0}
h2{font-size:1.15rem;margin:0}
p.meta{color:#3e4c59;margin:.25rem 0 1rem}
.items{list-style:none;margin:0;padding:0}
.item{background:#fff;border:1px solid #cbd2d9;border-radius:8px;padding:12px 14px;margin:0 0 12px}
.item-head{display:flex;gap:10px;align-items:flex-start}
.item-head input[type=checkbox]{width:1.4rem;height:1.4rem;margin:.2rem 0 0;flex:none}
.item-head label{font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0 0}
dt{color:#3e4c59}
dd{margin:0;overflow-wrap:anywhere}
.tier{display:inline-block;padding:0 8px;border-radius:999px;font-size:.85rem;font-weight:600}
.tier-high{background:#d5f5e3;color:#0b5132}
.tier-medium{background:#fdf2d0;color:#6b4b00}
.tier-low{background:#e4e7eb;color:#323f4b}
details{margin-top:6px}
summary{cursor:pointer;color:#0b5cad}
.field{margin:12px 0}
.field label{display:block;font-weight:600;margin-bottom:4px}
input[type=text],textarea{width:100%;font:inherit;padding:8px;border:1px solid #7b8794;border-radius:6px;background:#fff;color:#1f2933}
textarea{min-height:9rem;resize:vertical}
.hint{color:#3e4c59;font-size:.9rem}
.actions{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0 32px}
button{font:inherit;font-weight:600;padding:12px 18px;border-radius:6px;border:2px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer;min-height:44px}
button.secondary{background:#fff;color:#0b5cad}
button.danger{background:#fff;color:#a61b1b;border-color:#a61b1b}
:focus-visible{outline:3px solid #e8590c;outline-offset:2px}
.notice{background:#fff;border-left:6px solid #0b5cad;padding:12px 14px;margin:12px 0}
.notice.error{border-color:#a61b1b}
.status{font-weight:700}
.approved{color:#0b5132}
.rejected{color:#a61b1b}
@media (max-width:600px){main{padding:10px}dl{grid-template-columns:1fr}dt{margin-top:4px}.actions button{flex:1 1 100%}}
`;

/** `style-src` source for the stylesheet above. */
export const STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;

const page = (title: string, body: Html): string =>
  html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow">
<title>${title}</title><style>${trusted(STYLE)}</style></head>
<body><main>${body}</main></body></html>`.value;

const tierBadge = (tier: string | null) =>
  tier === null ? "–" : html`<span class="tier tier-${tier}">${tier}</span>`;

const contactOf = (l: LeadItem): Html | string =>
  l.contactName || l.contactEmail
    ? html`${l.contactName ?? ""}${l.contactTitle ? html`, ${l.contactTitle}` : ""}${
        l.contactEmail ? html` &lt;${l.contactEmail}&gt;` : ""
      }`
    : "none found";

const leadCard = (l: LeadItem, selectable: boolean, checked = false): Html => {
  const id = `item-${l.id}`;
  const state = l.rejected ? " (rejected)" : l.approvedBy ? ` (approved by ${l.approvedBy})` : "";
  return html`<li class="item">
<div class="item-head">${selectable ? html`<input type="checkbox" id="${id}" name="ids" value="${l.id}"${checked ? " checked" : ""}>` : ""}
<h2>${selectable ? html`<label for="${id}">${l.name}</label>` : l.name}${state}</h2></div>
<dl>
<dt>Industry</dt><dd>${l.industry}</dd>
<dt>City, state</dt><dd>${place(l.city, l.state)}</dd>
<dt>Tier</dt><dd>${tierBadge(l.tier)}</dd>
<dt>Score</dt><dd>${l.score === null ? "–" : `${l.score} / 100`}</dd>
<dt>Savings</dt><dd>low ${money(l.savingsLow)} · mid ${money(l.savingsMid)} · high ${money(l.savingsHigh)} per year</dd>
<dt>Phone</dt><dd>${l.phone ?? "none found"}</dd>
<dt>Contact</dt><dd>${contactOf(l)}</dd>
</dl>
${
  l.reasons.length > 0
    ? html`<details><summary>Why this score</summary><ul>${l.reasons.map(
        (r) => html`<li>${r.factor}: ${r.points} points — ${r.detail}</li>`,
      )}</ul></details>`
    : ""
}
</li>`;
};

const draftCard = (d: DraftItem, editable: boolean, checked = false): Html => {
  const id = `item-${d.id}`;
  const recipient = d.toEmail ? (d.toName ? `${d.toName} <${d.toEmail}>` : d.toEmail) : "no recipient yet";
  return html`<li class="item">
<div class="item-head">${editable ? html`<input type="checkbox" id="${id}" name="ids" value="${d.id}"${checked ? " checked" : ""}>` : ""}
<h2>${editable ? html`<label for="${id}">${d.companyName}</label>` : d.companyName}${
    editable ? "" : ` (${d.status}${d.edited ? ", edited" : ""})`
  }</h2></div>
<dl><dt>To</dt><dd>${recipient}</dd>${d.isFallback ? html`<dt>Writer</dt><dd>template (the LLM answer was not usable)</dd>` : ""}</dl>
${
  editable
    ? html`<div class="field"><label for="subject-${d.id}">Subject</label>
<input type="text" id="subject-${d.id}" name="subject_${d.id}" value="${d.subject}" maxlength="${String(Limits.subject)}" required></div>
<div class="field"><label for="body-${d.id}">Body</label>
<textarea id="body-${d.id}" name="body_${d.id}" maxlength="${String(Limits.body)}" rows="10" required>${d.bodyText}</textarea></div>`
    : html`<dl><dt>Subject</dt><dd>${d.subject}</dd></dl><details><summary>Body</summary><p>${multiline(d.bodyText)}</p></details>`
}
</li>`;
};

const common = (
  token: string,
  form: SubmittedForm | undefined,
) => html`<input type="hidden" name="token" value="${token}">
<div class="field"><label for="decided_by">Your name (optional)</label>
<input type="text" id="decided_by" name="decided_by" value="${form?.decidedBy ?? ""}" maxlength="${String(Limits.decidedBy)}" autocomplete="name"></div>
<div class="field"><label for="note">Note (optional)</label>
<textarea id="note" name="note" maxlength="${String(Limits.note)}" rows="3" aria-describedby="note-hint">${form?.note ?? ""}</textarea>
<p class="hint" id="note-hint">Kept with the decision, for example why leads were rejected.</p></div>`;

const heading = (r: ApprovalRequestRow, what: string, expiresAt: Date) => html`<h1>${what}</h1>
<p class="meta">Run ${r.runId ?? "–"}${r.industry && r.location ? ` · ${r.industry} in ${r.location}` : ""} · requested ${utc(
  r.requestedAt,
)} · this link is valid until ${utc(expiresAt)}</p>`;

export interface PageContext {
  readonly request: ApprovalRequestRow;
  readonly token: string;
  readonly tokenExpiresAt: Date;
  readonly action: string;
  /** What the reviewer sent, when the page comes back with an error: shown as sent, not lost. */
  readonly submitted?: SubmittedForm;
}

/** A review form as the reviewer sent it (the values as typed; the page escapes them). */
export interface SubmittedForm {
  readonly selected: ReadonlySet<string>;
  readonly subjects: ReadonlyMap<string, string>;
  readonly bodies: ReadonlyMap<string, string>;
  readonly note: string;
  readonly decidedBy: string;
}

/** The pending leads page: every lead, approve all / selected, reject. */
export const leadsPage = (p: PageContext, leads: ReadonlyArray<LeadItem>, error?: string): string =>
  page(
    `Review ${plural(leads.length, "lead")}`,
    html`${heading(p.request, `Review ${plural(leads.length, "lead")}`, p.tokenExpiresAt)}
${error ? html`<div class="notice error" role="alert">${error}</div>` : ""}
<form method="post" action="${p.action}">
<p class="hint">Tick the leads to approve, then “Approve selected”; the others are recorded as rejected.</p>
<ul class="items">${leads.map((l) => leadCard(l, true, p.submitted?.selected.has(l.id)))}</ul>
${common(p.token, p.submitted)}
<div class="actions">
<button type="submit" name="action" value="approve_selected">Approve selected</button>
<button type="submit" name="action" value="approve_all" class="secondary">Approve all ${String(leads.length)}</button>
<button type="submit" name="action" value="reject" class="danger">Reject all</button>
</div></form>`,
  );

/** The pending drafts page: subject and body editable, approve all / selected, reject. */
export const draftsPage = (p: PageContext, drafts: ReadonlyArray<DraftItem>, error?: string): string =>
  page(
    `Review ${plural(drafts.length, "draft email")}`,
    html`${heading(p.request, `Review ${plural(drafts.length, "draft email")}`, p.tokenExpiresAt)}
${error ? html`<div class="notice error" role="alert">${error}</div>` : ""}
<form method="post" action="${p.action}">
<p class="hint">Edit a subject or body if you like. Edits are kept for the drafts you approve.</p>
<ul class="items">${drafts.map((d) =>
      draftCard(
        {
          ...d,
          subject: p.submitted?.subjects.get(d.id) ?? d.subject,
          bodyText: p.submitted?.bodies.get(d.id) ?? d.bodyText,
        },
        true,
        p.submitted?.selected.has(d.id),
      ),
    )}</ul>
${common(p.token, p.submitted)}
<div class="actions">
<button type="submit" name="action" value="approve_selected">Approve selected</button>
<button type="submit" name="action" value="approve_all" class="secondary">Approve all ${String(drafts.length)}</button>
<button type="submit" name="action" value="reject" class="danger">Reject all</button>
</div></form>`,
  );

const statusLabel: Record<string, string> = {
  approved: "Approved",
  partially_approved: "Partly approved",
  rejected: "Rejected",
  expired: "Expired",
  pending: "Pending",
};

/** A decided request: who, when, and what (which items went which way). */
export const decidedPage = (
  r: ApprovalRequestRow,
  items: { readonly leads: ReadonlyArray<LeadItem> } | { readonly drafts: ReadonlyArray<DraftItem> },
  notice?: string,
): string => {
  const approved = new Set(r.decision?.approvedIds ?? []);
  const names =
    "leads" in items
      ? items.leads.map((l) => ({ id: l.id, name: l.name }))
      : items.drafts.map((d) => ({ id: d.id, name: d.companyName }));
  const yes = names.filter((n) => approved.has(n.id));
  const no = names.filter((n) => !approved.has(n.id));
  const cls = r.status === "rejected" ? "rejected" : "approved";
  return page(
    `${statusLabel[r.status] ?? r.status}: approval request`,
    html`<h1>This request has been decided</h1>
${notice ? html`<div class="notice" role="status">${notice}</div>` : ""}
<p class="meta">Run ${r.runId ?? "–"} · ${r.type === "leads" ? "leads" : "draft emails"} · requested ${utc(r.requestedAt)}</p>
<div class="notice"><p><span class="status ${cls}">${statusLabel[r.status] ?? r.status}</span> by ${
      r.decidedBy ?? "–"
    } on ${r.decidedAt ? utc(r.decidedAt) : "–"}.</p>
${r.decisionNote ? html`<p>Note: ${multiline(r.decisionNote)}</p>` : ""}</div>
<h2>Approved (${String(yes.length)})</h2>
<ul>${yes.map((n) => html`<li>${n.name}</li>`)}</ul>
<h2>Not approved (${String(no.length)})</h2>
<ul>${no.map((n) => html`<li>${n.name}</li>`)}</ul>
${"drafts" in items ? html`<h2>Drafts as decided</h2><ul class="items">${items.drafts.map((d) => draftCard(d, false))}</ul>` : ""}`,
  );
};

/** An error page that names the problem and nothing more. */
export const messagePage = (title: string, message: string): string =>
  page(title, html`<h1>${title}</h1><div class="notice error" role="alert"><p>${message}</p></div>`);
