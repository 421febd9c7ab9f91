/**
 * CORS for browser clients, shared by the S3 gateway and the REST API. By default only pages served
 * from this machine (http(s)://localhost, 127.0.0.1 or [::1], any port) may call lakes3 from a
 * browser: with the public quickstart keys, any other website could otherwise read and write the
 * data of whoever visits it. `--cors-origin ORIGIN` (repeatable) opens more origins; `*` opens every
 * origin, without credentials (browsers refuse credentials with a wildcard anyway).
 */
import type { IncomingMessage, ServerResponse } from "node:http";

const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;

export interface CorsPolicy {
  /** Add CORS headers for an allowed origin; false when the request's origin is not allowed. */
  apply(req: IncomingMessage, res: ServerResponse, exposeHeaders: string): boolean;
  /** The headers of a preflight answer, when its origin is allowed (the caller ends the response). */
  preflight(req: IncomingMessage, res: ServerResponse): boolean;
}

/** An origin as `--cors-origin` takes it: `*`, or `scheme://host[:port]` (no path). */
export function isValidOrigin(origin: string): boolean {
  return origin === "*" || /^https?:\/\/[^/\s?#]+$/i.test(origin);
}

export function corsPolicy(extraOrigins: readonly string[] = []): CorsPolicy {
  const any = extraOrigins.includes("*");
  const listed = new Set(extraOrigins.filter((o) => o !== "*").map((o) => o.toLowerCase()));
  /** "credentials": echo the origin and allow credentials; "any": `*` without; undefined: refuse. */
  const grant = (origin: string | undefined): "credentials" | "any" | undefined => {
    if (!origin) return undefined;
    if (LOOPBACK_ORIGIN.test(origin) || listed.has(origin.toLowerCase())) return "credentials";
    return any ? "any" : undefined;
  };
  const allow = (req: IncomingMessage, res: ServerResponse): boolean => {
    const origin = req.headers.origin;
    const granted = grant(origin);
    if (!granted) return false;
    if (granted === "any") res.setHeader("Access-Control-Allow-Origin", "*");
    else {
      res.setHeader("Access-Control-Allow-Origin", origin!);
      res.setHeader("Access-Control-Allow-Credentials", "true");
    }
    res.setHeader("Vary", "Origin");
    return true;
  };
  return {
    apply(req, res, exposeHeaders) {
      if (!allow(req, res)) return false;
      res.setHeader("Access-Control-Expose-Headers", exposeHeaders);
      return true;
    },
    preflight(req, res) {
      if (!allow(req, res)) return false;
      res.setHeader("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE");
      res.setHeader("Access-Control-Allow-Headers", req.headers["access-control-request-headers"] ?? "*");
      res.setHeader("Access-Control-Max-Age", "3600");
      return true;
    },
  };
}
