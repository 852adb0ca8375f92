import { Effect, Fiber } from "effect";
import { describe, expect, it } from "vitest";
import { Mailbox } from "../src/Mailbox.js";

const all = (waiting: number) => waiting;

describe("Mailbox", () => {
  it("hands items out in order, as many as the taker asks for of those waiting", async () => {
    const box = new Mailbox<number>(10);
    for (let i = 1; i <= 5; i++) expect(box.offer(i)).toBe(true);
    expect(await Effect.runPromise(box.take(() => 2))).toEqual([1, 2]);
    expect(await Effect.runPromise(box.take((waiting) => Math.ceil(waiting / 2)))).toEqual([3, 4]);
    expect(await Effect.runPromise(box.take(all))).toEqual([5]);
    expect(box.size).toBe(0);
  });

  it("takes at least one, whatever the taker asks for", async () => {
    const box = new Mailbox<number>(4);
    box.offer(7);
    expect(await Effect.runPromise(box.take(() => 0))).toEqual([7]);
  });

  it("refuses an offer when full and resolves space() once a taker made room", async () => {
    const box = new Mailbox<number>(2);
    expect(box.offer(1)).toBe(true);
    expect(box.offer(2)).toBe(true);
    expect(box.offer(3)).toBe(false);
    let spaced = false;
    const space = box.space().then(() => {
      spaced = true;
    });
    await Promise.resolve();
    expect(spaced).toBe(false);
    expect(await Effect.runPromise(box.take(() => 1))).toEqual([1]);
    await space;
    expect(spaced).toBe(true);
    expect(box.offer(3)).toBe(true);
    expect(box.drain()).toEqual([2, 3]);
    await expect(box.space()).resolves.toBeUndefined();
  });

  it("wakes a waiting taker with what arrived by the time it runs, and shares a burst between takers", async () => {
    const box = new Mailbox<number>(100);
    const seen: Array<[number, number]> = [];
    const share = (waiting: number, takers: number) => {
      seen.push([waiting, takers]);
      return Math.ceil(waiting / takers);
    };
    const first = Effect.runFork(box.take(share));
    const second = Effect.runFork(box.take(share));
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 1; i <= 6; i++) box.offer(i);
    const a = await Effect.runPromise(Fiber.join(first));
    const b = await Effect.runPromise(Fiber.join(second));
    // both woke; the first took its half of the six (two takers), the second, alone by then, the rest
    expect(seen).toEqual([
      [6, 2],
      [3, 1],
    ]);
    expect(a).toEqual([1, 2, 3]);
    expect(b).toEqual([4, 5, 6]);
    expect(box.size).toBe(0);
  });

  it("counts only the takers in take: one alone takes what the others would have shared", async () => {
    const box = new Mailbox<number>(100);
    const share = (waiting: number, takers: number) => Math.ceil(waiting / takers);
    for (let i = 1; i <= 8; i++) box.offer(i);
    // nobody else is taking: all of it
    expect(await Effect.runPromise(box.take(share))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // an interrupted taker does not count after it left, nor does one that took
    const gone = Effect.runFork(box.take(share));
    await new Promise((r) => setTimeout(r, 5));
    await Effect.runPromise(Fiber.interrupt(gone));
    for (let i = 9; i <= 12; i++) box.offer(i);
    expect(await Effect.runPromise(box.take(share))).toEqual([9, 10, 11, 12]);
  });

  it("lets a woken taker that found nothing wait again, and an interrupted taker take nothing", async () => {
    const box = new Mailbox<number>(10);
    const waiting = Effect.runFork(box.take(all));
    const interrupted = Effect.runFork(box.take(all));
    await new Promise((r) => setTimeout(r, 5));
    await Effect.runPromise(Fiber.interrupt(interrupted));
    box.offer(1);
    // taken by someone else before the woken taker runs
    expect(box.drain()).toEqual([1]);
    await new Promise((r) => setTimeout(r, 5));
    expect(waiting.unsafePoll()).toBeNull();
    box.offer(2);
    expect(await Effect.runPromise(Fiber.join(waiting))).toEqual([2]);
    // the interrupted taker left no waiter behind to swallow a wake-up
    box.offer(3);
    expect(box.size).toBe(1);
  });

  it("keeps order across many offers and takes (compaction)", async () => {
    const box = new Mailbox<number>(5000);
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 97; i++) box.offer(next++);
      out.push(...(await Effect.runPromise(box.take(() => 60))));
    }
    out.push(...box.drain());
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it("refuses a capacity below one", () => {
    expect(() => new Mailbox(0)).toThrow(/capacity/);
  });
});
