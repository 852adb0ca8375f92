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
import { decidedPage, draftsPage, leadsPage, messagePage, STYLE_HASH } from "./Pages.js";

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
) => {
  // relative to the page (`…/approvals/<id>`): right behind any path prefix of PUBLIC_BASE_URL, no Host header involved
  const p = { request, token, tokenExpiresAt: expiresAt, action: encodeURIComponent(request.id) };
  return "leads" in items ? leadsPage(p, items.leads, error) : draftsPage(p, items.drafts, error);
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
      return { status: 400, body: showPending(request, items, token!, expiresAt, message) } satisfies Outcome;
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

/** Form values as strings; a file upload is refused rather than stringified. */
const readForm = async (c: HonoContext): Promise<Either.Either<FormFields, string>> => {
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) {
    return Either.left("the body must be a form (application/x-www-form-urlencoded)");
  }
  const body = await c.req.parseBody({ all: true });
  const fields: Record<string, string | ReadonlyArray<string>> = {};
  for (const [k, v] of Object.entries(body)) {
    const values = Array.isArray(v) ? v : [v];
    if (values.some((x) => typeof x !== "string")) return Either.left(`${k}: files are not accepted`);
    fields[k] = values.length === 1 ? (values[0] as string) : (values as string[]);
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
      const form = await readForm(c);
      if (Either.isLeft(form)) return c.html(messagePage("Bad request", form.left), 400);
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
