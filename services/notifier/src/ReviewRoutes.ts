import { ApprovalDecidedEvent } from "@leadflow/contracts";
import { Db, type RuntimeServices, transactional } from "@leadflow/runtime";
import { Cause, Effect, Either, Option, Redacted, Runtime } from "effect";
import type { Hono, Context as HonoContext } from "hono";
import { bodyLimit } from "hono/body-limit";
import {
  type ApprovalRequestRow,
  type DraftItem,
  type LeadItem,
  loadDrafts,
  loadLeads,
  loadRequest,
  writeDecision,
} from "./ApprovalStore.js";
import { type FormFields, Limits, planDecision } from "./Decision.js";
import { verifyToken } from "./LinkToken.js";
import { NotifierConfig } from "./NotifierConfig.js";
import { NotifierMetrics } from "./NotifierMetrics.js";
import { decidedPage, draftsPage, leadsPage, messagePage, STYLE_HASH, type SubmittedForm } from "./Pages.js";

/** Headers of every review response: no referrer, no framing, no caching, nothing but our stylesheet. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": `default-src 'none'; style-src ${STYLE_HASH}; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/** A review form holds every draft of a request (up to 1,000, bodies capped at 10,000 characters). */
const MAX_FORM_BYTES = 12 * 1024 * 1024;

type Items = { readonly leads: ReadonlyArray<LeadItem> } | { readonly drafts: ReadonlyArray<DraftItem> };

type Outcome = { readonly status: 200 | 400 | 403 | 404 | 409 | 413; readonly body: string };

const deny = (status: 400 | 403 | 404, title: string, message: string): Outcome => ({
  status,
  body: messagePage(title, message),
});

const LINK_EXPIRED = "This link has expired. Run `leadflow approvals --pending` for a fresh one.";

/** The request a token opens, or the page that says why not. Only a valid token reveals anything. */
const authorize = (id: string, token: string | undefined) =>
  Effect.gen(function* () {
    if (token === undefined || token === "") {
      return Either.left(
        deny(400, "Missing token", "token: the link's token is required (open the link from the email)."),
      );
    }
    if (token.length > Limits.token) return Either.left(deny(403, "Invalid link", "This link is not valid."));
    const { sql } = yield* Db;
    const config = yield* NotifierConfig;
    const found = yield* loadRequest(sql, id);
    if (Option.isNone(found))
      return Either.left(deny(404, "Not found", "There is no such approval request."));
    const request = found.value;
    const check = verifyToken(Redacted.value(config.linkSecret), request.id, request.type, token, new Date());
    if (!check.ok) {
      return Either.left(
        check.reason === "expired"
          ? deny(403, "Link expired", LINK_EXPIRED)
          : deny(403, "Invalid link", "This link is not valid."),
      );
    }
    return Either.right({ request, expiresAt: check.expiresAt });
  });

const loadItems = (request: ApprovalRequestRow) =>
  Effect.flatMap(Db, ({ sql }) =>
    request.type === "leads"
      ? Effect.map(loadLeads(sql, request), (leads): Items => ({ leads }))
      : Effect.map(loadDrafts(sql, request), (drafts): Items => ({ drafts })),
  );

const showPending = (
  request: ApprovalRequestRow,
  items: Items,
  token: string,
  expiresAt: Date,
  error?: string,
  submitted?: SubmittedForm,
) => {
  // relative to the page (`…/approvals/<id>`): right behind any path prefix of PUBLIC_BASE_URL, no Host header involved
  const p = { request, token, tokenExpiresAt: expiresAt, action: encodeURIComponent(request.id), submitted };
  return "leads" in items ? leadsPage(p, items.leads, error) : draftsPage(p, items.drafts, error);
};

const text = (v: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof v === "string" ? v : v?.[0];

/** The form as sent, for the page that comes back with an error (only strings; the page escapes them). */
const submittedForm = (fields: FormFields): SubmittedForm => {
  const subjects = new Map<string, string>();
  const bodies = new Map<string, string>();
  for (const [k, v] of Object.entries(fields)) {
    const value = text(v);
    if (value === undefined) continue;
    if (k.startsWith("subject_")) subjects.set(k.slice("subject_".length), value);
    else if (k.startsWith("body_")) bodies.set(k.slice("body_".length), value);
  }
  const ids = fields.ids;
  return {
    selected: new Set(typeof ids === "string" ? [ids] : (ids ?? [])),
    subjects,
    bodies,
    note: text(fields.note) ?? "",
    decidedBy: text(fields.decided_by) ?? "",
  };
};

/** GET: shows the request (never changes anything: mail scanners open every link). */
const show = (id: string, token: string | undefined) =>
  Effect.gen(function* () {
    const auth = yield* authorize(id, token);
    if (Either.isLeft(auth)) return auth.left;
    const { request, expiresAt } = auth.right;
    const items = yield* loadItems(request);
    if (request.status !== "pending")
      return { status: 200, body: decidedPage(request, items) } satisfies Outcome;
    return { status: 200, body: showPending(request, items, token!, expiresAt) } satisfies Outcome;
  });

/** POST: decides, once. The decision and its event commit together; a later POST sees the first. */
const decide = (id: string, fields: FormFields) =>
  Effect.gen(function* () {
    const token = typeof fields.token === "string" ? fields.token : undefined;
    const auth = yield* authorize(id, token);
    if (Either.isLeft(auth)) return auth.left;
    const { request, expiresAt } = auth.right;
    const metrics = yield* NotifierMetrics;
    const items = yield* loadItems(request);
    const alreadyDecided = (r: ApprovalRequestRow, its: Items): Outcome => ({
      status: 409,
      body: decidedPage(r, its, "This request was already decided; nothing was changed."),
    });
    if (request.status !== "pending") return alreadyDecided(request, items);
    const plan = planDecision(fields, request.itemIds, "drafts" in items ? items.drafts : null);
    if (Either.isLeft(plan)) {
      const message = `${plan.left.field}: ${plan.left.message}`;
      return {
        status: 400,
        body: showPending(request, items, token!, expiresAt, message, submittedForm(fields)),
      } satisfies Outcome;
    }
    const decision = plan.right;
    const decidedAt = yield* transactional((ctx) =>
      Effect.tap(writeDecision(ctx.tx, { request, ...decision }), (won: Option.Option<Date>) =>
        Option.match(won, {
          onNone: () => Effect.void,
          onSome: (at: Date) =>
            Effect.sync(() =>
              ctx.publish(
                ApprovalDecidedEvent,
                {
                  approvalId: request.id,
                  runId: request.runId ?? "",
                  type: request.type,
                  decision:
                    decision.record.approvedIds.length > 0 ? ("approved" as const) : ("rejected" as const),
                  approvedIds: decision.record.approvedIds,
                  decidedBy: decision.decidedBy,
                  note: decision.note,
                  decidedAt: at.toISOString(),
                },
                { correlationId: request.runId },
              ),
            ),
        }),
      ),
    );
    const { sql } = yield* Db;
    const after = yield* loadRequest(sql, request.id);
    const current = Option.getOrElse(after, () => request);
    const currentItems = yield* loadItems(current);
    if (Option.isNone(decidedAt)) return alreadyDecided(current, currentItems);
    metrics.decisions.inc({ type: request.type, decision: decision.status });
    yield* Effect.logInfo("approval decided").pipe(
      Effect.annotateLogs({
        approvalId: request.id,
        runId: request.runId ?? "",
        type: request.type,
        decision: decision.status,
        approved: decision.record.approvedIds.length,
        rejected: decision.record.rejectedIds.length,
        edited: decision.edits.length,
      }),
    );
    return {
      status: 200,
      body: decidedPage(current, currentItems, "Thank you: your decision is recorded."),
    } satisfies Outcome;
  });

/**
 * Fields a review form can hold: three a draft (subject, body, selection) for up to 1,000 drafts,
 * and a few more. A body of many tiny fields (`ids=x&ids=x&…`) would otherwise cost an object
 * each before the token is even looked at: a few such posts ran the notifier out of memory.
 */
const MAX_FORM_FIELDS = 5_000;
/** Form bodies read at once; more wait for nothing and are told to come back (503). */
const MAX_FORMS_AT_ONCE = 4;
let formsInFlight = 0;

type FormRead = Either.Either<FormFields, { readonly status: 400 | 413; readonly message: string }>;

/**
 * The form's fields, read as text and parsed by the platform: `application/x-www-form-urlencoded`
 * only (the review pages post nothing else; a multipart body, files included, is refused), with
 * the field count checked on the raw text before anything is built.
 */
const readForm = async (c: HonoContext): Promise<FormRead> => {
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) {
    return Either.left({
      status: 400,
      message: "the body must be a form (application/x-www-form-urlencoded)",
    });
  }
  const text = await c.req.text();
  let count = text === "" ? 0 : 1;
  for (let i = text.indexOf("&"); i !== -1; i = text.indexOf("&", i + 1)) {
    if (++count > MAX_FORM_FIELDS) {
      return Either.left({ status: 413, message: `the form has more than ${MAX_FORM_FIELDS} fields` });
    }
  }
  const fields: Record<string, string | Array<string>> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const seen = fields[k];
    if (seen === undefined) fields[k] = v;
    else if (Array.isArray(seen)) seen.push(v);
    else fields[k] = [seen, v];
  }
  return Either.right(fields);
};

/** What the review routes run on: the runtime's services and the notifier's settings and counters. */
export type ReviewServices = RuntimeServices | NotifierConfig | NotifierMetrics;

/** The review routes: `GET|POST /approvals/:id` (DESIGN §9), token in the query or the form. */
export const reviewRoutes = (app: Hono, runtime: Runtime.Runtime<ReviewServices>) => {
  const run = (c: HonoContext, program: Effect.Effect<Outcome, unknown, ReviewServices>) =>
    Runtime.runPromiseExit(runtime)(program).then((exit) => {
      if (exit._tag === "Success") return c.html(exit.value.body, exit.value.status);
      Runtime.runFork(runtime)(Effect.logError("review page failed", Cause.squash(exit.cause)));
      return c.html(
        messagePage(
          "Something went wrong",
          "The request could not be handled; nothing was changed. Try again in a minute.",
        ),
        500,
      );
    });

  app.use("/approvals/*", async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  });
  app.get("/approvals/:id", (c) => run(c, show(c.req.param("id"), c.req.query("token"))));
  app.post(
    "/approvals/:id",
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: (c) => c.html(messagePage("Too large", "The form is larger than a review can be."), 413),
    }),
    async (c) => {
      if (formsInFlight >= MAX_FORMS_AT_ONCE) {
        c.header("Retry-After", "5");
        return c.html(
          messagePage("Busy", "Too many reviews are being sent right now; try again in a few seconds."),
          503,
        );
      }
      formsInFlight++;
      const form = await readForm(c).finally(() => {
        formsInFlight--;
      });
      if (Either.isLeft(form)) {
        return c.html(
          messagePage(form.left.status === 413 ? "Too large" : "Bad request", form.left.message),
          form.left.status,
        );
      }
      const fields = { ...form.right };
      // the token may come in the query (the link's own URL) when the form does not carry it
      if (fields.token === undefined) {
        const q = c.req.query("token");
        if (q !== undefined) fields.token = q;
      }
      return run(c, decide(c.req.param("id"), fields));
    },
  );
};
