import type { DraftInput } from "../src/DraftInput.js";

/** A hotel with 3 sites: savings $6k–$22k (mid $12k) of $149k spend, $0.13/kWh. */
export const hotelInput: DraftInput = {
  companyId: "company-0001",
  company: {
    name: "Lakeside Hotel",
    industry: "Hotel",
    city: "Buffalo",
    state: "NY",
    website: "https://www.lakesidehotel.example/",
  },
  contact: { fullName: "Jane Doe", firstName: "Jane", title: "CFO", email: "jane@lakesidehotel.example" },
  features: {
    annualUtilitySpend: 148_765,
    savingsLow: 5_951,
    savingsMid: 11_901,
    savingsHigh: 22_315,
    sites: 3,
    electricityPriceKwh: 0.13,
    industryKey: "hotel",
  },
  score: {
    score: 82,
    tier: "high",
    reasons: [
      { factor: "spend", points: 30, detail: "estimated spend $148,765 a year" },
      { factor: "industry", points: 25, detail: "energy-intensive industry" },
      { factor: "sites", points: 10, detail: "multi-site operator" },
    ],
  },
  sender: {
    name: "Sam Lee",
    company: "Brightline Utility Audits",
    email: "sam@brightline.example",
    postalAddress: "1200 Main St, Suite 200\nBuffalo, NY 14201",
    unsubscribeUrl: null,
  },
};

export const withCompany = (
  input: DraftInput,
  company: Partial<DraftInput["company"]>,
  id?: string,
): DraftInput => ({
  ...input,
  companyId: id ?? input.companyId,
  company: { ...input.company, ...company },
});

export const HOSTILE_NAME = "ACME\r\nBcc: x@y <script>alert(1)</script>";

/** `{subject, body}` as a model would answer, JSON-encoded. */
export const answer = (subject: string, body: string): string => JSON.stringify({ subject, body });

/** A good answer for `hotelInput`, quoting only its figures. */
export const GOOD_ANSWER = answer(
  "Lakeside Hotel: utility bills across your 3 sites",
  "Hi Jane,\n\nFrom public data we estimate Lakeside Hotel spends about $149k a year on utilities, " +
    "and that an audit could save roughly $6k to $22k of it, about 4-15%.\n\n" +
    "We work on contingency, so our fee only comes out of savings we actually find.\n\n" +
    "Would you be open to a 15-minute call next week?",
);
