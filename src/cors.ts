/**
 * Permissive CORS for browser clients on localhost, shared by the S3 gateway and the REST API:
 * echo the origin, allow credentials, expose the headers a client reads; answer preflights.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export function applyCors(req: IncomingMessage, res: ServerResponse, exposeHeaders: string): void {
  const origin = req.headers.origin;
  if (!origin) return;
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Vary", "Origin");
  res.setHeader("Access-Control-Allow-Credentials", "true");
  res.setHeader("Access-Control-Expose-Headers", exposeHeaders);
}

/** The headers of a preflight answer (the caller sets the status and ends the response). */
export function preflightHeaders(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE");
  res.setHeader("Access-Control-Allow-Headers", req.headers["access-control-request-headers"] ?? "*");
  res.setHeader("Access-Control-Max-Age", "3600");
}
