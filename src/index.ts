/** The programmatic API: start a lakes3 server (e.g. in a test's globalSetup) and stop it. */
export { startServer, type LakeS3Server, type StartOptions } from "./server/lifecycle.js";
export type { Mode } from "./server/config.js";
export { RequestLog, type RequestEvent } from "./log/events.js";
export { FaultRuleError, type FaultRuleInput } from "./faults/rule.js";
export type { FaultControl, FaultRuleInfo } from "./faults/injector.js";
