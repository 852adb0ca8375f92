/**
 * The child-process side of `startEmbeddedPostgresProcess`: serves PGlite on a free port,
 * prints `READY <url>` on stdout, and stops cleanly on SIGTERM/SIGINT or when its parent dies.
 * Run as `node EmbeddedPostgresChild.js <dataDir>`: plain JavaScript, no tsx (see EmbeddedPostgres.js).
 */
import { startEmbeddedPostgres } from "./EmbeddedPostgres.js";

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write("usage: EmbeddedPostgresChild <dataDir>\n");
  process.exit(2);
}
const pg = await startEmbeddedPostgres({ dataDir });
let stopping = false;
const stop = async (code) => {
  if (stopping) return;
  stopping = true;
  await pg.stop().catch(() => undefined);
  process.exit(code);
};
process.on("SIGTERM", () => void stop(0));
process.on("SIGINT", () => void stop(0));
// the parent holds our stdin open: when it goes away (even by SIGKILL), so do we
process.stdin.on("end", () => void stop(0));
process.stdin.on("error", () => void stop(0));
process.stdin.resume();
process.stdout.write(`READY ${pg.url}\n`);
