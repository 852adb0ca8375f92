export { findNatsServerBinary, freePort, type NatsServerOptions, NatsServerProcess } from "./NatsServer.js";
