import type { Contract } from "@leadflow/contracts";
import { Duration, Effect } from "effect";
import { type EncodedMessage, type Envelope, type EnvelopeOptions, toEncoded } from "./Codec.js";
import { Db, type DbShape, type Tx } from "./Db.js";
import type { DbError } from "./Errors.js";
import { OutboxRelay, type OutboxRelayShape, outboxInsertStatement } from "./Outbox.js";
import { withTransaction } from "./Transaction.js";

export interface PublishOptions extends EnvelopeOptions {
  /** Publish no earlier than this from now (a delayed outbox row). */
  readonly delay?: Duration.DurationInput;
}

/** A transaction whose outbox writes commit with its SQL. */
export interface TxContext {
  readonly tx: Tx;
  /** Writes a message to the outbox in this transaction (one multi-row insert at commit). */
  readonly publish: <A, I>(contract: Contract<A, I>, message: A, options?: PublishOptions) => void;
  /**
   * The same transaction, publishing in the envelope of `parent` (its correlation id, itself as
   * the cause, its trace): for work on behalf of one of several messages handled together.
   */
  readonly within: (parent: Envelope) => TxContext;
}

type Pending = EncodedMessage & { availableAt?: Date };

const makeTxContext = (tx: Tx, pending: Array<Pending>, parent?: Envelope): TxContext => ({
  tx,
  publish: (contract, message, options = {}) => {
    const encoded = toEncoded(contract, message, {
      correlationId: parent?.correlationId,
      causationId: parent?.messageId,
      traceparent: parent?.traceparent,
      ...options,
    });
    pending.push(
      options.delay
        ? { ...encoded, availableAt: new Date(Date.now() + Duration.toMillis(options.delay)) }
        : encoded,
    );
  },
  within: (other) => makeTxContext(tx, pending, other),
});

/**
 * Runs `body` in one Postgres transaction; what it publishes is written to the outbox in the
 * same transaction and the relay is woken after the commit. `parent` (the message being
 * handled, if any) supplies the correlation and causation ids.
 */
export const transactional = <X, E, R>(
  body: (ctx: TxContext) => Effect.Effect<X, E, R>,
  parent?: Envelope,
  afterCommit: Effect.Effect<void> = Effect.void,
): Effect.Effect<X, E | DbError, R | Db | OutboxRelay> =>
  Effect.flatMap(Db, (db) =>
    Effect.flatMap(OutboxRelay, (relay) => transactionalWith(db, relay, body, parent, afterCommit)),
  );

/** `transactional` with its services at hand (the consumer runs one per message group). */
export const transactionalWith = <X, E, R>(
  db: DbShape,
  relay: OutboxRelayShape,
  body: (ctx: TxContext) => Effect.Effect<X, E, R>,
  parent?: Envelope,
  afterCommit: Effect.Effect<void> = Effect.void,
): Effect.Effect<X, E | DbError, R> => {
  const pending: Array<Pending> = [];
  return Effect.tap(
    withTransaction(
      db.sql,
      (tx) => body(makeTxContext(tx, pending, parent)),
      // pipelined with the commit: the outbox costs no round trip of its own
      (tx) => outboxInsertStatement(tx, pending),
    ),
    () => (pending.length > 0 ? Effect.zipRight(afterCommit, relay.wake) : afterCommit),
  );
};
