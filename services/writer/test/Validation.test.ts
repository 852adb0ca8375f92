import { Either } from "effect";
import { describe, expect, it } from "vitest";
import {
  checkFigures,
  extractNumbers,
  parseAnswer,
  validateAnswer,
  validateEmail,
} from "../src/Validation.js";
import { answer, GOOD_ANSWER, hotelInput, withCompany } from "./inputs.js";

const reasonsOf = (raw: string, input = hotelInput): ReadonlyArray<string> =>
  Either.match(validateAnswer(raw, input), { onLeft: (r) => r, onRight: () => [] });

const body = (text: string) =>
  `Hi Jane,\n\nWe audit utility bills for hotels on contingency. ${text}\n\nWould you be open to a short call?`;

const figureReasons = (text: string) => checkFigures(text, hotelInput);

describe("parseAnswer", () => {
  it("accepts plain JSON, fenced JSON and JSON with chatter around it", () => {
    const json = answer("A good subject", "A body that is long enough to pass the checks, surely.");
    for (const raw of [
      json,
      `\`\`\`json\n${json}\n\`\`\``,
      `\`\`\`\n${json}\n\`\`\``,
      `Sure! Here it is:\n${json}\nHope it helps.`,
    ]) {
      expect(Either.isRight(parseAnswer(raw))).toBe(true);
    }
  });

  it("refuses empty, garbage, non-objects and missing fields, saying why", () => {
    expect(Either.getLeft(parseAnswer("   ")).pipe((o) => o._tag === "Some" && o.value)).toEqual([
      "empty answer",
    ]);
    expect(reasonsOf("I'm sorry, I can't help with that.")[0]).toMatch(/^answer is not JSON/);
    expect(reasonsOf("[1, 2]")).toEqual(["answer is not a JSON object"]);
    expect(reasonsOf(JSON.stringify({ subject: "Hello there" }))).toEqual(["body missing"]);
    expect(reasonsOf(JSON.stringify({ subject: 3, body: "" }))).toEqual(["subject missing", "body missing"]);
  });
});

describe("validateEmail: shape", () => {
  it("accepts a good answer", () => {
    expect(reasonsOf(GOOD_ANSWER)).toEqual([]);
  });

  it("subject: 5–120 characters, one line, no control characters", () => {
    expect(reasonsOf(answer("Hi", body("")))).toEqual(["subject is 2 characters (allowed 5–120)"]);
    expect(reasonsOf(answer("s".repeat(121), body("")))).toEqual([
      "subject is 121 characters (allowed 5–120)",
    ]);
    expect(reasonsOf(answer("Utility bills\r\nBcc: a@b.example", body("")))).toContain(
      "subject has a line break",
    );
    expect(reasonsOf(answer("Utility\u0000 bills", body("")))).toContain("subject has control characters");
  });

  it("body: 40–2,000 characters", () => {
    expect(reasonsOf(answer("A fine subject", "Too short."))).toEqual([
      "body is 10 characters (allowed 40–2000)",
    ]);
    expect(reasonsOf(answer("A fine subject", "word ".repeat(500)))[0]).toMatch(/^body is 2499 characters/);
  });

  it.each([
    ["[Name]", "Hi [Name],", "bracketed placeholder"],
    ["[Company]", "at [Company] we", "bracketed placeholder"],
    ["{{first_name}}", "Hi {{first_name}},", "template placeholder"],
    ["{company}", "at {company} we", "template placeholder"],
    ["<Name>", "Hi <Name>,", "HTML tag or <placeholder>"],
    ["<b>", "<b>Hello</b>", "HTML tag or <placeholder>"],
    ["XXX", "savings of $XXX", "XXX placeholder"],
    ["&nbsp;", "Hello&nbsp;there", "HTML entity"],
    ["Markdown", "**Big savings** ahead", "Markdown formatting"],
  ])("refuses a leftover %s", (_label, text, reason) => {
    const reasons = reasonsOf(answer("A fine subject", body(text)));
    expect(reasons.some((r) => r.startsWith(reason))).toBe(true);
  });

  it("refuses spam phrases", () => {
    expect(reasonsOf(answer("A fine subject", body("Act now: this is risk-free!")))).toEqual([
      'spam phrase: "act now"',
      'spam phrase: "risk-free"',
    ]);
  });

  it("does not take the company's own brackets or digits for placeholders or figures", () => {
    const input = withCompany(hotelInput, { name: "Studio 54 <Downtown>" });
    const raw = answer(
      "Utility bills at Studio 54 <Downtown>",
      body("Studio 54 <Downtown> could save $6k to $22k."),
    );
    expect(reasonsOf(raw, input)).toEqual([]);
  });

  it("drops a sign-off the model added, since the renderer adds the signature", () => {
    const result = validateEmail(
      { subject: "A fine subject", body: `${body("")}\n\nBest regards,\nSam Lee\nBrightline Utility Audits` },
      hotelInput,
    );
    expect(Either.getOrThrow(result).body.endsWith("Would you be open to a short call?")).toBe(true);
  });
});

describe("extractNumbers", () => {
  const one = (text: string) => {
    const found = extractNumbers(text);
    expect(found).toHaveLength(1);
    return found[0];
  };

  it.each([
    ["$120k", "money", 120_000],
    ["$120,000", "money", 120_000],
    ["120 thousand dollars", "money", 120_000],
    ["USD 120,000", "money", 120_000],
    ["US$1.2M", "money", 1_200_000],
    ["$1.2 million", "money", 1_200_000],
    ["$5m", "money", 5_000_000],
    ["13 cents per kWh", "money", 0.13],
    ["13¢/kWh", "money", 0.13],
    ["$0.13/kWh", "money", 0.13],
    ["12%", "percent", 12],
    ["12 percent", "percent", 12],
    ["12 per cent", "percent", 12],
    ["fifteen percent", "percent", 15],
    ["twenty-five", "bare", 25],
    ["a hundred thousand", "bare", 100_000],
    ["2023", "bare", 2023],
    ["a 15-minute call", "duration", 15],
    ["10am", "time", 10],
    ["500 kWh", "energy", 500],
    ["3 sites", "sites", 3],
    ["two hotel locations", "sites", 2],
  ])("%s → %s %d", (text, kind, value) => {
    const n = one(text);
    expect(n?.kind).toBe(kind);
    expect(n?.value).toBeCloseTo(value, 6);
  });

  it("ranges share their unit and scale", () => {
    expect(extractNumbers("$12–23k").map((n) => [n.kind, n.value])).toEqual([
      ["money", 12_000],
      ["money", 23_000],
    ]);
    expect(extractNumbers("between 4 and 15 percent").map((n) => [n.kind, n.value])).toEqual([
      ["percent", 4],
      ["percent", 15],
    ]);
    // "$500–$2k" is not "$500k–$2k"
    expect(extractNumbers("$500–$2k").map((n) => n.value)).toEqual([500, 2_000]);
  });

  it("skips digits inside words (B2B, Q3)", () => {
    expect(extractNumbers("B2B sales in Q3")).toEqual([]);
  });

  it("records the precision a number was written with", () => {
    expect(one("$120k")?.halfUnit).toBe(5_000);
    expect(one("$123k")?.halfUnit).toBe(500);
    expect(one("$0.13")?.halfUnit).toBeCloseTo(0.005, 9);
  });
});

describe("checkFigures (hotel: savings $5,951 / $11,901 / $22,315, spend $148,765, 3 sites, $0.13/kWh)", () => {
  it.each([
    "save $6k to $22k a year",
    "save $5,951 to $22,315",
    "save roughly $6,000–$22,000",
    "save $6–22k",
    "a middle estimate of $12k",
    "about $11.9k",
    "spend of about $150k",
    "spend of $148,765",
    "$0.149 million in spend",
    "4% to 15% of spend",
    "4-15 percent",
    "about eight percent",
    "your 3 sites",
    "your three sites",
    "electricity at $0.13/kWh",
    "13 cents per kWh",
    "savings of 22,315 a year",
    "one of our clients",
    "a 15-minute call",
    "at 10am or 2:30",
    "write to 1200 Main St, Suite 200, Buffalo NY 14201",
  ])("accepts %j", (text) => {
    expect(figureReasons(text)).toEqual([]);
  });

  it.each([
    ["$250k", "an invented amount"],
    ["$100k in savings", "a rounding too far from $149k"],
    ["$30k a year", "above the high end"],
    ["20% of spend", "an invented share"],
    ["12% of spend", "a share between the allowed ones"],
    ["since 2015", "a year"],
    ["call me on (716) 555-0100", "a phone number"],
    ["we helped 40 hotels", "a client count"],
    ["500,000 kWh a year", "an energy figure"],
    ["your 4 sites", "the wrong site count"],
    ["$0.18/kWh", "another price"],
    ["a score of 82", "the internal lead score"],
    ["twenty-five percent", "a share in words"],
    ["two locations", "a site count in words"],
  ])("refuses %j (%s)", (text) => {
    expect(figureReasons(text).length).toBeGreaterThan(0);
  });

  it("names the figure and what was allowed", () => {
    expect(figureReasons("save $250k")[0]).toBe(
      'figure "$250k" is not in the company\'s data (allowed: $6k, $12k, $22k, $149k, 4%, 8%, 15%, 3, $0.13/kWh)',
    );
  });
});
