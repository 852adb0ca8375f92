/** The value of one sample in Prometheus text format, matching every given label. */
export const sample = (
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined => {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      return m[3] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[3]);
    }
  }
  return undefined;
};
