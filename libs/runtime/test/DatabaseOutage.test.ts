import { contract } from "@leadflow/contracts";
import {
  captureLogs,
  createTestDatabase,
  createTestNats,
  startTcpForwarder,
  startTestHost,
  type TcpForwarder,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Effect, Schema } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DbError, definePlugin, isDbUnreachable, query, RetryableError } from "../src/index.js";

// PostgreSQL going away for longer than a message's deliveries last (a failover, a restart)
// must not cost messages: they wait for it, held, and are applied once it is back, with no
// delivery spent and nothing dead-lettered. The database is reached through a forwarder the
// test takes down (the shared server keeps running).

const Work = contract({
  name: "outage-work",
  stream: "cmd",
  filter: "leadflow.cmd.outage.work",
  subject: () => "leadflow.cmd.outage.work",
  schema: Schema.Struct({ n: Schema.Int }),
  messageId: (m) => `outage:${m.n}`,
});

// a provider that refuses connections: its own outage, routed as usual (not held as the database's)
const Provider = contract({
  name: "outage-provider",
  stream: "cmd",
  filter: "leadflow.cmd.outage.provider",
  subject: () => "leadflow.cmd.outage.provider",
  schema: Schema.Struct({ n: Schema.Int }),
  messageId: (m) => `outage-provider:${m.n}`,
});

let db: TestDatabase;
let nats: TestNats;
let forwarder: TcpForwarder;
let nc: NatsConnection;
let jsm: JetStreamManager;
const hosts: TestHost[] = [];

const plugin = definePlugin({
  name: "outage",
  consumers: [
    {
      contract: Work,
      concurrency: 2,
      // two quick deliveries: the old routing spent both within a tenth of a second
      maxDeliver: 2,
      backoff: ["50 millis"],
      ackWait: "3 seconds",
      handle: (m, ctx) =>
        query(ctx.tx`insert into outage_effects (n, deliveries) values (${m.n}, ${ctx.meta.deliveries})`),
    },
    {
      contract: Provider,
      concurrency: 1,
      maxDeliver: 2,
      backoff: ["50 millis"],
      handle: () =>
        Effect.fail(
          new RetryableError({
            message: "provider unreachable",
            cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
          }),
        ),
    },
  ],
});

const startHost = async (databaseUrl: string, logger?: ReturnType<typeof captureLogs>["logger"]) => {
  const host = await startTestHost([plugin], {
    databaseUrl,
    natsUrl: nats.url,
    name: "outage",
    housekeeping: false,
    logger,
    port: 0,
  });
  hosts.push(host);
  return host;
};

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  await db.sql`create table outage_effects (n int not null, deliveries int not null)`;
  forwarder = await startTcpForwarder(Number(new URL(db.url).port || 5432));
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  for (const host of hosts) await host.stop().catch(() => undefined);
  await forwarder?.close();
  await nc?.close();
  await Promise.all([db?.drop(), nats?.stop()]);
});

const send = (from: number, to: number) =>
  Promise.all(
    Array.from({ length: to - from + 1 }, (_, i) =>
      jetstream(nc).publish(Work.subject({ n: from + i }), JSON.stringify({ n: from + i }), {
        msgID: `outage:${from + i}`,
      }),
    ),
  );

const effects = async () =>
  db.sql<{ n: number; deliveries: number }[]>`select n, deliveries from outage_effects order by n`;

const deadLetters = async () => {
  return (await jsm.streams.info("LEADFLOW_DLQ")).state.messages;
};

/** The host's `leadflow_messages_waiting_for_database` for the work consumer. */
const waiting = async (host: TestHost) => {
  const text = await (await fetch(`http://127.0.0.1:${host.port}/metrics`)).text();
  const line = text
    .split("\n")
    .find(
      (l) =>
        l.startsWith("leadflow_messages_waiting_for_database{") &&
        l.includes('consumer="outage-outage-work"'),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
};

const holding = (logs: ReturnType<typeof captureLogs>) =>
  logs.lines.filter((l) => l.message.startsWith("database unreachable")).length;

describe("a database outage", () => {
  // one process through both outages: the second finds a pool that has been through one
  const logs = captureLogs();

  it("holds the messages that arrive meanwhile and applies them once it is back: no delivery spent, nothing dead-lettered", async () => {
    const host = await startHost(forwarder.url(db.url), logs.logger);
    await send(1, 1);
    await waitFor(async () => (await effects()).length === 1, { what: "the first message applied" });

    await forwarder.down();
    await send(2, 21);
    // a fourth try comes 1 + 2 + 4 s after the first: past both deliveries' worth of the old
    // backoff and past the ack wait (3 s), so the held messages were kept from the server
    await waitFor(
      () =>
        logs.lines.some((l) => l.message.startsWith("database unreachable") && Number(l.fields.tries) >= 4),
      {
        what: "a fourth try while down",
        timeoutMs: 20_000,
      },
    );
    expect(await deadLetters()).toBe(0);
    // what a dashboard and the LeadflowWaitingForDatabase alert read
    expect(await waiting(host)).toBeGreaterThan(0);
    await forwarder.up();

    await waitFor(async () => (await effects()).length === 21, {
      what: "every message applied",
      timeoutMs: 30_000,
    });
    const rows = await effects();
    expect(rows.map((r) => r.n)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(rows.every((r) => r.deliveries === 1)).toBe(true);
    expect(await deadLetters()).toBe(0);
    const info = await jsm.consumers.info("LEADFLOW_CMD", "outage-outage-work");
    expect(info.num_ack_pending + info.num_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    expect(await waiting(host)).toBe(0);
  });

  it("a second one: a process stopped meanwhile hands back what it held, and the one that stays applies everything", async () => {
    const otherLogs = captureLogs();
    const other = await startHost(forwarder.url(db.url), otherLogs.logger);
    const before = holding(logs);
    await forwarder.down();
    await send(22, 41);
    await waitFor(() => holding(otherLogs) >= 1 && holding(logs) > before, {
      what: "both processes holding messages",
      timeoutMs: 20_000,
    });
    const stopping = Date.now();
    await other.stop();
    // bounded by the consumer's shutdown budget (2 s pull + 12 s in flight), not by the outage
    expect(Date.now() - stopping).toBeLessThan(15_000);
    await forwarder.up();

    await waitFor(async () => (await effects()).length === 41, {
      what: "every message applied by the process that stayed",
      timeoutMs: 40_000,
    });
    expect((await effects()).map((r) => r.n)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    expect(await deadLetters()).toBe(0);
  });
});

describe("a provider's connection refused", () => {
  it("is not held as the database's: its deliveries are spent and it is dead-lettered", async () => {
    const logs = captureLogs();
    const host = await startHost(db.url, logs.logger);
    const before = await deadLetters();
    await jetstream(nc).publish(Provider.subject({ n: 1 }), JSON.stringify({ n: 1 }), {
      msgID: "outage-provider:1",
    });
    await waitFor(async () => (await deadLetters()) === before + 1, {
      what: "the dead letter",
      timeoutMs: 15_000,
    });
    expect(holding(logs)).toBe(0);
    await host.stop();
  });
});

describe("isDbUnreachable", () => {
  it("reads error codes (its own, or a cause's), never messages", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    expect(isDbUnreachable(refused)).toBe(true);
    expect(isDbUnreachable(new DbError({ message: "query failed", cause: refused }))).toBe(true);
    expect(isDbUnreachable({ code: "08006" })).toBe(true);
    expect(isDbUnreachable({ code: "57P01" })).toBe(true);
    expect(isDbUnreachable({ code: "CONNECTION_CLOSED" })).toBe(true);
    // a statement's own failure, a pool this process closed, a message that only says so
    expect(isDbUnreachable(new DbError({ message: "x", cause: { code: "23505" } }))).toBe(false);
    expect(isDbUnreachable({ code: "CONNECTION_ENDED" })).toBe(false);
    expect(isDbUnreachable(new Error("connection refused (Postgres is down)"))).toBe(false);
    expect(isDbUnreachable(undefined)).toBe(false);
  });
});
