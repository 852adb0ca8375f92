export {
  decode,
  type EncodedMessage,
  type Envelope,
  type EnvelopeOptions,
  encode,
  toEncoded,
} from "./Codec.js";
export {
  type BatchHandler,
  backoffDelay,
  type ConsumerSpec,
  defaultBackoff,
  type Handler,
  type HandlerContext,
  type MessageMeta,
  type PublishOptions,
  runConsumer,
} from "./Consumer.js";
export { Db, DbConfig, DbLive, type DbOptions, type DbShape, dbLayer, makeDb, query, type Tx } from "./Db.js";
export {
  DbError,
  describeError,
  NatsError,
  PermanentError,
  RetryableError,
  type RoutableError,
} from "./Errors.js";
export { Heartbeat, HeartbeatBucket, readHeartbeats, runHeartbeats } from "./Heartbeat.js";
export {
  type HostOptions,
  LoggingLive,
  launch,
  makeRuntimeContext,
  type RunningHost,
  startHost,
} from "./Host.js";
export { makeHealthApp, type ReadinessCheck, serveHttp } from "./Http.js";
export { Metrics, MetricsLive, type MetricsShape, MetricsTest, makeMetrics } from "./Metrics.js";
export {
  makeNats,
  Nats,
  NatsConfig,
  NatsLive,
  type NatsOptions,
  type NatsShape,
  natsLayer,
  provisionStreams,
} from "./Nats.js";
export {
  insertOutbox,
  makeOutboxRelay,
  OutboxChannel,
  OutboxRelay,
  type OutboxRelayShape,
} from "./Outbox.js";
export { type AnyPlugin, definePlugin, type Plugin, type RuntimeServices } from "./Plugin.js";
export { publish } from "./Publish.js";
export { withTransaction } from "./Transaction.js";
