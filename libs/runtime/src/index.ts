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
  defaultMaxGroup,
  type Handler,
  type HandlerContext,
  type MessageMeta,
  runConsumer,
} from "./Consumer.js";
export {
  Db,
  DbConfig,
  DbLive,
  type DbOptions,
  DbPoolMaxConfig,
  type DbShape,
  dbLayer,
  isDatabaseUrl,
  jsonRows,
  makeDb,
  query,
  type Tx,
  textRows,
} from "./Db.js";
export {
  DbError,
  describeError,
  isDbUnreachable,
  NatsError,
  PermanentError,
  RetryableError,
  type RoutableError,
} from "./Errors.js";
export { failpoint, setFailpoints } from "./Failpoints.js";
export { Heartbeat, HeartbeatBucket, readHeartbeats, runHeartbeats } from "./Heartbeat.js";
export {
  envConfigProvider,
  failureLine,
  type HostOptions,
  LoggingLive,
  launch,
  makeRuntimeContext,
  type RunningHost,
  setEnv,
  startHost,
} from "./Host.js";
export {
  defaultHousekeeping,
  HousekeepingConfig,
  type HousekeepingOptions,
  runHousekeeping,
  type SweepResult,
  sweep,
} from "./Housekeeping.js";
export { makeHealthApp, type ReadinessCheck, serveHttp } from "./Http.js";
export { callInWorker } from "./IsolatedCall.js";
export { Metrics, MetricsLive, type MetricsShape, MetricsTest, makeMetrics } from "./Metrics.js";
export {
  makeNats,
  Nats,
  NatsConfig,
  NatsLive,
  type NatsOptions,
  type NatsShape,
  natsLayer,
  natsOptionsFromConfig,
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
export { googlePlacesClassifier, yelpClassifier } from "./ProviderClassifiers.js";
export {
  classifyStatus,
  type ProviderClassifier,
  type ProviderClient,
  type ProviderClientOptions,
  ProviderError,
  type ProviderErrorKind,
  ProviderHttp,
  ProviderHttpLive,
  type ProviderHttpShape,
  type ProviderRequest,
  type ProviderResponse,
  parseRetryAfter,
} from "./ProviderHttp.js";
export {
  baseUrlConfig,
  isBaseUrl,
  type ProviderLimits,
  providerLimitsConfig,
  providerRetryConfig,
} from "./ProviderLimits.js";
export { publish } from "./Publish.js";
export { runService, type ServiceConnections, serviceMain } from "./ServiceMain.js";
export { stageFailureHook } from "./StageFailure.js";
export { withTransaction } from "./Transaction.js";
export { type PublishOptions, type TxContext, transactional } from "./Transactional.js";
