import { cleanLine } from "@leadflow/contracts";

/**
 * Scraped or generated text made safe for one line: control and invisible characters go
 * (`cleanLine`, the rule for all text from outside), runs of whitespace collapse, and the result
 * is cut to `max` characters (with an ellipsis).
 */
export const oneLine = (text: string, max = Number.POSITIVE_INFINITY): string => {
  // only runs of whitespace and non-space whitespace are replaced: single spaces are left alone (fast path)
  const line = cleanLine(text)
    .replace(/\s{2,}|[^\S ]/g, " ")
    .trim();
  return line.length > max ? `${line.slice(0, Math.max(0, max - 1)).trimEnd()}…` : line;
};

const UNSAFE_MULTILINE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Multi-line text with normalised line endings and no control characters other than line feeds. */
export const cleanMultiline = (text: string): string =>
  text
    .replace(/\r\n?/g, "\n")
    .replace(UNSAFE_MULTILINE, "")
    .replace(/[ \t]+\n/g, "\n")
    .trim();
