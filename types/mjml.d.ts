// mjml 5 ships no type declarations; this covers the one call the writer and the notifier make.
declare module "mjml" {
  interface MjmlError {
    readonly line: number;
    readonly message: string;
    readonly tagName: string;
    readonly formattedMessage: string;
  }
  interface MjmlResult {
    readonly html: string;
    readonly errors: ReadonlyArray<MjmlError>;
  }
  interface MjmlOptions {
    readonly validationLevel?: "strict" | "soft" | "skip";
    readonly keepComments?: boolean;
    readonly beautify?: boolean;
    readonly minify?: boolean;
    readonly fonts?: Readonly<Record<string, string>>;
    readonly ignoreIncludes?: boolean;
  }
  /** Compiles MJML to HTML; asynchronous since mjml 5. */
  function mjml2html(input: string, options?: MjmlOptions): Promise<MjmlResult>;
  export = mjml2html;
}
