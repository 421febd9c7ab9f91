/**
 * The write path every object-writing operation shares (PutObject, CopyObject, UploadPart,
 * CompleteMultipartUpload, fixture loads): stream the bytes through the Digester into a new blob
 * (a file is durable before anything points at it; a small blob's bytes are held for the record's
 * batch), then publish the record in one synced batch under the key's lock, then reclaim the
 * staged record it replaced (committed blobs are never reclaimed). A failed check or write deletes
 * the new blob; a crash in between leaves only an orphan for the startup sweep.
 */
import type { Readable } from "node:stream";
import { Digester, type ChecksumAlgorithm, type ChecksumValue, type IntegrityRequest } from "../protocol/checksums.js";
import { S3Error } from "../protocol/errors.js";
import { pump, release } from "../protocol/streams.js";
import type { BlobRef, ByteRange } from "../storage/blob-store.js";
import type { ObjectRecord } from "../storage/metadata-store.js";
import type { BranchTarget, WriteCondition } from "../versioning/catalog.js";
import type { Services } from "./types.js";

/** S3's single-PUT (and part) size limit. */
export const MAX_OBJECT_SIZE = 5 * 1024 ** 3;

export interface WrittenBlob {
  blob: BlobRef;
  md5Hex: string;
  checksum?: ChecksumValue;
}

/** Stream `source` into a new blob, verifying Content-MD5 / checksums on the way. */
export async function writeBlob(
  services: Services,
  source: Readable,
  integrity: IntegrityRequest = {},
  trailers?: () => Record<string, string>,
  /** The size the body declares (small bodies are stored inline in the metadata store). */
  sizeHint?: number,
): Promise<WrittenBlob> {
  const digester = new Digester(integrity, trailers);
  let blob: BlobRef | undefined;
  try {
    const written = services.blobs.write(digester, { maxSize: MAX_OBJECT_SIZE, sizeHint });
    await Promise.all([pump(source, digester), written.then((b) => (blob = b))]);
  } catch (err) {
    release(source);
    if (blob) services.reclaimer.reclaim([blob]);
    throw streamError(err);
  }
  return { blob: blob!, md5Hex: digester.md5Hex, checksum: digester.checksum };
}

/**
 * An object's bytes (or a range of them) as a stream, its blobs pinned until the stream closes (a
 * blob replaced meanwhile is not reclaimed under the reader). Fails before anything is sent when a
 * blob is missing or has another size than recorded (StorageError).
 */
export async function openPinned(services: Services, record: ObjectRecord, range?: ByteRange): Promise<Readable> {
  const release = services.reclaimer.pin(record.parts);
  try {
    const body = await services.blobs.open(record.parts, range);
    body.once("close", release);
    return body;
  } catch (err) {
    release();
    throw err;
  }
}

/** Copy an object's bytes (or a range of them) into a new blob; the source is pinned meanwhile. */
export async function copyBlob(services: Services, src: ObjectRecord, algorithm?: ChecksumAlgorithm, range?: ByteRange): Promise<WrittenBlob> {
  const size = range ? range.end - range.start + 1 : src.size;
  return writeBlob(services, await openPinned(services, src, range), algorithm ? { checksum: { algorithm } } : {}, undefined, size);
}

/** The record of an object stored as one freshly written blob. */
export function objectRecord(written: WrittenBlob, fields: Pick<ObjectRecord, "contentType" | "headers" | "userMeta" | "metaFrom">): ObjectRecord {
  return {
    size: written.blob.size,
    etag: written.md5Hex,
    lastModified: new Date().toISOString(),
    ...fields,
    checksum: written.checksum && { ...written.checksum, type: "FULL_OBJECT" },
    parts: [written.blob],
  };
}

/** Publish a record pointing at freshly written blobs; on failure the new blobs are reclaimed. */
export async function publishObject(
  services: Services,
  target: BranchTarget,
  path: string,
  record: ObjectRecord,
  condition?: WriteCondition,
): Promise<{ replaced?: ObjectRecord }> {
  let result: { replaced?: ObjectRecord };
  try {
    result = await services.catalog.putObject(target, path, record, condition);
  } catch (err) {
    services.reclaimer.reclaim(record.parts);
    throw err;
  }
  if (result.replaced) services.reclaimer.reclaim(unshared(result.replaced.parts, record.parts));
  return result;
}

function unshared(old: readonly BlobRef[], current: readonly BlobRef[]): BlobRef[] {
  const keep = new Set(current.map((p) => p.blobId));
  return old.filter((p) => !keep.has(p.blobId));
}

/** Errors from a body stream: S3 errors pass through; a client that went away is IncompleteBody. */
export function streamError(err: unknown): unknown {
  if (err instanceof S3Error) return err;
  const code = (err as { code?: string } | null)?.code;
  if (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ECONNABORTED") {
    return new S3Error("IncompleteBody");
  }
  return err;
}
