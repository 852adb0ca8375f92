import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { reviewUrl, signToken, verifyToken } from "../src/LinkToken.js";

const key = new TextEncoder().encode("k".repeat(40));
const otherKey = new TextEncoder().encode("x".repeat(40));
const id = randomUUID();
const now = new Date("2026-11-23T12:00:00Z");
const inAWeek = new Date(now.getTime() + 7 * 86_400_000);

describe("review link tokens", () => {
  const token = signToken(key, id, "leads", inAWeek);

  it("accepts its own token for its request and purpose until it expires", () => {
    const check = verifyToken(key, id, "leads", token, now);
    expect(check).toEqual({
      ok: true,
      purpose: "leads",
      expiresAt: new Date(Math.floor(inAWeek.getTime() / 1000) * 1000),
    });
    expect(verifyToken(key, id.toUpperCase(), "leads", token, now).ok).toBe(true);
  });

  it("refuses every altered character of the signature", () => {
    const mac = token.split(".")[3]!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let refused = 0;
    for (let i = 0; i < mac.length; i++) {
      const other = alphabet[(alphabet.indexOf(mac[i]!) + 1) % alphabet.length]!;
      const tampered = `${token.slice(0, token.length - mac.length)}${mac.slice(0, i)}${other}${mac.slice(i + 1)}`;
      const check = verifyToken(key, id, "leads", tampered, now);
      if (!check.ok && check.reason === "bad_signature") refused++;
    }
    expect(refused).toBe(mac.length);
  });

  it("refuses a truncated, re-dated, re-purposed, foreign or differently keyed token", () => {
    expect(verifyToken(key, id, "leads", token.slice(0, -1), now)).toEqual({
      ok: false,
      reason: "malformed",
    });
    expect(verifyToken(key, id, "leads", "", now)).toEqual({ ok: false, reason: "malformed" });
    const [v, p, exp, mac] = token.split(".");
    const later = `${v}.${p}.${Number(exp) + 86_400}.${mac}`;
    expect(verifyToken(key, id, "leads", later, now)).toEqual({ ok: false, reason: "bad_signature" });
    const asEmails = `${v}.emails.${exp}.${mac}`;
    expect(verifyToken(key, id, "emails", asEmails, now)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifyToken(key, randomUUID(), "leads", token, now)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(verifyToken(otherKey, id, "leads", token, now)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuses a genuine token past its expiry, and one signed for the other purpose", () => {
    expect(verifyToken(key, id, "leads", token, new Date(inAWeek.getTime() + 1000))).toEqual({
      ok: false,
      reason: "expired",
    });
    const emails = signToken(key, id, "emails", inAWeek);
    expect(verifyToken(key, id, "leads", emails, now)).toEqual({ ok: false, reason: "wrong_purpose" });
  });

  it("builds the link from the public base URL", () => {
    expect(reviewUrl("https://leadflow.example.com", id, token)).toBe(
      `https://leadflow.example.com/approvals/${id}?token=${token}`,
    );
  });
});
