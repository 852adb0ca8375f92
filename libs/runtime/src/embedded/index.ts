export {
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
  embeddedPostgresPoolMax,
  startEmbeddedPostgres,
} from "./EmbeddedPostgres.js";
export { startEmbeddedPostgresProcess } from "./EmbeddedPostgresProcess.js";
export { findNatsServerBinary, freePort, type NatsServerOptions, NatsServerProcess } from "./NatsServer.js";
