/**
 * Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
 * ListMultipartUploads. Upload state lives in LevelDB; part bytes stream into their own blobs.
 * Complete never copies bytes: the object record points at the part blobs in order, so completing
 * 10 GiB costs what completing 10 MiB does, and the publish + upload removal is one batch.
 */
import { createHash } from "node:crypto";
import { checksumHeaderName, parseIntegrityHeaders, type ChecksumAlgorithm } from "../protocol/checksums.js";
import { S3Error } from "../protocol/errors.js";
import { pageLimit } from "../protocol/request.js";
import { contentTypeFor, header, readUserMetadata, writeCondition, xmlDate } from "../protocol/headers.js";
import { asArray, text, urlEncodeKey } from "../protocol/xml.js";
import { NoSuchUploadError, type ObjectRecord, type PartRecord, type UploadRecord } from "../storage/metadata-store.js";
import { randomString } from "../storage/random.js";
import { checkKeyLength, clientKey, OWNER, writeTarget } from "./address.js";
import { checkBodyLength, readXmlBody } from "./body.js";
import { checkObjectChecksum, claimedChecksum, objectChecksum, uploadChecksum, uploadChecksumType, type ClaimedChecksum } from "./multipart-checksum.js";
import { copySource, storedHeaders } from "./objects.js";
import { copyBlob, writeBlob, type WrittenBlob } from "./store-object.js";
import { objectOperation, type ObjectContext, type Operation } from "./types.js";

const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;
const MAX_LIST = 1000;

/** The upload named by `uploadId`, if it is in progress for this very address. */
async function findUpload(ctx: ObjectContext): Promise<UploadRecord | undefined> {
  const id = ctx.req.query.get("uploadId");
  const upload = id ? await ctx.services.store.getUpload(id) : undefined;
  return upload && atAddress(ctx, upload) ? upload : undefined;
}

/** Whether an upload (or its completion) belongs to the repository, ref and path addressed. */
const atAddress = (ctx: ObjectContext, u: { repo: string; ref: string; path: string }) => u.repo === ctx.repo.name && u.ref === ctx.ref && u.path === ctx.path;

async function uploadOf(ctx: ObjectContext): Promise<UploadRecord> {
  const upload = await findUpload(ctx);
  if (!upload) throw new S3Error("NoSuchUpload");
  return upload;
}

function parsePartNumber(value: string | null | undefined): number {
  if (value === null || value === undefined || !/^\d+$/.test(value.trim())) {
    throw new S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
  }
  const n = Number(value.trim());
  if (n < 1 || n > MAX_PART_NUMBER) throw new S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
  return n;
}

const checksumField = (alg: ChecksumAlgorithm) => `Checksum${alg}`;

const CreateMultipartUpload = objectOperation(async (ctx) => {
  const h = ctx.req.headers;
  checkKeyLength(ctx.path);
  await writeTarget(ctx);
  const checksum = uploadChecksum(h);
  const upload: UploadRecord = {
    uploadId: randomString(16, "hex"),
    repo: ctx.repo.name,
    ref: ctx.ref,
    path: ctx.path,
    clientKey: clientKey(ctx, ctx.ref, ctx.path),
    initiated: new Date().toISOString(),
    contentType: contentTypeFor(h, ctx.path),
    headers: storedHeaders(ctx),
    userMeta: readUserMetadata(h),
    ...checksum,
  };
  await ctx.services.store.createUpload(upload);
  return {
    headers: checksum.checksumAlgorithm ? { "x-amz-checksum-algorithm": checksum.checksumAlgorithm, "x-amz-checksum-type": checksum.checksumType } : {},
    xml: {
      root: "InitiateMultipartUploadResult",
      namespace: true,
      content: { Bucket: ctx.repo.name, Key: upload.clientKey, UploadId: upload.uploadId },
    },
  };
});

/** Record a written part; if the upload vanished meanwhile (aborted, completed), drop the blob. */
async function recordPart(ctx: ObjectContext, upload: UploadRecord, partNumber: number, written: WrittenBlob): Promise<PartRecord> {
  const part: PartRecord = {
    partNumber,
    blob: written.blob,
    etag: written.md5Hex,
    lastModified: new Date().toISOString(),
    checksum: written.checksum?.algorithm === upload.checksumAlgorithm ? written.checksum?.value : undefined,
  };
  try {
    const replaced = await ctx.services.store.putPart(upload.uploadId, part);
    if (replaced) ctx.services.reclaimer.reclaim([replaced.blob]);
  } catch (err) {
    ctx.services.reclaimer.reclaim([written.blob]);
    throw err instanceof NoSuchUploadError ? new S3Error("NoSuchUpload") : err;
  }
  return part;
}

const UploadPart = objectOperation(async (ctx) => {
  const h = ctx.req.headers;
  await writeTarget(ctx);
  const partNumber = parsePartNumber(ctx.req.query.get("partNumber"));
  const upload = await uploadOf(ctx);
  const declared = checkBodyLength(ctx);
  const integrity = parseIntegrityHeaders(h);
  if (upload.checksumAlgorithm && !integrity.checksum) integrity.checksum = { algorithm: upload.checksumAlgorithm };
  const written = await writeBlob(ctx.services, ctx.body(), integrity, () => ctx.trailers(), declared);
  const part = await recordPart(ctx, upload, partNumber, written);
  const echo = written.checksum ? { [checksumHeaderName(written.checksum.algorithm)]: written.checksum.value } : {};
  return { headers: { ETag: `"${part.etag}"`, ...echo }, bytesIn: part.blob.size };
});

/** `x-amz-copy-source-range: bytes=first-last` against the source size. */
function copyRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!m) {
    throw new S3Error("InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy");
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start > end) throw new S3Error("InvalidArgument", `Range specified is not valid for source object of size: ${size}`);
  if (end >= size) throw new S3Error("InvalidRange", { message: `Range specified is not valid for source object of size: ${size}` });
  return { start, end };
}

const UploadPartCopy = objectOperation(async (ctx) => {
  await writeTarget(ctx);
  const partNumber = parsePartNumber(ctx.req.query.get("partNumber"));
  const upload = await uploadOf(ctx);
  const src = await copySource(ctx);
  const range = copyRange(header(ctx.req.headers, "x-amz-copy-source-range"), src.record.size);
  const written = await copyBlob(ctx.services, src.record, upload.checksumAlgorithm, range);
  const part = await recordPart(ctx, upload, partNumber, written);
  const checksum = upload.checksumAlgorithm && part.checksum ? { [checksumField(upload.checksumAlgorithm)]: part.checksum } : {};
  return { xml: { root: "CopyPartResult", namespace: true, content: { LastModified: xmlDate(part.lastModified), ETag: `"${part.etag}"`, ...checksum } } };
});

interface RequestedPart {
  partNumber: number;
  etag: string;
}

async function readPartList(ctx: ObjectContext): Promise<RequestedPart[]> {
  // x-amz-checksum-* on Complete is the whole object's checksum (checked in buildObject), not the body's
  const doc = await readXmlBody(ctx, 4 * 1024 * 1024, parseIntegrityHeaders({ "content-md5": header(ctx.req.headers, "content-md5") }));
  const root = doc["CompleteMultipartUpload"] as Record<string, unknown> | undefined;
  if (!root || typeof root !== "object") throw new S3Error("MalformedXML");
  const parts = asArray(root["Part"] as unknown).map((p) => {
    const part = p as Record<string, unknown>;
    const n = text(part["PartNumber"])?.trim();
    const etag = text(part["ETag"]);
    if (n === undefined || etag === undefined) throw new S3Error("MalformedXML");
    return { partNumber: parsePartNumber(n), etag: etag.trim().replace(/^"|"$/g, "") };
  });
  if (parts.length === 0) throw new S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema: you must specify at least one part");
  return parts;
}

/** Validate the client's part list against the stored parts (S3's rules) and build the object. */
function buildObject(upload: UploadRecord, requested: RequestedPart[], stored: PartRecord[], claimed: ClaimedChecksum): ObjectRecord {
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  const chosen: PartRecord[] = [];
  for (const [i, r] of requested.entries()) {
    if (i > 0 && r.partNumber <= requested[i - 1]!.partNumber) throw new S3Error("InvalidPartOrder");
    const part = byNumber.get(r.partNumber);
    if (!part || part.etag !== r.etag) throw new S3Error("InvalidPart");
    chosen.push(part);
  }
  chosen.forEach((p, i) => {
    if (i < chosen.length - 1 && p.blob.size < MIN_PART_SIZE) {
      throw new S3Error("EntityTooSmall", { extras: { ProposedSize: String(p.blob.size), MinSizeAllowed: String(MIN_PART_SIZE), PartNumber: String(p.partNumber), ETag: `"${p.etag}"` } });
    }
  });
  const md5 = createHash("md5");
  for (const p of chosen) md5.update(Buffer.from(p.etag, "hex"));
  const checksum = objectChecksum(upload, chosen);
  checkObjectChecksum(upload, checksum, claimed);
  return {
    size: chosen.reduce((n, p) => n + p.blob.size, 0),
    etag: `${md5.digest("hex")}-${chosen.length}`,
    lastModified: new Date().toISOString(),
    contentType: upload.contentType,
    headers: upload.headers,
    userMeta: upload.userMeta,
    checksum,
    parts: chosen.map((p) => p.blob),
  };
}

/**
 * A Complete for an upload that is gone: if it completed this object with the same part list, the
 * client is retrying (it lost the first answer) and gets that answer again, as from S3.
 */
async function repeatedCompletion(ctx: ObjectContext, partList: string): Promise<StoredCompletion> {
  const id = ctx.req.query.get("uploadId");
  const done = id ? await ctx.services.store.completedUploads.get(id) : undefined;
  if (!done || !atAddress(ctx, done) || done.partList !== partList) {
    throw new S3Error("NoSuchUpload");
  }
  return done;
}

type StoredCompletion = Pick<ObjectRecord, "etag" | "checksum">;

const CompleteMultipartUpload = objectOperation(async (ctx) => {
  const target = await writeTarget(ctx);
  const upload = await findUpload(ctx);
  const condition = writeCondition(ctx.req.headers, ctx.diverge);
  const requested = await readPartList(ctx);
  const claimed = claimedChecksum(ctx.req.headers);
  const partList = requested.map((p) => `${p.partNumber}:${p.etag}`).join(",");
  let done: StoredCompletion;
  if (!upload) {
    done = await repeatedCompletion(ctx, partList);
  } else {
    try {
      const completed = await ctx.services.catalog.completeUpload(upload, target, (stored) => buildObject(upload, requested, stored, claimed), condition, partList);
      if (completed.replaced) ctx.services.reclaimer.reclaim(completed.replaced.parts);
      ctx.services.reclaimer.reclaim(completed.unused);
      done = completed.record;
    } catch (err) {
      // completed meanwhile by a concurrent request: maybe with this same part list
      if (err instanceof NoSuchUploadError) done = await repeatedCompletion(ctx, partList);
      else throw err;
    }
  }
  const key = clientKey(ctx, ctx.ref, ctx.path);
  const location = `http://${ctx.req.host}/${ctx.req.bucketFromHost ? "" : ctx.repo.name + "/"}${key}`;
  const checksum = done.checksum ? { [checksumField(done.checksum.algorithm)]: done.checksum.value, ChecksumType: done.checksum.type } : {};
  return {
    xml: {
      root: "CompleteMultipartUploadResult",
      namespace: true,
      content: { Location: location, Bucket: ctx.repo.name, Key: key, ETag: `"${done.etag}"`, ...checksum },
    },
  };
});

const AbortMultipartUpload = objectOperation(async (ctx) => {
  const upload = await uploadOf(ctx);
  try {
    ctx.services.reclaimer.reclaim(await ctx.services.store.abortUpload(upload.uploadId));
  } catch (err) {
    throw err instanceof NoSuchUploadError ? new S3Error("NoSuchUpload") : err;
  }
  return { status: 204 };
});

const ListParts = objectOperation(async (ctx) => {
  ctx.diverge("list-parts-local");
  const q = ctx.req.query;
  const upload = await uploadOf(ctx);
  const maxParts = pageLimit(q, "max-parts", MAX_LIST);
  const markerText = q.get("part-number-marker");
  if (markerText !== null && !/^\d+$/.test(markerText.trim())) throw new S3Error("InvalidArgument", "Argument partNumberMarker must be an integer.");
  const marker = markerText === null ? 0 : Number(markerText.trim());
  const { parts, isTruncated } = await ctx.services.store.listParts(upload.uploadId, { after: marker, limit: maxParts });
  const alg = upload.checksumAlgorithm;
  return {
    xml: {
      root: "ListPartsResult",
      namespace: true,
      content: {
        Bucket: ctx.repo.name,
        Key: upload.clientKey,
        UploadId: upload.uploadId,
        PartNumberMarker: marker,
        NextPartNumberMarker: parts.at(-1)?.partNumber ?? marker,
        MaxParts: maxParts,
        IsTruncated: isTruncated,
        Part: parts.map((p) => ({
          PartNumber: p.partNumber,
          LastModified: xmlDate(p.lastModified),
          ETag: `"${p.etag}"`,
          Size: p.blob.size,
          ...(alg && p.checksum ? { [checksumField(alg)]: p.checksum } : {}),
        })),
        Initiator: OWNER,
        Owner: OWNER,
        StorageClass: "STANDARD",
        ...(alg ? { ChecksumAlgorithm: alg, ChecksumType: uploadChecksumType(upload) } : {}),
      },
    },
  };
});

const ListMultipartUploads: Operation = {
  level: "bucket",
  async handle(ctx) {
    const q = ctx.req.query;
    // lakeFS refuses any filter (every blockstore), then the local blockstore refuses the listing
    if (q.get("prefix") || q.get("delimiter") || q.get("encoding-type")) ctx.diverge("list-uploads-filters");
    ctx.diverge("list-uploads-local");
    const repo = ctx.repo!;
    const maxUploads = pageLimit(q, "max-uploads", MAX_LIST);
    const prefix = q.get("prefix") ?? "";
    const delimiter = q.get("delimiter") ?? "";
    const keyMarker = q.get("key-marker") ?? undefined;
    const uploadIdMarker = q.get("upload-id-marker") ?? undefined;
    const encodingType = q.get("encoding-type");
    if (encodingType !== null && encodingType !== "url") throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request");
    const enc = encodingType === "url" ? urlEncodeKey : (s: string) => s;

    // The upload-id marker is only meaningful with its key marker; it names the last upload seen.
    let idMarker: string | undefined;
    if (keyMarker !== undefined && uploadIdMarker !== undefined) {
      const marked = await ctx.services.store.getUpload(uploadIdMarker);
      idMarker = marked ? marked.initiated + marked.uploadId : undefined;
    }
    const uploads: UploadRecord[] = [];
    const prefixes: string[] = [];
    let isTruncated = false;
    let lastPrefix: string | undefined;
    let last: { key: string; uploadId: string } | undefined;
    for await (const u of ctx.services.store.listUploads(repo.name, { prefix, keyMarker, uploadIdMarker: idMarker })) {
      const at = delimiter ? u.clientKey.indexOf(delimiter, prefix.length) : -1;
      const common = at >= 0 ? u.clientKey.slice(0, at + delimiter.length) : undefined;
      if (common !== undefined && (common === lastPrefix || (keyMarker !== undefined && common <= keyMarker))) continue;
      if (uploads.length + prefixes.length >= maxUploads) {
        isTruncated = true;
        break;
      }
      if (common !== undefined) {
        prefixes.push(common);
        lastPrefix = common;
        last = { key: common, uploadId: "" };
      } else {
        uploads.push(u);
        last = { key: u.clientKey, uploadId: u.uploadId };
      }
    }
    return {
      xml: {
        root: "ListMultipartUploadsResult",
        namespace: true,
        content: {
          Bucket: repo.name,
          KeyMarker: enc(keyMarker ?? ""),
          UploadIdMarker: uploadIdMarker ?? "",
          ...(isTruncated && last ? { NextKeyMarker: enc(last.key), NextUploadIdMarker: last.uploadId } : {}),
          ...(prefix ? { Prefix: enc(prefix) } : {}),
          ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
          MaxUploads: maxUploads,
          ...(encodingType ? { EncodingType: "url" } : {}),
          IsTruncated: isTruncated,
          Upload: uploads.map((u) => ({
            Key: enc(u.clientKey),
            UploadId: u.uploadId,
            Initiator: OWNER,
            Owner: OWNER,
            StorageClass: "STANDARD",
            Initiated: xmlDate(u.initiated),
            ...(u.checksumAlgorithm ? { ChecksumAlgorithm: u.checksumAlgorithm, ChecksumType: uploadChecksumType(u) } : {}),
          })),
          CommonPrefixes: prefixes.map((Prefix) => ({ Prefix: enc(Prefix) })),
        },
      },
    };
  },
};

export const multipartOperations = {
  CreateMultipartUpload,
  UploadPart,
  UploadPartCopy,
  CompleteMultipartUpload,
  AbortMultipartUpload,
  ListParts,
  ListMultipartUploads,
};
