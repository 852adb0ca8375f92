import { Headers } from "@leadflow/contracts";
import { createTestNats, type TestNats } from "@leadflow/testkit";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawHeaderText, readEnvelope, readEnvelopeText } from "../src/Codec.js";

const fallback = () => "fallback-id";

const full = {
  [Headers.messageId]: "run-1:scout",
  [Headers.correlationId]: "9c1f7a52-8a0e-4a57-9d3b-2d9b0f3f4a11",
  [Headers.causationId]: "cause-7",
  [Headers.traceparent]: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  [Headers.occurredAt]: "2026-11-24T09:30:00.123Z",
  [Headers.contract]: "scout-command",
};

describe("readEnvelopeText", () => {
  it("reads what the client's own header object reads", () => {
    const cases: Array<Record<string, string>> = [
      full,
      { [Headers.messageId]: "only-an-id" },
      { [Headers.messageId]: "  spaced value  ", other: "x: y: z" },
      { "X-Unrelated": "1", [Headers.occurredAt]: "2026-01-01T00:00:00Z", [Headers.messageId]: "ü-ñ-✓" },
    ];
    for (const values of cases) {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(values)) h.set(k, v);
      const fromText = readEnvelopeText(h.toString(), fallback, undefined);
      const fromObject = readEnvelope(h, fallback);
      // a missing traceparent is made up, differently each time
      if (!values[Headers.traceparent])
        expect(fromText.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      if (!values[Headers.occurredAt]) expect(Date.parse(fromText.occurredAt)).not.toBeNaN();
      expect({ ...fromText, traceparent: "", occurredAt: "" }).toEqual({
        ...fromObject,
        traceparent: "",
        occurredAt: "",
      });
      if (values[Headers.traceparent]) expect(fromText.traceparent).toBe(values[Headers.traceparent]);
      if (values[Headers.occurredAt]) expect(fromText.occurredAt).toBe(values[Headers.occurredAt]);
    }
    expect(readEnvelopeText(natsHeaders().toString(), fallback, undefined)).toMatchObject({
      messageId: "fallback-id",
      correlationId: null,
      causationId: null,
    });
  });

  it("takes the first of repeated keys, skips a status line and lines it cannot read, and never throws", () => {
    const text = [
      "NATS/1.0 503 No Responders",
      `${Headers.messageId}: first`,
      `${Headers.messageId}: second`,
      "a line without a colon",
      "Bad Key With Spaces: ignored",
      `${Headers.correlationId.toLowerCase()}: a key in another case is another key`,
      `${Headers.causationId}:tight`,
      "",
      "",
    ].join("\r\n");
    expect(readEnvelopeText(text, fallback, undefined)).toMatchObject({
      messageId: "first",
      correlationId: null,
      causationId: "tight",
    });
    expect(readEnvelopeText("", fallback, undefined).messageId).toBe("fallback-id");
    expect(readEnvelopeText("garbage", fallback, undefined).messageId).toBe("fallback-id");
    expect(readEnvelopeText("NATS/1.0\r\nNats-Msg-Id: cut off", fallback, undefined).messageId).toBe(
      "cut off",
    );
  });

  it("passes its argument to the fallback", () => {
    expect(readEnvelopeText("NATS/1.0\r\n\r\n", (seq: number) => `stream:${seq}`, 42).messageId).toBe(
      "stream:42",
    );
  });
});

describe("rawHeaderText", () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await createTestNats();
  }, 30_000);
  afterAll(async () => {
    await nats?.stop();
  });

  it("reads the header block of a message delivered by JetStream (the consumer's fast path), and none without headers", async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "CODEC", subjects: ["codec.>"] });
      await jsm.consumers.add("CODEC", { durable_name: "reader", ack_policy: AckPolicy.Explicit });
      const js = jetstream(nc);
      const h = natsHeaders();
      for (const [k, v] of Object.entries(full)) h.set(k, v);
      await js.publish("codec.a", "{}", { headers: h });
      await js.publish("codec.b", "{}");
      const consumer = await js.consumers.get("CODEC", "reader");
      const withHeaders = await consumer.next();
      const without = await consumer.next();
      expect(withHeaders).not.toBeNull();
      const text = rawHeaderText(withHeaders);
      // undefined would mean the client no longer keeps the bytes where 3.x does: the consumer
      // still works (it falls back to the client's header object) but pays for it again
      expect(text).toBeDefined();
      expect(readEnvelopeText(text!, fallback, undefined)).toEqual(
        readEnvelope(withHeaders!.headers, fallback),
      );
      expect(rawHeaderText(without)).toBe("");
      expect(rawHeaderText({})).toBeUndefined();
      expect(rawHeaderText({ msg: { _rdata: new Uint8Array(4), _msg: { hdr: 9 } } })).toBeUndefined();
      withHeaders!.ack();
      without!.ack();
    } finally {
      await nc.close();
    }
  });
});
