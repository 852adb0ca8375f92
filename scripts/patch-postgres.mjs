#!/usr/bin/env node
/**
 * postinstall: patches postgres.js 3.4.9's reserved connections (`sql.reserve()`, on which the
 * runtime runs every transaction) for porsager/postgres#1208, open upstream with no fixed release.
 *
 * When the server closes a reserved connection (a restart, `pg_terminate_backend`, a network
 * cut), 3.4.9 keeps sending the holder's later statements to the closed socket, which throws
 * from a timer (an uncaught exception: the process dies), and `release()` hands the dead
 * connection back to the pool. Patched, the reservation is lost with its connection: later
 * statements fail at once with CONNECTION_CLOSED, `release()` gives the pool nothing back, and
 * the pool reconnects as it does for any closed connection. Both builds (ESM and CommonJS) are
 * patched; a patched file is left as it is; any other version stops the install with a message,
 * so an upgrade is looked at rather than silently unpatched.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkgDir = join(root, "node_modules", "postgres");
const marker = "leadflow-patch (porsager/postgres#1208)";

const original = `    move(c, reserved)
    c.reserved = () => queue.length
      ? c.execute(queue.shift())
      : move(c, reserved)
    c.reserved.release = true

    const sql = Sql(handler)
    sql.release = () => {
      c.reserved = null
      onopen(c)
    }

    return sql

    function handler(q) {
      c.queue === full
        ? queue.push(q)
        : c.execute(q) || move(c, full)
    }`;

const patched = `    move(c, reserved)
    // ${marker}: a reserved connection that closes is lost to its holder:
    // later statements fail at once, release() gives the pool nothing back
    let lost = null
    c.onclose = e => {
      lost = e || Errors.connection('CONNECTION_CLOSED', options)
      while (queue.length) queue.shift().reject(lost)
    }
    c.reserved = () => queue.length
      ? c.execute(queue.shift())
      : move(c, reserved)
    c.reserved.release = true

    const sql = Sql(handler)
    sql.release = () => {
      if (lost)
        return
      c.onclose = null
      c.reserved = null
      onopen(c)
    }

    return sql

    function handler(q) {
      if (lost)
        return q.reject(lost)
      c.queue === full
        ? queue.push(q)
        : c.execute(q) || move(c, full)
    }`;

let version;
try {
  version = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).version;
} catch {
  // not installed here (e.g. a partial install): nothing to patch
  process.exit(0);
}
if (version !== "3.4.9") {
  console.error(
    `scripts/patch-postgres.mjs: postgres ${version} is installed, the patch is for 3.4.9. ` +
      "Check whether porsager/postgres#1208 is fixed in it (then delete this script and its " +
      "postinstall entry), or port the patch.",
  );
  process.exit(1);
}
for (const file of ["src/index.js", "cjs/src/index.js"]) {
  const path = join(pkgDir, file);
  const text = readFileSync(path, "utf8");
  if (text.includes(marker)) continue;
  if (!text.includes(original)) {
    console.error(`scripts/patch-postgres.mjs: ${path} does not hold the code the patch expects`);
    process.exit(1);
  }
  writeFileSync(path, text.replace(original, patched));
  console.log(`patched ${join("node_modules/postgres", file)} (porsager/postgres#1208)`);
}
