/**
 * HTML built by a tagged template that escapes every interpolated value unless it is already
 * `Html` (the output of another `html` template): data can only ever land as text.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

/** Escapes text for element content and quoted attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);

type Value = Html | string | number | boolean | null | undefined | ReadonlyArray<Value>;

const render = (v: Value): string => {
  if (v === null || v === undefined || v === false || v === true) return "";
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join("");
  return escapeHtml(String(v));
};

export const html = (strings: TemplateStringsArray, ...values: ReadonlyArray<Value>): Html => {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i] as Value) + (strings[i + 1] ?? "");
  return new Html(out);
};

/** Trusted markup (our own constants only). */
export const trusted = (markup: string): Html => new Html(markup);

/** Text with its line breaks kept as `<br>`. */
export const multiline = (text: string): Html =>
  new Html(
    text
      .split(/\r\n?|\n/)
      .map((l) => escapeHtml(l))
      .join("<br>"),
  );
