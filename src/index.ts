/** The programmatic API: start a lakes3 server (e.g. in a test's globalSetup) and stop it. */
export { startServer, type LakeS3Server, type StartOptions } from "./server.js";
export type { Mode } from "./config.js";
export { RequestLog, type RequestEvent } from "./events.js";
