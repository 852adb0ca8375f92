import { Effect, Layer } from "effect";
import { WriterBackend, type WriterBackendShape } from "../Backend.js";
import type { DraftInput, EmailContent } from "../DraftInput.js";
import { formatMoney } from "../Figures.js";
import { greetingName } from "../Prompt.js";
import { stableHash } from "../StableHash.js";
import { oneLine } from "../Text.js";

type Parts = { readonly name: string; readonly industry: string; readonly where: string };

const SUBJECTS: ReadonlyArray<(p: Parts) => string> = [
  (p) => `Utility costs at ${p.name}`,
  (p) => `A second look at ${p.name}'s utility bills`,
  (p) => `${p.name}: lowering your utility bills`,
  (p) => `A question about utility bills at ${p.name}`,
];

const OPENINGS: ReadonlyArray<(p: Parts) => string> = [
  (p) =>
    `I help ${p.industry} businesses${p.where} find money lost in their utility bills: wrong tariffs, billing errors and refunds nobody claimed.`,
  (p) =>
    `We audit the electricity, gas, water and telecom bills of ${p.industry} businesses${p.where}, looking for overcharges and billing errors.`,
  (p) =>
    `Most ${p.industry} businesses${p.where} pay more for utilities than they need to, usually through the wrong rate class or billing mistakes nobody has time to catch.`,
];

const ASKS: ReadonlyArray<(p: Parts) => string> = [
  () => "Would you be open to a short call next week to see whether it is worth a look?",
  (p) => `Could we set up a short call to see whether an audit makes sense for ${p.name}?`,
];

/** Different bits of the hash for each choice, so subject, opening and question vary independently. */
const pick = <A>(list: ReadonlyArray<A>, hash: number, shift: number): A =>
  list[(hash >>> shift) % list.length] as A;

/**
 * The built-in writer: a deterministic email from the company's own data. Subject, opening and
 * question are picked by a stable hash of the company id (the same company always gets the same
 * email), the figures are the analyst's, written as `Figures` formats them (savings range to
 * the $k), and the greeting uses the contact's first name when it looks like one.
 */
export const templateEmail = (input: DraftInput): EmailContent => {
  const hash = stableHash(input.companyId);
  const c = input.company;
  const f = input.features;
  const place = oneLine(c.city ?? "", 60) || oneLine(c.state ?? "", 30);
  const parts: Parts = {
    name: oneLine(c.name, 60) || "your company",
    industry: oneLine(c.industry, 40).toLowerCase() || "local",
    where: place === "" ? "" : ` in ${place}`,
  };
  const first = greetingName(input);
  const sites = Number.isFinite(f.sites) && f.sites > 1 ? ` across ${Math.floor(f.sites)} sites` : "";
  const paragraphs = [
    first === null ? "Hello," : `Hi ${first},`,
    pick(OPENINGS, hash, 8)(parts),
    f.annualUtilitySpend > 0 && f.savingsHigh > 0
      ? `From public data, we estimate that ${parts.name} spends about ${formatMoney(f.annualUtilitySpend)} a year on utilities${sites}, and that an audit could save roughly ${formatMoney(f.savingsLow)} to ${formatMoney(f.savingsHigh)} a year.`
      : null,
    "We work on contingency: our fee is a share of the savings we find, so if we find nothing, you owe nothing.",
    pick(ASKS, hash, 16)(parts),
  ];
  return {
    subject: pick(SUBJECTS, hash, 0)(parts),
    body: paragraphs.filter((p): p is string => p !== null).join("\n\n"),
  };
};

/** The template writer as a backend: answers at once, in the same JSON an LLM is asked for. */
export const templateBackend: WriterBackendShape = {
  name: "template",
  model: null,
  trusted: true,
  complete: (request) => Effect.sync(() => JSON.stringify(templateEmail(request.input))),
};

/** Only the template writer (no LLM). */
export const TemplateBackendLive = Layer.succeed(WriterBackend, templateBackend);
