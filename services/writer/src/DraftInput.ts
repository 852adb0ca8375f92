/** Everything the writer needs about one approved company; assembled by the caller from the database. */
export interface DraftInput {
  readonly companyId: string;
  readonly company: {
    readonly name: string;
    readonly industry: string;
    readonly city: string | null;
    readonly state: string | null;
    readonly website: string | null;
  };
  readonly contact: {
    readonly fullName: string | null;
    readonly firstName: string | null;
    readonly title: string | null;
    readonly email: string;
  } | null;
  /** The analyst's estimate; money in whole USD per year, price in USD per kWh. */
  readonly features: {
    readonly annualUtilitySpend: number;
    readonly savingsLow: number;
    readonly savingsMid: number;
    readonly savingsHigh: number;
    readonly sites: number;
    readonly electricityPriceKwh: number;
    readonly industryKey: string;
  };
  readonly score: {
    readonly score: number;
    readonly tier: "high" | "medium" | "low";
    readonly reasons: ReadonlyArray<{ factor: string; points: number; detail: string }>;
  };
  readonly sender: {
    readonly name: string;
    readonly company: string;
    readonly email: string;
    /** Printed in every email's footer (CAN-SPAM). */
    readonly postalAddress: string;
    /** When null the footer carries `UNSUBSCRIBE_URL_PLACEHOLDER` for the sender to fill per recipient. */
    readonly unsubscribeUrl: string | null;
  };
}

/** A finished draft: what `email_drafts` stores and a reviewer approves. */
export interface Draft {
  readonly subject: string;
  /** The plain-text part as sent: body, signature and footer. */
  readonly bodyText: string;
  /** The HTML part as sent (MJML-rendered), same content as `bodyText`. */
  readonly bodyHtml: string;
  readonly backend: "ollama" | "openai" | "template";
  /** True when the configured LLM failed and the template writer stood in. */
  readonly isFallback: boolean;
  /** Why the LLM's answer was not used (null unless `isFallback`). */
  readonly fallbackReason: string | null;
  /** The LLM model that wrote it; null for the template writer. */
  readonly model: string | null;
}

/** The email as written, before rendering: one-line subject and a plain-text body without signature. */
export interface EmailContent {
  readonly subject: string;
  readonly body: string;
}
