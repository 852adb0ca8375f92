import { HashMap, Logger } from "effect";

/** One log line of a host: its message, level label (`INFO`, `WARN`, …) and annotations. */
export interface LogLine {
  readonly message: string;
  readonly level: string;
  readonly fields: Record<string, unknown>;
}

/**
 * A logger that keeps what it is given (pass it as `startTestHost`'s `logger`), so a test can
 * assert on a host's log lines; `taskLines(runId)` are the orchestrator's task log of one run.
 */
export const captureLogs = () => {
  const lines: LogLine[] = [];
  const logger = Logger.make(({ message, logLevel, annotations }) => {
    lines.push({
      message: Array.isArray(message) ? message.map(String).join(" ") : String(message),
      level: logLevel.label,
      fields: Object.fromEntries(HashMap.toEntries(annotations)),
    });
  });
  const taskLines = (runId: string) =>
    lines.filter((l) => l.message.startsWith("task ") && l.fields.runId === runId);
  return { logger, lines, taskLines };
};
