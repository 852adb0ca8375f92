export {
  type ChildService,
  cliBin,
  cliLauncher,
  cliNodeArgs,
  runLeadflow,
  spawnLeadflow,
} from "./ChildService.js";
export { waitFor } from "./Conditions.js";
export { contendWhileHeld, failuresOf } from "./Contention.js";
export { connectJet, type Jet } from "./Jet.js";
export { captureLogs, type LogLine } from "./Logs.js";
export { decodeQuotedPrintable, decodeWords, type MimePart, type ParsedEmail, parseEmail } from "./Mime.js";
export { type CapturedEmail, type SmtpCapture, startSmtpCapture } from "./SmtpCapture.js";
export { startTcpForwarder, type TcpForwarder } from "./TcpForwarder.js";
export { adminUrl, createTestDatabase, type TestDatabase } from "./TestDatabase.js";
export { startTestHost, type TestHost } from "./TestHost.js";
export { createTestNats, type TestNats } from "./TestNats.js";
