import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface TcpForwarder {
  /** The port clients connect to (fixed for the forwarder's life, across `down`/`up`). */
  readonly port: number;
  /** A URL like `target` with host and port replaced by the forwarder's. */
  readonly url: (target: string) => string;
  /**
   * An outage: every open connection is cut (both sides reset) and the port refuses new ones
   * (ECONNREFUSED), as when the server behind it stops, until `up()`.
   */
  readonly down: () => Promise<void>;
  readonly up: () => Promise<void>;
  readonly close: () => Promise<void>;
}

/**
 * A TCP forwarder on a loopback port to `targetPort` (PostgreSQL, say) that a test can take
 * down and bring back: the real server keeps running (it is shared), its clients see it vanish.
 */
export const startTcpForwarder = async (
  targetPort: number,
  options: {
    readonly targetHost?: string;
    /** The port to listen on (default: a free one). */
    readonly port?: number;
  } = {},
): Promise<TcpForwarder> => {
  const targetHost = options.targetHost ?? "127.0.0.1";
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = options.port ?? 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = createConnection({ port: targetPort, host: targetHost });
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
          socket.on("error", () => undefined);
        }
        client.pipe(upstream);
        upstream.pipe(client);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
      });
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });

  const down = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return {
    port,
    url: (target) => {
      const u = new URL(target);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    down,
    up: () => (server ? Promise.resolve() : listen()),
    close: down,
  };
};
