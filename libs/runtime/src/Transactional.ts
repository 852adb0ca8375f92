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

/**
 * A transaction whose outbox writes commit with its SQL. Call its functions on it
 * (`ctx.publish(…)`, `ctx.within(…)`): they are methods.
 */
export interface TxContext {
  readonly tx: Tx;
  /** Writes a message to the outbox in this transaction (one multi-row insert at commit). */
  publish<A, I>(contract: Contract<A, I>, message: A, options?: PublishOptions): void;
  /**
   * The same transaction, publishing in the envelope of `parent` (its correlation id, itself as
   * the cause, its trace): for work on behalf of one of several messages handled together.
   */
  within(parent: Envelope): TxContext;
}

export type PendingMessage = EncodedMessage & { availableAt?: Date };

/**
 * The context of a transaction's body. A class: the consumer makes one per message of a group,
 * and an object of closures (plus the names tsx gives them) cost ≈ 1 µs a message (24 Nov).
 */
export class TransactionContext implements TxContext {
  constructor(
    readonly tx: Tx,
    /** The transaction's outbox rows, shared by every context of the transaction. */
    readonly pending: Array<PendingMessage>,
    /** The message on whose behalf this context publishes, if any. */
    readonly parent: Envelope | undefined,
  ) {}

  publish<A, I>(contract: Contract<A, I>, message: A, options: PublishOptions = {}): void {
    const parent = this.parent;
    const encoded = toEncoded(contract, message, {
      correlationId: parent?.correlationId,
      causationId: parent?.messageId,
      traceparent: parent?.traceparent,
      ...options,
    });
    this.pending.push(
      options.delay
        ? { ...encoded, availableAt: new Date(Date.now() + Duration.toMillis(options.delay)) }
        : encoded,
    );
  }

  within(parent: Envelope): TxContext {
    return new TransactionContext(this.tx, this.pending, parent);
  }
}

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
  body: (ctx: TransactionContext) => Effect.Effect<X, E, R>,
  parent?: Envelope,
  afterCommit: Effect.Effect<void> = Effect.void,
): Effect.Effect<X, E | DbError, R> => {
  const pending: Array<PendingMessage> = [];
  return Effect.tap(
    withTransaction(
      db.sql,
      (tx) => body(new TransactionContext(tx, pending, parent)),
      // pipelined with the commit: the outbox costs no round trip of its own
      (tx) => outboxInsertStatement(tx, pending),
    ),
    () => (pending.length > 0 ? Effect.zipRight(afterCommit, relay.wake) : afterCommit),
  );
};
