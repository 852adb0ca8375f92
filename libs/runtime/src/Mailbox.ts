import { Effect } from "effect";

/**
 * The messages a consumer holds between its pull and its workers: a bounded FIFO that one
 * producer (the pull loop, plain async code) fills and several worker fibers take from.
 *
 * Not Effect's `Queue`: an offer there costs a trip through its strategy and taker bookkeeping,
 * and a full queue is waited on with a new fiber (`runPromise(offer)`), per message; this is an
 * array push. A worker that finds nothing waits; the next offer wakes one waiting worker, which
 * then takes everything that has arrived by the time it runs (up to what it asks for), so a burst
 * is shared out in groups rather than one message per wake-up. A taker learns how many takers
 * are in `take` with it (itself included): what is waiting can be shared among those, and a
 * taker alone while the others work can take it all.
 */
export class Mailbox<T> {
  private items: T[] = [];
  private head = 0;
  private readonly takers: Array<() => void> = [];
  private readonly spaceWaiters: Array<() => void> = [];
  /** Takers inside `take`: waiting, or woken and not yet run. */
  private taking = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`mailbox capacity must be ≥ 1, got ${capacity}`);
  }

  /** Items waiting. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds an item unless the mailbox is full (then wait for `space()` and offer again). */
  offer(item: T): boolean {
    if (this.size >= this.capacity) return false;
    this.items.push(item);
    this.takers.shift()?.();
    return true;
  }

  /** Resolves once an item has been taken from a full mailbox (at once if it is not full). */
  space(): Promise<void> {
    if (this.size < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /**
   * Takes between 1 and `max(waiting, takers)` items (`waiting`: how many are there when the
   * taker runs; `takers`: how many are in `take` then, itself included), waiting while there are
   * none. Interrupting a waiting take leaves no trace.
   */
  take(max: (waiting: number, takers: number) => number): Effect.Effect<ReadonlyArray<T>> {
    const attempt: Effect.Effect<ReadonlyArray<T>> = Effect.suspend(() => {
      if (this.size > 0) {
        const taken = this.poll(Math.max(1, max(this.size, this.taking)));
        this.taking--;
        return Effect.succeed(taken);
      }
      return Effect.zipRight(
        Effect.async<void>((resume) => {
          const wake = () => resume(Effect.void);
          this.takers.push(wake);
          return Effect.sync(() => {
            const i = this.takers.indexOf(wake);
            if (i >= 0) this.takers.splice(i, 1);
          });
        }),
        // another worker may have taken what woke this one: wait again
        attempt,
      );
    });
    return Effect.suspend(() => {
      this.taking++;
      // an interrupted taker leaves (one that took has counted itself out already)
      return Effect.onInterrupt(attempt, () =>
        Effect.sync(() => {
          this.taking--;
        }),
      );
    });
  }

  /** Everything still waiting, emptying the mailbox (on shutdown). */
  drain(): ReadonlyArray<T> {
    return this.poll(this.size);
  }

  private poll(n: number): T[] {
    const end = this.head + Math.min(n, this.size);
    const taken = this.items.slice(this.head, end);
    this.head = end;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (taken.length > 0 && this.size < this.capacity) {
      for (const waiter of this.spaceWaiters.splice(0)) waiter();
    }
    return taken;
  }
}
