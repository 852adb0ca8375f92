/**
 * The pool size callers should give postgres.js for the embedded database. PGlite has one
 * backend: more connections are safe here (the server below serialises them a transaction at
 * a time) but gain nothing, and a pool of one keeps a transaction from waiting on a query the
 * same process sent on another connection. `sql.listen` opens its own connection and works.
 */
export declare const embeddedPostgresPoolMax = 1;
export interface EmbeddedPostgresOptions {
  /** The PGDATA folder; created (initdb) on first start, reused after. */
  readonly dataDir: string;
  /** Default: a free port on 127.0.0.1. */
  readonly port?: number;
  /** Default 32. */
  readonly maxConnections?: number;
}
export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, for postgres.js or psql. */
  readonly url: string;
  readonly port: number;
  /** Closes every client connection and the listener, then PGlite (a clean shutdown). */
  stop(): Promise<void>;
}
/**
 * Starts PGlite on `dataDir` and serves it over the Postgres wire protocol on 127.0.0.1, so
 * postgres.js (and psql) connect to it like to any server. Several connections are served one
 * transaction at a time; use {@link embeddedPostgresPoolMax} for the pool. LISTEN/NOTIFY works.
 * One instance per data folder: a second start on a folder in use fails.
 */
export declare const startEmbeddedPostgres: (options: EmbeddedPostgresOptions) => Promise<EmbeddedPostgres>;
