/**
 * The request pipeline, top to bottom:
 *   start event → CORS / built-in routes → parse (addressing) → authenticate → route →
 *   repository lookup → run the operation → write the result or the error → end event.
 * Handlers never write to the socket; every failure becomes S3 error XML here, once.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import type { Readable } from "node:stream";
import { API_PREFIX } from "../api/operations.js";
import type { ApiHandler } from "../api/index.js";
import { corsPolicy } from "./cors.js";
import { ADMIN_PREFIX, createAdminHandler } from "../inspect/admin-route.js";
import { authenticate, isAwsSigned, signatureDetails } from "../auth/authenticate.js";
import { decodeBody } from "../auth/payload.js";
import type { AuthResult } from "../auth/types.js";
import { clipLines, maskHeaders, maskQuery, type RequestEvent, type RequestLog } from "../log/events.js";
import { S3Error, toS3Error } from "../protocol/errors.js";
import { divergeFor, type Diverge } from "../protocol/divergences.js";
import { VersioningError } from "../versioning/errors.js";
import { StorageError } from "../storage/errors.js";
import { DROPPED_BODY_MS, isVirtualHostRequest, parseRequest, requestHeader, type S3Request } from "../protocol/request.js";
import { writeError, writeResult, type ErrorContext } from "../protocol/respond.js";
import { isFormUpload, route, type Route } from "../protocol/route.js";
import { emptyKeyError, objectErrorContext } from "../operations/address.js";
import { OPERATIONS } from "../operations/index.js";
import type { ObjectContext, OperationContext, Services } from "../operations/types.js";
import { runWithFault } from "../faults/apply.js";
import type { FaultInjector } from "../faults/injector.js";

export interface GatewayOptions {
  services: Services;
  log: RequestLog;
  /** Answers GET /_health; false until the store is open and fixtures are loaded. */
  isReady: () => boolean;
  /** Fault rules (`--fault`), consulted once a request's operation and address are known. */
  faults: FaultInjector;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, expectContinue?: boolean) => void;

export function createGateway(options: GatewayOptions): Handler {
  const { services, log } = options;
  const config = services.config;
  const cors = corsPolicy(config.corsOrigins);
  // The REST API is loaded on its first request: S3 clients never use it, and the server answers
  // its first request sooner without it.
  const apiHandler = onFirstUse(async () => (await import("../api/index.js")).createApiHandler(services, log, cors, options.faults));
  const adminHandler = createAdminHandler({ catalog: services.catalog, blobs: services.blobs, dataDir: config.dataDir }, options.faults);

  return (req, res, expectContinue = false) => {
    // On finish, not on close (a turn later): by then Node has closed a connection it will not
    // keep, with the client's bytes unread, which resets it and loses the answer.
    res.once("finish", () => discardUnreadBody(req));
    // The REST API and the admin route live beside S3's path-style addresses; a virtual-host
    // request is always S3 (its path is a key, whatever it looks like).
    const url = req.url ?? "/";
    if (!isVirtualHostRequest(req, config.domains)) {
      // An AWS-signed request is S3 whatever its path, as lakeFS routes it (an S3 client whose
      // endpoint wrongly ends in /api/v1 then gets the gateway's ErrNoSuchBucketPossibleAPIEndpoint).
      const isApi = url === API_PREFIX || url.startsWith(API_PREFIX + "/") || url.startsWith(API_PREFIX + "?");
      if (isApi && !isAwsSigned(req.headers, url.split("?").slice(1).join("?"))) return void apiHandler(req, res, expectContinue);
      if (url.startsWith(ADMIN_PREFIX)) return void adminHandler(req, res);
    }
    const started = performance.now();
    const event = log.start({
      id: randomUUID(),
      source: "s3",
      method: req.method ?? "GET",
      path: req.url?.split("?")[0],
      query: maskQuery(url),
      userAgent: requestHeader(req, "user-agent"),
      headers: maskHeaders(req.headers),
    });
    cors.apply(req, res, S3_EXPOSED_HEADERS);
    // The request ends (for the log) once the handler is done and the response is closed, in
    // whichever order they come (a callback each: a promise for each and Promise.all cost a HEAD
    // five promises and their turns).
    const ended = (served: Served) => {
      // A response cut short because the client went away is logged as such (nginx's 499), with
      // what the server would have answered.
      const disconnected = !res.writableFinished;
      log.end(event, {
        status: disconnected ? CLIENT_DISCONNECTED : served.status || res.statusCode,
        bytesIn: served.bytesIn,
        bytesOut: served.bytesOut,
        errorCode: disconnected ? "ClientDisconnected" : served.error?.code,
        errorMessage: disconnected ? `the client closed the connection before the response was sent${served.error ? ` (it would have been ${served.error.code}: ${served.error.message})` : ""}` : served.error?.message,
        durationMs: performance.now() - started,
      });
    };
    let result: Served | undefined;
    let closed = false;
    res.once("close", () => {
      closed = true;
      if (result) ended(result);
    });
    void serve(req, res, event, expectContinue).then((served) => {
      result = served;
      if (closed) ended(served);
    });
  };

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    event: RequestEvent,
    expectContinue: boolean,
  ): Promise<Served> {
    const head = req.method === "HEAD";
    const errorContext: ErrorContext = { requestId: event.id, region: config.region };
    let parsed: S3Request | undefined;
    const diverge = divergeFor(config, event);
    try {
      if (req.method === "OPTIONS") {
        // A preflight from an origin that may not call lakes3 (see cors.ts) is refused, as S3 does.
        if (!cors.preflight(req, res)) throw new S3Error("AccessForbidden");
        return preflight(res);
      }
      if ((req.url === "/_health" || req.url?.startsWith("/_health?")) && (req.method === "GET" || head)) {
        return await health(res, options.isReady(), head);
      }

      parsed = parseRequest(req, config.mode, config.domains);
      Object.assign(event, { repo: parsed.bucket, ref: parsed.ref ?? undefined, path: parsed.path });

      let routed: Route | S3Error;
      try {
        routed = route(parsed, config.mode);
        event.operation = routed.operation;
      } catch (err) {
        routed = toS3Error(err);
      }

      if (routed instanceof S3Error && isFormUpload(parsed)) throw routed;

      let auth: AuthResult;
      try {
        auth = authenticate(
          { method: parsed.method, rawPath: parsed.rawPath, rawQuery: parsed.rawQuery, headers: req.headersDistinct as Record<string, string[]> },
          (id) => (id === config.accessKeyId ? { accessKeyId: id, secretAccessKey: config.secretAccessKey } : undefined),
          { bucketFromHost: parsed.bucketFromHost, httpDate: config.mode === "s3", diverge },
        );
        if (auth.payload.mode === "streaming-signed-trailer") diverge("signed-trailer");
        event.auth = "ok";
      } catch (err) {
        event.auth = "failed";
        const details = signatureDetails(err);
        if (details) event.signature = { canonicalRequest: details.canonicalRequest && clipLines(details.canonicalRequest), stringToSign: details.stringToSign };
        throw err;
      }
      if (routed instanceof S3Error) throw routed;
      const operation = OPERATIONS[routed.operation];

      const ctx = await buildContext(parsed, routed, req, res, auth, expectContinue, diverge);
      if (ctx.repo) {
        errorContext.bucket = ctx.repo.name;
        errorContext.resource = ctx.repo.name;
      }
      if (routed.level === "object") Object.assign(errorContext, objectErrorContext(ctx as ObjectContext));
      const { ref, path } = ctx as Partial<ObjectContext>;
      const fault = { source: "s3", operation: routed.operation, method: parsed.method, repo: parsed.bucket, ref, key: path } as const;
      const outcome = await runWithFault(options.faults, fault, req.socket, event, ctx, () => operation.handle(ctx));
      await writeResult(res, outcome, event.id, head);
      return { status: outcome.status ?? 200, bytesOut: outcome.bytesOut ?? 0, bytesIn: outcome.bytesIn ?? 0 };
    } catch (err) {
      const explained = services.store.explain(err);
      const s3err = explained instanceof VersioningError ? versioningToS3(explained) : toS3Error(explained);
      if (s3err.code === "InternalError" && !(explained instanceof S3Error) && !(explained instanceof StorageError)) reportInternal(err);
      writeError(res, s3err, errorContext, head);
      return { status: s3err.status, bytesOut: 0, bytesIn: 0, error: s3err };
    }
  }

  async function buildContext(
    parsed: S3Request,
    routed: Route,
    req: IncomingMessage,
    res: ServerResponse,
    auth: AuthResult,
    expectContinue: boolean,
    diverge: Diverge,
  ): Promise<OperationContext> {
    let decoded: { stream: Readable; trailers(): Record<string, string> } | undefined;
    const body = () => {
      if (!decoded) {
        if (expectContinue) res.writeContinue();
        decoded = decodeBody(req, auth, req.headers);
      }
      return decoded.stream;
    };
    const ctx: OperationContext = { req: parsed, services, body, trailers: () => decoded?.trailers() ?? {}, diverge };
    if (routed.level === "service") return ctx;

    const name = parsed.bucket!;
    const repo = await services.catalog.getRepository(name);
    if (!repo && routed.operation !== "CreateBucket") {
      if (name === "api" && parsed.rawPath.startsWith("/api/v1")) throw new S3Error("ErrNoSuchBucketPossibleAPIEndpoint");
      throw new S3Error("NoSuchBucket", { bucket: name, resource: name });
    }
    ctx.repo = repo;
    if (routed.level === "bucket") return ctx;

    const objectCtx = ctx as ObjectContext;
    objectCtx.ref = config.mode === "lakefs" ? parsed.ref! : repo!.defaultBranch;
    objectCtx.path = parsed.path ?? "";
    if (objectCtx.path === "") throw emptyKeyError(objectCtx);
    return objectCtx;
  }

  /** 200 once ready and while the store takes writes; else 503 saying why (disk full, data dir gone…). */
  async function health(res: ServerResponse, ready: boolean, head: boolean) {
    const store = ready ? await services.store.health() : { ok: true };
    const text = JSON.stringify(!ready ? { status: "starting" } : store.ok ? { status: "ok" } : { status: "failing", problem: store.problem, message: store.message });
    res.statusCode = ready && store.ok ? 200 : 503;
    res.setHeader("Content-Type", "application/json");
    res.setHeader("Content-Length", Buffer.byteLength(text));
    res.end(head ? undefined : text);
    return { status: res.statusCode, bytesOut: 0, bytesIn: 0 };
  }
}

/** What serving a request came to, for its log entry. */
interface Served {
  status: number;
  bytesOut: number;
  bytesIn: number;
  error?: S3Error;
}

/** A handler made once, on its first request (later requests wait for the same one). */
function onFirstUse(make: () => Promise<ApiHandler>): ApiHandler {
  let handler: Promise<ApiHandler> | undefined;
  return async (req, res, expectContinue) => (await (handler ??= make()))(req, res, expectContinue);
}

/** The status logged for a request whose client disconnected before its response was sent. */
export const CLIENT_DISCONNECTED = 499;

/** The headers an S3 client in a browser reads. */
const S3_EXPOSED_HEADERS =
  "ETag, x-amz-request-id, x-amz-version-id, x-amz-checksum-crc32, x-amz-checksum-crc32c, x-amz-checksum-crc64nvme, x-amz-checksum-sha1, x-amz-checksum-sha256, Content-Range, Content-Length, Last-Modified";

function preflight(res: ServerResponse) {
  res.statusCode = 200;
  res.setHeader("Content-Length", 0);
  res.end();
  return { status: 200, bytesOut: 0, bytesIn: 0 };
}

/**
 * Once a response is sent, discard whatever is left of the request body: Node only drains bodies
 * nobody started reading, so a body piped into a decoder that failed half-way (a bad chunk
 * signature, bad framing) would otherwise stay unread and wedge the keep-alive connection. A
 * client that has not sent the rest within DROPPED_BODY_MS loses the connection (see dropsRestOfBody).
 */
function discardUnreadBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  req.unpipe();
  req.removeAllListeners("readable"); // an abandoned async iterator's listener would hold the flow
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), DROPPED_BODY_MS).unref();
  const done = () => clearTimeout(timer);
  req.once("end", done);
  req.once("close", done);
}

/**
 * How a connection ends after a response that closes it: Node's destroySoon sends FIN and closes
 * the socket once that is written, and a socket closed with bytes unread answers the client's next
 * ones with a reset, so a client still writing a body the server refused (too large, chunked where
 * it is not read) fails its write and loses the answer it had not read yet. Instead the server
 * half-closes and reads on, discarding, until the client closes its side or DROPPED_BODY_MS pass:
 * a lingering close, as nginx and Apache do.
 */
export function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function (this: Socket) {
    if (this.readableEnded || this.destroyed) return Socket.prototype.destroySoon.call(this);
    this.end();
    this.resume(); // read on, whether or not the HTTP parser still does
    const timer = setTimeout(() => this.destroy(), DROPPED_BODY_MS).unref();
    this.once("end", () => this.destroy());
    this.once("close", () => clearTimeout(timer));
  };
}

/** A catalog failure seen through S3 (e.g. a branch deleted while a write was in flight). */
function versioningToS3(err: VersioningError): S3Error {
  switch (err.kind) {
    case "not_found":
      return new S3Error("NoSuchBucket", err.message);
    case "conflict":
      return new S3Error("ConditionalRequestConflict");
    case "precondition":
      return new S3Error("PreconditionFailed");
    default:
      return new S3Error("InvalidRequest", err.message);
  }
}

function reportInternal(err: unknown): void {
  if (process.env["LAKES3_DEBUG"]) console.error(err);
}
