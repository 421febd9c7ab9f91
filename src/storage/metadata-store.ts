/**
 * All metadata in one LevelDB (through `level`): repositories, branches and object records.
 * Object records are keyed `repo!branch!path` in their own sublevel, so a prefix/delimiter listing
 * is an ordered range scan that seeks past whole common prefixes, never a full-bucket load.
 * Every mutation is one synced batch, so a crash leaves either the old state or the new one.
 * Records point at blobs by id; the blob bytes live in the BlobStore.
 */
import { Level } from "level";
import type { BlobRef } from "./blob-store.js";
import { KeyedMutex } from "./keyed-mutex.js";
import type { ChecksumAlgorithm } from "../protocol/checksums.js";

export interface RepositoryRecord {
  name: string;
  defaultBranch: string;
  createdAt: string; // ISO
  storageNamespace: string;
}

export interface BranchRecord {
  name: string;
  createdAt: string; // ISO
}

/** Standard HTTP headers stored with an object and returned on GET/HEAD. */
export interface StoredHeaders {
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  expires?: string;
}

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  value: string; // base64, "-N" suffixed for COMPOSITE
  type: "FULL_OBJECT" | "COMPOSITE";
}

export interface ObjectRecord {
  size: number;
  /** Hex MD5 for a single PUT; "md5-of-md5s-N" for multipart. Rendered quoted. */
  etag: string;
  lastModified: string; // ISO
  contentType: string;
  headers: StoredHeaders;
  /** User metadata: lower-case names without the x-amz-meta- prefix. */
  userMeta: Record<string, string>;
  checksum?: StoredChecksum;
  /** The bytes, in order: one blob for a PUT, the part blobs for a completed multipart upload. */
  parts: BlobRef[];
}

/** Where objects live. Today a branch; the versioning layer resolves refs to one of these. */
export interface BranchTarget {
  repo: string;
  branch: string;
}

export interface ListOptions {
  prefix: string;
  delimiter?: string;
  /** List strictly after this key. */
  startAfter?: string;
  limit: number;
}

export type ListItem = { key: string; record: ObjectRecord } | { prefix: string };

export interface ListPage {
  items: ListItem[];
  isTruncated: boolean;
  /** The last key or common prefix returned (the next page starts after it). */
  last?: string;
}

/** An upload in progress; metadata and content type are captured at CreateMultipartUpload. */
export interface UploadRecord {
  uploadId: string;
  repo: string;
  /** The ref as addressed (a branch) and the path; a part or Complete must name the same. */
  ref: string;
  path: string;
  /** The key as the client sees it (ListMultipartUploads order). */
  clientKey: string;
  initiated: string; // ISO
  contentType: string;
  headers: StoredHeaders;
  userMeta: Record<string, string>;
  checksumAlgorithm?: ChecksumAlgorithm;
}

export interface PartRecord {
  partNumber: number;
  blob: BlobRef;
  etag: string; // hex md5
  lastModified: string;
  checksum?: string; // base64, in the upload's algorithm
}

export class NoSuchUploadError extends Error {}

export interface PutResult {
  /** The record this write replaced, if any (its blobs are now unreferenced). */
  replaced?: ObjectRecord;
}

/** A write precondition checked atomically with the write (under the key's lock). */
export type WriteCondition = (current: ObjectRecord | undefined) => void;

const SEP = "!"; // repository and branch names cannot contain it

export class StoreLockedError extends Error {
  constructor(readonly dataDir: string) {
    super(`data dir ${dataDir} is in use by another lakes3 process (LevelDB lock held)`);
  }
}

export class MetadataStore {
  private readonly db: Level<string, unknown>;
  private readonly repos;
  private readonly branches;
  private readonly objects;
  private readonly uploads;
  private readonly uploadIndex;
  private readonly parts;
  readonly locks = new KeyedMutex();

  constructor(readonly location: string, private readonly dataDir = location) {
    this.db = new Level<string, unknown>(location, { valueEncoding: "json" });
    this.repos = this.db.sublevel<string, RepositoryRecord>("repos", { valueEncoding: "json" });
    this.branches = this.db.sublevel<string, BranchRecord>("branches", { valueEncoding: "json" });
    this.objects = this.db.sublevel<string, ObjectRecord>("objects", { valueEncoding: "json" });
    this.uploads = this.db.sublevel<string, UploadRecord>("uploads", { valueEncoding: "json" });
    this.uploadIndex = this.db.sublevel<string, string>("upload-index", { valueEncoding: "utf8" });
    this.parts = this.db.sublevel<string, PartRecord>("parts", { valueEncoding: "json" });
  }

  async open(): Promise<void> {
    try {
      await this.db.open();
    } catch (err) {
      if (isLockError(err)) throw new StoreLockedError(this.dataDir);
      throw err;
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }

  // ---- repositories -------------------------------------------------------------------------

  getRepository(name: string): Promise<RepositoryRecord | undefined> {
    return this.repos.get(name);
  }

  async listRepositories(prefix = ""): Promise<RepositoryRecord[]> {
    const out: RepositoryRecord[] = [];
    for await (const value of this.repos.values(rangeFor(prefix))) out.push(value);
    return out;
  }

  /** Create a repository with its default branch; returns false when it already exists. */
  async createRepository(name: string, defaultBranch = "main"): Promise<boolean> {
    return this.locks.run(`repo:${name}`, async () => {
      if (await this.repos.get(name)) return false;
      const now = new Date().toISOString();
      await this.db.batch(
        [
          { type: "put", sublevel: this.repos, key: name, value: { name, defaultBranch, createdAt: now, storageNamespace: `local://${name}` } },
          { type: "put", sublevel: this.branches, key: branchKey(name, defaultBranch), value: { name: defaultBranch, createdAt: now } },
        ],
        { sync: true },
      );
      return true;
    });
  }

  /** Delete a repository, its branches and object records; returns the removed records' blobs. */
  async deleteRepository(name: string): Promise<BlobRef[]> {
    return this.locks.run(`repo:${name}`, async () => {
      const blobs: BlobRef[] = [];
      const keys: string[] = [];
      for await (const [key, rec] of this.objects.iterator(rangeFor(name + SEP))) {
        keys.push(key);
        blobs.push(...rec.parts);
      }
      const branchKeys: string[] = [];
      for await (const key of this.branches.keys(rangeFor(name + SEP))) branchKeys.push(key);
      const uploadOps = [];
      for await (const uploadId of this.uploadIndex.values(rangeFor(name + SEP))) {
        const upload = await this.uploads.get(uploadId);
        if (!upload) continue;
        const parts = await this.partsOf(uploadId);
        blobs.push(...parts.map((p) => p.blob));
        uploadOps.push(...this.dropUploadOps(upload, parts));
      }
      await this.db.batch(
        [
          ...uploadOps,
          { type: "del", sublevel: this.repos, key: name },
          ...branchKeys.map((key) => ({ type: "del" as const, sublevel: this.branches, key })),
          ...keys.map((key) => ({ type: "del" as const, sublevel: this.objects, key })),
        ],
        { sync: true },
      );
      return blobs;
    });
  }

  // ---- branches -----------------------------------------------------------------------------

  getBranch(repo: string, branch: string): Promise<BranchRecord | undefined> {
    return this.branches.get(branchKey(repo, branch));
  }

  async listBranches(repo: string, options: { prefix?: string; after?: string; limit: number }): Promise<{ branches: BranchRecord[]; isTruncated: boolean }> {
    const base = repo + SEP;
    const range = rangeFor(base + (options.prefix ?? ""));
    const gt = options.after !== undefined && base + options.after >= range.gte ? { gt: base + options.after } : { gte: range.gte };
    const branches: BranchRecord[] = [];
    for await (const value of this.branches.values({ ...gt, lt: range.lt, limit: options.limit + 1 })) branches.push(value);
    const isTruncated = branches.length > options.limit;
    return { branches: branches.slice(0, options.limit), isTruncated };
  }

  async createBranch(repo: string, branch: string): Promise<boolean> {
    return this.locks.run(`branch:${repo}${SEP}${branch}`, async () => {
      if (await this.getBranch(repo, branch)) return false;
      const record = { name: branch, createdAt: new Date().toISOString() };
      await this.db.batch([{ type: "put", sublevel: this.branches, key: branchKey(repo, branch), value: record }], { sync: true });
      return true;
    });
  }

  // ---- objects ------------------------------------------------------------------------------

  getObject(target: BranchTarget, path: string): Promise<ObjectRecord | undefined> {
    return this.objects.get(objectKey(target, path));
  }

  /** Does the branch hold any object? (s3 mode's BucketNotEmpty check) */
  async hasObjects(target: BranchTarget): Promise<boolean> {
    for await (const _ of this.objects.keys({ ...rangeFor(objectKey(target, "")), limit: 1 })) return true;
    return false;
  }

  /**
   * Publish an object record: one synced batch, serialised per key so that a condition checked
   * here (If-None-Match, If-Match) holds at the moment of the write, and the replaced record is
   * exactly the one this write displaced.
   */
  putObject(target: BranchTarget, path: string, record: ObjectRecord, condition?: WriteCondition): Promise<PutResult> {
    const key = objectKey(target, path);
    return this.locks.run(key, async () => {
      const current = await this.objects.get(key);
      condition?.(current);
      await this.db.batch([{ type: "put", sublevel: this.objects, key, value: record }], { sync: true });
      return { replaced: current };
    });
  }

  /** Delete object records; returns those that existed (their blobs are now unreferenced). */
  deleteObjects(target: BranchTarget, paths: readonly string[]): Promise<ObjectRecord[]> {
    const keys = [...new Set(paths.map((p) => objectKey(target, p)))];
    return this.locks.runAll(keys, async () => {
      const current = await this.objects.getMany(keys);
      const removed = current.filter((r): r is ObjectRecord => r !== undefined);
      if (removed.length > 0) {
        await this.db.batch(
          keys.filter((_, i) => current[i] !== undefined).map((key) => ({ type: "del" as const, sublevel: this.objects, key })),
          { sync: true },
        );
      }
      return removed;
    });
  }

  /**
   * One page of a listing: keys under `prefix`, grouped into common prefixes at `delimiter`,
   * strictly after `startAfter`. Walks the range in key order and seeks past each common prefix.
   */
  async listObjects(target: BranchTarget, options: ListOptions): Promise<ListPage> {
    const base = objectKey(target, "");
    const { prefix, delimiter, limit } = options;
    const range = rangeFor(base + prefix);
    let start = range.gte;
    let exclusive = false;
    if (options.startAfter !== undefined && base + options.startAfter >= start) {
      start = base + options.startAfter;
      exclusive = true;
      // A start-after that is itself a common prefix skips everything under it.
      if (delimiter && options.startAfter.startsWith(prefix) && options.startAfter.endsWith(delimiter)) {
        const rest = options.startAfter.slice(prefix.length);
        if (rest.indexOf(delimiter) === rest.length - delimiter.length) {
          start = base + skipPast(options.startAfter);
          exclusive = false;
        }
      }
    }
    const items: ListItem[] = [];
    const iterator = this.objects.iterator({ [exclusive ? "gt" : "gte"]: start, lt: range.lt });
    let isTruncated = false;
    try {
      for (;;) {
        const entry = await iterator.next();
        if (entry === undefined) break;
        const [fullKey, record] = entry;
        if (!fullKey.startsWith(base)) break;
        const key = fullKey.slice(base.length);
        if (items.length >= limit) {
          isTruncated = true;
          break;
        }
        const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
        if (at >= 0) {
          const common = key.slice(0, at + delimiter!.length);
          items.push({ prefix: common });
          iterator.seek(base + skipPast(common));
        } else {
          items.push({ key, record });
        }
      }
    } finally {
      await iterator.close();
    }
    const lastItem = items.at(-1);
    const last = lastItem === undefined ? undefined : "key" in lastItem ? lastItem.key : lastItem.prefix;
    return { items, isTruncated, last };
  }

  // ---- multipart uploads --------------------------------------------------------------------

  async createUpload(upload: UploadRecord): Promise<void> {
    await this.db
      .batch()
      .put(upload.uploadId, upload, { sublevel: this.uploads })
      .put(uploadIndexKey(upload), upload.uploadId, { sublevel: this.uploadIndex })
      .write({ sync: true });
  }

  getUpload(uploadId: string): Promise<UploadRecord | undefined> {
    return this.uploads.get(uploadId);
  }

  /** Record a part (replacing one with the same number); returns the replaced part. */
  putPart(uploadId: string, part: PartRecord): Promise<PartRecord | undefined> {
    return this.locks.run(`upload:${uploadId}`, async () => {
      if (!(await this.uploads.get(uploadId))) throw new NoSuchUploadError(uploadId);
      const key = partKey(uploadId, part.partNumber);
      const replaced = await this.parts.get(key);
      await this.db.batch([{ type: "put", sublevel: this.parts, key, value: part }], { sync: true });
      return replaced;
    });
  }

  /** Parts in part-number order, strictly after `after`, at most `limit`. */
  async listParts(uploadId: string, options: { after?: number; limit?: number } = {}): Promise<{ parts: PartRecord[]; isTruncated: boolean }> {
    const range = rangeFor(uploadId + SEP);
    const gt = options.after !== undefined ? { gt: partKey(uploadId, options.after) } : { gte: range.gte };
    const limit = options.limit ?? Infinity;
    const parts: PartRecord[] = [];
    for await (const part of this.parts.values({ ...gt, lt: range.lt, limit: Number.isFinite(limit) ? limit + 1 : -1 })) parts.push(part);
    const isTruncated = parts.length > limit;
    return { parts: isTruncated ? parts.slice(0, limit) : parts, isTruncated };
  }

  private async partsOf(uploadId: string): Promise<PartRecord[]> {
    return (await this.listParts(uploadId)).parts;
  }

  private dropUploadOps(upload: UploadRecord, parts: readonly PartRecord[]) {
    return [
      { type: "del" as const, sublevel: this.uploads, key: upload.uploadId },
      { type: "del" as const, sublevel: this.uploadIndex, key: uploadIndexKey(upload) },
      ...parts.map((p) => ({ type: "del" as const, sublevel: this.parts, key: partKey(upload.uploadId, p.partNumber) })),
    ];
  }

  /**
   * Complete an upload atomically: `build` validates the stored parts and returns the object
   * record; then, in ONE synced batch, the object is published and the upload and all its part
   * records are dropped. Returns the replaced object and the parts the object does not use.
   */
  completeUpload(
    upload: UploadRecord,
    target: BranchTarget,
    build: (parts: PartRecord[]) => ObjectRecord,
    condition?: WriteCondition,
  ): Promise<{ record: ObjectRecord; replaced?: ObjectRecord; unused: BlobRef[] }> {
    return this.locks.run(`upload:${upload.uploadId}`, async () => {
      if (!(await this.uploads.get(upload.uploadId))) throw new NoSuchUploadError(upload.uploadId);
      const parts = await this.partsOf(upload.uploadId);
      const record = build(parts);
      const used = new Set(record.parts.map((p) => p.blobId));
      const key = objectKey(target, upload.path);
      return this.locks.run(key, async () => {
        const current = await this.objects.get(key);
        condition?.(current);
        await this.db.batch(
          [{ type: "put", sublevel: this.objects, key, value: record }, ...this.dropUploadOps(upload, parts)],
          { sync: true },
        );
        return { record, replaced: current, unused: parts.map((p) => p.blob).filter((b) => !used.has(b.blobId)) };
      });
    });
  }

  /** Abort an upload: drop it and its parts; returns the part blobs. */
  abortUpload(uploadId: string): Promise<BlobRef[]> {
    return this.locks.run(`upload:${uploadId}`, async () => {
      const upload = await this.uploads.get(uploadId);
      if (!upload) throw new NoSuchUploadError(uploadId);
      const parts = await this.partsOf(uploadId);
      await this.db.batch(this.dropUploadOps(upload, parts), { sync: true });
      return parts.map((p) => p.blob);
    });
  }

  /** Uploads of a repository in (client key, initiation) order, starting after a marker. */
  async *listUploads(repo: string, options: { prefix: string; keyMarker?: string; uploadIdMarker?: string }): AsyncGenerator<UploadRecord> {
    const base = repo + SEP;
    const range = rangeFor(base + options.prefix);
    for await (const uploadId of this.uploadIndex.values(range)) {
      const upload = await this.uploads.get(uploadId);
      if (!upload) continue;
      if (options.keyMarker !== undefined) {
        if (upload.clientKey < options.keyMarker) continue;
        if (upload.clientKey === options.keyMarker) {
          if (options.uploadIdMarker === undefined || upload.initiated + upload.uploadId <= options.uploadIdMarker) continue;
        }
      }
      yield upload;
    }
  }

  async countUploads(): Promise<number> {
    let n = 0;
    for await (const _ of this.uploads.keys()) n++;
    return n;
  }

  /** Every blob id some record references (for the startup sweep and inspect). */
  async liveBlobIds(): Promise<Set<string>> {
    const live = new Set<string>();
    for await (const record of this.objects.values()) for (const part of record.parts) live.add(part.blobId);
    for await (const part of this.parts.values()) live.add(part.blob.blobId);
    return live;
  }

  async countObjects(): Promise<{ objects: number; bytes: number }> {
    let objects = 0;
    let bytes = 0;
    for await (const record of this.objects.values()) {
      objects++;
      bytes += record.size;
    }
    return { objects, bytes };
  }

  /** Delete every record (programmatic reset). */
  async clear(): Promise<void> {
    await this.db.clear();
  }
}

/** Uploads sort by client key, then initiation time (S3's ListMultipartUploads order). */
function uploadIndexKey(u: UploadRecord): string {
  return u.repo + SEP + u.clientKey + "\u0000" + u.initiated + u.uploadId;
}

function partKey(uploadId: string, partNumber: number): string {
  return uploadId + SEP + String(partNumber).padStart(5, "0");
}

function branchKey(repo: string, branch: string): string {
  return repo + SEP + branch;
}

function objectKey(target: BranchTarget, path: string): string {
  return target.repo + SEP + target.branch + SEP + path;
}

/** The range of keys starting with `prefix`. */
function rangeFor(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: prefix + "\u{10FFFF}" };
}

/** The smallest string greater than every string that starts with `prefix`. */
function skipPast(prefix: string): string {
  const chars = [...prefix];
  const last = chars.pop()!.codePointAt(0)!;
  return chars.join("") + String.fromCodePoint(Math.min(last + 1, 0x10ffff));
}

function isLockError(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === "LEVEL_LOCKED") return true;
  }
  return false;
}
