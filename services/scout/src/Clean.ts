import type { FoundCompany } from "./Source.js";

// C0 and C1 control characters and DEL: no name or address has them, and printed by the CLI an
// escape sequence would act on the reader's terminal. Tabs and line breaks become spaces.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/**
 * One line of text from a source as it is stored: control characters dropped, tabs and line
 * breaks as single spaces, trimmed. The source's record (`raw`) keeps the original.
 */
export const cleanLine = <T extends string | null>(text: T): T => {
  if (text === null || !CONTROL.test(text)) return text;
  return text
    .replace(/[\t\r\n\u2028\u2029]+/g, " ")
    .replace(CONTROLS, "")
    .replace(/ {2,}/g, " ")
    .trim() as T;
};

const TEXT_FIELDS = [
  "industry",
  "address",
  "city",
  "state",
  "postalCode",
  "phone",
  "website",
  "sourceRef",
] as const;

/**
 * A company with every text field `cleanLine`d (what the scout keeps of a source's answer); the
 * same object when there was nothing to clean.
 */
export const cleanCompany = (c: FoundCompany): FoundCompany => {
  // a name of nothing but control characters is still a company the source reported
  const name = cleanLine(c.name) || "(no name)";
  const changed: Record<string, string | null> = name === c.name ? {} : { name };
  let any = name !== c.name;
  for (const field of TEXT_FIELDS) {
    const value = cleanLine(c[field]);
    if (value !== c[field]) {
      changed[field] = value;
      any = true;
    }
  }
  return any ? { ...c, ...changed } : c;
};
