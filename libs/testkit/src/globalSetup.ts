import { findNatsServerBinary } from "@leadflow/runtime/embedded";
import postgres from "postgres";
import { adminUrl } from "./TestDatabase.js";

/** Fails the whole run early, naming what to install, when a test dependency is missing. */
export default async function setup(): Promise<void> {
  if (!findNatsServerBinary()) {
    throw new Error(
      "Tests need a nats-server binary (Debian: apt-get install -y nats-server; or set NATS_SERVER_BIN).",
    );
  }
  const sql = postgres(adminUrl(), { max: 1, connect_timeout: 5, onnotice: () => undefined });
  try {
    await sql`select 1`;
  } catch (error) {
    throw new Error(
      `Tests need PostgreSQL at ${adminUrl()} (set DATABASE_URL, or start the local server): ${(error as Error).message}`,
    );
  } finally {
    await sql.end({ timeout: 2 });
  }
}
