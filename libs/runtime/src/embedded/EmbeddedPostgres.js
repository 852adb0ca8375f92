// Plain JavaScript (its types are in EmbeddedPostgres.d.ts) so that the embedded database's
// child process runs on bare node: under the tsx loader the same child needs ~60 MB more
// (a loader thread, and every module passed through it), counted in `leadflow dev`'s memory.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
/**
 * The pool size callers should give postgres.js for the embedded database. PGlite has one
 * backend: more connections are safe here (the server below serialises them a transaction at
 * a time) but gain nothing, and a pool of one keeps a transaction from waiting on a query the
 * same process sent on another connection. `sql.listen` opens its own connection and works.
 */
export const embeddedPostgresPoolMax = 1;
// PGlite's defaults are a server's: 128 MB of shared buffers and 1 GB of WAL before a
// checkpoint. A dev database is small; these keep the process and the folder small too.
const startParams = [
  ...PGlite.defaultStartParams,
  "-c",
  "shared_buffers=16MB",
  "-c",
  "max_wal_size=128MB",
  "-c",
  "min_wal_size=32MB",
];
const require = createRequire(import.meta.url);
/**
 * initdb in PGlite grows the WebAssembly heap to ~850 MB that the process never gets back,
 * so a fresh data folder is created by a short-lived child process; this one only opens it.
 */
const initDataDir = (dataDir) =>
  new Promise((resolve, reject) => {
    const script = [
      "const { PGlite } = require(process.argv[1]);",
      "PGlite.create({ dataDir: process.argv[2] }).then((db) => db.close()).then(",
      "  () => process.exit(0),",
      "  (error) => { console.error(error); process.exit(1); },",
      ");",
    ].join("\n");
    const child = spawn(process.execPath, ["-e", script, require.resolve("@electric-sql/pglite"), dataDir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`PGlite initdb in ${dataDir} failed (exit ${code}): ${stderr}`)),
    );
  });
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const NOTIFICATION = 0x41; // 'A'
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'
const TERMINATE = 0x58; // 'X'
const QUERY = 0x51; // 'Q'
const PARSE = 0x50; // 'P'
const CLOSE = 0x43; // 'C'
const STATEMENT = 0x53; // 'S', what a Close names
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);
/** A FATAL ErrorResponse, so a refused client reports a reason instead of a dropped socket. */
const fatal = (code, message) => {
  const body = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`);
  const head = Buffer.alloc(5);
  head[0] = 0x45; // 'E'
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const startsWithListen = (text) => /^\s*listen\s/i.test(text.toString("utf8", 0, 64));
/** The statement name of a Parse message (after the type and length), "" for the unnamed one. */
const parsedName = (message) => message.toString("utf8", 5, message.indexOf(0, 5));
/** Close messages for these prepared statements, and a Sync. */
const closeStatements = (names) => {
  const parts = [];
  for (const name of names) {
    const body = Buffer.from(`S${name}\0`);
    const head = Buffer.alloc(5);
    head[0] = CLOSE;
    head.writeInt32BE(body.length + 4, 1);
    parts.push(head, body);
  }
  parts.push(SYNC);
  return Buffer.concat(parts);
};
/**
 * Walks the backend's output, which PGlite streams in chunks that need not end on message
 * boundaries: passes everything but NotificationResponse on to the client that asked, keeps
 * notifications aside for the connections that LISTEN, and remembers the transaction status
 * of the last ReadyForQuery.
 */
class BackendStream {
  emit;
  header = Buffer.alloc(5);
  headerFill = 0;
  type = 0;
  remaining = 0;
  capture;
  notifications = [];
  status;
  constructor(emit) {
    this.emit = emit;
  }
  feed(data) {
    const chunk = Buffer.from(data); // a copy: PGlite reuses the memory behind `data`
    let at = 0;
    let passFrom = 0;
    const pass = (to) => {
      if (to > passFrom) this.emit(chunk.subarray(passFrom, to));
      passFrom = to;
    };
    while (at < chunk.length) {
      if (this.headerFill < 5) {
        const start = at;
        const held = this.headerFill > 0;
        const n = Math.min(5 - this.headerFill, chunk.length - at);
        chunk.copy(this.header, this.headerFill, at, at + n);
        this.headerFill += n;
        at += n;
        if (this.headerFill < 5) {
          // a header split across chunks is held back until its type is known
          pass(start);
          passFrom = chunk.length;
          return;
        }
        this.type = this.header[0];
        this.remaining = this.header.readInt32BE(1) - 4;
        if (this.type === NOTIFICATION) {
          pass(start);
          this.capture = [Buffer.from(this.header)];
          passFrom = at;
        } else if (held) {
          this.emit(Buffer.from(this.header));
          passFrom = at;
        }
      }
      const n = Math.min(this.remaining, chunk.length - at);
      if (this.capture) this.capture.push(chunk.subarray(at, at + n));
      if (this.type === READY_FOR_QUERY && n > 0) this.status = chunk[at + n - 1];
      at += n;
      this.remaining -= n;
      if (this.remaining === 0) {
        if (this.capture) {
          this.notifications.push(Buffer.concat(this.capture));
          this.capture = undefined;
          passFrom = at;
        }
        this.headerFill = 0;
      }
    }
    if (this.capture) passFrom = chunk.length;
    pass(chunk.length);
  }
}
/**
 * Frames a client's byte stream into protocol messages. Until the StartupMessage the
 * messages carry no type byte (SSLRequest, GSSENCRequest, CancelRequest, StartupMessage).
 */
class FrontendReader {
  parts = [];
  size = 0;
  untyped = true;
  push(chunk) {
    this.parts.push(chunk);
    this.size += chunk.length;
  }
  /** The next whole message, undefined until one has arrived; throws on a malformed length. */
  take() {
    const headerLength = this.untyped ? 8 : 5;
    if (this.size < headerLength) return undefined;
    if (this.parts[0].length < headerLength) this.flatten();
    const first = this.parts[0];
    const length = this.untyped ? first.readInt32BE(0) : 1 + first.readInt32BE(1);
    if (length < headerLength || length > 1 << 30) {
      throw new Error(`malformed protocol message (length ${length})`);
    }
    if (this.size < length) return undefined;
    if (first.length < length) this.flatten();
    const all = this.parts[0];
    const message = all.subarray(0, length);
    const rest = all.subarray(length);
    this.parts = rest.length > 0 ? [rest, ...this.parts.slice(1)] : this.parts.slice(1);
    this.size -= length;
    if (this.untyped && message.readInt32BE(4) >>> 16 === 3) this.untyped = false;
    return message;
  }
  flatten() {
    this.parts = [Buffer.concat(this.parts)];
  }
}
class Connection {
  socket;
  reader = new FrontendReader();
  inbox = [];
  queued = false;
  listens = false;
  closed = false;
  /** Named statements this client prepared: the session outlives the connection, they must not. */
  statements = new Set();
  constructor(socket) {
    this.socket = socket;
  }
}
/**
 * Serves one PGlite backend to many client connections. A connection holds the backend from
 * its first message until a ReadyForQuery that says "idle": an extended-protocol batch
 * (Parse … Sync) and a whole transaction run without another connection's messages in
 * between, which is what a single-session backend needs. An open transaction therefore
 * holds every other connection back until it ends; a client that goes away mid-transaction
 * has it rolled back. (pglite-socket's server interleaves single messages across connections
 * and hands NotificationResponses to whichever connection committed the NOTIFY; see
 * electric-sql/pglite#1046.)
 */
class Multiplexer {
  db;
  maxConnections;
  connections = new Set();
  waiting = [];
  owner;
  running;
  stopped = false;
  /** Prepared statements of clients that went away, closed when the backend is next free. */
  orphans = [];
  constructor(db, maxConnections) {
    this.db = db;
    this.maxConnections = maxConnections;
  }
  accept(socket) {
    if (this.stopped || this.connections.size >= this.maxConnections) {
      socket.end(fatal("53300", "sorry, too many clients already"));
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    socket.setNoDelay(true);
    const conn = new Connection(socket);
    this.connections.add(conn);
    socket.on("data", (chunk) => this.receive(conn, chunk));
    socket.on("error", () => this.close(conn));
    socket.on("close", () => this.close(conn));
  }
  /** Closes every connection and waits until the backend is idle and outside a transaction. */
  async stop() {
    this.stopped = true;
    for (const conn of this.connections) this.close(conn);
    while (this.running) await this.running;
  }
  receive(conn, chunk) {
    if (conn.closed) return;
    conn.reader.push(chunk);
    try {
      for (let message = conn.reader.take(); message; message = conn.reader.take()) {
        if (conn.reader.untyped) {
          // a request before the StartupMessage: no TLS here, and nothing to cancel on one backend
          const code = message.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            conn.socket.write("N");
            continue;
          }
          this.close(conn);
          return;
        }
        conn.inbox.push(message);
      }
    } catch (error) {
      this.close(conn, fatal("08P01", error.message));
      return;
    }
    if (conn.inbox.length === 0) return;
    if (conn !== this.owner && !conn.queued) {
      conn.queued = true;
      this.waiting.push(conn);
    }
    this.schedule();
  }
  /** Drops a connection; `farewell` (an ErrorResponse) is flushed to the client first. */
  close(conn, farewell) {
    if (conn.closed) return;
    conn.closed = true;
    conn.inbox = [];
    for (const name of conn.statements) this.orphans.push(name);
    conn.statements.clear();
    this.connections.delete(conn);
    if (farewell && conn.socket.writable) {
      conn.socket.end(farewell);
      setTimeout(() => conn.socket.destroy(), 1_000).unref();
    } else conn.socket.destroy();
    this.schedule();
  }
  schedule() {
    if (this.running) return;
    this.running = this.pump().finally(() => {
      this.running = undefined;
      if (this.hasWork()) this.schedule();
    });
  }
  hasWork() {
    if (this.owner) return this.owner.closed || this.owner.inbox.length > 0;
    return this.orphans.length > 0 || this.waiting.some((c) => !c.closed && c.inbox.length > 0);
  }
  async pump() {
    for (;;) {
      const owner = this.owner;
      if (owner?.closed) {
        await this.reset();
        this.owner = undefined;
        continue;
      }
      if (owner) {
        if (owner.inbox.length === 0) return;
        await this.run(owner);
        continue;
      }
      if (this.orphans.length > 0) {
        await this.closeOrphans();
        continue;
      }
      const next = this.waiting.shift();
      if (!next) return;
      next.queued = false;
      if (next.closed || next.inbox.length === 0) continue;
      this.owner = next;
    }
  }
  /** Runs the owner's queued messages as one batch: PGlite reads them in order. */
  async run(conn) {
    const head = conn.inbox[0];
    let batch;
    if (conn.inbox.length === 1 || head[0] === 0 || head[0] === TERMINATE) {
      batch = conn.inbox.splice(0, 1);
    } else {
      const end = conn.inbox.findIndex((m) => m[0] === 0 || m[0] === TERMINATE);
      batch = conn.inbox.splice(0, end === -1 ? conn.inbox.length : end);
    }
    if (head[0] === TERMINATE) {
      this.close(conn);
      return;
    }
    for (const m of batch) {
      if (m[0] === QUERY && startsWithListen(m.subarray(5))) conn.listens = true;
      else if (m[0] === PARSE) {
        const name = parsedName(m);
        if (name !== "") conn.statements.add(name);
        if (startsWithListen(m.subarray(m.indexOf(0, 5) + 1))) conn.listens = true;
      } else if (m[0] === CLOSE && m[5] === STATEMENT) conn.statements.delete(parsedName(m.subarray(1)));
    }
    const stream = new BackendStream((bytes) => {
      if (!conn.closed) conn.socket.write(bytes);
    });
    const message = batch.length === 1 ? batch[0] : Buffer.concat(batch);
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(message, { onRawData: (d) => stream.feed(d) }),
      );
    } catch (error) {
      // PGlite threw instead of answering: the session state of this client is unknown
      this.close(conn, fatal("XX000", `embedded postgres: ${error.message}`));
      return;
    }
    for (const notification of stream.notifications) {
      for (const other of this.connections) if (other.listens) other.socket.write(notification);
    }
    if (stream.status === IDLE) {
      this.owner = undefined;
      if (conn.inbox.length > 0 && !conn.queued && !conn.closed) {
        conn.queued = true;
        this.waiting.push(conn);
      }
    }
  }
  /** Closes the prepared statements of clients that have gone (none of them can use one again). */
  async closeOrphans() {
    const names = this.orphans.splice(0);
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(closeStatements(names), { onRawData: () => undefined }),
      );
    } catch {
      // a statement that stays costs memory, not correctness
    }
  }
  /** Puts the session back to idle after its owner left mid-batch or mid-transaction. */
  async reset() {
    try {
      await this.db.runExclusive(() => this.db.execProtocolRawStream(SYNC, { onRawData: () => undefined }));
      if (this.db.isInTransaction()) await this.db.exec("rollback");
    } catch {
      // the next client's own error says more than this one could
    }
  }
}
const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
};
/**
 * PGlite takes no lock on its folder, and two processes writing one PGDATA corrupt it: a pid
 * file does. A file whose process is gone is taken over.
 */
const lockDataDir = async (dataDir) => {
  const file = join(dataDir, "leadflow-embedded.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new Error(
          `${dataDir} is in use by the embedded Postgres of process ${pid} (remove ${file} if it is not)`,
        );
      }
      await rm(file, { force: true });
    }
  }
  throw new Error(`cannot lock ${dataDir}`);
};
/**
 * Starts PGlite on `dataDir` and serves it over the Postgres wire protocol on 127.0.0.1, so
 * postgres.js (and psql) connect to it like to any server. Several connections are served one
 * transaction at a time; use {@link embeddedPostgresPoolMax} for the pool. LISTEN/NOTIFY works.
 * One instance per data folder: a second start on a folder in use fails.
 */
export const startEmbeddedPostgres = async (options) => {
  await mkdir(options.dataDir, { recursive: true });
  const unlock = await lockDataDir(options.dataDir);
  let db;
  try {
    if (!existsSync(join(options.dataDir, "PG_VERSION"))) await initDataDir(options.dataDir);
    db = await PGlite.create({ dataDir: options.dataDir, startParams });
  } catch (error) {
    await unlock();
    throw error;
  }
  const mux = new Multiplexer(db, options.maxConnections ?? 32);
  const server = createServer((socket) => mux.accept(socket));
  let port;
  try {
    port = await new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => {
        const address = server.address();
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no address"));
      });
    });
  } catch (cause) {
    await db.close();
    await unlock();
    throw new Error(`embedded postgres cannot listen on 127.0.0.1:${options.port ?? 0}`, { cause });
  }
  let stopping;
  const stop = async () => {
    const closed = new Promise((resolve) => server.close(() => resolve()));
    await mux.stop();
    await closed;
    await db.close();
    await unlock();
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
};
