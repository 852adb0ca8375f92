import { randomBytes } from "node:crypto";
import { type FakeReply, type RecordedRequest, startFakeHttpServer } from "./FakeHttpServer.js";
import type { ProviderFake } from "./ProviderFake.js";

/** One accepted `mail/send` body, as SendGrid would queue it. */
export interface SendGridMail {
  readonly messageId: string;
  readonly to: ReadonlyArray<string>;
  readonly from: string;
  readonly subject: string;
  readonly content: ReadonlyArray<{ readonly type: string; readonly value: string }>;
  readonly body: Record<string, unknown>;
}

export interface SendGridFakeOptions {
  /** The only key accepted as `Authorization: Bearer <key>`. Default `SG.test-key`. */
  readonly apiKey?: string;
}

export interface SendGridFake extends ProviderFake {
  readonly apiKey: string;
  /** Mails accepted (202), in order. */
  readonly mails: ReadonlyArray<SendGridMail>;
}

/** SendGrid's error body: `{"errors": [{"message", "field", "help"}]}`. */
const errors = (
  status: number,
  list: ReadonlyArray<{ message: string; field?: string | null }>,
): FakeReply => ({
  status,
  json: { errors: list.map((e) => ({ message: e.message, field: e.field ?? null, help: null })) },
});

const isEmail = (v: unknown): v is string => typeof v === "string" && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v);

/** Validates a v3 mail/send body the way the API does for the fields we use; returns the problems. */
const validate = (body: Record<string, unknown>): Array<{ message: string; field: string }> => {
  const problems: Array<{ message: string; field: string }> = [];
  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    problems.push({
      field: "personalizations",
      message: "The personalizations field is required and must have at least one personalization.",
    });
  } else {
    personalizations.forEach((p, i) => {
      const to = (p as { to?: unknown }).to;
      if (!Array.isArray(to) || to.length === 0) {
        problems.push({
          field: `personalizations.${i}.to`,
          message:
            "The to array is required for all personalization objects, and must have at least one email object with a valid email address.",
        });
      } else if (!to.every((t) => isEmail((t as { email?: unknown }).email))) {
        problems.push({ field: `personalizations.${i}.to`, message: "Does not contain a valid address." });
      }
    });
  }
  if (!isEmail((body.from as { email?: unknown } | undefined)?.email)) {
    problems.push({ field: "from.email", message: "The from email does not contain a valid address." });
  }
  if (typeof body.subject !== "string" || body.subject.trim() === "") {
    problems.push({
      field: "subject",
      message:
        "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.",
    });
  }
  const content = body.content;
  if (
    !Array.isArray(content) ||
    content.length === 0 ||
    !content.every(
      (c) =>
        typeof (c as { type?: unknown }).type === "string" &&
        typeof (c as { value?: unknown }).value === "string" &&
        (c as { value: string }).value !== "",
    )
  ) {
    problems.push({
      field: "content",
      message:
        "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.",
    });
  } else if (content.length > 1 && (content[0] as { type: string }).type !== "text/plain") {
    problems.push({
      field: "content.0.type",
      message:
        "If present, text/plain content must be first, followed by text/html, followed by any other content.",
    });
  }
  return problems;
};

/**
 * SendGrid v3 `POST /v3/mail/send`: Bearer key check (401 with SendGrid's body), body validation
 * (400 with an `errors` array naming fields), 202 with an empty body and `X-Message-Id` on success,
 * and 429 with `Retry-After` / `X-RateLimit-*` when told to or over the enforced rate.
 */
export const startSendGridFake = async (options: SendGridFakeOptions = {}): Promise<SendGridFake> => {
  const apiKey = options.apiKey ?? "SG.test-key";
  const mails: Array<SendGridMail> = [];
  let calls = 0;
  const server = await startFakeHttpServer({
    notFound: errors(404, [{ message: "Not Found" }]),
  });
  server.route("POST", "/v3/mail/send", (req: RecordedRequest): FakeReply => {
    calls++;
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return errors(401, [{ message: "The provided authorization grant is invalid, expired, or revoked" }]);
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(req.body);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        throw new Error("not an object");
      body = parsed as Record<string, unknown>;
    } catch {
      return errors(400, [{ message: "Bad Request", field: null }]);
    }
    const problems = validate(body);
    if (problems.length > 0) return errors(400, problems);
    const messageId = randomBytes(16).toString("base64url");
    mails.push({
      messageId,
      to: (body.personalizations as Array<{ to: Array<{ email: string }> }>).flatMap((p) =>
        p.to.map((t) => t.email),
      ),
      from: (body.from as { email: string }).email,
      subject: body.subject as string,
      content: body.content as Array<{ type: string; value: string }>,
      body,
    });
    return { status: 202, headers: { "x-message-id": messageId } };
  });
  return {
    server,
    url: server.url,
    apiKey,
    get mails() {
      return mails;
    },
    rateLimitNext: (times = 1, retryAfterSeconds = 1) =>
      server.inject(
        {
          type: "status",
          status: 429,
          retryAfter: retryAfterSeconds,
          json: { errors: [{ field: null, message: "too many requests" }] },
        },
        times,
      ),
    serverErrorNext: (times = 1) =>
      server.inject(
        { type: "status", status: 500, json: { errors: [{ field: null, message: "internal error" }] } },
        times,
      ),
    malformedNext: (times = 1) => server.inject({ type: "malformed" }, times),
    calls: () => calls,
    close: () => server.close(),
  };
};
