import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";

export interface Jet {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** Publishes raw bytes (or JSON of a value) to a subject and waits for the stream's ack. */
  readonly publishRaw: (subject: string, body: Uint8Array | string | object, msgID?: string) => Promise<void>;
  /** Every message stored on a stream under a subject filter, decoded as JSON where possible. */
  readonly messages: (
    stream: string,
    subjectPrefix?: string,
  ) => Promise<Array<{ subject: string; data: unknown; headers: Record<string, string> }>>;
  readonly close: () => Promise<void>;
}

/** A plain NATS client for tests that act as an outside publisher or inspect streams. */
export const connectJet = async (url: string): Promise<Jet> => {
  const nc = await connect({ servers: url });
  // generous API timeouts: on a loaded 2-core CI machine a filestore write can take seconds
  const jsm = await jetstreamManager(nc, { timeout: 20_000 });
  const js = jetstream(nc, { timeout: 20_000 });
  return {
    nc,
    jsm,
    publishRaw: async (subject, body, msgID) => {
      const data =
        body instanceof Uint8Array
          ? body
          : new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
      await js.publish(subject, data, msgID ? { msgID } : undefined);
    },
    messages: async (stream, subjectPrefix = "") => {
      const info = await jsm.streams.info(stream);
      const out: Array<{ subject: string; data: unknown; headers: Record<string, string> }> = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
        if (!m?.subject.startsWith(subjectPrefix)) continue;
        let data: unknown = m.data;
        try {
          data = JSON.parse(new TextDecoder().decode(m.data));
        } catch {
          data = new TextDecoder().decode(m.data.slice(0, 200));
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of m.header ?? []) if (v[0] !== undefined) headers[k] = v[0];
        out.push({ subject: m.subject, data, headers });
      }
      return out;
    },
    close: () => nc.close(),
  };
};
