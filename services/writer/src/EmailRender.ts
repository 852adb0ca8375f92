// mjml ships no types: the declaration travels with this file into any program that compiles it
/// <reference path="../../../types/mjml.d.ts" />
import { callInWorker } from "@leadflow/runtime";
import { Context, Effect, Layer } from "effect";
import type { DraftInput, EmailContent } from "./DraftInput.js";
import { cleanMultiline, oneLine } from "./Text.js";

/**
 * Stands in the footer for the recipient's one-click unsubscribe link when the sender has no
 * fixed URL: the sending side replaces it per recipient (it survives HTML escaping unchanged).
 */
export const UNSUBSCRIBE_URL_PLACEHOLDER = "{{unsubscribe_url}}";

/** The email as sent: a one-line subject, the HTML part and the plain-text part. */
export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** MJML → HTML. Injectable so tests can count compilations. */
export type MjmlCompiler = (mjml: string) => Promise<string>;

/** mjml 5 (async), strict validation, no comments, no web fonts, `mj-include` ignored. */
const MJML_OPTIONS = {
  validationLevel: "strict",
  keepComments: false,
  fonts: {},
  ignoreIncludes: true,
} as const;

type MjmlResult = Awaited<ReturnType<typeof import("mjml")>>;

const htmlOrThrow = (result: MjmlResult): string => {
  if (result.errors.length > 0) {
    throw new Error(`MJML errors: ${result.errors.map((e) => e.formattedMessage).join("; ")}`);
  }
  return result.html;
};

/**
 * Compiles in a worker thread that ends right after (runtime `callInWorker`): the compiler is
 * needed once at start-up, and loaded into the service it would stay resident (≈ 60 MB RSS).
 */
export const compileMjml: MjmlCompiler = async (source) =>
  htmlOrThrow(
    (await callInWorker(import.meta.resolve("mjml"), "default", [source, MJML_OPTIONS])) as MjmlResult,
  );

/** The same in this thread, loaded on first use: for compiling per email (the benchmark's baseline). */
export const compileMjmlInProcess: MjmlCompiler = async (source) => {
  const { default: mjml2html } = await import("mjml");
  return htmlOrThrow(await mjml2html(source, MJML_OPTIONS));
};

const SLOTS = ["TITLE", "PREVIEW", "BODY", "SIGNATURE", "FOOTER", "UNSUBSCRIBE_URL"] as const;
type Slot = (typeof SLOTS)[number];
const slot = (name: Slot) => `%%LF_${name}%%`;

/** The first email: a plain, personal-looking layout (no images, no web fonts) with the legal footer. */
const FIRST_EMAIL_MJML = `<mjml lang="en">
  <mj-head>
    <mj-title>${slot("TITLE")}</mj-title>
    <mj-preview>${slot("PREVIEW")}</mj-preview>
    <mj-attributes>
      <mj-all font-family="Arial, Helvetica, sans-serif" />
      <mj-text font-size="15px" line-height="1.5" color="#1f2933" padding="0 24px" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#ffffff" width="600px">
    <mj-section padding="24px 0 8px">
      <mj-column>
        <mj-text>${slot("BODY")}</mj-text>
        <mj-text padding-top="4px">${slot("SIGNATURE")}</mj-text>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 0 24px">
      <mj-column>
        <mj-divider border-width="1px" border-color="#e4e7eb" padding="0 24px 12px" />
        <mj-text font-size="12px" line-height="1.4" color="#616e7c">${slot("FOOTER")}<br /><a href="${slot("UNSUBSCRIBE_URL")}" style="color:#616e7c;text-decoration:underline;">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;

/** A compiled template cut at its slots: `parts[0] slot[0] parts[1] … parts[n]`. */
interface CompiledTemplate {
  readonly parts: ReadonlyArray<string>;
  readonly slots: ReadonlyArray<Slot>;
}

const split = (html: string): CompiledTemplate => {
  const parts: Array<string> = [];
  const slots: Array<Slot> = [];
  let last = 0;
  for (const m of html.matchAll(/%%LF_([A-Z_]+)%%/g)) {
    const name = m[1] as Slot;
    if (!SLOTS.includes(name)) throw new Error(`unknown slot ${m[0]} in the compiled email`);
    parts.push(html.slice(last, m.index));
    slots.push(name);
    last = m.index + m[0].length;
  }
  parts.push(html.slice(last));
  const missing = SLOTS.filter((s) => !slots.includes(s));
  if (missing.length > 0) throw new Error(`MJML output lost the slots ${missing.join(", ")}`);
  return { parts, slots };
};

const fill = (template: CompiledTemplate, values: Readonly<Record<Slot, string>>): string => {
  let out = template.parts[0] ?? "";
  for (let i = 0; i < template.slots.length; i++) {
    out += values[template.slots[i]!] + (template.parts[i + 1] ?? "");
  }
  return out;
};

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/** A subject safe for a mail header: no CR, LF, NUL, other controls or bidi overrides; one line, ≤ 150 characters. */
export const sanitizeSubject = (subject: string): string => oneLine(subject, 150);

/** The unsubscribe link: the sender's URL when it is http(s)/mailto, else the per-recipient placeholder. */
const unsubscribeUrl = (url: string | null): string => {
  const trimmed = url?.trim() ?? "";
  if (trimmed === "") return UNSUBSCRIBE_URL_PLACEHOLDER;
  try {
    const protocol = new URL(trimmed).protocol;
    return protocol === "https:" || protocol === "http:" || protocol === "mailto:"
      ? trimmed
      : UNSUBSCRIBE_URL_PLACEHOLDER;
  } catch {
    return UNSUBSCRIBE_URL_PLACEHOLDER;
  }
};

const paragraphsOf = (body: string): ReadonlyArray<ReadonlyArray<string>> =>
  body
    .split(/\n[ \t]*\n+/)
    .map((p) =>
      p
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== ""),
    )
    .filter((p) => p.length > 0);

const SIGN_OFF = "Best regards,";
const WHY = "We wrote because your business may be paying more for utilities than it needs to.";

/** Everything the slots and the plain-text part need, cleaned once. */
const prepare = (content: EmailContent, input: DraftInput) => {
  const s = input.sender;
  const body = cleanMultiline(content.body);
  const address = cleanMultiline(s.postalAddress)
    .split(/\n+/)
    .map((l) => oneLine(l))
    .filter((l) => l !== "");
  return {
    subject: sanitizeSubject(content.subject),
    body,
    paragraphs: paragraphsOf(body),
    signature: [SIGN_OFF, oneLine(s.name), oneLine(s.company), oneLine(s.email)].filter((l) => l !== ""),
    company: oneLine(s.company),
    address,
    unsubscribe: unsubscribeUrl(s.unsubscribeUrl),
  };
};

type Prepared = ReturnType<typeof prepare>;

const slotValues = (p: Prepared): Record<Slot, string> => ({
  TITLE: escapeHtml(p.subject),
  PREVIEW: escapeHtml(oneLine(p.body.split(/\n/).slice(1).join(" ") || p.body, 110)),
  BODY: p.paragraphs
    .map((lines) => `<p style="margin:0 0 14px 0;">${lines.map(escapeHtml).join("<br />")}</p>`)
    .join(""),
  SIGNATURE: p.signature.map(escapeHtml).join("<br />"),
  FOOTER: `${[p.company, ...p.address].map(escapeHtml).join("<br />")}<br /><br />${escapeHtml(WHY)}`,
  UNSUBSCRIBE_URL: escapeHtml(p.unsubscribe),
});

const plainText = (p: Prepared): string =>
  [
    p.paragraphs.map((lines) => lines.join("\n")).join("\n\n"),
    "",
    p.signature.join("\n"),
    "",
    "--",
    [p.company, ...p.address].join(", "),
    `${WHY} To unsubscribe: ${p.unsubscribe}`,
  ].join("\n");

const renderWith = (template: CompiledTemplate, content: EmailContent, input: DraftInput): RenderedEmail => {
  const p = prepare(content, input);
  return { subject: p.subject, html: fill(template, slotValues(p)), text: plainText(p) };
};

/** Renders one email; every value from data is escaped before it reaches the HTML. */
export interface EmailRendererShape {
  readonly render: (content: EmailContent, input: DraftInput) => Effect.Effect<RenderedEmail>;
}

export class EmailRenderer extends Context.Tag("leadflow/writer/EmailRenderer")<
  EmailRenderer,
  EmailRendererShape
>() {}

const compileTemplate = (compile: MjmlCompiler): Effect.Effect<CompiledTemplate> =>
  Effect.tryPromise(() => compile(FIRST_EMAIL_MJML).then(split)).pipe(
    // a template that does not compile is a bug in this file, not a runtime condition
    Effect.orDie,
  );

/** Compiles the MJML template once, here; each `render` only fills the compiled HTML. */
export const makeEmailRenderer = (compile: MjmlCompiler = compileMjml): Effect.Effect<EmailRendererShape> =>
  Effect.map(compileTemplate(compile), (template) => ({
    render: (content, input) => Effect.sync(() => renderWith(template, content, input)),
  }));

/**
 * Compiles the MJML on every call, then fills it like `render`: the same output, at the cost a
 * naive renderer pays. Only the benchmark's baseline uses it.
 */
export const renderEveryTime = (
  content: EmailContent,
  input: DraftInput,
  compile: MjmlCompiler = compileMjmlInProcess,
): Effect.Effect<RenderedEmail> =>
  Effect.map(compileTemplate(compile), (template) => renderWith(template, content, input));

/** A renderer built on `renderEveryTime` (benchmark baseline). */
export const everyTimeRenderer = (compile: MjmlCompiler = compileMjmlInProcess): EmailRendererShape => ({
  render: (content, input) => renderEveryTime(content, input, compile),
});

/** The compile-once renderer. */
export const EmailRendererLive: Layer.Layer<EmailRenderer> = Layer.effect(EmailRenderer, makeEmailRenderer());
