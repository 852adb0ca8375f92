import { type CountryCode, findPhoneNumbersInText, parsePhoneNumberFromString } from "libphonenumber-js/max";
import { type DefaultTreeAdapterTypes, parse } from "parse5";
import type { WebsiteEmail, WebsitePerson, WebsitePhone } from "./Website.js";

/**
 * Pure extraction of phones, emails, people and links from one HTML page. The page is hostile
 * input: it is parsed with parse5, walked without recursion (nesting depth is the author's
 * choice), and everything taken from it is cleaned and length-capped.
 */

type Node = DefaultTreeAdapterTypes.Node;
type Element = DefaultTreeAdapterTypes.Element;
type ParentNode = DefaultTreeAdapterTypes.ParentNode;

/** A same-page link, for choosing which pages to scan next. */
export interface PageLink {
  readonly url: string;
  readonly text: string;
}

/** What one page yielded. */
export interface PageFindings {
  readonly phones: ReadonlyArray<WebsitePhone>;
  readonly emails: ReadonlyArray<WebsiteEmail>;
  readonly people: ReadonlyArray<WebsitePerson>;
  readonly links: ReadonlyArray<PageLink>;
}

export interface ExtractOptions {
  /** Country for numbers written without a country code; undefined accepts only international ones. */
  readonly country: CountryCode | undefined;
  /**
   * Also read people from the layout (a name heading followed by a title line). Only for pages that
   * look like team/about/contact pages: elsewhere the heuristic finds more false names than people.
   */
  readonly peopleFromLayout: boolean;
}

/** Longest person name kept. */
const MAX_NAME = 100;
/** Longest job title kept. */
const MAX_TITLE = 150;

const MAX_PHONES = 20;
const MAX_EMAILS = 50;
const MAX_PEOPLE = 50;
const MAX_LINKS = 500;
const MAX_LINES = 5_000;
const MAX_JSON_LD = 20;
/** Characters of a page's text searched for phones and emails; real pages show far less. */
const TEXT_BUDGET = 200_000;
/** Headings and bold runs tried as names per page. */
const MAX_NAME_CANDIDATES = 1_000;

/** Subtrees whose text is code or not shown: never a source of phones, emails or names. */
const SKIP = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "svg",
  "math",
  "iframe",
  "object",
  "textarea",
  "head",
]);

/** Elements that end a line of text, so numbers in adjacent cells never run together. */
const BLOCK = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "br",
  "button",
  "caption",
  "dd",
  "div",
  "dl",
  "dt",
  "fieldset",
  "figcaption",
  "figure",
  "footer",
  "form",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "header",
  "hr",
  "li",
  "main",
  "nav",
  "ol",
  "option",
  "p",
  "pre",
  "section",
  "table",
  "tbody",
  "td",
  "tfoot",
  "th",
  "thead",
  "title",
  "tr",
  "ul",
]);

const isElement = (node: Node): node is Element => "tagName" in node;

const attr = (el: Element, name: string): string | undefined => el.attrs.find((a) => a.name === name)?.value;

const children = (node: Node): ReadonlyArray<Node> => ("childNodes" in node ? node.childNodes : []);

/** True for code points that must never reach a name, title or header: C0/C1 controls, bidi and zero-width marks. */
const isInvisible = (cp: number): boolean =>
  cp <= 0x1f ||
  (cp >= 0x7f && cp <= 0x9f) ||
  (cp >= 0x200b && cp <= 0x200f) ||
  cp === 0x2028 ||
  cp === 0x2029 ||
  (cp >= 0x202a && cp <= 0x202e) ||
  (cp >= 0x2060 && cp <= 0x2069) ||
  cp === 0xfeff;

/**
 * Replaces control, bidi and zero-width characters with spaces, collapses whitespace and caps the
 * length in code points (never splitting a surrogate pair).
 */
export const cleanText = (raw: string, max = 1_000): string => {
  let out = "";
  for (const ch of raw) out += isInvisible(ch.codePointAt(0)!) ? " " : ch;
  const collapsed = out.replace(/\s+/g, " ").trim();
  const points = Array.from(collapsed);
  return points.length <= max ? collapsed : points.slice(0, max).join("").trim();
};

/** Pre-order walk without recursion; `enter` returns false to skip a subtree. */
const walk = (root: Node, enter: (node: Node) => boolean, leave?: (el: Element) => void): void => {
  const stack: Array<{ node: Node; exit: boolean }> = [{ node: root, exit: false }];
  while (stack.length > 0) {
    const { node, exit } = stack.pop()!;
    if (exit) {
      leave?.(node as Element);
      continue;
    }
    if (!enter(node)) continue;
    if (leave !== undefined && isElement(node)) stack.push({ node, exit: true });
    const kids = children(node);
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i]!, exit: false });
  }
};

/**
 * Visible text under `root`, with a newline wherever a block element starts or ends. Stops
 * collecting after about `limit` characters, so asking for the text of every heading in a hostile
 * page nested 100,000 deep stays linear.
 */
const textOf = (root: Node, limit: number = TEXT_BUDGET): string => {
  const parts: Array<string> = [];
  let length = 0;
  walk(
    root,
    (node) => {
      if (length > limit) return false;
      if (node.nodeName === "#text") {
        // a newline in the source is only whitespace; lines end at block elements
        const text = (node as DefaultTreeAdapterTypes.TextNode).value.replace(/[\r\n\f]+/g, " ");
        length += text.length;
        parts.push(text);
        return false;
      }
      if (!isElement(node)) return node.nodeName === "#document" || node.nodeName === "#document-fragment";
      if (node !== root && SKIP.has(node.tagName)) return false;
      if (BLOCK.has(node.tagName)) parts.push("\n");
      return true;
    },
    (el) => {
      if (BLOCK.has(el.tagName)) parts.push("\n");
    },
  );
  return parts.join("");
};

const linesOf = (root: Node, limit: number = TEXT_BUDGET): ReadonlyArray<string> =>
  textOf(root, limit)
    .split("\n")
    .slice(0, MAX_LINES)
    .map((l) => cleanText(l, 2_000))
    .filter((l) => l !== "");

// ---------------------------------------------------------------------------------------------
// Phones and emails

/** Parses one written number; valid numbers only, with the page's country as the default. */
const parsePhone = (
  raw: string,
  country: CountryCode | undefined,
): { readonly e164: string; readonly national: string } | null => {
  const text = cleanText(raw, 60);
  if (text === "" || !/\d/.test(text)) return null;
  const parsed = parsePhoneNumberFromString(
    text,
    country === undefined ? undefined : { defaultCountry: country },
  );
  if (parsed === undefined || !parsed.isValid()) return null;
  return { e164: parsed.number, national: parsed.formatNational() };
};

const phonesInText = (line: string, country: CountryCode | undefined) =>
  findPhoneNumbersInText(line, country === undefined ? undefined : { defaultCountry: country })
    .filter((m) => m.number.isValid())
    .map((m) => ({ e164: m.number.number, national: m.number.formatNational() }));

const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$/;
const EMAIL_IN_TEXT = /[a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}/gi;

/** Placeholder, tracking and platform domains that turn up in pages but never reach a person. */
const JUNK_DOMAINS = [
  "example.com",
  "example.org",
  "example.net",
  "domain.com",
  "yourdomain.com",
  "yoursite.com",
  "yourcompany.com",
  "company.com",
  "email.com",
  "sentry.io",
  "wixpress.com",
  "sentry-next.wixpress.com",
];
const JUNK_TLDS = new Set([
  "png",
  "jpg",
  "jpeg",
  "gif",
  "svg",
  "webp",
  "avif",
  "ico",
  "bmp",
  "tif",
  "tiff",
  "css",
  "js",
  "json",
  "xml",
  "pdf",
  "mp4",
  "webm",
  "woff",
  "woff2",
  "ttf",
  "example",
  "invalid",
  "localhost",
  "test",
  "local",
]);
const JUNK_LOCAL = /^(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster|[0-9a-f]{24,})$/;

/** A lower-cased, valid, non-junk email address, or null. */
export const normalizeEmail = (raw: string): string | null => {
  const email = cleanText(raw, 300).toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) return null;
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > 64 || JUNK_LOCAL.test(local)) return null;
  if (JUNK_TLDS.has(domain.slice(domain.lastIndexOf(".") + 1))) return null;
  if (JUNK_DOMAINS.some((d) => domain === d || domain.endsWith(`.${d}`))) return null;
  return email;
};

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** The addresses of a `mailto:` href, without `?subject=…` and friends. */
export const mailtoAddresses = (href: string): ReadonlyArray<string> => {
  if (!/^mailto:/i.test(href.trim())) return [];
  const target = href.trim().slice("mailto:".length).split("?")[0] ?? "";
  return safeDecode(target)
    .split(/[,;]/)
    .map(normalizeEmail)
    .filter((e) => e !== null);
};

/** The number of a `tel:` href, without `;ext=` and other parameters. */
const telNumber = (href: string): string | null => {
  if (!/^tel:/i.test(href.trim())) return null;
  return safeDecode(href.trim().slice("tel:".length)).split(";")[0] ?? null;
};

// ---------------------------------------------------------------------------------------------
// People

const NAME_PARTICLES = new Set([
  "de",
  "da",
  "di",
  "del",
  "della",
  "der",
  "den",
  "van",
  "von",
  "la",
  "le",
  "du",
  "st.",
]);

/** Words that show a heading is not a person's name. */
const NOT_NAME_WORDS = new Set([
  "about",
  "our",
  "us",
  "we",
  "team",
  "contact",
  "meet",
  "the",
  "and",
  "of",
  "for",
  "with",
  "leadership",
  "staff",
  "management",
  "board",
  "services",
  "service",
  "company",
  "inc",
  "inc.",
  "llc",
  "ltd",
  "corp",
  "co.",
  "home",
  "welcome",
  "office",
  "hours",
  "location",
  "locations",
  "get",
  "in",
  "touch",
  "news",
  "careers",
  "history",
  "mission",
  "call",
  "email",
  "phone",
  "today",
  "now",
  "free",
  "quote",
  "request",
  "read",
  "more",
  "learn",
  "view",
  "all",
  "new",
  "people",
  "family",
  "owned",
  "group",
  "solutions",
  "systems",
  "energy",
  // trade words: the headings of service lists on the contractor sites we scan
  "heating",
  "cooling",
  "plumbing",
  "electrical",
  "mechanical",
  "roofing",
  "construction",
  "air",
]);

/** Words that make a line a job title; a department alone ("Facilities") is not enough. */
const ROLE_WORDS =
  /\b(?:director|manager|ceo|cfo|coo|cto|cio|cmo|chief|officer|owner|co-owner|president|vp|svp|evp|founder|co-founder|partner|principal|head|lead|supervisor|coordinator|administrator|superintendent|controller|comptroller|treasurer|secretary|chair(?:man|woman|person)?|executive|engineer|technician|specialist|associate|representative|advisor|consultant|analyst|accountant|estimator|foreman|buyer|counsel)\b/i;
/** Departments: common in titles, never in names. */
const DEPARTMENT_WORDS =
  /\b(?:facilit(?:y|ies)|operations|maintenance|procurement|purchasing|sustainability|plant|property|finance|sales|marketing|energy|hvac)\b/i;
/** Shared mailboxes: the company's, not the person's, even when they sit next to a name. */
const SHARED_MAILBOX =
  /^(?:info|sales|office|contact|contactus|service|services|admin|hello|support|help|team|mail|enquiries|inquiries|general|billing|accounts|hr|jobs|careers|marketing|webmaster|reception|frontdesk)@/;

/** A name as people write their own: 2-5 words, letters only (plus ' - .), capitalised, no heading words. */
export const isPlausibleName = (text: string): boolean => {
  if (text.length < 4 || text.length > MAX_NAME) return false;
  if (/[\d@/\\:;|()[\]{}<>!?"#$%&*+=_~]/u.test(text)) return false;
  if (ROLE_WORDS.test(text) || DEPARTMENT_WORDS.test(text)) return false;
  const words = text.split(" ");
  if (words.length < 2 || words.length > 5) return false;
  let substantial = 0;
  let shouting = 0;
  for (const word of words) {
    const lower = word.toLowerCase();
    if (NOT_NAME_WORDS.has(lower)) return false;
    if (NAME_PARTICLES.has(lower)) continue;
    if (!/^\p{Lu}[\p{L}'’.-]*$/u.test(word)) return false;
    if (/^\p{Lu}\.?$/u.test(word)) continue;
    substantial++;
    if (word === word.toUpperCase()) shouting++;
  }
  // "ACME HVAC" and "WESTERN NY" are brands and places far more often than people
  return substantial >= 2 && shouting < substantial;
};

/** A short line that reads like a job title. */
export const isPlausibleTitle = (text: string): boolean => {
  if (text.length < 2 || text.length > MAX_TITLE) return false;
  if (/@|https?:|www\.|\d{4}/i.test(text)) return false;
  if (text.split(" ").length > 10) return false;
  return ROLE_WORDS.test(text);
};

interface PersonDraft {
  name: string;
  title: string | null;
  email: string | null;
  phone: string | null;
  /** The element the name came from, for finding the person's card. */
  anchor: Element | null;
}

const NAME_TAGS = new Set(["h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "dt"]);
const hasNameClass = (el: Element): boolean => /(?:^|[\s_-])name(?:$|[\s_-])/i.test(attr(el, "class") ?? "");

/** Containers a person card never extends past: beyond them lies the page's shared contact info. */
const CARD_LIMIT = new Set([
  "html",
  "body",
  "main",
  "header",
  "footer",
  "nav",
  "aside",
  "form",
  "table",
  "section",
]);

/**
 * The first non-empty text line after `el` in document order: its following siblings, then its
 * parent's, at most two levels up and never out of a page-level container.
 */
const nextLine = (el: Element): { readonly text: string; readonly node: Node } | null => {
  let node: Node = el;
  for (let level = 0; level < 3; level++) {
    const parent: ParentNode | null = "parentNode" in node ? node.parentNode : null;
    if (parent === null) return null;
    const siblings = parent.childNodes as ReadonlyArray<Node>;
    for (let i = siblings.indexOf(node as DefaultTreeAdapterTypes.ChildNode) + 1; i < siblings.length; i++) {
      const sib = siblings[i]!;
      if (isElement(sib) && SKIP.has(sib.tagName)) continue;
      const first = linesOf(sib, 2_000)[0];
      if (first !== undefined) return { text: first, node: sib };
    }
    if (!isElement(parent as Node) || CARD_LIMIT.has((parent as Element).tagName)) return null;
    node = parent as Node;
  }
  return null;
};

/** Splits "Jane Smith, Facilities Manager" / "Jane Smith – CFO" into name and title. */
const splitNameTitle = (text: string): { readonly name: string; readonly title: string } | null => {
  const m = /^(.+?)\s*(?:,|\s[-–—|]\s)\s*(.+)$/.exec(text);
  return m === null ? null : { name: m[1]!.trim(), title: m[2]!.trim() };
};

const peopleFromLayout = (doc: Node): Array<PersonDraft> => {
  const found: Array<PersonDraft> = [];
  let candidates = 0;
  walk(doc, (node) => {
    if (!isElement(node)) return node.nodeName === "#document";
    if (SKIP.has(node.tagName)) return false;
    if (found.length >= MAX_PEOPLE || candidates >= MAX_NAME_CANDIDATES) return false;
    if (!NAME_TAGS.has(node.tagName) && !hasNameClass(node)) return true;
    candidates++;
    const text = cleanText(textOf(node, 400), 200);
    const split = splitNameTitle(text);
    if (split !== null && isPlausibleName(split.name) && isPlausibleTitle(split.title)) {
      found.push({ name: split.name, title: split.title, email: null, phone: null, anchor: node });
      return false;
    }
    if (!isPlausibleName(text)) return true;
    const line = nextLine(node);
    // "<strong>Alice Wong</strong>, Owner" leaves the separator on the title line
    const title = line === null ? "" : line.text.replace(/^[\s,;:|–—-]+/, "");
    if (isPlausibleTitle(title)) {
      found.push({ name: text, title, email: null, phone: null, anchor: node });
      return false;
    }
    return true;
  });
  return found;
};

/** Counts, per element, how many person names sit inside it. */
const nameCounts = (people: ReadonlyArray<PersonDraft>): Map<Node, number> => {
  const counts = new Map<Node, number>();
  for (const p of people) {
    let n: ParentNode | null = p.anchor;
    while (n !== null) {
      counts.set(n as Node, (counts.get(n as Node) ?? 0) + 1);
      n = "parentNode" in n ? n.parentNode : null;
    }
  }
  return counts;
};

/** The largest ancestor (at most three levels up) that holds this person and no other. */
const cardOf = (anchor: Element, counts: Map<Node, number>): Node => {
  let card: Node = anchor;
  let up: ParentNode | null = anchor.parentNode;
  for (let level = 0; level < 3 && up !== null; level++) {
    if (!isElement(up as Node) || CARD_LIMIT.has((up as Element).tagName)) break;
    if ((counts.get(up as Node) ?? 0) > 1) break;
    card = up as Node;
    up = (up as Element).parentNode;
  }
  return card;
};

/** The first valid email and phone inside a card: links first, then its text. */
const contactsIn = (
  card: Node,
  country: CountryCode | undefined,
): { readonly email: string | null; readonly phone: string | null } => {
  let email: string | null = null;
  let phone: string | null = null;
  walk(card, (node) => {
    if (!isElement(node)) return false;
    if (SKIP.has(node.tagName)) return false;
    if (node.tagName === "a") {
      const href = attr(node, "href") ?? "";
      email ??= mailtoAddresses(href).find((e) => !SHARED_MAILBOX.test(e)) ?? null;
      const tel = telNumber(href);
      if (tel !== null) phone ??= parsePhone(tel, country)?.e164 ?? null;
    }
    return true;
  });
  if (email === null || phone === null) {
    for (const line of linesOf(card, 20_000)) {
      email ??=
        (line.match(EMAIL_IN_TEXT) ?? [])
          .map(normalizeEmail)
          .find((e) => e !== null && !SHARED_MAILBOX.test(e)) ?? null;
      phone ??= phonesInText(line, country)[0]?.e164 ?? null;
    }
  }
  return { email, phone };
};

// ---------------------------------------------------------------------------------------------
// schema.org: JSON-LD and microdata

const asStrings = (v: unknown): ReadonlyArray<string> =>
  typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

const hasType = (o: Record<string, unknown>, type: string): boolean =>
  asStrings(o["@type"]).some((t) => t === type || t.endsWith(`/${type}`));

interface SchemaFindings {
  readonly phones: Array<string>;
  readonly emails: Array<string>;
  readonly people: Array<PersonDraft>;
}

const stripMailto = (s: string): string => s.replace(/^mailto:/i, "");

const personDraft = (
  name: string,
  title: string | null,
  email: string | null,
  phone: string | null,
  country: CountryCode | undefined,
): PersonDraft | null => {
  const cleanName = cleanText(name, MAX_NAME);
  if (!isPlausibleName(cleanName)) return null;
  const cleanTitle = title === null ? null : cleanText(title, MAX_TITLE);
  return {
    name: cleanName,
    title: cleanTitle === "" ? null : cleanTitle,
    email: email === null ? null : normalizeEmail(stripMailto(email)),
    phone: phone === null ? null : (parsePhone(phone, country)?.e164 ?? null),
    anchor: null,
  };
};

/** Walks parsed JSON-LD (objects, arrays, `@graph`, nested `employee`…) without recursion. */
const readJsonLd = (value: unknown, into: SchemaFindings, country: CountryCode | undefined): void => {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  let visited = 0;
  while (stack.length > 0 && visited++ < 2_000) {
    const { v, depth } = stack.pop()!;
    if (depth > 10 || v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (const x of v) stack.push({ v: x, depth: depth + 1 });
      continue;
    }
    const o = v as Record<string, unknown>;
    const phones = asStrings(o.telephone);
    const emails = asStrings(o.email).map(stripMailto);
    into.phones.push(...phones);
    into.emails.push(...emails);
    if (hasType(o, "Person")) {
      const name = asStrings(o.name)[0] ?? [asStrings(o.givenName)[0], asStrings(o.familyName)[0]].join(" ");
      const p = personDraft(
        name,
        asStrings(o.jobTitle)[0] ?? null,
        emails[0] ?? null,
        phones[0] ?? null,
        country,
      );
      if (p !== null) into.people.push(p);
    }
    for (const [key, x] of Object.entries(o)) {
      if (key !== "@context") stack.push({ v: x, depth: depth + 1 });
    }
  }
};

const itemValue = (el: Element): string => {
  const content = attr(el, "content") ?? (el.tagName === "a" ? attr(el, "href") : undefined);
  return cleanText(content ?? textOf(el, 600), 300);
};

/** The `itemprop` values of one microdata item, not descending into nested items. */
const itemProps = (scope: Element): Map<string, string> => {
  const props = new Map<string, string>();
  walk(scope, (node) => {
    if (!isElement(node) || SKIP.has(node.tagName)) return false;
    const prop = attr(node, "itemprop");
    if (node !== scope && prop !== undefined) {
      for (const p of prop.split(/\s+/)) if (!props.has(p)) props.set(p, itemValue(node));
    }
    return node === scope || !node.attrs.some((a) => a.name === "itemscope");
  });
  return props;
};

const readSchemaOrg = (doc: Node, country: CountryCode | undefined): SchemaFindings => {
  const into: SchemaFindings = { phones: [], emails: [], people: [] };
  let scripts = 0;
  walk(doc, (node) => {
    if (!isElement(node)) return node.nodeName === "#document";
    if (node.tagName === "script") {
      const type = (attr(node, "type") ?? "").trim().toLowerCase();
      if (type === "application/ld+json" && scripts++ < MAX_JSON_LD) {
        const json = node.childNodes.map((c) => ("value" in c ? c.value : "")).join("");
        try {
          readJsonLd(JSON.parse(json), into, country);
        } catch {
          // broken JSON-LD is common and says nothing about the rest of the page
        }
      }
      return false;
    }
    const props = (attr(node, "itemprop") ?? "").split(/\s+/);
    if (props.includes("telephone")) into.phones.push(itemValue(node));
    if (props.includes("email")) into.emails.push(stripMailto(itemValue(node)));
    if (/schema\.org\/Person$/i.test((attr(node, "itemtype") ?? "").trim())) {
      const p = itemProps(node);
      const name = p.get("name") ?? [p.get("givenName"), p.get("familyName")].join(" ");
      const person = personDraft(
        name,
        p.get("jobTitle") ?? null,
        p.get("email") ?? null,
        p.get("telephone") ?? null,
        country,
      );
      if (person !== null) into.people.push(person);
    }
    return !SKIP.has(node.tagName) || node.tagName === "head";
  });
  return into;
};

// ---------------------------------------------------------------------------------------------

/**
 * Reads one page: phones from `tel:` links, schema.org and visible text; emails from `mailto:`
 * links, schema.org and visible text; people from schema.org `Person` and, when asked, from the
 * layout; and the page's links. Script, style and other invisible content is never read as text.
 */
export const extractPage = (html: string, pageUrl: string, options: ExtractOptions): PageFindings => {
  const doc = parse(html) as Node;
  const { country } = options;
  const phones = new Map<string, WebsitePhone>();
  const emails = new Map<string, WebsiteEmail>();
  const links: Array<PageLink> = [];
  const addPhone = (raw: string, source: WebsitePhone["source"]) => {
    const p = parsePhone(raw, country);
    if (p !== null && !phones.has(p.e164) && phones.size < MAX_PHONES)
      phones.set(p.e164, { ...p, source, page: pageUrl });
  };
  const addEmail = (email: string | null, source: WebsiteEmail["source"]) => {
    if (email !== null && !emails.has(email) && emails.size < MAX_EMAILS)
      emails.set(email, { email, source, page: pageUrl });
  };

  walk(doc, (node) => {
    if (!isElement(node)) return node.nodeName === "#document";
    if (SKIP.has(node.tagName)) return false;
    if (node.tagName === "a") {
      const href = (attr(node, "href") ?? "").trim();
      const tel = telNumber(href);
      if (tel !== null) addPhone(tel, "tel_link");
      for (const e of mailtoAddresses(href)) addEmail(e, "mailto");
      if (links.length < MAX_LINKS && tel === null && !/^mailto:/i.test(href) && href !== "") {
        try {
          const url = new URL(href, pageUrl);
          url.hash = "";
          if (url.protocol === "http:" || url.protocol === "https:") {
            links.push({ url: url.href, text: cleanText(textOf(node, 300), 100) });
          }
        } catch {
          // an unparseable href is just not a link we can follow
        }
      }
    }
    return true;
  });

  const schema = readSchemaOrg(doc, country);
  for (const raw of schema.phones) addPhone(raw, "schema_org");
  for (const raw of schema.emails) addEmail(normalizeEmail(raw), "text");

  for (const line of linesOf(doc)) {
    for (const p of phonesInText(line, country)) {
      if (!phones.has(p.e164) && phones.size < MAX_PHONES)
        phones.set(p.e164, { ...p, source: "text", page: pageUrl });
    }
    if (line.includes("@"))
      for (const e of line.match(EMAIL_IN_TEXT) ?? []) addEmail(normalizeEmail(e), "text");
  }

  const drafts = [...schema.people];
  if (options.peopleFromLayout) {
    const layout = peopleFromLayout(doc);
    const counts = nameCounts(layout);
    for (const p of layout) {
      const { email, phone } = contactsIn(cardOf(p.anchor!, counts), country);
      drafts.push({ ...p, email, phone });
    }
  }
  const people = new Map<string, WebsitePerson>();
  for (const d of drafts) {
    const key = d.name.toLowerCase();
    const prev = people.get(key);
    if (prev === undefined && people.size >= MAX_PEOPLE) continue;
    people.set(key, {
      name: prev?.name ?? d.name,
      title: prev?.title ?? (d.title === null ? null : cleanText(d.title, MAX_TITLE)),
      email: prev?.email ?? d.email,
      phone: prev?.phone ?? d.phone,
      page: pageUrl,
    });
  }

  return { phones: [...phones.values()], emails: [...emails.values()], people: [...people.values()], links };
};
