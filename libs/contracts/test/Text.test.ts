import { describe, expect, it } from "vitest";
import { cleanLine } from "../src/Text.js";

describe("cleanLine", () => {
  it("turns tabs and line breaks into single spaces and drops control and invisible characters", () => {
    expect(cleanLine("Ann\u001b[2J\tSmith\r\n\r\nBcc: x@evil.test\u0000")).toBe(
      "Ann[2J Smith Bcc: x@evil.test",
    );
    expect(cleanLine(" Facilities\u202e Manager\u200b\ufeff ")).toBe("Facilities Manager");
    expect(cleanLine("1 Main St\u2028Suite 2\u0085")).toBe("1 Main St Suite 2");
    expect(cleanLine("\u0007\u0008")).toBe("");
  });

  it("leaves ordinary text alone, Unicode and inner double spaces included", () => {
    const text = "Café  Zoë's — Niagara Falls";
    expect(cleanLine(text)).toBe(text);
    expect(cleanLine(null)).toBeNull();
    expect(cleanLine(undefined)).toBeUndefined();
  });
});
