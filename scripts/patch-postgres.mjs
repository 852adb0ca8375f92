#!/usr/bin/env node
/**
 * postinstall: patches four faults of postgres.js 3.4.9 that a database restart or failover sets
 * off, both open upstream with no fixed release: the reserved connections (`sql.reserve()`, on
 * which the runtime runs every transaction; porsager/postgres#1208), the array types fetched
 * on a new connection (#1192), statements sent while a connection closes (#1130) and reserves
 * waiting while one closes (#1195); the last three are described below.
 *
 * Reserved connections: when the server closes a reserved connection (a restart, `pg_terminate_backend`, a network
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
const reservedMarker = "leadflow-patch (porsager/postgres#1208)";

const reservedOriginal = `    move(c, reserved)
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

const reservedPatched = `    move(c, reserved)
    // ${reservedMarker}: a reserved connection that closes is lost to its holder:
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

// The array types fetched on a new connection: the promise was dropped, so a connection lost
// (or its query cancelled) during the fetch rejected it with no handler, an unhandled rejection
// that ends the process (porsager/postgres#1192, #1205, #1223). Patched, that failure is left to
// the connection's own error handling (its queries fail, it reconnects and fetches again).
const typesMarker = "leadflow-patch (porsager/postgres#1192)";
const typesOriginal = `        return fetchArrayTypes()
`;
const typesPatched = `        // ${typesMarker}: the connection's own error handling covers a failed fetch
        return fetchArrayTypes().catch(() => undefined)
`;

// A statement sent on a connection between its socket's error and its close (a pooled connection
// handed out again in that gap, after its holder's statement failed) was never answered: the
// error had already rejected what was in flight, the close rejected nothing when there had been
// an error, and the statement hung for good, with its transaction and its connection
// (porsager/postgres#1130 is the same stale \`query\` keeping \`end()\` waiting). Patched, the close
// rejects whatever is still in flight, and forgets the query (the socket is gone). Also, the
// bytes of such a statement, still buffered for the next write, stayed in the buffer and went out
// ahead of the reconnect's startup message: the server waited for a valid startup packet, and
// the connection for its connect timeout (30 s), on every reconnect. Patched, the close empties
// the buffer.
const closedMarker = "leadflow-patch (porsager/postgres#1130)";
const closedOriginal = `    clearImmediate(nextWriteTimer)
    socket.removeListener('data', data)`;
const closedPatched = `    clearImmediate(nextWriteTimer)
    // ${closedMarker}: nothing buffered for the old socket goes to the next
    chunk = nextWriteTimer = null
    socket.removeListener('data', data)`;
const inFlightOriginal = `    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
`;
const inFlightPatched = `    // ${closedMarker}: what was sent after the socket's error fails as well
    ;(query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
    query = null
`;

// A reserve waiting for a connection was lost when a connection closed: the pool's \`onclose\`
// took it off the queue to reconnect with, and the reconnect drops a reserve (only \`onopen\`
// serves one), so it never settled (porsager/postgres#1195). And a reserve whose connection
// attempt failed was rejected but left on the queue: the next connection to open was handed to
// it, a caller long gone, and was never given back (with one connection, the pool was dead).
// Patched, a reserve stays queued until served and leaves the queue when it fails.
const queueMarker = "leadflow-patch (porsager/postgres#1195)";
const queueOriginal = `    queries.length && connect(c, queries.shift())
  }`;
const queuePatched = `    // ${queueMarker}: a waiting reserve stays queued for onopen
    if (queries.length) {
      const q = queries.shift()
      q.reserve && queries.push(q)
      connect(c, q)
    }
  }`;
const reserveOriginal = `        const query = { reserve: resolve, reject }`;
const reservePatched = `        // ${queueMarker}: a reserve that fails leaves the queue
        const query = { reserve: resolve, reject: e => (queries.remove(query), reject(e)) }`;

const patches = [
  {
    files: ["src/index.js", "cjs/src/index.js"],
    issue: "porsager/postgres#1208",
    marker: reservedMarker,
    original: reservedOriginal,
    patched: reservedPatched,
  },
  {
    files: ["src/connection.js", "cjs/src/connection.js"],
    issue: "porsager/postgres#1192",
    marker: typesMarker,
    original: typesOriginal,
    patched: typesPatched,
  },
  {
    files: ["src/connection.js", "cjs/src/connection.js"],
    issue: "porsager/postgres#1130",
    marker: `${closedMarker}: nothing buffered`,
    original: closedOriginal,
    patched: closedPatched,
  },
  {
    files: ["src/connection.js", "cjs/src/connection.js"],
    issue: "porsager/postgres#1130",
    marker: `${closedMarker}: what was sent`,
    original: inFlightOriginal,
    patched: inFlightPatched,
  },
  {
    files: ["src/index.js", "cjs/src/index.js"],
    issue: "porsager/postgres#1195",
    marker: `${queueMarker}: a waiting reserve`,
    original: queueOriginal,
    patched: queuePatched,
  },
  {
    files: ["src/index.js", "cjs/src/index.js"],
    issue: "porsager/postgres#1195",
    marker: `${queueMarker}: a reserve that fails`,
    original: reserveOriginal,
    patched: reservePatched,
  },
];

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
      "Check whether porsager/postgres#1208, #1192, #1130 and #1195 are fixed in it (then delete this script and its " +
      "postinstall entry), or port the patch.",
  );
  process.exit(1);
}
for (const { files, issue, marker, original, patched } of patches) {
  for (const file of files) {
    const path = join(pkgDir, file);
    const text = readFileSync(path, "utf8");
    if (text.includes(marker)) continue;
    if (!text.includes(original)) {
      console.error(`scripts/patch-postgres.mjs: ${path} does not hold the code the patch expects`);
      process.exit(1);
    }
    writeFileSync(path, text.replace(original, patched));
    console.log(`patched ${join("node_modules/postgres", file)} (${issue})`);
  }
}
