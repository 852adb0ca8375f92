import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  connectJet,
  createTestDatabase,
  createTestNats,
  type Jet,
  parseEmail,
  type SmtpCapture,
  startSmtpCapture,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { type SendGridFake, startSendGridFake } from "@leadflow/testkit/fakes";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { NotifierPlugin } from "../src/index.js";
import { freePort, metricsOf, metricValue, publishRequested, reviewLinks } from "./helpers.js";
import { seedDraftRequest, seedLeadRequest } from "./Seed.js";

const HOSTILE = "<img src=x onerror=alert(1)>";
const CONSUMER = "notifier-approval-requested";

let db: TestDatabase;
let nats: TestNats;
let jet: Jet;
let smtp: SmtpCapture;
let host: TestHost | undefined;
let port: number;
let dir: string;

const ENV_KEYS = [
  "SMTP_URL",
  "SENDGRID_API_KEY",
  "SENDGRID_BASE_URL",
  "ALERT_EMAIL",
  "EMAIL_FROM",
  "PUBLIC_BASE_URL",
  "LINK_SECRET",
  "NOTIFIER_OUTBOX_DIR",
];

const start = async (env: Record<string, string>) => {
  for (const k of ENV_KEYS) delete process.env[k];
  port = await freePort();
  Object.assign(process.env, {
    LINK_SECRET: "notify-test-secret-0123456789abcdef0123456789",
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    ...env,
  });
  host = await startTestHost([NotifierPlugin], {
    databaseUrl: db.url,
    natsUrl: nats.url,
    name: "notifier",
    port,
  });
};

/** The "review link" log lines written while `fn` runs (the runtime logs JSON through console.log). */
const reviewLinkLogs = async (fn: () => Promise<void>): Promise<Array<string>> => {
  const spy = vi.spyOn(console, "log");
  try {
    await fn();
    return spy.mock.calls.map((args) => args.map(String).join(" ")).filter((l) => l.includes("review link"));
  } finally {
    spy.mockRestore();
  }
};

const handled = async () =>
  (await db.sql`select count(*)::int as n from inbox where consumer = ${CONSUMER}`)[0]!.n as number;

const requestRow = async (id: string) =>
  (
    await db.sql`select notified_at, notify_claimed_at, notify_attempts, notify_transport, notify_error from human_approval_requests where id = ${id}`
  )[0]!;

beforeAll(async () => {
  [db, nats, smtp] = await Promise.all([createTestDatabase(), createTestNats(), startSmtpCapture()]);
  jet = await connectJet(nats.url);
  dir = await mkdtemp(join(tmpdir(), "leadflow-outbox-"));
});

const stop = async () => {
  await host?.stop();
  host = undefined;
};

afterEach(stop);

afterAll(async () => {
  await jet?.close();
  await Promise.all([smtp?.close(), nats?.stop(), db?.drop(), rm(dir, { recursive: true, force: true })]);
  for (const k of ENV_KEYS) delete process.env[k];
});

describe("approval emails over SMTP", () => {
  it("sends one email per request, with an escaped summary and a link that opens the page; a redelivery sends nothing", async () => {
    await start({ SMTP_URL: smtp.url, ALERT_EMAIL: "ops@example.com", EMAIL_FROM: "leadflow@example.com" });
    const seeded = await seedLeadRequest(db.sql, [
      { name: HOSTILE, tier: "high", score: 91, phone: "+1 716 555 0101" },
      {
        name: "Lakeside General Hospital",
        tier: "high",
        score: 84,
        contact: { name: "Dana Reyes", email: "dana@lakeside.test" },
      },
      { name: "Erie Clinic", tier: "low", score: 31 },
    ]);
    let mail!: (typeof smtp.messages)[number];
    const logged = await reviewLinkLogs(async () => {
      await publishRequested(jet, seeded.approvalId, seeded.runId, "leads", 3);
      mail = await waitFor(() => smtp.messages[0], { what: "the approval email" });
    });
    // the link is a credential: with an email to carry it, the log names the page, not the token
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(`/approvals/${seeded.approvalId} (token sent by email)`);
    expect(logged[0]).not.toContain("token=");

    expect(mail.envelope.to).toEqual(["ops@example.com"]);
    expect(mail.envelope.from).toBe("leadflow@example.com");
    expect(mail.subject).toBe(`Leadflow: review 3 leads (2 high, 0 medium, 1 low) — run ${seeded.runId}`);
    expect(mail.messageId).toBe(`<approval-${seeded.approvalId}@leadflow>`);
    expect(mail.html).not.toBeNull();
    expect(mail.text).not.toBeNull();
    // the hostile name is text in both parts, never markup
    expect(mail.html).not.toContain("<img src=x");
    expect(mail.html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(mail.text).toContain(HOSTILE);
    expect(mail.html).toMatch(
      /high<\/td><td[^>]*>2<\/td><td[^>]*>91<\/td><td[^>]*>\$192,001 – \$720,001<\/td>/,
    );

    const links = reviewLinks(mail.html!);
    expect(links.length).toBeGreaterThanOrEqual(1);
    expect(new Set(links).size).toBe(1);
    const link = links[0]!;
    expect(link.startsWith(`http://127.0.0.1:${port}/approvals/${seeded.approvalId}?token=v1.leads.`)).toBe(
      true,
    );
    expect(mail.text).toContain(link);
    const page = await fetch(link);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain("Lakeside General Hospital");
    expect(body).toContain("&lt;img src=x onerror=alert(1)&gt;");

    const row = await waitFor(
      async () => {
        const r = await requestRow(seeded.approvalId);
        return r.notified_at !== null ? r : undefined;
      },
      { what: "notified_at" },
    );
    expect(row.notify_transport).toBe("smtp");
    expect(row.notify_attempts).toBe(1);

    // the same request announced again (a replayed dead letter, a second outbox row): no second email
    const before = await handled();
    await publishRequested(jet, seeded.approvalId, seeded.runId, "leads", 3);
    await waitFor(async () => (await handled()) === before + 1, { what: "the redelivery handled" });
    expect(smtp.messages.length).toBe(1);
    const metrics = await metricsOf(port);
    expect(
      metricValue(metrics, "leadflow_approval_emails_total", { transport: "smtp", outcome: "sent" }),
    ).toBe(1);
  });

  it("a request of many items: totals over all of them (a company without a score counted), the first ten in full", async () => {
    await start({ SMTP_URL: smtp.url, ALERT_EMAIL: "ops@example.com" });
    const tierOf = (i: number) => (i < 12 ? "high" : i < 20 ? "medium" : "low");
    const leads = await seedLeadRequest(
      db.sql,
      Array.from({ length: 25 }, (_, i) => ({ name: `Lead ${i}`, tier: tierOf(i), score: 95 - i })),
    );
    // the last lead lost its score: still one of the 25, in no tier
    await db.sql`delete from lead_scores where company_id = ${leads.companyIds[24]!}`;
    const drafts = await seedDraftRequest(
      db.sql,
      Array.from({ length: 13 }, (_, i) => ({
        company: `Draft Co ${i}`,
        subject: `Subject ${i}`,
        body: "Body",
        ...(i < 10 ? { toEmail: `d${i}@example.com` } : {}),
      })),
    );
    await publishRequested(jet, leads.approvalId, leads.runId, "leads", 25);
    const leadMail = await waitFor(() => smtp.messages.find((m) => m.subject?.includes(leads.runId)), {
      what: "the leads email",
    });
    expect(leadMail.subject).toBe(
      `Leadflow: review 25 leads (12 high, 8 medium, 4 low) — run ${leads.runId}`,
    );
    const leadText = leadMail.text!;
    // savings summed per tier (seeded low 96,000 + i, high 360,000 + i), best score per tier
    expect(leadText).toContain("high | 12 | 95 | $1,152,066 – $4,320,066");
    expect(leadText).toContain("medium | 8 | 83 | $768,124 – $2,880,124");
    expect(leadText).toContain("low | 4 | 75 | $384,086 – $1,440,086");
    for (let i = 0; i < 10; i++) expect(leadText).toContain(`Lead ${i} (Buffalo, NY)`);
    expect(leadText).not.toContain("Lead 10 (");
    expect(leadText).toContain("… and 15 more on the review page");

    await publishRequested(jet, drafts.approvalId, drafts.runId, "emails", 13);
    const draftMail = await waitFor(() => smtp.messages.find((m) => m.subject?.includes(drafts.runId)), {
      what: "the drafts email",
    });
    expect(draftMail.subject).toBe(`Leadflow: review 13 draft emails — run ${drafts.runId}`);
    const draftText = draftMail.text!;
    expect(draftText).toMatch(/Drafts \| With a recipient \| Without\r?\n13 \| 10 \| 3/);
    expect(draftText).toContain("Draft Co 9 | d9@example.com | Subject 9");
    expect(draftText).not.toContain("Draft Co 10 |");
    expect(draftText).toContain("… and 3 more on the review page");
  });

  it("waits out a claim a live sender holds, re-sends after a crashed sender's claim expires, retries 4xx, dead-letters 5xx", async () => {
    await start({ SMTP_URL: smtp.url, ALERT_EMAIL: "ops@example.com" });
    // a sender that crashed after claiming, long ago: the claim has expired, the email goes out
    const crashed = await seedDraftRequest(db.sql, [{ company: "Crashed Co", subject: "Hi", body: "Body" }]);
    await db.sql`update human_approval_requests set notify_claimed_at = now() - interval '10 minutes', notify_attempts = 1 where id = ${crashed.approvalId}`;
    await publishRequested(jet, crashed.approvalId, crashed.runId, "emails", 1);
    await waitFor(() => smtp.messages.find((m) => m.subject.includes(crashed.runId)), {
      what: "the re-sent email",
    });
    expect((await requestRow(crashed.approvalId)).notify_attempts).toBe(2);

    // a sender still within its lease: this delivery backs off instead of sending a second copy
    const busy = await seedDraftRequest(db.sql, [{ company: "Busy Co", subject: "Hi", body: "Body" }]);
    await db.sql`update human_approval_requests set notify_claimed_at = now() where id = ${busy.approvalId}`;
    await publishRequested(jet, busy.approvalId, busy.runId, "emails", 1);
    await waitFor(
      async () =>
        metricValue(await metricsOf(port), "leadflow_messages_handled_total", {
          consumer: CONSUMER,
          outcome: "retry",
        }) >= 1,
      { what: "a retry" },
    );
    expect(smtp.messages.some((m) => m.subject.includes(busy.runId))).toBe(false);
    // …and once that claim is stale (its sender died), the next delivery sends
    await db.sql`update human_approval_requests set notify_claimed_at = now() - interval '10 minutes' where id = ${busy.approvalId}`;
    await waitFor(() => smtp.messages.find((m) => m.subject.includes(busy.runId)), {
      what: "the email after the lease",
      timeoutMs: 20_000,
    });

    // a temporary refusal is retried; a permanent one dead-letters the request, claim released
    smtp.refuseNext(451, "try again later");
    const temporary = await seedDraftRequest(db.sql, [{ company: "Later Co", subject: "Hi", body: "Body" }]);
    await publishRequested(jet, temporary.approvalId, temporary.runId, "emails", 1);
    await waitFor(() => smtp.messages.find((m) => m.subject.includes(temporary.runId)), {
      what: "the retried email",
      timeoutMs: 20_000,
    });

    smtp.refuseNext(550, "mailbox unavailable", 1);
    const permanent = await seedDraftRequest(db.sql, [{ company: "Never Co", subject: "Hi", body: "Body" }]);
    await publishRequested(jet, permanent.approvalId, permanent.runId, "emails", 1);
    const letter = await waitFor(
      async () =>
        (await jet.messages("LEADFLOW_DLQ")).find(
          (m) => (m.data as { approvalId?: string }).approvalId === permanent.approvalId,
        ),
      { what: "the dead letter" },
    );
    expect(letter.subject).toBe(`leadflow.dlq.${CONSUMER}`);
    const row = await requestRow(permanent.approvalId);
    expect(row.notified_at).toBeNull();
    expect(row.notify_claimed_at).toBeNull();
    expect(row.notify_error).toMatch(/550/);
    const metrics = await metricsOf(port);
    expect(
      metricValue(metrics, "leadflow_approval_emails_total", { transport: "smtp", outcome: "failed" }),
    ).toBe(2);
    expect(
      metricValue(metrics, "leadflow_approval_emails_total", { transport: "smtp", outcome: "sent" }),
    ).toBe(3);
  });
});

describe("the file outbox", () => {
  it("writes one .eml per request (a redelivery writes nothing), readable by any mail client", async () => {
    const outbox = join(dir, "outbox");
    await start({ ALERT_EMAIL: "ops@example.com", NOTIFIER_OUTBOX_DIR: outbox });
    const seeded = await seedDraftRequest(db.sql, [
      {
        company: "Hotel A",
        subject: "Cutting utility costs",
        body: "<script>alert(1)</script>\nSecond line",
        toEmail: "gm@hotel-a.test",
      },
      { company: "Hotel B", subject: "Hello", body: "Plain" },
    ]);
    await publishRequested(jet, seeded.approvalId, seeded.runId, "emails", 2);
    const file = join(outbox, `approval-${seeded.approvalId}.eml`);
    await waitFor(async () => (await requestRow(seeded.approvalId)).notified_at !== null, {
      what: "notified_at",
    });
    const first = await stat(file);
    const mail = parseEmail(await readFile(file, "utf8"));
    expect(mail.subject).toBe(`Leadflow: review 2 draft emails — run ${seeded.runId}`);
    expect(mail.to).toContain("ops@example.com");
    expect(mail.html).toContain("gm@hotel-a.test");
    const link = reviewLinks(mail.html!)[0]!;
    expect(link).toContain(`/approvals/${seeded.approvalId}?token=v1.emails.`);
    expect((await requestRow(seeded.approvalId)).notify_transport).toBe("file");

    const before = await handled();
    await publishRequested(jet, seeded.approvalId, seeded.runId, "emails", 2);
    await waitFor(async () => (await handled()) === before + 1, { what: "the redelivery handled" });
    expect((await stat(file)).mtimeMs).toBe(first.mtimeMs);
    expect((await readdir(outbox)).filter((f) => f.endsWith(".eml"))).toEqual([
      `approval-${seeded.approvalId}.eml`,
    ]);
    const metrics = await metricsOf(port);
    expect(
      metricValue(metrics, "leadflow_approval_emails_total", { transport: "file", outcome: "sent" }),
    ).toBe(1);
  });

  it("without ALERT_EMAIL skips the email (counted, link logged) and acknowledges the request", async () => {
    const outbox = join(dir, "outbox-skip");
    await start({ NOTIFIER_OUTBOX_DIR: outbox });
    const seeded = await seedLeadRequest(db.sql, [{ name: "Quiet Co", tier: "medium", score: 55 }]);
    const before = await handled();
    const logged = await reviewLinkLogs(async () => {
      await publishRequested(jet, seeded.approvalId, seeded.runId, "leads", 1);
      await waitFor(async () => (await handled()) === before + 1, { what: "the request handled" });
    });
    // no email will carry the link: the log is the way to it
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(`/approvals/${seeded.approvalId}?token=v1.leads.`);
    expect((await requestRow(seeded.approvalId)).notified_at).toBeNull();
    expect(await readdir(outbox).catch(() => [])).toEqual([]);
    const metrics = await metricsOf(port);
    expect(
      metricValue(metrics, "leadflow_approval_emails_total", { transport: "file", outcome: "skipped" }),
    ).toBe(1);
  });
});

describe("SendGrid v3 mail/send", () => {
  let sendgrid: SendGridFake;
  beforeAll(async () => {
    sendgrid = await startSendGridFake();
  });
  afterAll(() => sendgrid?.close());

  it("sends through the provider client: 202 accepted, a 429 waited out by the redelivery, bad key and bad body are final", async () => {
    await start({
      SENDGRID_API_KEY: sendgrid.apiKey,
      SENDGRID_BASE_URL: sendgrid.url,
      ALERT_EMAIL: "ops@example.com",
      EMAIL_FROM: "leadflow@example.com",
    });
    // Retry-After 6 s: longer than the notifier's first redelivery step (5 s)
    sendgrid.rateLimitNext(1, 6);
    const seeded = await seedLeadRequest(db.sql, [{ name: "Grid Co", tier: "high", score: 77 }]);
    await publishRequested(jet, seeded.approvalId, seeded.runId, "leads", 1);
    const mail = await waitFor(() => sendgrid.mails[0], { what: "the SendGrid mail" });
    expect(mail.to).toEqual(["ops@example.com"]);
    expect(mail.subject).toContain(seeded.runId);
    expect(mail.content.map((c) => c.type)).toEqual(["text/plain", "text/html"]);
    expect(reviewLinks(mail.content[1]!.value)[0]).toContain(
      `/approvals/${seeded.approvalId}?token=v1.leads.`,
    );
    expect(mail.body.tracking_settings).toEqual({
      click_tracking: { enable: false, enable_text: false },
      open_tracking: { enable: false },
    });
    // one try per delivery (no in-process retry on top of the redelivery), and the redelivery
    // waited for the Retry-After
    const [limited, accepted] = sendgrid.server.requests;
    expect(sendgrid.server.requests).toHaveLength(2);
    expect(accepted!.at - limited!.at).toBeGreaterThanOrEqual(5950);
    const row = await waitFor(async () => {
      const r = await requestRow(seeded.approvalId);
      return r.notified_at !== null ? r : undefined;
    });
    expect(row.notify_transport).toBe("sendgrid");
    const metrics = await metricsOf(port);
    expect(
      metricValue(metrics, "leadflow_provider_calls_total", {
        provider: "sendgrid",
        outcome: "rate_limited",
      }),
    ).toBe(1);
    expect(
      metricValue(metrics, "leadflow_provider_calls_total", { provider: "sendgrid", outcome: "ok" }),
    ).toBe(1);
    expect(
      metricValue(metrics, "leadflow_approval_emails_total", { transport: "sendgrid", outcome: "sent" }),
    ).toBe(1);
    await stop();

    // a revoked key: SendGrid's 401 is final, the request is dead-lettered with the setting to fix
    await start({
      SENDGRID_API_KEY: "SG.revoked",
      SENDGRID_BASE_URL: sendgrid.url,
      ALERT_EMAIL: "ops@example.com",
      EMAIL_FROM: "leadflow@example.com",
    });
    const revoked = await seedLeadRequest(db.sql, [{ name: "Key Co", tier: "high", score: 70 }]);
    await publishRequested(jet, revoked.approvalId, revoked.runId, "leads", 1);
    await waitFor(async () => (await requestRow(revoked.approvalId)).notify_error !== null, {
      what: "the 401",
    });
    expect((await requestRow(revoked.approvalId)).notify_error).toMatch(/HTTP 401.*SENDGRID_API_KEY/);
    await stop();

    // a sender address SendGrid refuses (the default, without EMAIL_FROM): 400 with its errors array, final
    await start({
      SENDGRID_API_KEY: sendgrid.apiKey,
      SENDGRID_BASE_URL: sendgrid.url,
      ALERT_EMAIL: "ops@example.com",
    });
    const refused = await seedLeadRequest(db.sql, [{ name: "From Co", tier: "high", score: 70 }]);
    await publishRequested(jet, refused.approvalId, refused.runId, "leads", 1);
    await waitFor(async () => (await requestRow(refused.approvalId)).notify_error !== null, {
      what: "the 400",
    });
    expect((await requestRow(refused.approvalId)).notify_error).toMatch(
      /HTTP 400.*from email does not contain a valid address/,
    );
    expect(sendgrid.mails.length).toBe(1);
  });
});
