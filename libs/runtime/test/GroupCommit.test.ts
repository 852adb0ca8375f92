import { contract } from "@leadflow/contracts";
import {
  createTestDatabase,
  createTestNats,
  type TestDatabase,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Effect, Exit, Schema, Scope } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  defaultMaxGroup,
  definePlugin,
  type HandlerContext,
  provisionStreams,
  query,
  startHost,
} from "../src/index.js";

// Group commit in single mode: with a backlog, the messages a free worker finds waiting share one
// transaction, up to `maxGroup` (default `defaultMaxGroup`). Each handler records the id of the
// transaction it ran in, so the groups are read from the database, not from the runtime.

const backlog = 1200;
const item = (name: string) =>
  contract({
    name,
    stream: "cmd",
    filter: `leadflow.cmd.test.${name}`,
    subject: () => `leadflow.cmd.test.${name}`,
    schema: Schema.Struct({ n: Schema.Int }),
    messageId: (m) => `${name}:${m.n}`,
  });
const Default = item("group-default");
const Small = item("group-small");

let db: TestDatabase;
let nats: TestNats;
let scope: Scope.CloseableScope | undefined;

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  await db.sql`create table test_groups (consumer text, n int, tx bigint, primary key (consumer, n))`;
});

afterAll(async () => {
  if (scope) await Effect.runPromise(Scope.close(scope, Exit.void));
  await Promise.all([db?.drop(), nats?.stop()]);
});

/** How many messages each transaction handled, for one consumer. */
const groupSizes = async (consumer: string) =>
  (
    await db.sql<{ size: number }[]>`
      select count(*)::int as size from test_groups where consumer = ${consumer} group by tx`
  ).map((r) => r.size);

describe("group commit (single mode)", () => {
  it("shares a transaction among waiting messages, up to maxGroup, and applies each once", async () => {
    // a backlog before the consumers start: what a restarted or scaled-up service finds
    const nc = await connect({ servers: nats.url });
    await Effect.runPromise(provisionStreams(await jetstreamManager(nc)));
    const js = jetstream(nc);
    for (const c of [Default, Small]) {
      await Promise.all(
        Array.from({ length: backlog }, (_, n) =>
          js.publish(c.subject({ n }), new TextEncoder().encode(JSON.stringify({ n })), {
            msgID: c.messageId({ n }),
          }),
        ),
      );
    }
    await nc.close();

    const record = (consumer: string) => (msg: { n: number }, ctx: HandlerContext) =>
      query(
        ctx.tx`insert into test_groups (consumer, n, tx) values (${consumer}, ${msg.n}, txid_current())`,
      ).pipe(Effect.asVoid);
    const plugin = definePlugin({
      name: "grouper",
      consumers: [
        { contract: Default, handle: record("default") },
        { contract: Small, maxGroup: 3, handle: record("small") },
      ],
    });
    scope = Effect.runSync(Scope.make());
    await Effect.runPromise(
      startHost([plugin], { name: "test", db: { url: db.url }, nats: { servers: nats.url } }).pipe(
        Scope.extend(scope),
      ),
    );
    await waitFor(
      async () => (await db.sql`select count(*)::int as n from test_groups`)[0]!.n === 2 * backlog,
      { what: `${2 * backlog} messages handled`, timeoutMs: 60_000 },
    );

    const defaults = await groupSizes("default");
    expect(defaults.reduce((a, b) => a + b, 0)).toBe(backlog);
    expect(Math.max(...defaults)).toBeLessThanOrEqual(defaultMaxGroup);
    // under a backlog the groups grow past the old default of 100, towards defaultMaxGroup
    expect(Math.max(...defaults)).toBeGreaterThan(100);
    expect(defaults.length).toBeLessThan(backlog / 10);

    const smalls = await groupSizes("small");
    expect(smalls.reduce((a, b) => a + b, 0)).toBe(backlog);
    expect(Math.max(...smalls)).toBeLessThanOrEqual(3);
    expect(Math.max(...smalls)).toBeGreaterThan(1);
    // one inbox row per message, none twice
    const inbox = await db.sql<{ consumer: string; n: number }[]>`
      select consumer, count(*)::int as n from inbox group by consumer order by consumer`;
    expect(inbox).toEqual([
      { consumer: "grouper-group-default", n: backlog },
      { consumer: "grouper-group-small", n: backlog },
    ]);
  }, 90_000);
});
