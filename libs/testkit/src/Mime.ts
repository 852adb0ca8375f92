/**
 * A small MIME reader for tests: headers (unfolded, RFC 2047 words decoded), nested multipart,
 * quoted-printable and base64 bodies, UTF-8 text. Enough to read what a mail transport sent.
 */

export interface MimePart {
  readonly headers: ReadonlyMap<string, string>;
  readonly contentType: string;
  /** The decoded body of a leaf part; "" for a multipart container. */
  readonly body: string;
  readonly parts: ReadonlyArray<MimePart>;
}

export interface ParsedEmail extends MimePart {
  readonly subject: string;
  readonly from: string;
  readonly to: string;
  readonly messageId: string;
  /** The first text/plain and text/html leaves, decoded. */
  readonly text: string | null;
  readonly html: string | null;
}

const splitHead = (raw: string): { head: string; body: string } => {
  const m = /\r?\n\r?\n/.exec(raw);
  return m === null
    ? { head: raw, body: "" }
    : { head: raw.slice(0, m.index), body: raw.slice(m.index + m[0].length) };
};

const decodeBytes = (bytes: Uint8Array, charset: string): string => {
  try {
    return new TextDecoder(charset || "utf-8").decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
};

/** Quoted-printable → bytes (soft line breaks removed). */
export const decodeQuotedPrintable = (text: string): Uint8Array => {
  const joined = text.replace(/=\r?\n/g, "");
  const out: Array<number> = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i]!;
    if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of new TextEncoder().encode(c)) out.push(b);
    }
  }
  return Uint8Array.from(out);
};

/** `=?charset?Q|B?…?=` words in a header value. */
export const decodeWords = (value: string): string =>
  value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, charset: string, enc: string, data: string) =>
      enc.toUpperCase() === "B"
        ? decodeBytes(Buffer.from(data, "base64"), charset)
        : decodeBytes(decodeQuotedPrintable(data.replace(/_/g, " ")), charset),
    );

const parseHeaders = (head: string): Map<string, string> => {
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, decodeWords(line.slice(i + 1).trim()));
  }
  return headers;
};

const param = (value: string, name: string): string | undefined => {
  const m = new RegExp(`;\\s*${name}="?([^";]+)"?`, "i").exec(value);
  return m?.[1];
};

const decodeBody = (body: string, encoding: string, charset: string): string => {
  switch (encoding.toLowerCase()) {
    case "quoted-printable":
      return decodeBytes(decodeQuotedPrintable(body), charset);
    case "base64":
      return decodeBytes(Buffer.from(body.replace(/\s+/g, ""), "base64"), charset);
    default:
      return body;
  }
};

/** Parses one MIME entity (a whole message or a part). */
export const parseMimePart = (raw: string): MimePart => {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head);
  const type = headers.get("content-type") ?? "text/plain; charset=utf-8";
  const contentType = type.split(";")[0]!.trim().toLowerCase();
  if (contentType.startsWith("multipart/")) {
    const boundary = param(type, "boundary");
    if (boundary === undefined) return { headers, contentType, body: "", parts: [] };
    const parts = body
      .split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:--)?[ \\t]*\\r?\\n?`))
      .slice(1)
      .filter((p) => p.trim() !== "")
      .map(parseMimePart);
    return { headers, contentType, body: "", parts };
  }
  const decoded = decodeBody(
    body,
    headers.get("content-transfer-encoding") ?? "7bit",
    param(type, "charset") ?? "utf-8",
  );
  return { headers, contentType, body: decoded, parts: [] };
};

const leaves = (part: MimePart): ReadonlyArray<MimePart> =>
  part.parts.length === 0 ? [part] : part.parts.flatMap(leaves);

/** Parses a whole message as an SMTP server or a `.eml` file holds it. */
export const parseEmail = (raw: string): ParsedEmail => {
  const root = parseMimePart(raw);
  const all = leaves(root);
  return {
    ...root,
    subject: root.headers.get("subject") ?? "",
    from: root.headers.get("from") ?? "",
    to: root.headers.get("to") ?? "",
    messageId: root.headers.get("message-id") ?? "",
    text: all.find((p) => p.contentType === "text/plain")?.body ?? null,
    html: all.find((p) => p.contentType === "text/html")?.body ?? null,
  };
};
