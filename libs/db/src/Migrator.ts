import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Data, Effect } from "effect";
import type { Sql } from "postgres";

/** A migration could not be read, applied or verified. */
export class MigrationError extends Data.TaggedError("MigrationError")<{
  readonly message: string;
  readonly cause?: unknown;
}> {}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationResult {
  readonly applied: ReadonlyArray<string>;
  readonly alreadyApplied: number;
}

const defaultDirectory = fileURLToPath(new URL("../migrations/", import.meta.url));

// Any constant works; it only has to be the same for every process that migrates.
const advisoryLockKey = 4_242_001;

/** Reads the numbered `.sql` files of a folder, in order. */
export const loadMigrations = (directory: string = defaultDirectory) =>
  Effect.tryPromise({
    try: async () => {
      const files = (await readdir(directory)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
      return Promise.all(
        files.map(async (file): Promise<Migration> => {
          const sql = await readFile(`${directory}/${file}`, "utf8");
          return {
            version: Number(file.slice(0, 4)),
            name: file.replace(/\.sql$/, ""),
            sql,
            checksum: createHash("sha256").update(sql).digest("hex"),
          };
        }),
      );
    },
    catch: (cause) => new MigrationError({ message: `cannot read migrations in ${directory}`, cause }),
  });

/**
 * Applies every pending migration in one transaction under a transaction-level advisory
 * lock: two services that start together serialise here, and the second finds nothing to do.
 * A landed migration whose file changed is an error, never silently re-applied.
 */
export const migrate = (sql: Sql, directory?: string) =>
  Effect.gen(function* () {
    const migrations = yield* loadMigrations(directory);
    return yield* Effect.tryPromise({
      try: () =>
        sql.begin(async (tx) => {
          await tx`select pg_advisory_xact_lock(${advisoryLockKey})`;
          await tx`create table if not exists schema_migrations (
            version integer primary key,
            name text not null,
            checksum text not null,
            applied_at timestamptz not null default now()
          )`;
          const rows = await tx<{ version: number; name: string; checksum: string }[]>`
            select version, name, checksum from schema_migrations order by version`;
          const known = new Map(rows.map((r) => [r.version, r]));
          const applied: string[] = [];
          for (const m of migrations) {
            const seen = known.get(m.version);
            if (seen) {
              if (seen.checksum !== m.checksum) {
                throw new MigrationError({ message: `migration ${m.name} changed after it was applied` });
              }
              continue;
            }
            await tx.unsafe(m.sql).simple();
            await tx`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`;
            applied.push(m.name);
          }
          return { applied, alreadyApplied: known.size } satisfies MigrationResult;
        }),
      catch: (cause) =>
        cause instanceof MigrationError
          ? cause
          : new MigrationError({ message: `migration failed: ${describeDatabaseError(cause)}`, cause }),
    });
  }).pipe(Effect.withSpan("Migrator.migrate"));

/**
 * Why the database said no, in one line: the driver's message (connection refused at an
 * address, a database that does not exist, a failed login; never the URL, so no password),
 * with Postgres's SQLSTATE or Node's error code.
 */
export const describeDatabaseError = (cause: unknown): string => {
  const e = cause as { message?: unknown; code?: unknown; errors?: unknown } | undefined;
  // a connection refused on every address comes as an AggregateError with no message of its own
  const inner = Array.isArray(e?.errors) && e.errors.length > 0 ? (e.errors[0] as typeof e) : e;
  const message = typeof inner?.message === "string" && inner.message !== "" ? inner.message : String(cause);
  const code = typeof inner?.code === "string" ? inner.code : undefined;
  return (code && !message.includes(code) ? `${message} (${code})` : message).replace(/[\r\n]+/g, " ");
};
