import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  connectJet,
  createTestDatabase,
  createTestNats,
  type Jet,
  parseEmail,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotifierPlugin } from "../src/index.js";
import { signToken } from "../src/LinkToken.js";
import { freePort, metricsOf, metricValue, publishRequested, reviewLinks } from "./helpers.js";
import { seedDraftRequest, seedLeadRequest } from "./Seed.js";

const SECRET = "review-test-secret-0123456789abcdef0123456789";
const key = new TextEncoder().encode(SECRET);
const HOSTILE = "<img src=x onerror=alert(1)>";
const inAWeek = () => new Date(Date.now() + 7 * 86_400_000);

let db: TestDatabase;
let nats: TestNats;
let jet: Jet;
let host: TestHost;
let port: number;
let base: string;
let dir: string;

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  jet = await connectJet(nats.url);
  dir = await mkdtemp(join(tmpdir(), "leadflow-review-"));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  Object.assign(process.env, {
    LINK_SECRET: SECRET,
    PUBLIC_BASE_URL: base,
    ALERT_EMAIL: "ops@example.com",
    EMAIL_FROM: "leadflow@example.com",
    NOTIFIER_OUTBOX_DIR: dir,
  });
  host = await startTestHost([NotifierPlugin], {
    databaseUrl: db.url,
    natsUrl: nats.url,
    name: "notifier",
    port,
  });
});

afterAll(async () => {
  await host?.stop();
  await jet?.close();
  await Promise.all([nats?.stop(), db?.drop(), rm(dir, { recursive: true, force: true })]);
  for (const k of ["LINK_SECRET", "PUBLIC_BASE_URL", "ALERT_EMAIL", "EMAIL_FROM", "NOTIFIER_OUTBOX_DIR"])
    delete process.env[k];
});

const page = (id: string, token?: string) =>
  fetch(`${base}/approvals/${id}${token === undefined ? "" : `?token=${encodeURIComponent(token)}`}`);

const post = (id: string, fields: ReadonlyArray<[string, string]>) =>
  fetch(`${base}/approvals/${id}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields as Array<[string, string]>).toString(),
    redirect: "manual",
  });

/** Everything a decision could touch, to prove an attempt changed nothing. */
const snapshot = async () => ({
  requests:
    await db.sql`select id, status, decided_at, decided_by, decision_note, decision from human_approval_requests order by id`,
  scores:
    await db.sql`select company_id, approved_human, approved_by, rejected_human_at from lead_scores order by company_id, run_id`,
  companies: await db.sql`select id, status from companies order by id`,
  drafts: await db.sql`select id, status, subject, body_text, edited from email_drafts order by id`,
  outbox: await db.sql`select count(*)::int as n from outbox`,
});

const decidedEvents = async () =>
  (await jet.messages("LEADFLOW_EVT", "leadflow.evt.approval.decided")).map((m) => ({
    ...m,
    data: m.data as Record<string, unknown>,
  }));

describe("review pages", () => {
  it("shows a lead request with every field, escaped, under a strict policy", async () => {
    const s = await seedLeadRequest(db.sql, [
      {
        name: HOSTILE,
        tier: "high",
        score: 91,
        phone: "+1 716 555 0101",
        contact: { name: "Dana Reyes", email: "dana@lakeside.test" },
      },
      { name: "Erie Clinic", tier: "low", score: 31 },
    ]);
    const res = await page(s.approvalId, signToken(key, s.approvalId, "leads", inAWeek()));
    expect(res.status).toBe(200);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|https?:/);
    const body = await res.text();
    // the one inline stylesheet is exactly what the policy's hash allows
    const style = /<style>([\s\S]*?)<\/style>/.exec(body)![1]!;
    expect(csp).toContain(`'sha256-${createHash("sha256").update(style).digest("base64")}'`);
    expect(body).not.toMatch(/<script|<img|<link|<iframe/i);
    expect(body).not.toContain(HOSTILE);
    expect(body).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(body).toContain("spend of &lt;b&gt;");
    for (const text of [
      "hospital",
      "Buffalo, NY",
      ">high<",
      "91 / 100",
      "$96,000",
      "$192,000",
      "$360,000",
      "+1 716 555 0101",
      "Dana Reyes",
      "dana@lakeside.test",
      "none found",
    ]) {
      expect(body).toContain(text);
    }
    // every form control has a label
    for (const id of [...body.matchAll(/<(?:input|textarea)[^>]*\sid="([^"]+)"/g)].map((m) => m[1])) {
      expect(body).toContain(`for="${id}"`);
    }
  });

  it("refuses every abused link and token, and none of it changes anything", async () => {
    const leads = await seedLeadRequest(db.sql, [
      { name: "Alpha Co", tier: "high", score: 80 },
      { name: "Beta Co", tier: "medium", score: 60 },
    ]);
    const drafts = await seedDraftRequest(db.sql, [{ company: "Gamma Co", subject: "Hello", body: "Body" }]);
    // the email the notifier writes for the request, read back from the file outbox
    await publishRequested(jet, leads.approvalId, leads.runId, "leads", 2);
    const eml = join(dir, `approval-${leads.approvalId}.eml`);
    const mail = await waitFor(() => readFile(eml, "utf8").then(parseEmail), { what: "the email" });
    const token = new URL(reviewLinks(mail.html!)[0]!).searchParams.get("token")!;
    const before = await snapshot();

    // a mail scanner opens every link in the email, several times
    const hrefs = [...mail.html!.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, "&"));
    expect(hrefs.length).toBeGreaterThanOrEqual(2);
    for (const href of [...hrefs, ...hrefs]) expect((await fetch(href)).status).toBe(200);
    for (const href of hrefs) expect((await fetch(href, { method: "HEAD" })).status).toBeLessThan(500);

    const [v, purpose, exp, mac] = token.split(".");
    const flip = (s: string) => (s[0] === "A" ? "B" : "A") + s.slice(1);
    const cases: Array<[string, Response, number]> = [
      ["no token", await page(leads.approvalId), 400],
      ["empty token", await page(leads.approvalId, ""), 400],
      ["tampered signature", await page(leads.approvalId, `${v}.${purpose}.${exp}.${flip(mac!)}`), 403],
      ["tampered expiry", await page(leads.approvalId, `${v}.${purpose}.${Number(exp) + 3600}.${mac}`), 403],
      ["truncated", await page(leads.approvalId, token.slice(0, -3)), 403],
      [
        "expired",
        await page(leads.approvalId, signToken(key, leads.approvalId, "leads", new Date(Date.now() - 1000))),
        403,
      ],
      [
        "another request's token",
        await page(leads.approvalId, signToken(key, drafts.approvalId, "emails", inAWeek())),
        403,
      ],
      ["the leads token on the drafts page", await page(drafts.approvalId, token), 403],
      [
        "a leads-purpose token for the drafts request",
        await page(drafts.approvalId, signToken(key, drafts.approvalId, "leads", inAWeek())),
        403,
      ],
      [
        "another secret",
        await page(
          leads.approvalId,
          signToken(new TextEncoder().encode("x".repeat(40)), leads.approvalId, "leads", inAWeek()),
        ),
        403,
      ],
      ["unknown request", await page("6f1c1f8e-9d0e-4c59-9a55-2b4b7c8e0d11", token), 404],
      ["not an id", await page("..%2F..%2Fetc", token), 404],
      ["POST without a token", await post(leads.approvalId, [["action", "approve_all"]]), 400],
      [
        "POST with a tampered token",
        await post(leads.approvalId, [
          ["action", "approve_all"],
          ["token", `${v}.${purpose}.${exp}.${flip(mac!)}`],
        ]),
        403,
      ],
      [
        "POST with an expired token",
        await post(leads.approvalId, [
          ["action", "approve_all"],
          ["token", signToken(key, leads.approvalId, "leads", new Date(Date.now() - 1000))],
        ]),
        403,
      ],
      [
        "POST with the leads token on the drafts request",
        await post(drafts.approvalId, [
          ["action", "approve_all"],
          ["token", token],
        ]),
        403,
      ],
      [
        "POST of a JSON body",
        await fetch(`${base}/approvals/${leads.approvalId}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token, action: "approve_all" }),
        }),
        400,
      ],
      [
        "POST of a multipart body (the pages post only urlencoded forms)",
        await fetch(`${base}/approvals/${leads.approvalId}`, {
          method: "POST",
          headers: { "content-type": "multipart/form-data; boundary=x" },
          body: "x",
        }),
        400,
      ],
      [
        "POST of a form of many tiny fields, refused before anything is built from them",
        await fetch(`${base}/approvals/${leads.approvalId}`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: `token=garbage&${"ids=x&".repeat(6000)}action=approve_all`,
        }),
        413,
      ],
      [
        "POST of a foreign item id",
        await post(leads.approvalId, [
          ["token", token],
          ["action", "approve_selected"],
          ["ids", drafts.draftIds[0]!],
        ]),
        400,
      ],
      [
        "POST of an unknown action",
        await post(leads.approvalId, [
          ["token", token],
          ["action", "approve_everything"],
        ]),
        400,
      ],
      [
        "POST of an oversized note",
        await post(leads.approvalId, [
          ["token", token],
          ["action", "reject"],
          ["note", "n".repeat(1001)],
        ]),
        400,
      ],
    ];
    for (const [what, res, status] of cases) {
      expect({ what, status: res.status }).toEqual({ what, status });
      const text = await res.text();
      // a bad field under a valid token shows the form again with the field named; no valid token, nothing shown
      if (status === 413) expect(text).toContain("the form has more than 5000 fields");
      if (what.startsWith("POST of a")) expect(text).toMatch(/ids: |action: |note: |form/);
      else expect(text, what).not.toContain("Alpha Co");
    }
    expect(await snapshot()).toEqual(before);
    expect(await decidedEvents()).toEqual([]);

    // the genuine token decides once; a replay (or a different decision) answers with the first
    const approve = await post(leads.approvalId, [
      ["token", token],
      ["action", "approve_all"],
      ["decided_by", "Dana"],
    ]);
    expect(approve.status).toBe(200);
    const after = await snapshot();
    const replay = await post(leads.approvalId, [
      ["token", token],
      ["action", "approve_all"],
      ["decided_by", "Dana"],
    ]);
    expect(replay.status).toBe(409);
    const reject = await post(leads.approvalId, [
      ["token", token],
      ["action", "reject"],
      ["decided_by", "Mallory"],
    ]);
    expect(reject.status).toBe(409);
    const shown = await reject.text();
    expect(shown).toContain("already decided");
    expect(shown).toContain("Approved</span> by Dana");
    expect(await snapshot()).toEqual(after);
    await waitFor(async () => (await decidedEvents()).length === 1, { what: "one decided event" });
    await new Promise((r) => setTimeout(r, 300));
    expect((await decidedEvents()).length).toBe(1);
  });

  it("approves two of three leads: request, scores, companies and the decided event", async () => {
    const s = await seedLeadRequest(db.sql, [
      { name: "One Co", tier: "high", score: 90 },
      { name: "Two Co", tier: "high", score: 85 },
      { name: "Three Co", tier: "low", score: 20 },
    ]);
    const token = signToken(key, s.approvalId, "leads", inAWeek());
    const [a, b, c] = s.companyIds as [string, string, string];
    const res = await post(s.approvalId, [
      ["token", token],
      ["action", "approve_selected"],
      ["ids", a],
      ["ids", c],
      ["decided_by", "Dana Reyes"],
      ["note", "Three is too small\nfor now"],
    ]);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain("Partly approved");
    expect(body).toContain("Dana Reyes");

    const [request] =
      await db.sql`select status, decided_by, decision_note, decided_at, decision from human_approval_requests where id = ${s.approvalId}`;
    expect(request).toMatchObject({
      status: "partially_approved",
      decided_by: "Dana Reyes",
      decision_note: "Three is too small\nfor now",
    });
    expect(request!.decision).toEqual({ action: "approve_selected", approvedIds: [a, c], rejectedIds: [b] });
    const scores =
      await db.sql`select company_id, approved_human, approved_by, approved_at is not null as has_at, rejected_by from lead_scores where run_id = ${s.runId}`;
    const byId = new Map(scores.map((r) => [r.company_id, r]));
    expect(byId.get(a)).toMatchObject({
      approved_human: true,
      approved_by: "Dana Reyes",
      has_at: true,
      rejected_by: null,
    });
    expect(byId.get(c)).toMatchObject({ approved_human: true, approved_by: "Dana Reyes" });
    expect(byId.get(b)).toMatchObject({
      approved_human: false,
      approved_by: null,
      rejected_by: "Dana Reyes",
    });
    const companies = new Map(
      (await db.sql`select id, status from companies where id = any(${[a, b, c]}::uuid[])`).map((r) => [
        r.id,
        r.status,
      ]),
    );
    expect(Object.fromEntries(companies)).toEqual({ [a]: "approved", [b]: "scored", [c]: "approved" });

    const event = await waitFor(
      async () => (await decidedEvents()).find((e) => e.data.approvalId === s.approvalId),
      { what: "the decided event" },
    );
    expect(event.data).toEqual({
      approvalId: s.approvalId,
      runId: s.runId,
      type: "leads",
      decision: "approved",
      approvedIds: [a, c],
      decidedBy: "Dana Reyes",
      note: "Three is too small\nfor now",
      decidedAt: (request!.decided_at as Date).toISOString(),
    });
    expect(event.headers["Leadflow-Correlation-Id"]).toBe(s.runId);
    const metrics = await metricsOf(port);
    expect(
      metricValue(metrics, "leadflow_approval_decisions_total", {
        type: "leads",
        decision: "partially_approved",
      }),
    ).toBe(1);

    // the decided page on a later GET: who, when, what
    const later = await (await page(s.approvalId, token)).text();
    expect(later).toContain("This request has been decided");
    expect(later).toMatch(/Approved \(2\)[\s\S]*One Co[\s\S]*Three Co[\s\S]*Not approved \(1\)[\s\S]*Two Co/);
    expect(later).toContain("Three is too small<br>for now");
  });

  it("rejects a lead request: nothing approved, rejection recorded and announced", async () => {
    const s = await seedLeadRequest(db.sql, [{ name: "No Co", tier: "medium", score: 50 }]);
    const res = await post(s.approvalId, [
      ["token", signToken(key, s.approvalId, "leads", inAWeek())],
      ["action", "reject"],
      ["note", "wrong area"],
    ]);
    expect(res.status).toBe(200);
    const [row] =
      await db.sql`select status, decided_by from human_approval_requests where id = ${s.approvalId}`;
    expect(row).toEqual({ status: "rejected", decided_by: "reviewer (email link)" });
    const [score] =
      await db.sql`select approved_human, rejected_human_at is not null as rejected from lead_scores where run_id = ${s.runId}`;
    expect(score).toEqual({ approved_human: false, rejected: true });
    const event = await waitFor(async () =>
      (await decidedEvents()).find((e) => e.data.approvalId === s.approvalId),
    );
    expect(event.data).toMatchObject({ decision: "rejected", approvedIds: [], note: "wrong area" });
  });

  it("shows drafts editable and escaped; approving keeps the edits, rejects the unselected", async () => {
    const s = await seedDraftRequest(db.sql, [
      {
        company: "Hotel A",
        subject: "Cutting costs",
        body: "<script>alert(1)</script>\nSecond line",
        toEmail: "gm@hotel-a.test",
      },
      { company: "Hotel B", subject: "Hello B", body: "Plain B" },
      { company: "Hotel C", subject: "Hello C", body: "Plain C" },
    ]);
    const [d1, d2, d3] = s.draftIds as [string, string, string];
    const token = signToken(key, s.approvalId, "emails", inAWeek());
    const shown = await (await page(s.approvalId, token)).text();
    expect(shown).not.toContain("<script>");
    expect(shown).toContain("&lt;script&gt;alert(1)&lt;/script&gt;\nSecond line</textarea>");
    expect(shown).toContain(`name="subject_${d1}" value="Cutting costs"`);
    expect(shown).toContain("gm@hotel-a.test");

    const tooLong = await post(s.approvalId, [
      ["token", token],
      ["action", "approve_all"],
      [`subject_${d1}`, "s".repeat(151)],
    ]);
    expect(tooLong.status).toBe(400);
    expect(await tooLong.text()).toContain(`subject_${d1}: at most 150 characters`);

    // a refused form comes back as it was sent: the edits, the selection, note and name kept
    const refused = await post(s.approvalId, [
      ["token", token],
      ["action", "approve_selected"],
      ["ids", d2],
      [`subject_${d1}`, "My <edited> subject"],
      [`body_${d1}`, "My edited body"],
      [`body_${d2}`, "Bad\u0001body"],
      ["note", "my careful note"],
      ["decided_by", "Alice"],
    ]);
    expect(refused.status).toBe(400);
    const again = await refused.text();
    expect(again).toContain(`body_${d2}: `);
    expect(again).toContain(`name="subject_${d1}" value="My &lt;edited&gt; subject"`);
    expect(again).toContain("My edited body</textarea>");
    expect(again).toContain(`name="ids" value="${d2}" checked`);
    expect(again).not.toContain(`name="ids" value="${d1}" checked`);
    expect(again).toContain("my careful note</textarea>");
    expect(again).toContain('name="decided_by" value="Alice"');

    const res = await post(s.approvalId, [
      ["token", token],
      ["action", "approve_selected"],
      ["ids", d1],
      ["ids", d2],
      [`subject_${d1}`, "A sharper subject"],
      [`body_${d1}`, "<script>alert(1)</script>\r\nSecond line"],
      [`subject_${d2}`, "Hello B"],
      [`body_${d2}`, "Plain B, edited"],
      [`subject_${d3}`, "ignored"],
      [`body_${d3}`, "Plain C"],
      ["decided_by", "Sam"],
    ]);
    expect(res.status).toBe(200);
    const rows = new Map(
      (
        await db.sql`select id, status, subject, body_text, body_html, edited, original_subject, original_body_text, approved_human, approved_by from email_drafts where approval_id = ${s.approvalId}`
      ).map((r) => [r.id, r]),
    );
    expect(rows.get(d1)).toMatchObject({
      status: "approved",
      subject: "A sharper subject",
      original_subject: "Cutting costs",
      edited: true,
      approved_human: true,
      approved_by: "Sam",
      body_html: "<p>rendered</p>",
    });
    expect(rows.get(d2)).toMatchObject({
      status: "approved",
      subject: "Hello B",
      body_text: "Plain B, edited",
      original_body_text: "Plain B",
      edited: true,
      body_html: null,
    });
    expect(rows.get(d3)).toMatchObject({
      status: "rejected",
      subject: "Hello C",
      edited: false,
      approved_human: false,
    });
    const [request] =
      await db.sql`select status, decision from human_approval_requests where id = ${s.approvalId}`;
    expect(request!.status).toBe("partially_approved");
    expect(request!.decision).toEqual({
      action: "approve_selected",
      approvedIds: [d1, d2],
      rejectedIds: [d3],
      editedIds: [d1, d2],
    });
    const event = await waitFor(async () =>
      (await decidedEvents()).find((e) => e.data.approvalId === s.approvalId),
    );
    expect(event.data).toMatchObject({
      type: "emails",
      decision: "approved",
      approvedIds: [d1, d2],
      decidedBy: "Sam",
    });
    const decided = await (await page(s.approvalId, token)).text();
    expect(decided).toContain("A sharper subject");
    expect(decided).toContain("(approved, edited)");
    expect(decided).toContain("(rejected)");
  });
});
