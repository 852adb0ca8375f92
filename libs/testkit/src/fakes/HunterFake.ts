import { type FakeReply, type RecordedRequest, startFakeHttpServer } from "./FakeHttpServer.js";
import { FAKE_SURNAMES, type ProviderFake, seeded } from "./ProviderFake.js";

/** One address as Hunter's domain search returns it. */
export interface FakeHunterEmail {
  readonly value: string;
  readonly type: "personal" | "generic";
  readonly confidence: number;
  readonly sources: ReadonlyArray<{
    readonly domain: string;
    readonly uri: string;
    readonly extracted_on: string;
    readonly last_seen_on: string;
    readonly still_on_page: boolean;
  }>;
  readonly first_name: string | null;
  readonly last_name: string | null;
  readonly position: string | null;
  readonly seniority: string | null;
  readonly department: string | null;
  readonly linkedin: string | null;
  readonly twitter: string | null;
  readonly phone_number: string | null;
  readonly verification: { readonly date: string | null; readonly status: string | null };
}

export interface HunterFakeOptions {
  /** The only key accepted (as `api_key`, `X-API-KEY` or Bearer). Default `test-hunter-key`. */
  readonly apiKey?: string;
  /** Fixed addresses per domain; a domain mapped to `[]` has none. */
  readonly domains?: Readonly<Record<string, ReadonlyArray<FakeHunterEmail>>>;
  /** Generate addresses for domains not in `domains` (default true); else they have none. */
  readonly generate?: boolean;
  /** Enforce a request rate, answering Hunter's 403 rate-limit error when exceeded. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs?: number };
}

export interface HunterFake extends ProviderFake {
  readonly apiKey: string;
  /** Sets a domain's addresses. */
  readonly setDomain: (domain: string, emails: ReadonlyArray<FakeHunterEmail>) => void;
  /** The next `times` calls answer 429: the month's plan is used up. */
  readonly quotaExhaustedNext: (times?: number) => void;
  /** The `domain` of each domain search that got past the key check, in order. */
  readonly domainsSearched: () => ReadonlyArray<string>;
  /** Credits spent: one per 10 addresses returned, none for an empty answer. */
  readonly creditsUsed: () => number;
}

const hunterError = (status: number, id: string, details: string): FakeReply => ({
  status,
  json: { errors: [{ id, code: status, details }] },
});

/** Hunter answers too many requests per second (or minute) with a 403. */
const RATE_LIMITED = {
  errors: [
    { id: "too_many_requests", code: 403, details: "You have reached the rate limit. Please slow down." },
  ],
};

const PLAN_USED_UP = {
  errors: [
    {
      id: "too_many_requests",
      code: 429,
      details: "You have reached your usage limit. Upgrade your plan if necessary.",
    },
  ],
};

/** Fills in the fields a test does not care about. */
export const fakeHunterEmail = (
  fields: Partial<FakeHunterEmail> & { readonly value: string },
): FakeHunterEmail => {
  const domain = fields.value.split("@")[1] ?? "example.com";
  return {
    type: "personal",
    confidence: 90,
    sources: [
      {
        domain,
        uri: `https://${domain}/about`,
        extracted_on: "2024-03-01",
        last_seen_on: "2025-01-15",
        still_on_page: true,
      },
    ],
    first_name: null,
    last_name: null,
    position: null,
    seniority: null,
    department: null,
    linkedin: null,
    twitter: null,
    phone_number: null,
    verification: { date: "2025-01-20", status: "valid" },
    ...fields,
  };
};

const FIRST_NAMES = [
  "Alice",
  "Brian",
  "Carmen",
  "Derek",
  "Elena",
  "Frank",
  "Grace",
  "Hector",
  "Irene",
  "Jamal",
];
const POSITIONS: ReadonlyArray<readonly [string, string, string]> = [
  ["Facilities Manager", "senior", "operations"],
  ["Controller", "senior", "finance"],
  ["Marketing Coordinator", "junior", "marketing"],
  ["Owner", "executive", "executive"],
  ["Sales Representative", "junior", "sales"],
];

/** Plausible addresses for a domain, the same on every run: a few people and an `info@`. */
export const generateHunterEmails = (domain: string): ReadonlyArray<FakeHunterEmail> => {
  const rand = seeded(`hunter|${domain}`);
  const count = 2 + Math.floor(rand() * 3);
  const people = Array.from({ length: count }, (_, i) => {
    const first = FIRST_NAMES[Math.floor(rand() * FIRST_NAMES.length)] ?? "Alex";
    const last = FAKE_SURNAMES[Math.floor(rand() * FAKE_SURNAMES.length)] ?? "Smith";
    const [position, seniority, department] = POSITIONS[(i + Math.floor(rand() * 2)) % POSITIONS.length] ?? [
      null,
      null,
      null,
    ];
    return fakeHunterEmail({
      value: `${first}.${last}@${domain}`.toLowerCase(),
      confidence: 70 + Math.floor(rand() * 29),
      first_name: first,
      last_name: last,
      position,
      seniority,
      department,
      linkedin: `https://www.linkedin.com/in/${first}-${last}-${Math.floor(rand() * 1000)}`.toLowerCase(),
    });
  });
  const info = fakeHunterEmail({
    value: `info@${domain}`,
    type: "generic",
    confidence: 95,
    department: "support",
  });
  return [...people, info];
};

/**
 * A fake of Hunter's domain search (`GET /v2/domain-search`): key as `api_key`, `X-API-KEY` or
 * Bearer; `domain`/`company`, `type`, `limit` (≤ 100), `offset`; `{data, meta}` answers and
 * `{errors: [{id, code, details}]}` errors (401 bad key, 400 bad params, 403 rate limit, 429 plan
 * used up).
 */
export const startHunterFake = async (options: HunterFakeOptions = {}): Promise<HunterFake> => {
  const apiKey = options.apiKey ?? "test-hunter-key";
  const server = await startFakeHttpServer({
    ...(options.rateLimit
      ? { rateLimit: { ...options.rateLimit, reply: { status: 403, json: RATE_LIMITED } } }
      : {}),
    notFound: hunterError(404, "not_found", "The requested route does not exist."),
  });
  const domains = new Map<string, ReadonlyArray<FakeHunterEmail>>(
    Object.entries(options.domains ?? {}).map(([d, e]) => [d.toLowerCase(), e]),
  );
  const searched: Array<string> = [];
  let credits = 0;

  const keyOf = (req: RecordedRequest): string | undefined => {
    const header = req.headers["x-api-key"];
    const bearer = req.headers.authorization?.replace(/^Bearer\s+/i, "");
    return req.query.get("api_key") ?? (typeof header === "string" ? header : undefined) ?? bearer;
  };

  const handle = (req: RecordedRequest): FakeReply => {
    const key = keyOf(req);
    if (key === undefined || key === "") {
      return hunterError(401, "authentication_failed", "You are missing the api_key parameter");
    }
    if (key !== apiKey)
      return hunterError(401, "authentication_failed", "No user found for the API key supplied");
    const domain = (req.query.get("domain") ?? "").trim().toLowerCase();
    const company = req.query.get("company");
    if (domain === "" && (company === null || company.trim() === "")) {
      return hunterError(400, "wrong_params", "You are missing the domain parameter");
    }
    const type = req.query.get("type");
    if (type !== null && type !== "personal" && type !== "generic") {
      return hunterError(400, "wrong_params", "The type must be either personal or generic");
    }
    const limit = Number(req.query.get("limit") ?? 10);
    const offset = Number(req.query.get("offset") ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return hunterError(400, "pagination_error", "The limit must be between 1 and 100");
    }
    if (!Number.isInteger(offset) || offset < 0) {
      return hunterError(400, "pagination_error", "The offset must be a positive number");
    }
    const target = domain !== "" ? domain : `${(company ?? "").toLowerCase().replace(/[^a-z0-9]+/g, "")}.com`;
    searched.push(target);
    const known = domains.get(target) ?? (options.generate === false ? [] : generateHunterEmails(target));
    const matching = known.filter((e) => type === null || e.type === type);
    const page = matching.slice(offset, offset + limit);
    credits += Math.ceil(page.length / 10);
    const organization = target.split(".")[0] ?? target;
    return {
      status: 200,
      json: {
        data: {
          domain: target,
          disposable: false,
          webmail: false,
          accept_all: false,
          pattern: matching.length > 0 ? "{first}.{last}" : null,
          organization: organization.charAt(0).toUpperCase() + organization.slice(1),
          description: null,
          industry: null,
          twitter: null,
          facebook: null,
          linkedin: null,
          instagram: null,
          youtube: null,
          technologies: [],
          country: "US",
          state: null,
          city: null,
          postal_code: null,
          street: null,
          headcount: "11-50",
          company_type: "privately held",
          emails: page,
          linked_domains: [],
        },
        meta: {
          results: matching.length,
          limit,
          offset,
          params: { domain: domain || null, company, type, seniority: null, department: null },
        },
      },
    };
  };

  server.route("GET", "/v2/domain-search", handle);
  return {
    server,
    url: server.url,
    apiKey,
    setDomain: (domain, emails) => {
      domains.set(domain.toLowerCase(), emails);
    },
    rateLimitNext: (times = 1, retryAfterSeconds) =>
      server.inject(
        {
          type: "status",
          status: 403,
          ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}),
          json: RATE_LIMITED,
        },
        times,
      ),
    quotaExhaustedNext: (times = 1) =>
      server.inject({ type: "status", status: 429, json: PLAN_USED_UP }, times),
    serverErrorNext: (times = 1) =>
      server.inject(
        {
          type: "status",
          status: 500,
          json: {
            errors: [{ id: "internal_error", code: 500, details: "Something went wrong on our end." }],
          },
        },
        times,
      ),
    malformedNext: (times = 1) => server.inject({ type: "malformed" }, times),
    calls: () => server.requests.filter((r) => r.path === "/v2/domain-search").length,
    domainsSearched: () => searched,
    creditsUsed: () => credits,
    close: server.close,
  };
};
