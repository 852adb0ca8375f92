import { createHmac, timingSafeEqual } from "node:crypto";
import type { ApprovalType } from "@leadflow/contracts";

/**
 * Review-link tokens: `v1.<purpose>.<expiry, unix seconds>.<HMAC-SHA256, base64url>`, the MAC
 * taken over the version, the request id (from the URL path, so a token only opens its own
 * request), the purpose and the expiry. Pure functions: the key and the clock are arguments.
 */

const VERSION = "v1";

export type TokenCheck =
  | { readonly ok: true; readonly purpose: ApprovalType; readonly expiresAt: Date }
  | { readonly ok: false; readonly reason: "malformed" | "bad_signature" | "expired" | "wrong_purpose" };

const mac = (key: Uint8Array, requestId: string, purpose: string, expiry: number): Buffer =>
  createHmac("sha256", key).update(`${VERSION}\n${requestId}\n${purpose}\n${expiry}`).digest();

/** A token for `requestId` and `purpose`, valid until `expiresAt`. */
export const signToken = (
  key: Uint8Array,
  requestId: string,
  purpose: ApprovalType,
  expiresAt: Date,
): string => {
  const expiry = Math.floor(expiresAt.getTime() / 1000);
  return `${VERSION}.${purpose}.${expiry}.${mac(key, requestId.toLowerCase(), purpose, expiry).toString("base64url")}`;
};

const TOKEN = /^v1\.(leads|emails)\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

/**
 * Checks a token against the request it is presented for: signature first (compared in constant
 * time), then expiry and purpose, so nothing about an unsigned token is believed.
 */
export const verifyToken = (
  key: Uint8Array,
  requestId: string,
  expectedPurpose: ApprovalType,
  token: string,
  now: Date,
): TokenCheck => {
  const m = TOKEN.exec(token);
  if (m === null) return { ok: false, reason: "malformed" };
  const purpose = m[1] as ApprovalType;
  const expiry = Number(m[2]);
  // compared as text: base64url ignores the low bits of its last character, so decoded bytes
  // would accept a few altered tokens as the same one
  const given = Buffer.from(m[3]!, "ascii");
  const expected = Buffer.from(
    mac(key, requestId.toLowerCase(), purpose, expiry).toString("base64url"),
    "ascii",
  );
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "bad_signature" };
  }
  if (expiry * 1000 <= now.getTime()) return { ok: false, reason: "expired" };
  if (purpose !== expectedPurpose) return { ok: false, reason: "wrong_purpose" };
  return { ok: true, purpose, expiresAt: new Date(expiry * 1000) };
};

/** The review page's URL: `PUBLIC_BASE_URL/approvals/<id>?token=…`. */
export const reviewUrl = (publicBaseUrl: string, requestId: string, token: string): string =>
  `${publicBaseUrl}/approvals/${encodeURIComponent(requestId)}?token=${encodeURIComponent(token)}`;
