import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  connectJet,
  createTestDatabase,
  createTestNats,
  type Jet,
  type SmtpCapture,
  startSmtpCapture,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotifierPlugin } from "../src/index.js";
import { freePort, publishRequested, reviewLinks } from "./helpers.js";
import { seedDraftRequest, seedLeadRequest } from "./Seed.js";

const artifacts = fileURLToPath(new URL("../../../test-artifacts/", import.meta.url));

let db: TestDatabase;
let nats: TestNats;
let jet: Jet;
let smtp: SmtpCapture;
let host: TestHost;
let browser: Browser;

beforeAll(async () => {
  [db, nats, smtp] = await Promise.all([createTestDatabase(), createTestNats(), startSmtpCapture()]);
  jet = await connectJet(nats.url);
  const port = await freePort();
  Object.assign(process.env, {
    LINK_SECRET: "browser-test-secret-0123456789abcdef0123456789",
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    SMTP_URL: smtp.url,
    ALERT_EMAIL: "ops@example.com",
    EMAIL_FROM: "leadflow@example.com",
  });
  host = await startTestHost([NotifierPlugin], {
    databaseUrl: db.url,
    natsUrl: nats.url,
    name: "notifier",
    port,
  });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  await mkdir(artifacts, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await host?.stop();
  await jet?.close();
  await Promise.all([smtp?.close(), nats?.stop(), db?.drop()]);
  for (const k of ["LINK_SECRET", "PUBLIC_BASE_URL", "SMTP_URL", "ALERT_EMAIL", "EMAIL_FROM"])
    delete process.env[k];
});

const linkFromEmail = async (runId: string) => {
  const mail = await waitFor(() => smtp.messages.find((m) => m.subject.includes(runId)), {
    what: `the email of ${runId}`,
  });
  return reviewLinks(mail.html!)[0]!;
};

const decidedEvent = (approvalId: string) =>
  waitFor(
    async () =>
      (await jet.messages("LEADFLOW_EVT", "leadflow.evt.approval.decided")).find(
        (m) => (m.data as { approvalId: string }).approvalId === approvalId,
      ),
    { what: "the decided event" },
  );

describe("the review pages in Chromium", () => {
  it("leads: approve two of three from the emailed link, on a phone-sized screen", async () => {
    const s = await seedLeadRequest(db.sql, [
      {
        name: "<img src=x onerror=alert(1)>",
        tier: "high",
        score: 92,
        contact: { name: "Dana Reyes", email: "dana@one.test" },
      },
      { name: "Two Hospital", tier: "high", score: 81, phone: "+1 716 555 0102" },
      { name: "Three Clinic", tier: "low", score: 25 },
    ]);
    await publishRequested(jet, s.approvalId, s.runId, "leads", 3);
    const link = await linkFromEmail(s.runId);

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const dialogs: Array<string> = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const violations: Array<string> = [];
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(link);
    expect(await page.title()).toBe("Review 3 leads");
    // the hash-allowed stylesheet applies (no CSP violation), and the hostile name is text
    expect(await page.evaluate("getComputedStyle(document.body).backgroundColor")).toBe("rgb(245, 247, 250)");
    expect(await page.locator("img").count()).toBe(0);
    await expect.poll(() => page.getByText("<img src=x onerror=alert(1)>", { exact: true }).count()).toBe(1);
    // the page fits a phone screen: nothing scrolls sideways
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    // keyboard focus is visible
    await page.keyboard.press("Tab");
    expect(await page.evaluate('document.activeElement?.getAttribute("name")')).toBe("ids");
    expect(await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")).toBe("solid");

    await page.getByLabel("<img src=x onerror=alert(1)>").check();
    await page.getByLabel("Three Clinic").check();
    await page.getByLabel("Your name (optional)").fill("Dana Reyes");
    await page.getByLabel("Note (optional)").fill("Two is already a client");
    await page.screenshot({ path: `${artifacts}notifier-leads-page.png`, fullPage: true });
    await page.getByRole("button", { name: "Approve selected" }).click();
    await page.waitForSelector("text=This request has been decided");
    expect(await page.textContent("body")).toContain("Partly approved by Dana Reyes");
    await page.screenshot({ path: `${artifacts}notifier-leads-decided.png`, fullPage: true });
    expect(dialogs).toEqual([]);
    expect(violations).toEqual([]);
    await context.close();

    const [one, two, three] = s.companyIds as [string, string, string];
    const rows =
      await db.sql`select c.id, c.status, s.approved_human, s.approved_by from companies c join lead_scores s on s.company_id = c.id where s.run_id = ${s.runId}`;
    expect(Object.fromEntries(rows.map((r) => [r.id, [r.status, r.approved_human, r.approved_by]]))).toEqual({
      [one]: ["approved", true, "Dana Reyes"],
      [two]: ["scored", false, null],
      [three]: ["approved", true, "Dana Reyes"],
    });
    const event = await decidedEvent(s.approvalId);
    expect(event.data).toMatchObject({
      type: "leads",
      decision: "approved",
      approvedIds: [one, three],
      note: "Two is already a client",
    });
  });

  it("drafts: edit a subject in the browser and approve all", async () => {
    const s = await seedDraftRequest(db.sql, [
      {
        company: "Harbor Hotel",
        subject: "Lower utility bills for Harbor Hotel",
        body: "Hi Sam,\n\n<b>We</b> looked at your costs.\n\nBest",
        toEmail: "sam@harbor.test",
      },
      {
        company: "Bay Hotel",
        subject: "Bay Hotel utility review",
        body: "Hello,\n\nA short note.",
        toEmail: "gm@bay.test",
      },
    ]);
    await publishRequested(jet, s.approvalId, s.runId, "emails", 2);
    const link = await linkFromEmail(s.runId);
    const [harbor, bay] = s.draftIds as [string, string];

    const context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
    const page = await context.newPage();
    await page.goto(link);
    expect(await page.title()).toBe("Review 2 draft emails");
    expect(await page.inputValue(`#body-${harbor}`)).toBe(
      "Hi Sam,\n\n<b>We</b> looked at your costs.\n\nBest",
    );
    await page.fill(`#subject-${harbor}`, "A question about Harbor Hotel's energy costs");
    await page.screenshot({ path: `${artifacts}notifier-drafts-page.png`, fullPage: true });
    await page.getByRole("button", { name: "Approve all 2" }).click();
    await page.waitForSelector("text=This request has been decided");
    await page.screenshot({ path: `${artifacts}notifier-drafts-decided.png`, fullPage: true });
    await context.close();

    const drafts =
      await db.sql`select id, status, subject, original_subject, edited, body_text from email_drafts where approval_id = ${s.approvalId}`;
    const byId = new Map(drafts.map((d) => [d.id, d]));
    expect(byId.get(harbor)).toMatchObject({
      status: "approved",
      subject: "A question about Harbor Hotel's energy costs",
      original_subject: "Lower utility bills for Harbor Hotel",
      edited: true,
      body_text: "Hi Sam,\n\n<b>We</b> looked at your costs.\n\nBest",
    });
    expect(byId.get(bay)).toMatchObject({
      status: "approved",
      subject: "Bay Hotel utility review",
      edited: false,
    });
    const event = await decidedEvent(s.approvalId);
    expect(event.data).toMatchObject({ type: "emails", decision: "approved", approvedIds: [harbor, bay] });
  });
});
