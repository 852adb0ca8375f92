import { describe, expect, it } from "vitest";
import type { DraftInput } from "../src/DraftInput.js";
import { allowedFigures } from "../src/Figures.js";
import { buildPrompt, emailAnswerJsonSchema } from "../src/Prompt.js";
import { HOSTILE_NAME, hotelInput, withCompany } from "./inputs.js";

const userOf = (input: DraftInput) => buildPrompt(input).find((m) => m.role === "user")?.content ?? "";
const systemOf = (input: DraftInput) => buildPrompt(input).find((m) => m.role === "system")?.content ?? "";

describe("buildPrompt", () => {
  it("gives the model exactly the figures the validator allows", () => {
    const user = userOf(hotelInput);
    for (const figure of ["$6k", "$12k", "$22k", "$149k", "4%", "8%", "15%", "$0.13/kWh"]) {
      expect(user).toContain(figure);
    }
    expect(user).toContain("number of sites: 3");
    const listed = user.split("\n").filter((l) => l.startsWith("- ") && l.includes(": "));
    expect(listed).toEqual(allowedFigures(hotelInput).map((f) => `- ${f.label}: ${f.display}`));
  });

  it("leaves out numbers the email may not use: the score and reasons quoting figures", () => {
    const user = userOf(hotelInput);
    expect(user).not.toContain("82");
    expect(user).not.toContain("148,765");
    expect(user).toContain("energy-intensive industry");
    expect(user).toContain('"spend"');
  });

  it("names the company, the contact to greet and the sender, and asks for JSON {subject, body}", () => {
    const user = userOf(hotelInput);
    const system = systemOf(hotelInput);
    expect(user).toContain('"company": "Lakeside Hotel"');
    expect(user).toContain('"greet_as": "Jane"');
    expect(user).toContain("Jane Doe, CFO");
    expect(system).toContain("Sam Lee of Brightline Utility Audits");
    expect(system).toContain("contingency fee");
    expect(system).toContain("at most 120 words");
    expect(system).toMatch(/JSON object/);
    expect(system).toMatch(/no placeholders/);
    expect(system).toMatch(/No HTML/);
  });

  it("asks for a neutral greeting when there is no contact", () => {
    expect(userOf({ ...hotelInput, contact: null })).toContain("use a neutral greeting");
  });

  it("passes scraped text as one-line data", () => {
    const user = userOf(withCompany(hotelInput, { name: HOSTILE_NAME }));
    expect(user).toContain('"company": "ACME Bcc: x@y <script>alert(1)</script>"');
    expect(user).not.toContain("\r");
  });

  it("the answer schema is {subject, body}, both required strings", () => {
    expect(emailAnswerJsonSchema).toEqual({
      type: "object",
      required: ["subject", "body"],
      properties: { subject: { type: "string" }, body: { type: "string" } },
      additionalProperties: false,
    });
  });
});
