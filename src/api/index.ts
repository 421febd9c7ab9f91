/**
 * The lakeFS REST API subset under /api/v1 (shapes from lakefs-api/swagger.yml). One request:
 *   start event → match route (404 unknown, 405 wrong method) → authenticate (HTTP Basic, except
 *   healthcheck / setup / version) → look up {repository} (404) → run the handler → write the
 *   result or the `{message}` error → end event (status, bytes, error) once the response closes.
 */
import { randomUUID } from "node:crypto";
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import { maskHeaders, maskQuery, type RequestEvent, type RequestLog } from "../log/events.js";
import type { CorsPolicy } from "../server/cors.js";
import type { Services } from "../operations/types.js";
import { divergeFor } from "../protocol/divergences.js";
import { objectRoutes } from "./objects.js";
import { refRoutes } from "./refs.js";
import { repositoryRoutes } from "./repositories.js";
import {
  ApiError,
  authenticate,
  notFound,
  pathSegments,
  readJson,
  asBytes,
  Router,
  toApiError,
  writeError,
  writeResult,
  type ApiContext,
  type ApiResult,
} from "./router.js";
import { systemRoutes } from "./system.js";
import { runWithFault } from "../faults/apply.js";
import type { FaultInjector } from "../faults/injector.js";

export type ApiHandler = (req: IncomingMessage, res: ServerResponse, expectContinue?: boolean) => Promise<void>;

/** Every REST route (each operation id is listed in operations.ts, which fault rules check against). */
export const ROUTES = [...systemRoutes, ...repositoryRoutes, ...refRoutes, ...objectRoutes];

export function createApiHandler(services: Services, log: RequestLog, cors: CorsPolicy, faults: FaultInjector): ApiHandler {
  const router = new Router(ROUTES);

  return async (req, res, expectContinue = false) => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://localhost");
    const event = log.start({
      id: randomUUID(),
      source: "admin",
      method: req.method ?? "GET",
      path: url.pathname,
      query: maskQuery(req.url ?? ""),
      userAgent: req.headers["user-agent"],
      headers: maskHeaders(req.headers),
    });
    res.setHeader("X-Request-ID", event.id);
    cors.apply(req, res, "ETag, Content-Range, Content-Length, Last-Modified, X-Request-ID");
    const closed = new Promise((resolve) => res.once("close", resolve));
    // `100 Continue` once, when the client waits for it and the body is first read
    let awaitingContinue = expectContinue;
    const sendContinue = () => {
      if (awaitingContinue && !res.headersSent) res.writeContinue();
      awaitingContinue = false;
    };
    const outcome = await serve(req, res, url, event, sendContinue);
    await closed;
    log.end(event, {
      status: outcome.error?.status ?? outcome.result?.status ?? res.statusCode,
      bytesIn: outcome.result?.bytesIn ?? 0,
      bytesOut: outcome.bytesOut,
      errorCode: outcome.error ? errorCode(outcome.error.status) : undefined,
      errorMessage: outcome.error?.message,
      durationMs: performance.now() - started,
    });
  };

  async function serve(req: IncomingMessage, res: ServerResponse, url: URL, event: RequestEvent, sendContinue: () => void): Promise<{ result?: ApiResult; error?: ApiError; bytesOut: number }> {
    const head = req.method === "HEAD";
    try {
      if (req.method === "OPTIONS") {
        event.operation = "api:preflight";
        if (!cors.preflight(req, res)) throw new ApiError(403, `CORS: origin ${req.headers.origin ?? "(none)"} may not call this server (start lakes3 with --cors-origin to allow it)`);
        const result = { status: 204 };
        return { result, bytesOut: await writeResult(res, result, true) };
      }
      const matched = router.match(req.method ?? "GET", pathSegments(url.pathname));
      if (!matched) throw notFound(`no such API endpoint: ${req.method} ${url.pathname}`);
      if ("methodNotAllowed" in matched) throw new ApiError(405, `method ${req.method} not allowed on ${url.pathname}`);
      const { route, params } = matched;
      event.operation = `api:${route.operation}`;
      if (route.auth) {
        try {
          authenticate(req, services.config);
          event.auth = "ok";
        } catch (err) {
          event.auth = "failed";
          throw err;
        }
      } else event.auth = "none";

      const ctx: ApiContext = {
        services,
        req,
        res,
        params,
        query: url.searchParams,
        event,
        json: () => readJson(req, ctx.body()),
        body: () => {
          sendContinue();
          return req;
        },
        diverge: divergeFor(services.config, event),
      };
      const repoName = params["repository"];
      if (repoName !== undefined) {
        event.repo = repoName;
        event.ref = params["branch"] ?? params["ref"] ?? params["sourceRef"] ?? params["leftRef"] ?? params["tag"] ?? params["commitId"];
        event.path = undefined;
        ctx.repo = await services.catalog.getRepository(repoName);
        if (!ctx.repo) throw notFound("repository not found"); // lakeFS ErrRepositoryNotFound
      }
      const fault = { source: "api", operation: event.operation, method: req.method ?? "GET", repo: repoName, ref: event.ref, key: url.searchParams.get("path") ?? undefined } as const;
      const result = await runWithFault(faults, fault, req.socket, event, ctx, async () => asBytes(await route.handle(ctx)));
      const bytesOut = await writeResult(res, result, head);
      return { result, bytesOut };
    } catch (err) {
      const error = toApiError(services.store.explain(err));
      writeError(res, error, head);
      return { error, bytesOut: 0 };
    }
  }
}

/** A short error code for the request log, e.g. 404 → NotFound. */
function errorCode(status: number): string {
  return (STATUS_CODES[status] ?? `Status${status}`).replace(/[^A-Za-z]/g, "");
}
