import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, Socket } from "node:net";
import { join } from "node:path";

/** Where `nats-server` may be installed, most specific first. */
const candidates = [
  process.env.NATS_SERVER_BIN,
  "/usr/sbin/nats-server",
  "/usr/bin/nats-server",
  "/usr/local/bin/nats-server",
];

/** The path of a `nats-server` binary, or undefined when none is installed. */
export const findNatsServerBinary = (): string | undefined =>
  candidates.find((p): p is string => typeof p === "string" && p.length > 0 && existsSync(p));

/**
 * A server left running on this data folder by a parent that was killed (SIGKILL gives the
 * parent no chance to stop its children) is stopped before a new one starts on the same store.
 */
const stopStale = async (pidFile: string, configFile: string): Promise<void> => {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, "utf8")).trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  let cmdline = "";
  try {
    cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).replace(/\0/g, " ");
  } catch {
    return; // not running (or no /proc): nothing to stop
  }
  if (!cmdline.includes("nats-server") || !cmdline.includes(configFile)) return;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  process.kill(pid, "SIGKILL");
};

/** A free TCP port on loopback. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });

export interface NatsServerOptions {
  /** JetStream store and config folder. */
  readonly dataDir: string;
  /** Default: a free port. */
  readonly port?: number;
  /** Default 8 MiB, so the runtime's own size checks (not the server's) decide on big bodies. */
  readonly maxPayloadBytes?: number;
  readonly binary?: string;
}

/**
 * A `nats-server` child process with JetStream. `stop()` and `start()` again on the same
 * port and store is a server restart, which fault tests use.
 */
export class NatsServerProcess {
  private child: ChildProcess | undefined;
  private constructor(
    readonly binary: string,
    readonly port: number,
    readonly dataDir: string,
    private readonly configFile: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async create(options: NatsServerOptions): Promise<NatsServerProcess> {
    const binary = options.binary ?? findNatsServerBinary();
    if (!binary) {
      throw new Error(
        "nats-server is not installed: install it (Debian: apt-get install -y nats-server) or set NATS_URL",
      );
    }
    const port = options.port ?? (await freePort());
    await mkdir(options.dataDir, { recursive: true });
    const configFile = join(options.dataDir, "nats-server.conf");
    const storeDir = join(options.dataDir, "jetstream");
    const pidFile = join(options.dataDir, "nats-server.pid");
    await stopStale(pidFile, configFile);
    await writeFile(
      configFile,
      [
        "host: 127.0.0.1",
        `port: ${port}`,
        `max_payload: ${options.maxPayloadBytes ?? 8 * 1024 * 1024}`,
        `pid_file: ${JSON.stringify(pidFile)}`,
        `jetstream { store_dir: ${JSON.stringify(storeDir)} }`,
        "",
      ].join("\n"),
    );
    const server = new NatsServerProcess(binary, port, options.dataDir, configFile);
    await server.start();
    return server;
  }

  /** Starts the server and resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(this.binary, ["-c", this.configFile], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    this.child = child;
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`nats-server exited with ${code}: ${stderr}`))),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const ok = await Promise.race([canConnect(this.port), exited]);
      if (ok) {
        child.removeAllListeners("exit");
        child.once("exit", () => {
          if (this.child === child) this.child = undefined;
        });
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill("SIGKILL");
    throw new Error(`nats-server did not start on port ${this.port}: ${stderr}`);
  }

  /** Stops the server (SIGTERM, then SIGKILL after a bound) and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) {
      this.child = undefined;
      return;
    }
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }
}
