import { describe, expect, it } from "vitest";
import { callInWorker } from "../src/IsolatedCall.js";

describe("callInWorker", () => {
  it("calls a module's export in a worker thread and hands back its (awaited) result", async () => {
    expect(await callInWorker("node:path", "join", ["a", "b", "../c"])).toBe("a/c");
    const data = "data:text/javascript,export default async (n) => ({ doubled: n * 2, list: [n] });";
    expect(await callInWorker(data, "default", [21])).toEqual({ doubled: 42, list: [21] });
  });

  it("rejects with the worker's error: a throwing call, a missing export, a missing module", async () => {
    const throwing = "data:text/javascript,export const boom = () => { throw new Error('kaboom'); };";
    await expect(callInWorker(throwing, "boom", [])).rejects.toThrow("kaboom");
    await expect(callInWorker("node:path", "nope", [])).rejects.toThrow('has no function export "nope"');
    await expect(callInWorker("file:///nonexistent/module.js", "default", [])).rejects.toThrow();
  });

  it("compiles MJML the way the writer and the notifier do", async () => {
    const result = (await callInWorker(import.meta.resolve("mjml"), "default", [
      "<mjml><mj-body><mj-section><mj-column><mj-text>Hello &amp; welcome</mj-text></mj-column></mj-section></mj-body></mjml>",
      { validationLevel: "strict" },
    ])) as { html: string; errors: ReadonlyArray<unknown> };
    expect(result.errors).toEqual([]);
    expect(result.html).toContain("Hello &amp; welcome");
    await expect(
      callInWorker(import.meta.resolve("mjml"), "default", [
        "<mjml><mj-body><mj-nope /></mj-body></mjml>",
        { validationLevel: "strict" },
      ]),
    ).rejects.toThrow("mj-nope");
  });
});
