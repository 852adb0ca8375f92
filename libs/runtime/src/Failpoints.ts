import { Effect } from "effect";

/**
 * Fault injection for the fault tests: named points in the runtime where a test can make a
 * process sleep or die, the way failpoints work in FreeBSD or TiKV. Off unless
 * `LEADFLOW_FAILPOINTS` is set, e.g. `consumer.analyst-analyst-score.after-commit=exit`
 * or `consumer.analyst-analyst-score.before-handle=sleep(200)`, or `…=die(1)` (fail the next
 * one call as a crash would, then pass). A test in the same process
 * can set them with `setFailpoints`.
 *
 * Points: `consumer.<durable>.before-handle`, `consumer.<durable>.after-commit` (the handler's
 * transaction committed; nothing acked or published yet), `consumer.<durable>.before-dead-letter`
 * (giving up on a message: its hook committed, its dead letter not yet published).
 */
type Action =
  | { readonly _tag: "exit" }
  | { readonly _tag: "sleep"; readonly ms: number }
  | { readonly _tag: "die"; remaining: number };

const parse = (spec: string | undefined): Map<string, Action> => {
  const points = new Map<string, Action>();
  for (const entry of (spec ?? "").split(",")) {
    const [name, action] = entry.split("=").map((s) => s.trim());
    if (!name || !action) continue;
    if (action === "exit") points.set(name, { _tag: "exit" });
    const sleep = /^sleep\((\d+)\)$/.exec(action);
    if (sleep) points.set(name, { _tag: "sleep", ms: Number(sleep[1]) });
    const die = /^die\((\d+)\)$/.exec(action);
    if (die) points.set(name, { _tag: "die", remaining: Number(die[1]) });
  }
  return points;
};

// read once, here only: this is test machinery, not configuration
let points = parse(process.env.LEADFLOW_FAILPOINTS);

export const setFailpoints = (spec: string): void => {
  points = parse(spec);
};

/** Whether an action is registered for `name`. */
export const hasFailpoint = (name: string): boolean => points.size > 0 && points.has(name);

/** Runs the action registered for `name`, if any. */
export const failpoint = (name: string): Effect.Effect<void> => {
  if (points.size === 0) return Effect.void;
  const action = points.get(name);
  if (!action) return Effect.void;
  if (action._tag === "sleep") return Effect.sleep(action.ms);
  if (action._tag === "die") {
    if (action.remaining <= 0) return Effect.void;
    action.remaining--;
    return Effect.dieMessage(`failpoint ${name}`);
  }
  return Effect.sync(() => {
    process.stderr.write(`failpoint ${name}: exiting\n`);
    process.exit(137);
  });
};
