import { createServer } from "node:net";
import type { Jet } from "@leadflow/testkit";
import { requestedEvent } from "./Seed.js";

/** A port nothing listens on right now (PUBLIC_BASE_URL must be known before the host starts). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });

/** Publishes `leadflow.evt.approval.requested` as the orchestrator's outbox would (its own message id). */
export const publishRequested = (
  jet: Jet,
  approvalId: string,
  runId: string,
  type: "leads" | "emails",
  items: number,
  msgID = `approval:${approvalId}:requested:${Math.random().toString(36).slice(2)}`,
) => jet.publishRaw("leadflow.evt.approval.requested", requestedEvent(approvalId, runId, type, items), msgID);

/** One sample of a metric from a Prometheus text page (0 when absent). */
export const metricValue = (page: string, name: string, labels: Readonly<Record<string, string>>): number => {
  for (const line of page.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf("}"));
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.indexOf("}") + 1).trim());
    }
  }
  return 0;
};

export const metricsOf = async (port: number): Promise<string> =>
  (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

/** Every `href` that points at a review page, from an email's HTML. */
export const reviewLinks = (html: string): ReadonlyArray<string> =>
  [...html.matchAll(/href="([^"]*\/approvals\/[^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, "&"));
