// C0 and C1 control characters, DEL, zero-width characters, Unicode line and paragraph
// separators and bidirectional overrides: none belongs in a name, a title or an address, and
// printed by the CLI an escape sequence would act on the reader's terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
const INVISIBLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * One line of text from outside (a CSV cell, a provider's answer) as Leadflow keeps it: tabs and
 * line breaks become single spaces, every other control or invisible formatting character is
 * dropped, the ends are trimmed. Text with none of them comes back as it was (the usual case
 * costs one regular-expression test).
 */
export const cleanLine = <T extends string | null | undefined>(text: T): T => {
  if (text === null || text === undefined || !UNSAFE.test(text)) return text;
  return text
    .replace(/[\t\r\n\u2028\u2029]+/g, " ")
    .replace(INVISIBLE, "")
    .replace(/ {2,}/g, " ")
    .trim() as T;
};

const EMAIL =
  /^[^\s@<>()",;:\\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** A plain address (no display name): what goes into To/From. */
export const isEmailAddress = (value: string): boolean => value.length <= 254 && EMAIL.test(value);

/**
 * `EMAIL_FROM` when unset: the sender of approval emails (notifier) and of drafts (writer), one
 * setting with one default for both.
 */
export const defaultEmailFrom = "leadflow@localhost";
