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
