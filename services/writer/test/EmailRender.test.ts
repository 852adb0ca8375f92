import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import type { DraftInput, EmailContent } from "../src/DraftInput.js";
import {
  compileMjml,
  makeEmailRenderer,
  renderEveryTime,
  sanitizeSubject,
  UNSUBSCRIBE_URL_PLACEHOLDER,
} from "../src/EmailRender.js";
import { HOSTILE_NAME, hotelInput, withCompany } from "./inputs.js";

const content: EmailContent = {
  subject: "Utility costs at Lakeside Hotel",
  body: "Hi Jane,\n\nFirst paragraph,\nsecond line.\n\nWould you be open to a short call?",
};

const counting = () => {
  let calls = 0;
  return {
    calls: () => calls,
    compile: (source: string) => {
      calls++;
      return compileMjml(source);
    },
  };
};

const render = (c: EmailContent, input: DraftInput = hotelInput) =>
  Effect.runPromise(Effect.flatMap(makeEmailRenderer(), (r) => r.render(c, input)));

describe("EmailRender", () => {
  it("renders paragraphs, signature, postal address and the unsubscribe placeholder", async () => {
    const email = await render(content);
    expect(email.subject).toBe("Utility costs at Lakeside Hotel");
    expect(email.html).toContain("<!doctype html>");
    expect(email.html).toContain("<title>Utility costs at Lakeside Hotel</title>");
    expect(email.html).toContain('<p style="margin:0 0 14px 0;">First paragraph,<br />second line.</p>');
    expect(email.html).toContain(
      "Best regards,<br />Sam Lee<br />Brightline Utility Audits<br />sam@brightline.example",
    );
    expect(email.html).toContain("1200 Main St, Suite 200<br />Buffalo, NY 14201");
    expect(email.html).toContain(`href="${UNSUBSCRIBE_URL_PLACEHOLDER}"`);
    expect(email.html).not.toMatch(/%%LF_/);
    expect(email.text).toBe(
      [
        "Hi Jane,",
        "",
        "First paragraph,",
        "second line.",
        "",
        "Would you be open to a short call?",
        "",
        "Best regards,",
        "Sam Lee",
        "Brightline Utility Audits",
        "sam@brightline.example",
        "",
        "--",
        "Brightline Utility Audits, 1200 Main St, Suite 200, Buffalo, NY 14201",
        `We wrote because your business may be paying more for utilities than it needs to. To unsubscribe: ${UNSUBSCRIBE_URL_PLACEHOLDER}`,
      ].join("\n"),
    );
  });

  it("uses the sender's unsubscribe URL when it is http(s), escaped; never a javascript: URL", async () => {
    const withUrl = (url: string) => ({
      ...hotelInput,
      sender: { ...hotelInput.sender, unsubscribeUrl: url },
    });
    const good = await render(content, withUrl('https://lf.example/u?t=1&x="2"'));
    expect(good.html).toContain('href="https://lf.example/u?t=1&amp;x=&quot;2&quot;"');
    const bad = await render(content, withUrl("javascript:alert(1)"));
    expect(bad.html).toContain(`href="${UNSUBSCRIBE_URL_PLACEHOLDER}"`);
    expect(bad.html).not.toContain("javascript:");
  });

  it("escapes scraped names and HTML in the body; keeps the subject to one harmless line", async () => {
    const input = withCompany(hotelInput, { name: HOSTILE_NAME });
    const hostile: EmailContent = {
      subject: `Utility costs at ${HOSTILE_NAME}\u0000\u202e`,
      body: `Hi Jane,\n\n${HOSTILE_NAME} may overpay. <img src=x onerror="alert(1)"> & 'quotes'\n\nA short call?`,
    };
    const email = await render(hostile, input);
    expect(email.subject).toBe("Utility costs at ACME Bcc: x@y <script>alert(1)</script>");
    for (const c of ["\r", "\n", "\u0000", "\u202e"]) expect(email.subject).not.toContain(c);
    expect(email.html).not.toContain("<script>alert(1)");
    expect(email.html).not.toContain("<img src=x");
    expect(email.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(email.html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;quotes&#39;");
    expect(email.html).toContain("<title>Utility costs at ACME Bcc: x@y &lt;script&gt;");
    // the only scripts in the page are none at all
    expect(email.html).not.toMatch(/<script/i);
    expect(email.text).not.toContain("\u0000");
  });

  it("sanitizeSubject strips CR, LF, NUL, controls and bidi overrides", () => {
    expect(sanitizeSubject("Hello\r\nBcc: evil@x.example\u0000\u0007 \u202eworld ")).toBe(
      "Hello Bcc: evil@x.example world",
    );
  });

  it("compiles the MJML once per renderer, however many emails it renders", async () => {
    const counter = counting();
    const emails = await Effect.runPromise(
      Effect.flatMap(makeEmailRenderer(counter.compile), (r) =>
        Effect.forEach(
          Array.from({ length: 50 }, (_, i) => i),
          (i) => r.render({ ...content, subject: `Subject ${i}` }, hotelInput),
        ),
      ),
    );
    expect(emails).toHaveLength(50);
    expect(counter.calls()).toBe(1);
  });

  it("renderEveryTime compiles on every call and renders the same email", async () => {
    const counter = counting();
    const once = await render(content);
    for (let i = 0; i < 3; i++) {
      expect(await Effect.runPromise(renderEveryTime(content, hotelInput, counter.compile))).toEqual(once);
    }
    expect(counter.calls()).toBe(3);
  });
});
