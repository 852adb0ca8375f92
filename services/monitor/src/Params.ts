import { RunId } from "@leadflow/contracts";
import { Data, Either, Schema } from "effect";
import type { ReportRange } from "./WeeklyReport.js";

/** A query or path parameter that does not fit; `param` names it. */
export class BadParam extends Data.TaggedError("BadParam")<{
  readonly param: string;
  readonly message: string;
}> {}

const IsoDay = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}$/),
  Schema.filter((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
  }),
);

const Limit = Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 100));

const DAY = 86_400_000;
/** The longest report period: a leap year of whole days. */
export const MaxReportDays = 366;

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** `limit` for /api/activity: an integer 1–100, default 10. */
export const parseLimit = (raw: string | undefined): Either.Either<number, BadParam> =>
  raw === undefined
    ? Either.right(10)
    : Either.mapLeft(
        Schema.decodeUnknownEither(Limit)(raw.trim() === "" ? "x" : raw),
        () =>
          new BadParam({ param: "limit", message: `limit must be an integer from 1 to 100, got "${raw}"` }),
      );

const day = (param: "start" | "end", raw: string) =>
  Either.mapLeft(
    Schema.decodeUnknownEither(IsoDay)(raw),
    () => new BadParam({ param, message: `${param} must be a date as YYYY-MM-DD, got "${raw}"` }),
  );

/**
 * `start` / `end` for the weekly report, whole UTC days, both included. Default: the 7 days
 * ending today; one of them alone spans 7 days from or to it.
 */
export const parseRange = (
  start: string | undefined,
  end: string | undefined,
  now: Date,
): Either.Either<ReportRange, BadParam> =>
  Either.gen(function* () {
    const e = end !== undefined ? yield* day("end", end) : undefined;
    const s = start !== undefined ? yield* day("start", start) : undefined;
    const endDay = e ?? (s ? isoDay(new Date(Date.parse(s) + 6 * DAY)) : isoDay(now));
    const startDay = s ?? isoDay(new Date(Date.parse(endDay) - 6 * DAY));
    if (startDay > endDay) {
      return yield* Either.left(
        new BadParam({ param: "start", message: `start (${startDay}) is after end (${endDay})` }),
      );
    }
    const days = (Date.parse(endDay) - Date.parse(startDay)) / DAY + 1;
    if (days > MaxReportDays) {
      return yield* Either.left(
        new BadParam({
          param: "end",
          message: `the range from start to end covers ${days} days; at most ${MaxReportDays}`,
        }),
      );
    }
    return { start: startDay, end: endDay };
  });

/** A run id: 1–64 characters of `[A-Za-z0-9_-]` (the trigger's `requestId`). */
export const parseRunId = (raw: string): Either.Either<string, BadParam> =>
  Either.mapLeft(
    Schema.decodeUnknownEither(RunId)(raw),
    () => new BadParam({ param: "runId", message: "runId must be 1-64 characters of A-Z, a-z, 0-9, _ or -" }),
  );
