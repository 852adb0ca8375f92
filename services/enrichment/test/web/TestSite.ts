import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Answers one request on a test site. */
export type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** A local HTTP server on 127.0.0.1 with fixed routes, recording each request's path and headers. */
export interface TestSite {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** `127.0.0.1:<port>`, for a policy's allow-list. */
  readonly hostPort: string;
  readonly requests: Array<{ readonly path: string; readonly headers: IncomingMessage["headers"] }>;
  readonly close: () => Promise<void>;
}

/** Starts a site on a free port; unknown paths answer 404. */
export const startSite = async (routes: Readonly<Record<string, Route>>): Promise<TestSite> => {
  const requests: Array<{ path: string; headers: IncomingMessage["headers"] }> = [];
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    requests.push({ path, headers: req.headers });
    const route = routes[path];
    if (route === undefined) {
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<h1>not found</h1>");
      return;
    }
    route(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // slow-body routes hold their sockets open on purpose
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** A 200 `text/html` page. */
export const page =
  (body: string | Buffer, headers: Readonly<Record<string, string>> = {}): Route =>
  (_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...headers });
    res.end(body);
  };

/** A redirect to `location`. */
export const redirect =
  (location: string, status = 302): Route =>
  (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  };
