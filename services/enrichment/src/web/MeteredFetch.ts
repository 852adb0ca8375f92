import type { MetricsShape } from "@leadflow/runtime";
import { Effect } from "effect";
import type { SafeFetchShape } from "./SafeFetch.js";
import type { WebsiteError, WebsiteErrorReason } from "./WebsiteError.js";

/** The metrics' name for company websites, beside the API providers (`google_places`, `hunter`, …). */
export const WEBSITE_PROVIDER = "website";

/**
 * A refusal is a URL the fetcher would not call (a private address, a scheme other than http(s),
 * a URL that does not parse): no request was made, so no duration either.
 */
const refusals: ReadonlySet<WebsiteErrorReason> = new Set(["forbidden_address", "bad_scheme", "bad_url"]);

/** The outcome label, in the provider client's words where they mean the same. */
const outcomeOf = (e: WebsiteError): string => {
  if (refusals.has(e.reason)) return "refused";
  switch (e.reason) {
    case "timeout":
      return "timeout";
    case "network":
      return "network_error";
    case "http_status":
      if (e.status === 429) return "rate_limited";
      return e.status !== null && e.status >= 500 ? "server_error" : "client_error";
    default:
      // too large, not HTML, too many redirects: an answer that is no page to read
      return "invalid_response";
  }
};

/**
 * The website fetcher with the provider metrics every outbound call has
 * (`leadflow_provider_calls_total{provider="website", outcome}`,
 * `leadflow_provider_call_duration_seconds{provider="website"}`), so the dashboard's provider
 * panels show the company websites too: how many fetches, how many timed out or were refused.
 */
export const meteredFetch = (fetch: SafeFetchShape, metrics: MetricsShape): SafeFetchShape => ({
  get: (url) =>
    Effect.suspend(() => {
      const started = performance.now();
      return fetch.get(url).pipe(
        Effect.tapBoth({
          onSuccess: () =>
            Effect.sync(() => {
              metrics.providerDuration.observe(
                { provider: WEBSITE_PROVIDER },
                (performance.now() - started) / 1000,
              );
              metrics.providerCalls.inc({ provider: WEBSITE_PROVIDER, outcome: "ok" });
            }),
          onFailure: (e) =>
            Effect.sync(() => {
              const outcome = outcomeOf(e);
              if (outcome !== "refused")
                metrics.providerDuration.observe(
                  { provider: WEBSITE_PROVIDER },
                  (performance.now() - started) / 1000,
                );
              metrics.providerCalls.inc({ provider: WEBSITE_PROVIDER, outcome });
            }),
        }),
      );
    }),
});
