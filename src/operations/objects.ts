/**
 * Single-object operations: GetObject, HeadObject, PutObject, CopyObject, DeleteObject and
 * GetObjectTagging. Bodies stream from the request into a blob and from blobs to the response.
 */
import { Readable } from "node:stream";
import { checksumHeaderName, parseIntegrityHeaders, type ChecksumAlgorithm } from "../protocol/checksums.js";
import { S3Error } from "../protocol/errors.js";
import { unlessLakefsIgnores } from "../protocol/divergences.js";
import {
  checkConditions,
  contentTypeFor,
  header,
  httpDate,
  parseRange,
  readConditions,
  readStoredHeaders,
  readUserMetadata,
  responseOverrides,
  storedHeaderValues,
  userMetadataHeaders,
  writeCondition,
  xmlDate,
} from "../protocol/headers.js";
import type { HeaderValue, S3Result } from "../protocol/respond.js";
import type { ByteRange } from "../storage/blob-store.js";
import type { ObjectRecord } from "../storage/metadata-store.js";
import { checkKeyLength, findObject, isLakefs, readObject, writeTarget } from "./address.js";
import { checkBodyLength } from "./body.js";
import { copyBlob, objectRecord, openPinned, publishObject, writeBlob } from "./store-object.js";
import { objectOperation, type ObjectContext, type OperationContext } from "./types.js";

/** Headers describing a stored object (GET and HEAD). */
function objectHeaders(ctx: ObjectContext, record: ObjectRecord): Record<string, string | number | undefined> {
  return {
    ETag: `"${record.etag}"`,
    "Last-Modified": httpDate(record.lastModified),
    "Content-Type": record.contentType,
    "Accept-Ranges": "bytes",
    ...storedHeaderValues(record.headers),
    ...userMetadataHeaders(s3UserMetadata(ctx, record)),
  };
}

/**
 * The user metadata S3 shows: lakeFS's S3 gateway shows only what S3 wrote (its keys are stored as
 * `X-Amz-Meta-<name>`, pkg/gateway/operations/operation_utils.go amzMetaWriteHeaders), never the
 * REST API's.
 */
function s3UserMetadata(ctx: OperationContext, record: ObjectRecord): Record<string, string> {
  const fromApi = record.metaFrom === "api" && Object.keys(record.userMeta).length > 0;
  return fromApi && !ctx.diverge("metadata-namespace") ? {} : record.userMeta;
}

/** Cache-Control, Content-Disposition… of a write: kept (lakes3), or dropped as lakeFS does. */
export function storedHeaders(ctx: OperationContext): ReturnType<typeof readStoredHeaders> {
  const stored = readStoredHeaders(ctx.req.headers);
  return Object.keys(stored).length > 0 && !ctx.diverge("stored-headers") ? {} : stored;
}

function checksumHeaders(record: ObjectRecord): Record<string, string> {
  const c = record.checksum;
  if (!c) return {};
  return { [checksumHeaderName(c.algorithm)]: c.value, "x-amz-checksum-type": c.type };
}

/** The number of parts of a completed multipart object ("…-N" ETag), or undefined for any other. */
function multipartCount(record: ObjectRecord): number | undefined {
  const n = Number(/-(\d+)$/.exec(record.etag)?.[1]);
  return n === record.parts.length ? n : undefined;
}

/**
 * `?partNumber=N` on GET/HEAD: the bytes of part N of a multipart object (part 1 of any other
 * object is the whole of it), with x-amz-mp-parts-count, the way parallel downloaders use it.
 * Not together with Range; beyond the last part → InvalidPartNumber. An empty part → no range.
 */
function partRange(ctx: ObjectContext, record: ObjectRecord, raw: string): { range?: ByteRange; partsCount?: number; length: number } {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10000) {
    throw new S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
  }
  if (header(ctx.req.headers, "range") !== undefined) {
    throw new S3Error("InvalidRequest", "Cannot specify both Range header and partNumber query parameter");
  }
  const n = Number(raw);
  const partsCount = multipartCount(record);
  const sizes = partsCount ? record.parts.map((p) => p.size) : [record.size];
  if (n > sizes.length) {
    throw new S3Error("InvalidPartNumber", { extras: { PartNumberRequested: String(n), ActualPartCount: String(sizes.length) } });
  }
  const start = sizes.slice(0, n - 1).reduce((a, b) => a + b, 0);
  const length = sizes[n - 1]!;
  return { range: length > 0 ? { start, end: start + length - 1 } : undefined, partsCount, length };
}

async function getOrHead(ctx: ObjectContext, head: boolean): Promise<S3Result> {
  const record = await readObject(ctx);
  unlessLakefsIgnores(ctx.diverge, "conditional-get", () => checkConditions(readConditions(ctx.req.headers), record, "304"));
  const partNumber = ctx.req.query.get("partNumber");
  let range: ByteRange | undefined;
  let length: number;
  const headers: Record<string, HeaderValue> = Object.assign(objectHeaders(ctx, record), responseOverrides(ctx.req.query));
  if (partNumber !== null && ctx.diverge("part-number-get")) {
    const part = partRange(ctx, record, partNumber);
    ({ range, length } = part);
    if (part.partsCount) headers["x-amz-mp-parts-count"] = part.partsCount;
  } else {
    range = parseRange(header(ctx.req.headers, "range"), record.size);
    length = range ? range.end - range.start + 1 : record.size;
    const checksumMode = header(ctx.req.headers, "x-amz-checksum-mode")?.toUpperCase() === "ENABLED";
    if (checksumMode && !range) Object.assign(headers, checksumHeaders(record));
  }
  headers["Content-Length"] = length;
  if (range) headers["Content-Range"] = `bytes ${range.start}-${range.end}/${record.size}`;
  const status = range ? 206 : 200;
  // GET and HEAD answer results of one shape: a fresh server's first HEADs, after GETs, otherwise
  // deoptimized the gateway's compiled request path (a result of another shape) and V8 spent
  // ~45 ms compiling it again.
  let body: S3Result["body"];
  if (!head) body = length === 0 ? Readable.from([]) : ((await ctx.services.blobs.readInline(record.parts, range)) ?? (await openPinned(ctx.services, record, range)));
  return { status, headers, body, bytesOut: head ? 0 : length };
}

const GetObject = objectOperation((ctx) => getOrHead(ctx, false));
const HeadObject = objectOperation((ctx) => getOrHead(ctx, true));

const PutObject = objectOperation(async (ctx) => {
  const h = ctx.req.headers;
  checkKeyLength(ctx.path);
  const target = await writeTarget(ctx);
  const declared = checkBodyLength(ctx);
  const integrity = parseIntegrityHeaders(h);
  const userMeta = readUserMetadata(h);
  const condition = writeCondition(h, ctx.diverge);
  // Fail a doomed conditional write before reading the body; checked again atomically on publish.
  if (condition) condition(await findObject(ctx));

  const written = await writeBlob(ctx.services, ctx.body(), integrity, () => ctx.trailers(), declared);
  const record = objectRecord(written, { contentType: contentTypeFor(h, ctx.path), headers: storedHeaders(ctx), userMeta });
  await publishObject(ctx.services, target, ctx.path, record, condition);
  return {
    headers: { ETag: `"${record.etag}"`, ...checksumHeaders(record) },
    bytesIn: record.size,
  };
});

/** Parse `x-amz-copy-source` (percent-decoded, optional ?versionId) into repo, ref and path. */
export function parseCopySource(ctx: ObjectContext): { repo: string; ref: string; path: string } {
  const raw = header(ctx.req.headers, "x-amz-copy-source") ?? "";
  const invalid = () => new S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.");
  let value: string;
  try {
    value = decodeURIComponent(raw.replace(/\?versionId=[^/]*$/, ""));
  } catch {
    throw invalid();
  }
  value = value.replace(/^\/+/, "");
  const slash = value.indexOf("/");
  if (slash <= 0) throw invalid();
  const repo = value.slice(0, slash);
  const rest = value.slice(slash + 1);
  if (!isLakefs(ctx)) {
    if (rest === "") throw invalid();
    return { repo, ref: "", path: rest };
  }
  const second = rest.indexOf("/");
  if (second <= 0 || second === rest.length - 1) throw invalid();
  return { repo, ref: rest.slice(0, second), path: rest.slice(second + 1) };
}

/** The source object of a copy (any readable ref, any repository), copy-source conditionals applied. */
export async function copySource(ctx: ObjectContext): Promise<{ record: ObjectRecord; repo: string; ref: string; path: string }> {
  const src = parseCopySource(ctx);
  const repo = await ctx.services.catalog.getRepository(src.repo);
  // lakeFS answers a missing source repository with NoSuchKey; S3 with NoSuchBucket
  if (!repo) throw new S3Error(isLakefs(ctx) ? "NoSuchKey" : "NoSuchBucket", { key: src.path, bucket: src.repo, resource: src.repo });
  const ref = isLakefs(ctx) ? src.ref : repo.defaultBranch;
  const record = await findObject(ctx, src.repo, ref, src.path);
  if (!record) throw new S3Error("NoSuchKey", { key: src.path, bucket: src.repo, resource: `${ref}@${src.repo}` });
  unlessLakefsIgnores(ctx.diverge, "copy-conditions", () => checkConditions(readConditions(ctx.req.headers, "x-amz-copy-source-"), record, "412"));
  return { record, ...src, ref };
}

const CopyObject = objectOperation(async (ctx) => {
  const h = ctx.req.headers;
  checkKeyLength(ctx.path);
  const target = await writeTarget(ctx);
  const directive = (header(h, "x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE") throw new S3Error("InvalidArgument", "Unknown metadata directive.");
  // lakeFS's copy checks no condition (putobject.go handleCopy)
  const check = writeCondition(h);
  const condition = check && ((current: ObjectRecord | undefined) => unlessLakefsIgnores(ctx.diverge, "copy-conditions", () => check(current)));
  const src = await copySource(ctx);
  const sameObject = src.repo === ctx.repo.name && src.ref === ctx.ref && src.path === ctx.path;
  if (sameObject && directive === "COPY") {
    throw new S3Error("InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
  }
  if (condition) condition(await findObject(ctx));

  const algorithm = (header(h, "x-amz-checksum-algorithm")?.toUpperCase() ?? src.record.checksum?.algorithm) as ChecksumAlgorithm | undefined;
  const written = await copyBlob(ctx.services, src.record, algorithm);
  const replace = directive === "REPLACE";
  const record = objectRecord(written, {
    contentType: replace ? contentTypeFor(h, ctx.path) : src.record.contentType,
    headers: replace ? storedHeaders(ctx) : src.record.headers,
    userMeta: replace ? readUserMetadata(h) : src.record.userMeta,
    metaFrom: replace ? undefined : src.record.metaFrom,
  });
  await publishObject(ctx.services, target, ctx.path, record, condition);
  const checksum = record.checksum ? { [`Checksum${record.checksum.algorithm}`]: record.checksum.value } : {};
  return {
    xml: { root: "CopyObjectResult", content: { LastModified: xmlDate(record.lastModified), ETag: `"${record.etag}"`, ...checksum } },
  };
});

const DeleteObject = objectOperation(async (ctx) => {
  // lakeFS swallows "branch not found" on delete: a tag, commit or missing branch gives 204.
  const target = await writeTarget(ctx).catch((err) => {
    if (err instanceof S3Error && err.code === "NoSuchBucket") return undefined;
    throw err;
  });
  if (!target) return { status: 204 };
  const removed = await ctx.services.catalog.deleteObjects(target, [ctx.path]);
  for (const r of removed) ctx.services.reclaimer.reclaim(r.parts);
  return { status: 204 };
});

const GetObjectTagging = objectOperation(async (ctx) => {
  await readObject(ctx);
  return { xml: { root: "Tagging", namespace: true, content: { TagSet: "" } } };
});

export const objectOperations = { GetObject, HeadObject, PutObject, CopyObject, DeleteObject, GetObjectTagging };
