import type { ProviderClassifier } from "./ProviderHttp.js";

/**
 * What a provider's error body means beyond its HTTP status, for the providers more than one
 * service calls (the scout searches them, enrichment looks phones up in them).
 */

/** Google answers an invalid key with 400 `API_KEY_INVALID` (403 `PERMISSION_DENIED` is unauthorized already). */
export const googlePlacesClassifier: ProviderClassifier = (status, body) => {
  const details = (body as { error?: { details?: ReadonlyArray<{ reason?: string }> } } | null)?.error
    ?.details;
  if (status === 400 && details?.some((d) => d.reason === "API_KEY_INVALID")) {
    return { kind: "unauthorized", retryable: false };
  }
  return undefined;
};

/** Yelp: the daily cap (`ACCESS_LIMIT_REACHED`) is not worth retrying today; token codes mean a bad key. */
export const yelpClassifier: ProviderClassifier = (status, body) => {
  const code = (body as { error?: { code?: string } } | null)?.error?.code;
  if (status === 429 && code === "ACCESS_LIMIT_REACHED") return { kind: "rate_limited", retryable: false };
  if (code === "TOKEN_INVALID" || code === "TOKEN_MISSING" || code === "UNAUTHORIZED") {
    return { kind: "unauthorized", retryable: false };
  }
  return undefined;
};
