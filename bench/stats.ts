/** Small statistics and formatting helpers for the benchmarks. */

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly samples: ReadonlyArray<number>;
}

export const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export const summarize = (xs: ReadonlyArray<number>): Summary => ({
  n: xs.length,
  median: median(xs),
  min: xs.length === 0 ? Number.NaN : Math.min(...xs),
  max: xs.length === 0 ? Number.NaN : Math.max(...xs),
  mean: xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length,
  samples: [...xs],
});

/** A rate (items per second) from a count and a duration in milliseconds. */
export const rate = (count: number, ms: number): number => (ms > 0 ? (count * 1000) / ms : Number.NaN);

/** One line of the results table. */
export interface Figure {
  /** Stable key for the JSON output, e.g. `raw.publish`. */
  readonly id: string;
  /** Section heading in the table. */
  readonly group: string;
  readonly label: string;
  readonly unit: string;
  readonly value: Summary;
  /** The same-run baseline this figure is compared with. */
  readonly baseline?: { readonly label: string; readonly unit: string; readonly value: Summary };
  /** value.median / baseline.median, when both are in the same unit. */
  readonly ratio?: number;
  readonly target?: { readonly text: string; readonly met: boolean };
  readonly note?: string;
}

export const ratioOf = (a: Summary, b: Summary): number => a.median / b.median;

/** Numbers as a person reads them: 12,345 / 1,234.5 / 12.3 / 0.123. */
export const fmt = (x: number): string => {
  if (!Number.isFinite(x)) return "n/a";
  if (x === 0) return "0";
  const abs = Math.abs(x);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
};

export const fmtPct = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? "" : `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %`;

export const fmtSummary = (s: Summary, unit: string): string => `${fmt(s.median)} ${unit}`;

export const fmtRange = (s: Summary): string => `${fmt(s.min)} – ${fmt(s.max)}`;

/** Renders rows as a plain-text table with a header and aligned columns. */
export const renderTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
};

/**
 * JSON as the repository's formatter (Biome, line width 110) prints it: objects expanded, a
 * primitive array on one line when it fits, numbers filled across lines when it does not. So
 * the results file passes `biome check` as written. Numbers are rounded to 3 decimals.
 */
export const formatJson = (value: unknown, width = 110): string => {
  const round = (x: number) => (Number.isInteger(x) ? x : Math.round(x * 1000) / 1000);
  const scalar = (v: unknown) => JSON.stringify(typeof v === "number" ? round(v) : v) ?? "null";
  const isScalar = (v: unknown) => v === null || typeof v !== "object";
  const go = (v: unknown, indent: string, prefix: string, suffix: string): string[] => {
    if (isScalar(v)) return [`${indent}${prefix}${scalar(v)}${suffix}`];
    const inner = `${indent}  `;
    if (Array.isArray(v)) {
      if (v.length === 0) return [`${indent}${prefix}[]${suffix}`];
      if (v.every(isScalar)) {
        const items = v.map(scalar);
        const oneLine = `${indent}${prefix}[${items.join(", ")}]${suffix}`;
        if (oneLine.length <= width) return [oneLine];
        if (v.every((x) => typeof x === "number")) {
          const lines: string[] = [];
          let line = "";
          items.forEach((item, i) => {
            const piece = i < items.length - 1 ? `${item},` : item;
            if (line === "") line = `${inner}${piece}`;
            else if (line.length + 1 + piece.length <= width) line += ` ${piece}`;
            else {
              lines.push(line);
              line = `${inner}${piece}`;
            }
          });
          lines.push(line);
          return [`${indent}${prefix}[`, ...lines, `${indent}]${suffix}`];
        }
      }
      const body = v.flatMap((x, i) => go(x, inner, "", i < v.length - 1 ? "," : ""));
      return [`${indent}${prefix}[`, ...body, `${indent}]${suffix}`];
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return [`${indent}${prefix}{}${suffix}`];
    const body = entries.flatMap(([k, x], i) =>
      go(x, inner, `${JSON.stringify(k)}: `, i < entries.length - 1 ? "," : ""),
    );
    return [`${indent}${prefix}{`, ...body, `${indent}}${suffix}`];
  };
  return `${go(value, "", "", "").join("\n")}\n`;
};
