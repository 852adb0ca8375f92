import { Effect, Either } from "effect";
import { describe, expect, it } from "vitest";
import { templateBackend, templateEmail } from "../src/backends/TemplateBackend.js";
import type { DraftInput } from "../src/DraftInput.js";
import { validateAnswer } from "../src/Validation.js";
import { HOSTILE_NAME, hotelInput, withCompany } from "./inputs.js";

const varied = (i: number): DraftInput => ({
  ...hotelInput,
  companyId: `company-${i}`,
  company: {
    name:
      i % 7 === 0
        ? HOSTILE_NAME
        : i % 5 === 0
          ? `Studio ${i} [Downtown]`
          : `Company ${String.fromCharCode(65 + (i % 26))}`,
    industry: i % 3 === 0 ? "Restaurant" : "Hotel",
    city: i % 4 === 0 ? null : "Buffalo",
    state: i % 8 === 0 ? null : "NY",
    website: null,
  },
  contact:
    i % 2 === 0
      ? null
      : { fullName: "Ann Smith", firstName: i % 3 === 0 ? "<b>" : "Ann", title: null, email: "a@b.example" },
  features: {
    annualUtilitySpend: 10_000 + i * 7_919,
    savingsLow: Math.round((10_000 + i * 7_919) * 0.04),
    savingsMid: Math.round((10_000 + i * 7_919) * 0.08),
    savingsHigh: Math.round((10_000 + i * 7_919) * 0.15),
    sites: 1 + (i % 4),
    electricityPriceKwh: 0.08 + (i % 10) / 100,
    industryKey: "hotel",
  },
});

describe("templateEmail", () => {
  it("is deterministic: the same company always gets the same email", () => {
    expect(templateEmail(hotelInput)).toEqual(templateEmail(structuredClone(hotelInput)));
  });

  it("varies subject and opening by company id", () => {
    const emails = Array.from({ length: 40 }, (_, i) =>
      templateEmail(withCompany(hotelInput, {}, `id-${i}`)),
    );
    expect(new Set(emails.map((e) => e.subject.replace("Lakeside Hotel", ""))).size).toBeGreaterThanOrEqual(
      3,
    );
    expect(new Set(emails.map((e) => e.body.split("\n\n")[1])).size).toBeGreaterThanOrEqual(3);
  });

  it("uses the contact's first name, else a neutral greeting", () => {
    expect(templateEmail(hotelInput).body.startsWith("Hi Jane,\n\n")).toBe(true);
    expect(templateEmail({ ...hotelInput, contact: null }).body.startsWith("Hello,\n\n")).toBe(true);
    const odd = { ...hotelInput, contact: { ...hotelInput.contact!, firstName: "{{first}}" } };
    expect(templateEmail(odd).body.startsWith("Hello,\n\n")).toBe(true);
  });

  it("quotes the savings range rounded to $k and the spend, from the input only", () => {
    const { body } = templateEmail(hotelInput);
    expect(body).toContain("about $149k a year on utilities across 3 sites");
    expect(body).toContain("roughly $6k to $22k a year");
  });

  it("passes the writer's own validation for varied and hostile companies", () => {
    for (let i = 0; i < 200; i++) {
      const input = varied(i);
      const result = validateAnswer(JSON.stringify(templateEmail(input)), input);
      expect(Either.isRight(result) ? [] : result.left, `company ${i}`).toEqual([]);
    }
  });

  it("keeps the subject on one line even for a company name with CR/LF", () => {
    const { subject } = templateEmail(withCompany(hotelInput, { name: HOSTILE_NAME }));
    expect(subject).not.toMatch(/[\r\n]/);
  });

  it("answers as a backend with the same JSON an LLM is asked for", async () => {
    const raw = await Effect.runPromise(templateBackend.complete({ input: hotelInput, attempt: 1 }));
    expect(JSON.parse(raw)).toEqual(templateEmail(hotelInput));
    expect(templateBackend.model).toBeNull();
  });
});
