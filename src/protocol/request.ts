/**
 * Parse a Node request once into an S3Request: lakeFS addressing (repository, ref, path; path-style
 * and virtual-host style), the decoded query and the headers. Keys are opaque: the path is only
 * percent-decoded, never normalised (`//`, `..`, trailing `/` are kept).
 */
import type { IncomingMessage } from "node:http";
import { S3Error } from "./errors.js";

export interface S3Request {
  method: string;
  /** Raw path and query as received (for signatures). */
  rawPath: string;
  rawQuery: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  /** Bucket (repository) name, if the request addresses one. */
  bucket?: string;
  /** lakefs mode: the ref (first key segment); undefined when absent. */
  ref?: string;
  /** The object path: in lakefs mode without the ref, in s3 mode the whole key. */
  path?: string;
  /** Bucket taken from the Host header (virtual-host style). */
  bucketFromHost?: string;
  host: string;
}

export function requestHeader(req: { headers: IncomingMessage["headers"] }, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

/**
 * Whether the rest of a body the server will not use (its request was answered before the body
 * ended: refused, or its write failed half-way) is read and dropped, keeping the connection, rather
 * than the connection closed after the answer. A client that writes its whole body before it reads
 * the answer gets the answer only so: closing while its body still arrives makes its kernel reset
 * the connection, which drops the answer unread. Only a body of a declared length up to
 * DROPPED_BODY_LIMIT is read on (a body declared larger, e.g. refused for its size, or of unknown
 * length closes the connection, as S3 does); server/gateway.ts drops it, for DROPPED_BODY_MS at most.
 */
export function dropsRestOfBody(req: IncomingMessage): boolean {
  const declared = req.headers["content-length"];
  return declared !== undefined && req.headers["transfer-encoding"] === undefined && Number(declared) <= DROPPED_BODY_LIMIT;
}
const DROPPED_BODY_LIMIT = 64 << 20;
export const DROPPED_BODY_MS = 10_000;

/**
 * A page-size query parameter (max-keys, max-parts, max-uploads): absent → `max`; an integer
 * 0..2^31-1 is capped at `max`; anything else → InvalidArgument with S3's message.
 */
export function pageLimit(query: URLSearchParams, name: string, max: number): number {
  const raw = query.get(name)?.trim();
  if (raw === undefined) return max;
  const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(n <= 2 ** 31 - 1)) {
    const message = name === "max-keys" ? "Provided max-keys not an integer or within integer range" : `Argument ${name} must be an integer between 0 and 2147483647`;
    throw new S3Error("InvalidArgument", message);
  }
  return Math.min(n, max);
}

/** lakefs: bucket = repository, first key segment = ref; s3: plain S3 over the default branch. */
export type Mode = "lakefs" | "s3";

export function parseRequest(req: IncomingMessage, mode: Mode, domains: readonly string[]): S3Request {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const rawPath = q >= 0 ? url.slice(0, q) : url;
  const rawQuery = q >= 0 ? url.slice(q + 1) : "";
  const host = requestHeader(req, "host");
  // HTTP/1.1 requires Host (RFC 9112 §3.2); S3 answers its absence with an error of its own.
  if (host === undefined && req.httpVersion === "1.1") throw new S3Error("InvalidRequest", "Missing required header for this request: Host");
  const parsed: S3Request = {
    method: (req.method ?? "GET").toUpperCase(),
    rawPath,
    rawQuery,
    query: new URLSearchParams(rawQuery),
    headers: req.headers,
    host: host ?? "",
  };

  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    throw new S3Error("InvalidURI");
  }
  let rest = decoded.startsWith("/") ? decoded.slice(1) : decoded;

  const vhost = bucketFromHost(hostnameOf(parsed.host), domains);
  if (vhost !== undefined) {
    parsed.bucket = vhost;
    parsed.bucketFromHost = vhost;
  } else {
    const slash = rest.indexOf("/");
    const bucket = slash >= 0 ? rest.slice(0, slash) : rest;
    rest = slash >= 0 ? rest.slice(slash + 1) : "";
    if (bucket === "") return parsed;
    parsed.bucket = bucket;
  }

  if (mode === "s3") {
    if (rest !== "") parsed.path = rest;
    return parsed;
  }
  // lakefs: ref, then the path (which keeps any leading or trailing slashes)
  const slash = rest.indexOf("/");
  if (slash < 0) {
    if (rest !== "") parsed.ref = rest;
    return parsed;
  }
  parsed.ref = rest.slice(0, slash);
  parsed.path = rest.slice(slash + 1);
  return parsed;
}

/** Whether a request addresses a bucket through its Host header (virtual-host style). */
export function isVirtualHostRequest(req: { headers: IncomingMessage["headers"] }, domains: readonly string[]): boolean {
  return bucketFromHost(hostnameOf(requestHeader(req, "host") ?? ""), domains) !== undefined;
}

const hostnameOf = (host: string) => host.replace(/:\d+$/, "").toLowerCase();

/** `repo.s3.local.lakefs.io` → `repo` (exactly one label in front of a bare domain). */
function bucketFromHost(hostname: string, domains: readonly string[]): string | undefined {
  for (const domain of domains) {
    if (hostname === domain) return undefined;
    if (hostname.endsWith("." + domain)) {
      const label = hostname.slice(0, -domain.length - 1);
      if (label !== "" && !label.includes(".")) return label;
    }
  }
  return undefined;
}
