import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Services } from "@leadflow/cli";
import {
  type ChildService,
  connectJet,
  createTestDatabase,
  createTestNats,
  type Jet,
  type ParsedEmail,
  parseEmail,
  runLeadflow,
  type SmtpCapture,
  spawnLeadflow,
  startSmtpCapture,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";

// Issue 4 end to end: every service in one host, approval emails over a real SMTP server, the
// review pages in Chromium. A sample run stops at the leads gate; the reviewer approves two of
// three leads from the emailed link; the orchestrator has the writer draft those two and asks
// again; the second email's link opens the drafts; a subject is edited and the drafts approved.

const artifacts = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const runId = "approval-flow-1";

let db: TestDatabase;
let nats: TestNats;
let jet: Jet;
let smtp: SmtpCapture;
let host: TestHost;
let browser: Browser;

const env: Record<string, string> = {
  SCOUT_SOURCES: "sample",
  WRITER_BACKEND: "template",
  LINK_SECRET: "approval-flow-secret-0123456789abcdef0123456789",
  ALERT_EMAIL: "ops@example.com",
  EMAIL_FROM: "leadflow@example.com",
};

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a !== null ? a.port : 0));
    });
  });

beforeAll(async () => {
  [db, nats, smtp] = await Promise.all([createTestDatabase(), createTestNats(), startSmtpCapture()]);
  jet = await connectJet(nats.url);
  const port = await freePort();
  Object.assign(env, { SMTP_URL: smtp.url, PUBLIC_BASE_URL: `http://127.0.0.1:${port}` });
  Object.assign(process.env, env);
  host = await startTestHost(
    Object.values(Services).map((s) => s.plugin),
    { databaseUrl: db.url, natsUrl: nats.url, name: "dev", port },
  );
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  await mkdir(artifacts, { recursive: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await host?.stop();
  await jet?.close();
  await Promise.all([smtp?.close(), nats?.stop(), db?.drop()]);
  for (const k of Object.keys(env)) delete process.env[k];
});

/** The review link, taken out of the received message itself (its HTML part, quoted-printable decoded). */
const reviewLink = (mail: ParsedEmail): string => {
  const links = [...mail.html!.matchAll(/href="([^"]*\/approvals\/[^"]*)"/g)].map((m) =>
    m[1]!.replace(/&amp;/g, "&"),
  );
  expect(new Set(links).size).toBe(1);
  expect(mail.text).toContain(links[0]);
  return links[0]!;
};

const events = async (prefix: string) =>
  (await jet.messages("LEADFLOW_EVT", prefix)).map((m) => ({
    subject: m.subject,
    data: m.data as Record<string, unknown>,
  }));

it("emails a link, approves two of three leads in a browser, emails the drafts, edits and approves them", async () => {
  await jet.publishRaw("leadflow.cmd.run.start", {
    industry: "hospital",
    location: "Buffalo, NY",
    count: 3,
    requestId: runId,
  });

  // 1. the leads email
  const first = await waitFor(() => smtp.messages.find((m) => m.subject.includes(runId)), {
    what: "the leads approval email",
    timeoutMs: 60_000,
  });
  expect(first.envelope.to).toEqual(["ops@example.com"]);
  expect(first.subject).toMatch(
    new RegExp(`^Leadflow: review 3 leads \\(\\d high, \\d medium, \\d low\\) — run ${runId}$`),
  );
  expect(first.raw).toMatch(/Content-Transfer-Encoding: quoted-printable/i);
  const leadsLink = reviewLink(first);
  const [leadsRequest] =
    await db.sql`select id, item_ids from human_approval_requests where run_id = ${runId} and approval_type = 'leads'`;
  expect(leadsLink).toContain(`/approvals/${leadsRequest!.id}?token=`);
  const [a, b, c] = leadsRequest!.item_ids as [string, string, string];
  const names = new Map(
    (await db.sql`select id, name from companies where id = any(${[a, b, c]}::uuid[])`).map((r) => [
      r.id,
      r.name as string,
    ]),
  );

  // 2. approve the first and the third lead in Chromium
  const context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
  const page = await context.newPage();
  await page.goto(leadsLink);
  expect(await page.title()).toBe("Review 3 leads");
  await page.getByLabel(names.get(a)!, { exact: true }).check();
  await page.getByLabel(names.get(c)!, { exact: true }).check();
  await page.getByLabel("Your name (optional)").fill("Dana Reyes");
  await page.screenshot({ path: `${artifacts}approval-flow-leads.png`, fullPage: true });
  await page.getByRole("button", { name: "Approve selected" }).click();
  await page.waitForSelector("text=This request has been decided");
  const decided = (await page.textContent("body"))!;
  expect(decided).toContain("Partly approved by Dana Reyes");

  const companies = await db.sql`select id, status from companies where id = any(${[a, b, c]}::uuid[])`;
  expect(Object.fromEntries(companies.map((r) => [r.id, r.status]))).toEqual({
    [a]: "approved",
    [b]: "scored",
    [c]: "approved",
  });

  // 3. the orchestrator has the writer draft those two; the second email arrives
  const second = await waitFor(
    () => smtp.messages.find((m) => m.subject.includes(runId) && m.subject.includes("draft emails")),
    {
      what: "the drafts approval email",
      timeoutMs: 60_000,
    },
  );
  expect(second.subject).toBe(`Leadflow: review 2 draft emails — run ${runId}`);
  const draftsLink = reviewLink(second);
  const drafts =
    await db.sql`select id, company_id, subject from email_drafts where run_id = ${runId} order by created_at, id`;
  expect(new Set(drafts.map((d) => d.company_id))).toEqual(new Set([a, c]));

  // 4. open it, edit a subject, approve
  await page.goto(draftsLink);
  expect(await page.title()).toBe("Review 2 draft emails");
  const edited = drafts[0]!;
  await page.fill(`#subject-${edited.id}`, "A shorter subject, written by a person");
  await page.screenshot({ path: `${artifacts}approval-flow-drafts.png`, fullPage: true });
  await page.getByRole("button", { name: "Approve all 2" }).click();
  await page.waitForSelector("text=This request has been decided");
  await context.close();

  const after =
    await db.sql`select id, status, subject, original_subject, edited, approved_human from email_drafts where run_id = ${runId}`;
  const byId = new Map(after.map((d) => [d.id, d]));
  expect(byId.get(edited.id)).toMatchObject({
    status: "approved",
    subject: "A shorter subject, written by a person",
    original_subject: edited.subject,
    edited: true,
    approved_human: true,
  });
  expect(byId.get(drafts[1]!.id)).toMatchObject({
    status: "approved",
    subject: drafts[1]!.subject,
    edited: false,
  });
  const requests =
    await db.sql`select approval_type, status, decided_by, notified_at is not null as notified from human_approval_requests where run_id = ${runId} order by requested_at`;
  expect(requests).toEqual([
    { approval_type: "leads", status: "partially_approved", decided_by: "Dana Reyes", notified: true },
    { approval_type: "emails", status: "approved", decided_by: "reviewer (email link)", notified: true },
  ]);

  // 5. the events: two requests, two decisions, and the run completes once nothing is pending
  const decisions = await waitFor(
    async () => {
      const d = await events("leadflow.evt.approval.decided");
      return d.length === 2 ? d : undefined;
    },
    { what: "two decided events" },
  );
  expect(
    decisions.map((d) => [d.data.type, d.data.decision, (d.data.approvedIds as string[]).length]),
  ).toEqual([
    ["leads", "approved", 2],
    ["emails", "approved", 2],
  ]);
  expect((await events("leadflow.evt.approval.requested")).map((e) => e.data.type)).toEqual([
    "leads",
    "emails",
  ]);
  const [run] = await waitFor(
    async () => {
      const rows = await db.sql`select status from runs where id = ${runId}`;
      return rows[0]?.status === "completed" ? rows : undefined;
    },
    { what: "the run completed", timeoutMs: 20_000 },
  );
  expect(run!.status).toBe("completed");
  expect(smtp.messages.filter((m) => m.subject.includes(runId))).toHaveLength(2);

  // 6. a reviewer who lost the emails: `leadflow approvals` lists both with fresh links
  const cliEnv = {
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    LINK_SECRET: env.LINK_SECRET!,
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL!,
  };
  const listed = await runLeadflow(["approvals", "--json"], cliEnv);
  expect(listed.code).toBe(0);
  const rows = JSON.parse(listed.output.trim().split("\n").at(-1)!) as Array<Record<string, unknown>>;
  expect(rows.map((r) => [r.runId, r.type, r.status, r.items, r.decidedBy])).toEqual([
    [runId, "emails", "approved", 2, "reviewer (email link)"],
    [runId, "leads", "partially_approved", 3, "Dana Reyes"],
  ]);
  for (const r of rows) {
    const res = await fetch(r.link as string);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("This request has been decided");
  }
  const pending = await runLeadflow(["approvals", "--pending"], cliEnv);
  expect({ code: pending.code, output: pending.output.trim() }).toEqual({
    code: 0,
    output: "no pending approval requests",
  });
});

// The "done when" with no account at all: `leadflow dev` on embedded defaults prints each
// link and writes each email to the file outbox; links keep working after a restart.
it("on `leadflow dev` with no accounts: links printed and in .data/outbox, decisions drive the run, links survive a restart", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "leadflow-approvals-dev-"));
  // blank means unset: nothing of the in-process host above leaks into the stack
  const devEnv = {
    LEADFLOW_DATA_DIR: dataDir,
    DATABASE_URL: "",
    NATS_URL: "",
    SMTP_URL: "",
    ALERT_EMAIL: "",
    LINK_SECRET: "",
    PUBLIC_BASE_URL: "",
    EMAIL_FROM: "",
  };
  const startDev = async () => {
    const dev = spawnLeadflow(["dev", "--port", "0"], devEnv);
    await waitFor(
      () => existsSync(join(dataDir, "stack.json")) && dev.output().includes("dev stack is running"),
      {
        what: "dev stack up",
        timeoutMs: 90_000,
      },
    ).catch((e) => {
      throw new Error(`${e.message}\n${dev.output()}`);
    });
    return dev;
  };
  let dev: ChildService | undefined = await startDev();
  try {
    const printed = (what: string) =>
      waitFor(() => new RegExp(`Review ${what} of run dev-flow-1: (http://\\S+)`).exec(dev!.output())?.[1], {
        what: `the printed link (${what})`,
        timeoutMs: 60_000,
      });
    const outbox = join(dataDir, "outbox");
    const emailed = async (link: string) => {
      const id = new URL(link).pathname.split("/").at(-1)!;
      const mail = await waitFor(
        () => readFile(join(outbox, `approval-${id}.eml`), "utf8").catch(() => undefined),
        {
          what: "the .eml",
        },
      );
      return reviewLink(parseEmail(mail));
    };
    const decide = async (link: string, action: string) => {
      const url = new URL(link);
      const res = await fetch(`${url.origin}${url.pathname}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          token: url.searchParams.get("token")!,
          action,
          decided_by: "dev reviewer",
        }).toString(),
      });
      expect(res.status).toBe(200);
    };

    const run = await runLeadflow(
      [
        "run",
        "--industry",
        "hospital",
        "--location",
        "Buffalo, NY",
        "--count",
        "3",
        "--request-id",
        "dev-flow-1",
        "--wait",
      ],
      devEnv,
    );
    expect(run.code).toBe(0);
    const leadsLink = await printed("3 leads");
    // `run --wait` ends with the same review page, signed with the dev stack's secret
    const runLink = /review\s+leads: (\S+)/.exec(run.output)?.[1];
    expect(runLink && new URL(runLink).pathname).toBe(new URL(leadsLink).pathname);
    expect((await fetch(runLink!)).status).toBe(200);
    const leadsEmailed = await emailed(leadsLink);
    expect(new URL(leadsEmailed).pathname).toBe(new URL(leadsLink).pathname);
    expect((await fetch(leadsLink)).status).toBe(200);
    await decide(leadsLink, "approve_all");

    const draftsLink = await printed("3 draft emails");
    await emailed(draftsLink);
    await decide(draftsLink, "approve_all");
    expect((await readdir(outbox)).filter((f) => f.endsWith(".eml"))).toHaveLength(2);

    // the second terminal: the CLI finds the stack, its secret and its base URL in .data/
    const listed = await runLeadflow(["approvals", "--json"], devEnv);
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.output.trim().split("\n").at(-1)!) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.type, r.status, r.items])).toEqual([
      ["emails", "approved", 3],
      ["leads", "approved", 3],
    ]);
    expect((await fetch(rows[0]!.link as string)).status).toBe(200);
    const status = await runLeadflow(["status", "dev-flow-1", "--json"], devEnv);
    expect(JSON.parse(status.output.trim().split("\n").at(-1)!).status).toBe("completed");

    // a restart keeps the secret (.data/link-secret): the emailed link still opens its page
    expect(await dev.kill("SIGTERM")).toBe(0);
    dev = await startDev();
    const again = new URL(leadsLink);
    const port = /http:\/\/127\.0\.0\.1:(\d+)\/healthz/.exec(dev.output())![1];
    const reopened = await fetch(`http://127.0.0.1:${port}${again.pathname}${again.search}`);
    expect(reopened.status).toBe(200);
    expect(await reopened.text()).toContain("Approved</span> by dev reviewer");
  } finally {
    await dev?.kill("SIGTERM");
    await rm(dataDir, { recursive: true, force: true });
  }
}, 300_000);
