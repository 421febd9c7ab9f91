/**
 * Objects: stat, list, get/head (Range, If-None-Match) at any ref; upload (raw or
 * multipart/form-data, streamed), delete, delete-many and copy on a branch. Bytes go through the
 * same write path as the S3 gateway (writeBlob → publishObject), so ETags, checksums and crash
 * safety are the same; staged blobs a delete hands back are reclaimed.
 */
import type { Readable } from "node:stream";
import { etagMatches, httpDate, parseRange, readUserMetadata, writeCondition } from "../protocol/headers.js";
import { checkKeyLength } from "../operations/address.js";
import { copyBlob, objectRecord, openPinned, publishObject, writeBlob, type WrittenBlob } from "../operations/store-object.js";
import { StorageError } from "../storage/errors.js";
import type { ObjectRecord } from "../storage/metadata-store.js";
import type { BranchTarget } from "../versioning/catalog.js";
import type { RefView } from "../versioning/refs.js";
import { formBoundary, openFormFile } from "./multipart.js";
import { ApiError, badRequest, field, noContent, notFound, ok, pageParams, queryBool, queryString, repoRoute, type ApiResult, type RepoContext, type Route } from "./router.js";
import * as shapes from "./shapes.js";

const MAX_PATHS = 1000;
const META_PREFIX = "x-lakefs-meta-";

// ---- addressing --------------------------------------------------------------------------------

async function viewOf(ctx: RepoContext, ref: string): Promise<RefView> {
  const view = await ctx.services.catalog.resolve(ctx.repo.name, ref);
  if (!view) throw notFound(`ref ${ref} not found`);
  return view;
}

/** The `path` (or other) query parameter naming an object; noted in the request log. */
function objectPath(ctx: RepoContext, name = "path"): string {
  const path = queryString(ctx.query, name);
  checkKeyLength(path);
  ctx.event.path = path;
  return path;
}

async function objectAt(ctx: RepoContext, ref: string, path: string): Promise<ObjectRecord> {
  const record = await ctx.services.catalog.getObject(await viewOf(ctx, ref), path);
  if (!record) throw notFound(`object ${path} not found at ${ref}`);
  return record;
}

/** The branch `{branch}` names, for a write; 404 when it is not a branch (a tag, a commit). */
async function branchTarget(ctx: RepoContext): Promise<BranchTarget> {
  const branch = ctx.params["branch"]!;
  const target = await ctx.services.catalog.branchTarget(ctx.repo.name, branch);
  if (!target) throw notFound(`branch ${branch} not found`);
  return target;
}

async function visibleOnBranch(ctx: RepoContext, target: BranchTarget, path: string): Promise<ObjectRecord | undefined> {
  const view = await ctx.services.catalog.resolve(target.repo, target.branch);
  return view && ctx.services.catalog.getObject(view, path);
}

// ---- reading -----------------------------------------------------------------------------------

async function getOrHead(ctx: RepoContext, head: boolean): Promise<ApiResult> {
  const path = objectPath(ctx);
  const record = await objectAt(ctx, ctx.params["ref"]!, path);
  const validators = { ETag: `"${record.etag}"`, "Last-Modified": httpDate(record.lastModified) };
  const ifNoneMatch = ctx.req.headers["if-none-match"];
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, record.etag)) return { status: 304, headers: validators };
  const range = parseRange(ctx.req.headers.range, record.size);
  const length = range ? range.end - range.start + 1 : record.size;
  const headers = {
    ...validators,
    "Content-Type": record.contentType,
    "Content-Length": length,
    "Accept-Ranges": "bytes",
    "Content-Range": range ? `bytes ${range.start}-${range.end}/${record.size}` : undefined,
  };
  const status = range ? 206 : 200;
  if (head) return { status, headers };
  let body: Readable;
  try {
    body = await openPinned(ctx.services, record, range);
  } catch (err) {
    // lakeFS answers 410 Gone for an object whose data is no longer in the store.
    if (err instanceof StorageError && (err.problem === "blob-missing" || err.problem === "blob-damaged")) throw new ApiError(410, `object ${path}: ${err.message}`);
    throw err;
  }
  return { status, headers, body, bytesOut: length };
}

/**
 * The user metadata the REST API shows. lakeFS keeps S3's keys as the gateway stored them,
 * `X-Amz-Meta-<name>` (pkg/gateway/operations/operation_utils.go amzMetaAsMetadata), beside the
 * REST API's plain names; lakes3 shows one namespace unless --strict.
 */
function restUserMetadata(ctx: RepoContext, record: ObjectRecord): Record<string, string> {
  if (record.metaFrom === "api" || Object.keys(record.userMeta).length === 0 || ctx.diverge("metadata-namespace")) return record.userMeta;
  return Object.fromEntries(Object.entries(record.userMeta).map(([name, value]) => [`X-Amz-Meta-${name}`, value]));
}

const readRoutes: Route[] = [
  repoRoute("GET", "/repositories/{repository}/refs/{ref}/objects", "getObject", (ctx) => getOrHead(ctx, false)),
  repoRoute("HEAD", "/repositories/{repository}/refs/{ref}/objects", "headObject", (ctx) => getOrHead(ctx, true)),

  repoRoute("GET", "/repositories/{repository}/refs/{ref}/objects/stat", "statObject", async (ctx) => {
    const path = objectPath(ctx);
    const record = await objectAt(ctx, ctx.params["ref"]!, path);
    return ok(shapes.objectStats(ctx.repo, path, record, queryBool(ctx.query, "user_metadata", true) ? restUserMetadata(ctx, record) : undefined));
  }),

  repoRoute("GET", "/repositories/{repository}/refs/{ref}/objects/ls", "listObjects", async (ctx) => {
    const { prefix, after, amount } = pageParams(ctx.query);
    const delimiter = ctx.query.get("delimiter") || undefined;
    const withMeta = queryBool(ctx.query, "user_metadata", true);
    const view = await viewOf(ctx, ctx.params["ref"]!);
    const page = await ctx.services.catalog.listObjects(view, { prefix, delimiter, startAfter: after || undefined, limit: amount });
    const results = page.items.map((item) => {
      if ("prefix" in item) return shapes.commonPrefix(item.prefix);
      const record = item.object.record();
      return shapes.objectStats(ctx.repo, item.key, record, withMeta ? restUserMetadata(ctx, record) : undefined);
    });
    return ok(shapes.list(results, page.isTruncated, (r) => r.path));
  }),
];

// ---- writing -----------------------------------------------------------------------------------


/** The upload's bytes and content type: a raw body, or the `content` field of a form. */
async function uploadSource(ctx: RepoContext): Promise<{ stream: Readable; contentType: string; size?: number }> {
  const contentType = ctx.req.headers["content-type"];
  const boundary = formBoundary(contentType);
  const body = ctx.body();
  if (boundary === undefined) {
    const length = ctx.req.headers["content-length"];
    const size = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    return { stream: body, contentType: contentType || "application/octet-stream", size };
  }
  const file = await openFormFile(body, boundary, "content");
  return { stream: file.body, contentType: file.contentType || "application/octet-stream" };
}

/** Stage a freshly written blob at `path` (the one write path, as PutObject). */
async function stage(
  ctx: RepoContext,
  target: BranchTarget,
  path: string,
  written: WrittenBlob,
  fields: Pick<ObjectRecord, "contentType" | "headers" | "userMeta" | "metaFrom">,
  condition?: (current: ObjectRecord | undefined) => void,
): Promise<ObjectRecord> {
  const record = objectRecord(written, fields);
  await publishObject(ctx.services, target, path, record, condition);
  return record;
}

const writeRoutes: Route[] = [
  // If-None-Match: * → 412 when the path exists (checked again atomically on publish).
  repoRoute("POST", "/repositories/{repository}/branches/{branch}/objects", "uploadObject", async (ctx) => {
    const path = objectPath(ctx);
    const target = await branchTarget(ctx);
    const condition = writeCondition(ctx.req.headers, ctx.diverge);
    if (condition) condition(await visibleOnBranch(ctx, target, path));
    const userMeta = readUserMetadata(ctx.req.headers, META_PREFIX);
    const { stream, contentType, size } = await uploadSource(ctx);
    const record = await stage(ctx, target, path, await writeBlob(ctx.services, stream, {}, undefined, size), { contentType, headers: {}, userMeta, metaFrom: "api" }, condition);
    return { ...ok(shapes.objectStats(ctx.repo, path, record, restUserMetadata(ctx, record)), 201), bytesIn: record.size };
  }),

  repoRoute("DELETE", "/repositories/{repository}/branches/{branch}/objects", "deleteObject", async (ctx) => {
    const path = objectPath(ctx);
    const target = await branchTarget(ctx);
    if (!(await visibleOnBranch(ctx, target, path))) throw notFound(`object ${path} not found`);
    for (const removed of await ctx.services.catalog.deleteObjects(target, [path])) ctx.services.reclaimer.reclaim(removed.parts);
    return noContent();
  }),

  // Missing paths (and empty ones, which Spark sends) count as deleted, as in lakeFS.
  repoRoute("POST", "/repositories/{repository}/branches/{branch}/objects/delete", "deleteObjects", async (ctx) => {
    const paths = field.stringArray(await ctx.json(), "paths");
    if (paths.length > MAX_PATHS) throw badRequest(`at most ${MAX_PATHS} paths per request`);
    paths.forEach(checkKeyLength);
    const target = await branchTarget(ctx);
    const removed = await ctx.services.catalog.deleteObjects(target, paths.filter((p) => p !== ""));
    for (const r of removed) ctx.services.reclaimer.reclaim(r.parts);
    return ok({ errors: [] });
  }),

  repoRoute("POST", "/repositories/{repository}/branches/{branch}/objects/copy", "copyObject", async (ctx) => {
    const destPath = objectPath(ctx, "dest_path");
    const body = await ctx.json();
    const srcPath = field.string(body, "src_path");
    const srcRef = field.optString(body, "src_ref") || ctx.params["branch"]!;
    const target = await branchTarget(ctx);
    // As lakeFS (apiutil.BuildOptsFromParams): a shallow copy is not implemented.
    if (field.optBool(body, "shallow")) throw new ApiError(501, "Not Implemented");
    const src = await objectAt(ctx, srcRef, srcPath);
    const record = await restage(ctx, target, destPath, src, src.userMeta, src.metaFrom);
    return ok(shapes.objectStats(ctx.repo, destPath, record, restUserMetadata(ctx, record)), 201);
  }),

  // lakeFS rewrites the entry in place; here it is restaged with the new metadata (bytes copied)
  repoRoute("PUT", "/repositories/{repository}/branches/{branch}/objects/stat/user_metadata", "updateObjectUserMetadata", async (ctx) => {
    const path = objectPath(ctx);
    const set = field.optStringMap(await ctx.json(), "set");
    if (!set) throw badRequest("set is required (an object of strings)");
    const target = await branchTarget(ctx);
    const current = await visibleOnBranch(ctx, target, path);
    if (!current) throw notFound(`object ${path} not found`);
    await restage(ctx, target, path, current, set, "api");
    return { status: 201 };
  }),
];

/**
 * Stage a copy of an object's bytes at `path` with the given user metadata: a real copy, as a
 * staged record owns its blobs (two records never share one, so reclaiming one is always safe).
 */
async function restage(ctx: RepoContext, target: BranchTarget, path: string, src: ObjectRecord, userMeta: Record<string, string>, metaFrom: ObjectRecord["metaFrom"]): Promise<ObjectRecord> {
  const written = await copyBlob(ctx.services, src, src.checksum?.algorithm);
  return stage(ctx, target, path, written, { contentType: src.contentType, headers: src.headers, userMeta, metaFrom });
}

export const objectRoutes: Route[] = [...readRoutes, ...writeRoutes];
