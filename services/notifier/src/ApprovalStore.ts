import { type ApprovalStatus, type ApprovalType, allowedFrom } from "@leadflow/contracts";
import { query, type Tx } from "@leadflow/runtime";
import { Effect, Option } from "effect";
import type { Sql } from "postgres";

/** The SQL the notifier owns: approval requests, the items they cover, and the decisions. */

export interface ApprovalRequestRow {
  readonly id: string;
  readonly runId: string | null;
  readonly type: ApprovalType;
  readonly status: ApprovalStatus | "expired";
  readonly itemIds: ReadonlyArray<string>;
  readonly requestedAt: Date;
  readonly expiresAt: Date | null;
  readonly notifiedAt: Date | null;
  readonly decidedAt: Date | null;
  readonly decidedBy: string | null;
  readonly decisionNote: string | null;
  readonly decision: DecisionRecord | null;
  readonly industry: string | null;
  readonly location: string | null;
}

/** What `human_approval_requests.decision` holds once decided. */
export interface DecisionRecord {
  readonly action: "approve_all" | "approve_selected" | "reject";
  readonly approvedIds: ReadonlyArray<string>;
  readonly rejectedIds: ReadonlyArray<string>;
  readonly editedIds?: ReadonlyArray<string>;
}

export interface Reason {
  readonly factor: string;
  readonly points: number;
  readonly detail: string;
}

export interface LeadItem {
  readonly id: string;
  readonly name: string;
  readonly industry: string;
  readonly city: string | null;
  readonly state: string | null;
  readonly phone: string | null;
  readonly status: string;
  readonly tier: "high" | "medium" | "low" | null;
  readonly score: number | null;
  readonly reasons: ReadonlyArray<Reason>;
  readonly savingsLow: number | null;
  readonly savingsMid: number | null;
  readonly savingsHigh: number | null;
  readonly approvedBy: string | null;
  readonly rejected: boolean;
  readonly contactName: string | null;
  readonly contactTitle: string | null;
  readonly contactEmail: string | null;
}

export interface DraftItem {
  readonly id: string;
  readonly companyName: string;
  readonly toEmail: string | null;
  readonly toName: string | null;
  readonly subject: string;
  readonly bodyText: string;
  readonly status: string;
  readonly edited: boolean;
  readonly isFallback: boolean;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const reasonsOf = (raw: unknown): ReadonlyArray<Reason> =>
  Array.isArray(raw)
    ? raw
        .filter((r): r is Record<string, unknown> => r !== null && typeof r === "object")
        .map((r) => ({
          factor: String(r.factor ?? ""),
          points: Number(r.points ?? 0),
          detail: String(r.detail ?? ""),
        }))
    : [];

interface RequestDbRow {
  id: string;
  run_id: string | null;
  approval_type: ApprovalType;
  status: ApprovalStatus | "expired";
  item_ids: string[];
  requested_at: Date;
  expires_at: Date | null;
  notified_at: Date | null;
  decided_at: Date | null;
  decided_by: string | null;
  decision_note: string | null;
  decision: DecisionRecord | null;
  industry: string | null;
  location: string | null;
}

const toRequest = (r: RequestDbRow): ApprovalRequestRow => ({
  id: r.id,
  runId: r.run_id,
  type: r.approval_type,
  status: r.status,
  itemIds: r.item_ids,
  requestedAt: r.requested_at,
  expiresAt: r.expires_at,
  notifiedAt: r.notified_at,
  decidedAt: r.decided_at,
  decidedBy: r.decided_by,
  decisionNote: r.decision_note,
  decision: r.decision,
  industry: r.industry,
  location: r.location,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is a UUID (ids from URLs are checked before they reach SQL as uuid). */
export const isUuid = (s: string): boolean => UUID.test(s);

/** One request with its run's industry and location, or none. */
export const loadRequest = (sql: Sql | Tx, id: string) =>
  isUuid(id)
    ? query(sql<RequestDbRow[]>`
        select a.id, a.run_id, a.approval_type, a.status, a.item_ids, a.requested_at, a.expires_at,
          a.notified_at, a.decided_at, a.decided_by, a.decision_note, a.decision, r.industry, r.location
        from human_approval_requests a left join runs r on r.id = a.run_id
        where a.id = ${id}`).pipe(Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toRequest)))
    : Effect.succeed(Option.none<ApprovalRequestRow>());

/** Requests, newest first (`leadflow approvals`). */
export const listRequests = (
  sql: Sql,
  options: { readonly pendingOnly: boolean; readonly limit: number; readonly runId?: string },
) =>
  query(sql<RequestDbRow[]>`
    select a.id, a.run_id, a.approval_type, a.status, a.item_ids, a.requested_at, a.expires_at,
      a.notified_at, a.decided_at, a.decided_by, a.decision_note, a.decision, r.industry, r.location
    from human_approval_requests a left join runs r on r.id = a.run_id
    where ${options.pendingOnly ? sql`a.status = 'pending'` : sql`true`}
      and ${options.runId === undefined ? sql`true` : sql`a.run_id = ${options.runId}`}
    order by a.requested_at desc
    limit ${options.limit}`).pipe(Effect.map((rows) => rows.map(toRequest)));

/** Per tier (null: a company without a score in the run): how many, the best score, savings summed. */
export interface TierTotal {
  readonly tier: "high" | "medium" | "low" | null;
  readonly count: number;
  readonly topScore: number | null;
  readonly savingsLow: number;
  readonly savingsHigh: number;
}

/** What the approval email shows: totals over every item, and the first `top` items in full. */
export type ApprovalDigest =
  | {
      readonly type: "leads";
      readonly total: number;
      readonly tiers: ReadonlyArray<TierTotal>;
      readonly top: ReadonlyArray<LeadItem>;
    }
  | {
      readonly type: "emails";
      readonly total: number;
      readonly withRecipient: number;
      readonly top: ReadonlyArray<DraftItem>;
    };

/**
 * Totals and the first `top` items, computed in the database: an email that shows ten of a
 * thousand items does not read the thousand (drafts' bodies included) to count them.
 */
export const loadDigest = (sql: Sql | Tx, request: ApprovalRequestRow, top: number) =>
  Effect.gen(function* () {
    const ids = request.itemIds as string[];
    if (request.type === "leads") {
      const tiers = yield* query(sql<
        { tier: TierTotal["tier"]; count: number; top_score: number | null; low: number; high: number }[]
      >`
        select s.tier, count(*)::int as count, max(s.score)::int as top_score,
          coalesce(sum(f.savings_low), 0)::float8 as low, coalesce(sum(f.savings_high), 0)::float8 as high
        from unnest(${ids}::uuid[]) as u(id)
        join companies c on c.id = u.id
        left join lead_scores s on s.company_id = c.id and s.run_id = ${request.runId}
        left join company_features f on f.company_id = c.id
        group by s.tier`);
      const totals = tiers.map(
        (t): TierTotal => ({
          tier: t.tier,
          count: t.count,
          topScore: t.top_score,
          savingsLow: t.low,
          savingsHigh: t.high,
        }),
      );
      return {
        type: "leads",
        total: totals.reduce((n, t) => n + t.count, 0),
        tiers: totals,
        top: yield* loadLeads(sql, request, top),
      } satisfies ApprovalDigest;
    }
    const [counts] = yield* query(sql<{ total: number; with_recipient: number }[]>`
      select count(*)::int as total, count(d.to_email)::int as with_recipient
      from unnest(${ids}::uuid[]) as u(id)
      join email_drafts d on d.id = u.id
      join companies c on c.id = d.company_id`);
    return {
      type: "emails",
      total: counts?.total ?? 0,
      withRecipient: counts?.with_recipient ?? 0,
      top: yield* loadDrafts(sql, request, top),
    } satisfies ApprovalDigest;
  });

/**
 * The leads of a request, in the request's order (best score first), each with its best contact;
 * the first `limit` of them when given.
 */
export const loadLeads = (sql: Sql | Tx, request: ApprovalRequestRow, limit?: number) =>
  query(sql`
    select c.id, c.name, c.industry, c.city, c.state, c.phone, c.status,
      s.tier, s.score, s.reasons, s.approved_by, s.approved_human, s.rejected_human_at,
      f.savings_low, f.savings_mid, f.savings_high,
      ct.full_name, ct.title, ct.email
    from unnest(${request.itemIds as string[]}::uuid[]) with ordinality as u(id, pos)
    join companies c on c.id = u.id
    left join lead_scores s on s.company_id = c.id and s.run_id = ${request.runId}
    left join company_features f on f.company_id = c.id
    left join lateral (
      select full_name, title, email from contacts where company_id = c.id
      order by (email is null), confidence desc nulls last, created_at limit 1
    ) ct on true
    order by u.pos
    ${limit === undefined ? sql`` : sql`limit ${limit}`}`).pipe(
    Effect.map((rows) =>
      rows.map(
        (r): LeadItem => ({
          id: r.id,
          name: r.name,
          industry: r.industry,
          city: r.city,
          state: r.state,
          phone: r.phone,
          status: r.status,
          tier: r.tier,
          score: num(r.score),
          reasons: reasonsOf(r.reasons),
          savingsLow: num(r.savings_low),
          savingsMid: num(r.savings_mid),
          savingsHigh: num(r.savings_high),
          approvedBy: r.approved_by,
          rejected: r.rejected_human_at !== null && r.rejected_human_at !== undefined,
          contactName: r.full_name,
          contactTitle: r.title,
          contactEmail: r.email,
        }),
      ),
    ),
  );

/** The drafts of a request, in the request's order; the first `limit` of them when given. */
export const loadDrafts = (sql: Sql | Tx, request: ApprovalRequestRow, limit?: number) =>
  query(sql`
    select d.id, c.name as company_name, d.to_email, d.to_name, d.subject, d.body_text, d.status, d.edited,
      d.is_fallback
    from unnest(${request.itemIds as string[]}::uuid[]) with ordinality as u(id, pos)
    join email_drafts d on d.id = u.id
    join companies c on c.id = d.company_id
    order by u.pos
    ${limit === undefined ? sql`` : sql`limit ${limit}`}`).pipe(
    Effect.map((rows) =>
      rows.map(
        (r): DraftItem => ({
          id: r.id,
          companyName: r.company_name,
          toEmail: r.to_email,
          toName: r.to_name,
          subject: r.subject,
          bodyText: r.body_text,
          status: r.status,
          edited: r.edited,
          isFallback: r.is_fallback,
        }),
      ),
    ),
  );

/**
 * Claims the sending of a request's email: succeeds for the first claimant, and again once a
 * claim is older than `leaseSeconds` (its sender died between claiming and recording). Committed
 * on its own, before the transport is called.
 */
export const claimNotification = (sql: Sql, id: string, leaseSeconds: number) =>
  query(sql<{ id: string }[]>`
    update human_approval_requests
    set notify_claimed_at = now(), notify_attempts = notify_attempts + 1
    where id = ${id} and notified_at is null
      and (notify_claimed_at is null or notify_claimed_at < now() - make_interval(secs => ${leaseSeconds}))
    returning id`).pipe(Effect.map((rows) => rows.length === 1));

/** Gives a claim back after a failed send, so the next delivery may try at once. */
export const releaseNotification = (sql: Sql, id: string, error: string) =>
  query(sql`
    update human_approval_requests set notify_claimed_at = null, notify_error = ${error.slice(0, 1000)}
    where id = ${id} and notified_at is null`).pipe(Effect.asVoid);

/** Records the sent email (in the handler's transaction). */
export const markNotified = (tx: Tx, id: string, transport: string, messageId: string | null) =>
  query(tx`
    update human_approval_requests
    set notified_at = now(), notify_transport = ${transport}, notify_message_id = ${messageId}, notify_error = null
    where id = ${id} and notified_at is null`).pipe(Effect.asVoid);

export interface DraftEdit {
  readonly id: string;
  readonly subject: string;
  readonly bodyText: string;
}

export interface DecisionWrite {
  readonly request: ApprovalRequestRow;
  readonly status: Exclude<ApprovalStatus, "pending">;
  readonly record: DecisionRecord;
  readonly decidedBy: string;
  readonly note: string | null;
  /** Drafts whose subject or body the reviewer changed (emails requests, approved drafts only). */
  readonly edits: ReadonlyArray<DraftEdit>;
}

/**
 * Decides a pending request, once: the request row is updated only while `pending`, and only the
 * winner goes on to write the items. Returns the decision time, or none when it was decided already.
 */
export const writeDecision = (tx: Tx, d: DecisionWrite) =>
  Effect.gen(function* () {
    const won = yield* query(tx<{ decided_at: Date }[]>`
      update human_approval_requests
      set status = ${d.status}, decided_at = now(), decided_by = ${d.decidedBy}, decision_note = ${d.note},
        decision = ${tx.json(d.record as never)}
      where id = ${d.request.id} and status = 'pending'
      returning decided_at`);
    const decidedAt = won[0]?.decided_at;
    if (decidedAt === undefined) return Option.none<Date>();
    const approved = d.record.approvedIds as string[];
    const rejected = d.record.rejectedIds as string[];
    if (d.request.type === "leads") {
      yield* writeLeads(tx, d, approved, rejected);
    } else {
      yield* writeDrafts(tx, d, approved, rejected);
    }
    return Option.some(decidedAt);
  });

const writeLeads = (tx: Tx, d: DecisionWrite, approved: string[], rejected: string[]) =>
  Effect.gen(function* () {
    const runId = d.request.runId;
    // the companies first, in id order, as by every bulk writer of companies (no deadlock with
    // enrichment approving some of them, or another run's stage, meanwhile)
    if (approved.length + rejected.length > 0) {
      yield* query(tx`
        select id from companies where id = any(${[...approved, ...rejected]}::uuid[])
        order by id for no key update`);
    }
    if (approved.length > 0) {
      yield* query(tx`
        update lead_scores set approved_human = true, approved_by = ${d.decidedBy}, approved_at = now(),
          rejected_human_at = null, rejected_by = null
        where run_id = ${runId} and company_id = any(${approved}::uuid[])`);
      yield* query(tx`
        update companies set status = 'approved', updated_at = now()
        where id = any(${approved}::uuid[]) and status = any(${allowedFrom("approved") as string[]})`);
    }
    if (rejected.length > 0) {
      yield* query(tx`
        update lead_scores set rejected_human_at = now(), rejected_by = ${d.decidedBy}
        where run_id = ${runId} and company_id = any(${rejected}::uuid[]) and not approved_human`);
    }
  });

const writeDrafts = (tx: Tx, d: DecisionWrite, approved: string[], rejected: string[]) =>
  Effect.gen(function* () {
    const id = d.request.id;
    // edits first, so the approval below sees (and keeps) the edited text
    yield* Effect.forEach(
      d.edits,
      (e) =>
        query(tx`
          update email_drafts
          set original_subject = coalesce(original_subject, subject),
            original_body_text = coalesce(original_body_text, body_text),
            body_html = case when body_text = ${e.bodyText} then body_html else null end,
            subject = ${e.subject}, body_text = ${e.bodyText}, edited = true
          where id = ${e.id} and approval_id = ${id} and status = 'draft'`),
      { discard: true },
    );
    if (approved.length > 0) {
      yield* query(tx`
        update email_drafts
        set status = 'approved', approved_human = true, approved_by = ${d.decidedBy}, approved_at = now(),
          decision_note = ${d.note}
        where id = any(${approved}::uuid[]) and approval_id = ${id} and status = 'draft'`);
    }
    if (rejected.length > 0) {
      yield* query(tx`
        update email_drafts set status = 'rejected', decision_note = ${d.note}
        where id = any(${rejected}::uuid[]) and approval_id = ${id} and status = 'draft'`);
    }
  });
