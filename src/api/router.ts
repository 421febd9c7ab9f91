/**
 * The REST API's plumbing: route table matching (method + path pattern), HTTP Basic auth, JSON
 * request bodies (capped), query parameters, and the one place that writes responses and errors.
 * Handlers get an ApiContext and return an ApiResult (or throw); they never touch the socket.
 *
 * Errors are lakeFS's `{"message": "..."}`: ApiError carries its status; a VersioningError maps
 * not_found/conflict/bad_request/precondition to 404/409/400/412; an S3Error (shared header
 * helpers: Range, conditional writes, body integrity) keeps its HTTP status; anything else is 500.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { Config } from "../server/config.js";
import type { Diverge } from "../protocol/divergences.js";
import type { RequestEvent } from "../log/events.js";
import type { Services } from "../operations/types.js";
import { StorageError } from "../storage/errors.js";
import { S3Error, toS3Error } from "../protocol/errors.js";
import { sendBody } from "../protocol/streams.js";
import type { RepositoryRecord } from "../storage/metadata-store.js";
import { VersioningError } from "../versioning/errors.js";
import { API_PREFIX, type ApiOperation } from "./operations.js";

/** The one user lakes3 knows: lakeFS quickstart's installation user. */
export const USER_ID = "quickstart";
const MAX_JSON_BODY = 1024 * 1024;

// ---- errors ------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers, and extra JSON fields next to `message`. */
    readonly extra: { headers?: Record<string, string>; fields?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const notFound = (message: string) => new ApiError(404, message);

const VERSIONING_STATUS: Record<VersioningError["kind"], number> = { not_found: 404, conflict: 409, bad_request: 400, precondition: 412 };

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof VersioningError) return new ApiError(VERSIONING_STATUS[err.kind], err.message);
  if (err instanceof S3Error && err.code !== "InternalError") return new ApiError(err.status, err.message, { headers: err.options.headers });
  // A storage failure says what happened to the data dir and what to do (see storage/errors.ts).
  if (err instanceof StorageError) {
    const s3 = toS3Error(err);
    return new ApiError(s3.status === 400 ? 413 : s3.status, err.message);
  }
  if (process.env["LAKES3_DEBUG"]) console.error(err);
  return new ApiError(500, "internal server error");
}

// ---- routes ------------------------------------------------------------------------------------

export interface ApiContext {
  services: Services;
  req: IncomingMessage;
  res: ServerResponse;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  event: RequestEvent;
  /** The repository named by `{repository}` (looked up, 404 if missing); unset on other routes. */
  repo?: RepositoryRecord;
  /** The JSON object body ({} when empty); 400 when malformed, 413 above 1 MiB. */
  json(): Promise<Record<string, unknown>>;
  /** The raw body stream (answers `Expect: 100-continue` on first use). */
  body(): Readable;
  /** Rely on a permissive divergence from lakeFS: false (or lakeFS's refusal) under --strict. */
  diverge: Diverge;
}

export interface RepoContext extends ApiContext {
  repo: RepositoryRecord;
}

export interface ApiResult {
  status: number;
  /** A JSON document (application/json). */
  json?: unknown;
  /** A text body with its content type (createBranch answers text/html). */
  text?: { contentType: string; value: string };
  /** A body: streamed (object bytes; headers say its type and length), or in one buffer (see asBytes). */
  body?: Readable | Buffer;
  headers?: Record<string, string | number | undefined>;
  bytesIn?: number;
  bytesOut?: number;
}

export interface Route {
  method: string;
  segments: string[];
  /** The lakeFS operation id (e.g. createBranch); logged as `api:<operation>`. */
  operation: ApiOperation;
  /** false for the few endpoints lakeFS serves without credentials. */
  auth: boolean;
  handle(ctx: ApiContext): Promise<ApiResult>;
}

export function route(method: string, path: string, operation: ApiOperation, handle: (ctx: ApiContext) => Promise<ApiResult>, options: { auth?: boolean } = {}): Route {
  return { method, segments: splitPath(path), operation, auth: options.auth ?? true, handle };
}

/** A route under /repositories/{repository}: the handler always sees the repository. */
export function repoRoute(method: string, path: string, operation: ApiOperation, handle: (ctx: RepoContext) => Promise<ApiResult>): Route {
  if (!path.includes("{repository}")) throw new Error(`repoRoute without {repository}: ${path}`);
  return route(method, path, operation, (ctx) => handle(ctx as RepoContext));
}

export type Match = { route: Route; params: Record<string, string> } | { methodNotAllowed: true } | undefined;

export class Router {
  constructor(private readonly routes: readonly Route[]) {}

  /** Match a decoded path (below /api/v1) and method; HEAD falls back to no route of its own. */
  match(method: string, segments: readonly string[]): Match {
    let pathMatched = false;
    for (const r of this.routes) {
      const params = matchSegments(r.segments, segments);
      if (!params) continue;
      pathMatched = true;
      if (r.method === method) return { route: r, params };
    }
    return pathMatched ? { methodNotAllowed: true } : undefined;
  }
}

function splitPath(path: string): string[] {
  return path.split("/").slice(1);
}

function matchSegments(pattern: readonly string[], actual: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const a = actual[i]!;
    if (p.startsWith("{") && p.endsWith("}")) {
      if (a === "") return undefined;
      params[p.slice(1, -1)] = a;
    } else if (p !== a) return undefined;
  }
  return params;
}

/** The request path below /api/v1 as decoded segments (a trailing slash is ignored). */
export function pathSegments(pathname: string): string[] {
  const rest = pathname.slice(API_PREFIX.length);
  if (rest !== "" && !rest.startsWith("/")) return [rest]; // e.g. /api/v1x: matches no route
  const raw = rest.split("/").slice(1);
  if (raw.length > 1 && raw.at(-1) === "") raw.pop();
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    throw badRequest("malformed path encoding");
  }
}

// ---- auth --------------------------------------------------------------------------------------

/** HTTP Basic with the configured key pair, compared in constant time. Returns the user id. */
export function authenticate(req: IncomingMessage, config: Pick<Config, "accessKeyId" | "secretAccessKey">): string {
  const header = req.headers.authorization ?? "";
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const given = m ? Buffer.from(m[1]!, "base64").toString("utf8") : "";
  const expected = `${config.accessKeyId}:${config.secretAccessKey}`;
  if (!m || !timingSafeEqual(digest(given), digest(expected))) throw new ApiError(401, "error authenticating request");
  return USER_ID;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

// ---- request bodies and parameters ---------------------------------------------------------------

/**
 * A JSON object body of at most MAX_JSON_BODY bytes (a larger one is 413; the rest is drained),
 * read from `body` (the request's, through its fault if any) of the request `req`.
 */
export async function readJson(req: IncomingMessage, body: Readable): Promise<Record<string, unknown>> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > MAX_JSON_BODY) throw new ApiError(413, `request body larger than ${MAX_JSON_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BODY) throw new ApiError(413, `request body larger than ${MAX_JSON_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("malformed JSON body");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("the JSON body must be an object");
  return value as Record<string, unknown>;
}

/** Typed field access on a JSON body: a wrong type or a missing required field is a 400. */
export const field = {
  string(body: Record<string, unknown>, name: string): string {
    const v = body[name];
    if (typeof v !== "string" || v === "") throw badRequest(`${name} is required (a non-empty string)`);
    return v;
  },
  optString(body: Record<string, unknown>, name: string): string | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw badRequest(`${name} must be a string`);
    return v;
  },
  optBool(body: Record<string, unknown>, name: string): boolean | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") throw badRequest(`${name} must be a boolean`);
    return v;
  },
  integer(body: Record<string, unknown>, name: string): number {
    const v = body[name];
    if (typeof v !== "number" || !Number.isInteger(v)) throw badRequest(`${name} is required (an integer)`);
    return v;
  },
  optInteger(body: Record<string, unknown>, name: string): number | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isSafeInteger(v)) throw badRequest(`${name} must be an integer`);
    return v;
  },
  optStringMap(body: Record<string, unknown>, name: string): Record<string, string> | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string")) {
      throw badRequest(`${name} must be an object of strings`);
    }
    return { ...(v as Record<string, string>) };
  },
  stringArray(body: Record<string, unknown>, name: string): string[] {
    const v = body[name];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw badRequest(`${name} is required (an array of strings)`);
    return v as string[];
  },
};

/** A required query parameter. */
export function queryString(query: URLSearchParams, name: string): string {
  const v = query.get(name);
  if (v === null || v === "") throw badRequest(`${name} is required`);
  return v;
}

export function queryBool(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const v = query.get(name);
  if (v === null || v === "") return fallback;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw badRequest(`${name} must be true or false`);
}

export interface Page {
  prefix: string;
  after: string;
  amount: number;
}

const DEFAULT_AMOUNT = 100;
export const MAX_AMOUNT = 1000;

/** lakeFS pagination parameters: `amount` defaults to 100; -1 or 0 mean the maximum (1000). */
export function pageParams(query: URLSearchParams): Page {
  const raw = query.get("amount");
  let amount = DEFAULT_AMOUNT;
  if (raw !== null && raw !== "") {
    if (!/^-?\d+$/.test(raw)) throw badRequest("amount must be an integer");
    amount = Number(raw);
    if (amount < -1 || amount > MAX_AMOUNT) throw badRequest(`amount must be between -1 and ${MAX_AMOUNT}`);
    if (amount <= 0) amount = MAX_AMOUNT;
  }
  return { prefix: query.get("prefix") ?? "", after: query.get("after") ?? "", amount };
}

// ---- responses ---------------------------------------------------------------------------------

export const ok = (json: unknown, status = 200): ApiResult => ({ status, json });
export const noContent = (): ApiResult => ({ status: 204 });

function setHeaders(res: ServerResponse, headers: Record<string, string | number | undefined>): void {
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && value !== "") res.setHeader(name, value);
}

/**
 * A JSON or text result as a body in one buffer, with its type: what a fault paces or cuts (the
 * request's fault passes a result's body through it, see faults/apply.ts).
 */
export function asBytes(result: ApiResult): ApiResult {
  const text = result.json !== undefined ? { contentType: "application/json", value: JSON.stringify(result.json) } : result.text;
  if (!text) return result;
  const body = Buffer.from(text.value, "utf8");
  const headers = { ...result.headers, "Content-Type": text.contentType, "X-Content-Type-Options": "nosniff", "Content-Length": body.length };
  return { status: result.status, headers, body, bytesIn: result.bytesIn, bytesOut: body.length };
}

function sendText(res: ServerResponse, contentType: string, text: string, head: boolean): number {
  const length = Buffer.byteLength(text);
  res.setHeader("Content-Type", contentType);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Content-Length", length);
  res.end(head ? undefined : text);
  return head ? 0 : length;
}

/** Write a result; returns the body bytes sent. */
export async function writeResult(res: ServerResponse, answer: ApiResult, head: boolean): Promise<number> {
  const result = asBytes(answer);
  res.statusCode = result.status;
  if (result.headers) setHeaders(res, result.headers);
  if (Buffer.isBuffer(result.body)) {
    res.end(head ? undefined : result.body);
    return head ? 0 : result.body.length;
  }
  if (result.body && !head) {
    await sendBody(result.body, res);
    return result.bytesOut ?? 0;
  }
  result.body?.destroy();
  if (!res.hasHeader("Content-Length") && result.status !== 204 && result.status !== 304) res.setHeader("Content-Length", 0);
  res.end();
  return 0;
}

export function writeError(res: ServerResponse, err: ApiError, head: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) if (!name.startsWith("access-control-")) res.removeHeader(name);
  res.statusCode = err.status;
  if (err.extra.headers) setHeaders(res, err.extra.headers);
  sendText(res, "application/json", JSON.stringify({ ...err.extra.fields, message: err.message }), head);
}

