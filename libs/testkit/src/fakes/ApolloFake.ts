import { type FakeReply, type RecordedRequest, startFakeHttpServer } from "./FakeHttpServer.js";
import { FAKE_SURNAMES, type ProviderFake, seeded } from "./ProviderFake.js";

/** A person as Apollo's People Enrichment (`/people/match`) returns one. */
export interface FakeApolloPerson {
  readonly id: string;
  readonly first_name: string;
  readonly last_name: string;
  readonly name: string;
  readonly title: string | null;
  /** The work email; `null` when Apollo has none. */
  readonly email: string | null;
  readonly email_status: "verified" | "unverified" | "likely to engage" | "unavailable" | null;
  readonly linkedin_url: string | null;
  readonly seniority: string | null;
  readonly departments: ReadonlyArray<string>;
  readonly city: string | null;
  readonly state: string | null;
  readonly country: string | null;
  readonly organization: {
    readonly id: string;
    readonly name: string;
    readonly website_url: string;
    readonly primary_domain: string;
  };
}

export interface ApolloFakeOptions {
  /** The only key accepted (`x-api-key`). Default `test-apollo-key`. */
  readonly apiKey?: string;
  /** Keys of a free plan: valid, but the endpoints answer 403 API_INACCESSIBLE. */
  readonly freePlanKeys?: ReadonlyArray<string>;
  /** Fixed people per organisation domain; a domain mapped to `[]` has none. */
  readonly people?: Readonly<Record<string, ReadonlyArray<FakeApolloPerson>>>;
  /** Generate people for domains not in `people` (default true); else they have none. */
  readonly generate?: boolean;
  /** Enforce a request rate, answering Apollo's 429 when exceeded. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs?: number };
}

export interface ApolloFake extends ProviderFake {
  readonly apiKey: string;
  readonly setPeople: (domain: string, people: ReadonlyArray<FakeApolloPerson>) => void;
  /** The parameters (query string and JSON body merged, `[]` dropped from names) of each search. */
  readonly searches: () => ReadonlyArray<Readonly<Record<string, unknown>>>;
  /** The parameters of each match. */
  readonly matches: () => ReadonlyArray<Readonly<Record<string, unknown>>>;
  /** Credits spent: one per match that returned an email. */
  readonly creditsUsed: () => number;
  /** Search calls that got past the key check. */
  readonly searchCalls: () => number;
  /** Match calls that got past the key check. */
  readonly matchCalls: () => number;
}

const SEARCH = "/api/v1/mixed_people/api_search";
const MATCH = "/api/v1/people/match";
const PER_MINUTE = 200;

const apolloError = (status: number, error: string, code?: string): FakeReply => ({
  status,
  json: { error, ...(code !== undefined ? { error_code: code } : {}) },
});

const tooMany = (path: string) => ({
  message: `The maximum number of api calls allowed for ${path.replace(/^\//, "")} is ${PER_MINUTE} times per minute. Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade.`,
});

/** Fills in the fields a test does not care about. */
export const fakeApolloPerson = (
  fields: Partial<FakeApolloPerson> & {
    readonly first_name: string;
    readonly last_name: string;
    readonly domain: string;
  },
): FakeApolloPerson => {
  const { domain, ...rest } = fields;
  const orgName = (domain.split(".")[0] ?? domain).replace(/^\w/, (c) => c.toUpperCase());
  const slug = `${fields.first_name}${fields.last_name}${domain}`.toLowerCase().replace(/[^a-z0-9]/g, "");
  return {
    id: `5f${slug.slice(0, 20).padEnd(20, "0")}`,
    name: `${fields.first_name} ${fields.last_name}`,
    title: null,
    email: `${fields.first_name}.${fields.last_name}@${domain}`.toLowerCase(),
    email_status: "verified",
    linkedin_url: `http://www.linkedin.com/in/${fields.first_name}-${fields.last_name}`.toLowerCase(),
    seniority: null,
    departments: [],
    city: "Buffalo",
    state: "New York",
    country: "United States",
    organization: {
      id: `54${slug.slice(0, 20).padEnd(20, "0")}`,
      name: orgName,
      website_url: `http://www.${domain}`,
      primary_domain: domain,
    },
    ...rest,
  };
};

const FIRST_NAMES = ["Maria", "James", "Priya", "Tom", "Sofia", "Kevin", "Laura", "Omar", "Nina", "Paul"];
const TITLES = [
  "Director of Facilities",
  "Chief Financial Officer",
  "Operations Manager",
  "Owner",
  "Office Manager",
  "Plant Manager",
];

/** Plausible people for a domain, the same on every run. */
export const generateApolloPeople = (domain: string): ReadonlyArray<FakeApolloPerson> => {
  const rand = seeded(`apollo|${domain}`);
  const count = 2 + Math.floor(rand() * 3);
  return Array.from({ length: count }, (_, i) =>
    fakeApolloPerson({
      domain,
      first_name: FIRST_NAMES[Math.floor(rand() * FIRST_NAMES.length)] ?? "Sam",
      last_name: FAKE_SURNAMES[(i * 3 + Math.floor(rand() * 5)) % FAKE_SURNAMES.length] ?? "Lee",
      title: TITLES[Math.floor(rand() * TITLES.length)] ?? "Owner",
      email_status: rand() < 0.8 ? "verified" : "likely to engage",
    }),
  );
};

/** `Doe` → `Do***e`, as the search shows last names. */
const obfuscate = (last: string): string =>
  last.length <= 2 ? `${last.charAt(0)}***` : `${last.slice(0, 2)}***${last.slice(-1)}`;

const words = (s: string): ReadonlyArray<string> =>
  s
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== "");

/** A title filter matches when all its words are in the person's title (Apollo also matches similar titles). */
const titleMatches = (title: string | null, wanted: ReadonlyArray<string>): boolean => {
  if (wanted.length === 0) return true;
  const have = new Set(words(title ?? ""));
  return wanted.some((w) => {
    const ws = words(w);
    return ws.length > 0 && ws.every((x) => have.has(x));
  });
};

/** Query string and JSON body as one parameter object; `name[]` becomes `name` with an array. */
const paramsOf = (req: RecordedRequest): Record<string, unknown> | string => {
  const params: Record<string, unknown> = {};
  for (const [k, v] of req.query) {
    if (k.endsWith("[]")) {
      const key = k.slice(0, -2);
      params[key] = [...((params[key] as Array<string> | undefined) ?? []), v];
    } else {
      params[k] = v;
    }
  }
  if (req.body.trim() !== "") {
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      return "Invalid JSON in request body";
    }
    if (body !== null && typeof body === "object") {
      for (const [k, v] of Object.entries(body)) params[k.endsWith("[]") ? k.slice(0, -2) : k] = v;
    }
  }
  return params;
};

const list = (v: unknown): ReadonlyArray<string> =>
  Array.isArray(v) ? v.map(String) : typeof v === "string" && v !== "" ? [v] : [];

const toSearchPerson = (p: FakeApolloPerson) => ({
  id: p.id,
  first_name: p.first_name,
  last_name_obfuscated: obfuscate(p.last_name),
  title: p.title,
  last_refreshed_at: "2025-01-10T08:00:00.000+00:00",
  has_email: p.email !== null,
  has_city: p.city !== null,
  has_state: p.state !== null,
  has_country: p.country !== null,
  has_direct_phone: "Maybe: please request direct dial via people/bulk_match",
  organization: {
    name: p.organization.name,
    has_industry: true,
    has_phone: true,
    has_city: true,
    has_state: true,
    has_country: true,
    has_zip_code: true,
    has_revenue: false,
    has_employee_count: true,
  },
});

const toMatchedPerson = (p: FakeApolloPerson) => ({
  id: p.id,
  first_name: p.first_name,
  last_name: p.last_name,
  name: p.name,
  linkedin_url: p.linkedin_url,
  title: p.title,
  email_status: p.email_status,
  photo_url: null,
  twitter_url: null,
  github_url: null,
  facebook_url: null,
  extrapolated_email_confidence: null,
  headline: p.title,
  email: p.email,
  organization_id: p.organization.id,
  employment_history: [],
  state: p.state,
  city: p.city,
  country: p.country,
  departments: p.departments,
  subdepartments: [],
  seniority: p.seniority,
  functions: [],
  organization: { ...p.organization, phone: null },
  is_likely_to_engage: p.email_status === "likely to engage",
});

/**
 * A fake of Apollo's People API Search (`POST /api/v1/mixed_people/api_search`: no emails,
 * obfuscated last names) and People Enrichment (`POST /api/v1/people/match` by `id`, email or
 * name + domain): `x-api-key`, parameters as query string or JSON body, `x-rate-limit-*` headers,
 * and Apollo's error bodies (401 bad key, 403 free plan, 422 bad parameters, 429 over the limit).
 */
export const startApolloFake = async (options: ApolloFakeOptions = {}): Promise<ApolloFake> => {
  const apiKey = options.apiKey ?? "test-apollo-key";
  const server = await startFakeHttpServer({
    ...(options.rateLimit
      ? { rateLimit: { ...options.rateLimit, reply: { status: 429, json: tooMany(SEARCH) } } }
      : {}),
    notFound: apolloError(404, "The page you were looking for doesn't exist."),
  });
  const people = new Map<string, ReadonlyArray<FakeApolloPerson>>(
    Object.entries(options.people ?? {}).map(([d, p]) => [d.toLowerCase(), p]),
  );
  const searches: Array<Record<string, unknown>> = [];
  const matches: Array<Record<string, unknown>> = [];
  let credits = 0;
  let used = 0;

  const peopleAt = (domain: string): ReadonlyArray<FakeApolloPerson> =>
    people.get(domain) ?? (options.generate === false ? [] : generateApolloPeople(domain));

  const withLimits = (reply: FakeReply): FakeReply => {
    used++;
    const left = String(Math.max(0, PER_MINUTE - used));
    return {
      ...reply,
      headers: {
        "x-rate-limit-minute": String(PER_MINUTE),
        "x-minute-requests-left": left,
        "x-rate-limit-hourly": String(PER_MINUTE * 30),
        "x-hourly-requests-left": String(Math.max(0, PER_MINUTE * 30 - used)),
        "x-rate-limit-24-hour": String(PER_MINUTE * 100),
        "x-24-hour-requests-left": String(Math.max(0, PER_MINUTE * 100 - used)),
        ...reply.headers,
      },
    };
  };

  const authorise = (req: RecordedRequest, path: string): FakeReply | undefined => {
    const key = req.headers["x-api-key"];
    if (typeof key !== "string" || key === "") {
      return apolloError(
        401,
        "You did not provide an API key. Please add the x-api-key header.",
        "API_KEY_MISSING",
      );
    }
    if (options.freePlanKeys?.includes(key)) {
      return apolloError(
        403,
        `${path.replace(/^\//, "")} is not accessible with this api_key on a free plan. Please upgrade your plan from https://app.apollo.io/.`,
        "API_INACCESSIBLE",
      );
    }
    if (key !== apiKey) return apolloError(401, "Invalid access credentials.", "INVALID_API_KEY");
    return undefined;
  };

  const search = (req: RecordedRequest): FakeReply => {
    const denied = authorise(req, SEARCH);
    if (denied !== undefined) return denied;
    const params = paramsOf(req);
    if (typeof params === "string") return apolloError(400, params);
    searches.push(params);
    const perPage = Number(params.per_page ?? 10);
    const page = Number(params.page ?? 1);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) {
      return apolloError(422, "per_page must be between 1 and 100");
    }
    if (!Number.isInteger(page) || page < 1 || page > 500)
      return apolloError(422, "page must be between 1 and 500");
    const domains = list(params.q_organization_domains_list).map((d) => d.trim().toLowerCase());
    const titles = list(params.person_titles);
    const found = domains.flatMap(peopleAt).filter((p) => titleMatches(p.title, titles));
    const slice = found.slice((page - 1) * perPage, page * perPage);
    return withLimits({
      status: 200,
      json: {
        total_entries: found.length,
        pagination: {
          page,
          per_page: perPage,
          total_entries: found.length,
          total_pages: Math.ceil(found.length / perPage),
        },
        people: slice.map(toSearchPerson),
      },
    });
  };

  const match = (req: RecordedRequest): FakeReply => {
    const denied = authorise(req, MATCH);
    if (denied !== undefined) return denied;
    const params = paramsOf(req);
    if (typeof params === "string") return apolloError(400, params);
    matches.push(params);
    if (String(params.reveal_phone_number) === "true" && !params.webhook_url) {
      return apolloError(400, "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number'");
    }
    const id = typeof params.id === "string" ? params.id : null;
    const email = typeof params.email === "string" ? params.email.toLowerCase() : null;
    const domain = typeof params.domain === "string" ? params.domain.toLowerCase() : null;
    const name =
      typeof params.name === "string"
        ? params.name.toLowerCase()
        : typeof params.first_name === "string" && typeof params.last_name === "string"
          ? `${params.first_name} ${params.last_name}`.toLowerCase()
          : null;
    if (id === null && email === null && (name === null || domain === null)) {
      return apolloError(
        422,
        "Please provide an id, an email, or a name together with a domain or organization_name",
      );
    }
    const everyone = [...people.values()].flat();
    const person =
      (id !== null ? everyone.find((p) => p.id === id) : undefined) ??
      (email !== null ? everyone.find((p) => p.email?.toLowerCase() === email) : undefined) ??
      (name !== null && domain !== null
        ? peopleAt(domain).find((p) => p.name.toLowerCase() === name)
        : undefined) ??
      // ids of generated people: look through the domains searched so far
      (id !== null
        ? searches
            .flatMap((s) => list(s.q_organization_domains_list))
            .flatMap((d) => peopleAt(d.toLowerCase()))
            .find((p) => p.id === id)
        : undefined);
    if (person === undefined) return withLimits({ status: 200, json: { person: null } });
    if (person.email !== null) credits++;
    return withLimits({ status: 200, json: { person: toMatchedPerson(person) } });
  };

  server.route("POST", SEARCH, search);
  server.route("POST", MATCH, match);
  return {
    server,
    url: server.url,
    apiKey,
    setPeople: (domain, list) => {
      people.set(domain.toLowerCase(), list);
    },
    searches: () => searches,
    matches: () => matches,
    creditsUsed: () => credits,
    searchCalls: () => searches.length,
    matchCalls: () => matches.length,
    rateLimitNext: (times = 1, retryAfterSeconds) =>
      server.inject(
        {
          type: "status",
          status: 429,
          ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}),
          json: tooMany(SEARCH),
        },
        times,
      ),
    serverErrorNext: (times = 1) =>
      server.inject(
        { type: "status", status: 500, json: { error: "Something went wrong. Please try again later." } },
        times,
      ),
    malformedNext: (times = 1) => server.inject({ type: "malformed" }, times),
    calls: () => server.requests.filter((r) => r.path === SEARCH || r.path === MATCH).length,
    close: server.close,
  };
};
