/**
 * All metadata in one LevelDB (through `level`), as typed sublevels:
 *
 *   repos      repo                   → RepositoryRecord
 *   branches   repo!branch            → BranchRecord (head commit + staging token)
 *   tags       repo!tag               → TagRecord
 *   commits    repo!commitId          → CommitRecord
 *   staging    repo!token!path        → StagedEntry (an object record, or a tombstone)
 *   ranges     repo!rangeId           → RangeData  } committed ranges and trees as older versions
 *   trees      repo!treeId            → RangeRef[] } kept them; new ones are files beside LevelDB,
 *                                                    in metadata/ranges/ (range-files.ts)
 *   uploads    uploadId               → UploadRecord;  upload-index repo!clientKey\0… → uploadId
 *   parts      uploadId!00001         → PartRecord
 *   completed-uploads  uploadId       → CompletedUpload (for a retried Complete; kept a day)
 *   sealed-staging  repo!token        → ISO time: a staging range a commit retired, to be dropped
 *   inline-blobs  blobId              → bytes of a small blob (ids "s…")
 *
 * This layer knows records and atomic batches; what they mean (refs, staging over commits,
 * merges) lives in src/versioning. Every mutation is one synced batch, so a crash leaves either
 * the old state or the new one.
 */
import path from "node:path";
import { Level } from "level";
import type { AbstractBatchOperation, AbstractSublevel } from "abstract-level";
import type { BlobRef, InlineBlobs } from "./blob-store.js";
import type { ChecksumAlgorithm } from "./checksum-algorithms.js";
import { StorageError } from "./errors.js";
import { droppedByLevelDb, recordDamage, type Damage } from "./recovery.js";
import { KeyedMutex, KeyedRwLock } from "./keyed-mutex.js";
import { rangeFor } from "./keys.js";
import { StagedIndex, type StagedRange, type StagedScan } from "./staged-index.js";
import { rangeEncoding, type RangeData } from "./range-data.js";
import { RangeFiles } from "./range-files.js";
import { RecentWrites } from "./recent-writes.js";
import { stagedEncoding } from "./stored-record.js";
import { WriteGuard, type StoreHealth } from "./write-guard.js";

export interface RepositoryRecord {
  name: string;
  defaultBranch: string;
  createdAt: string; // ISO
  storageNamespace: string;
}

export interface BranchRecord {
  name: string;
  createdAt: string; // ISO
  /** The commit the branch points at. */
  head: string;
  /** Uncommitted changes live under this token; a commit or reset starts a new one. */
  stagingToken: string;
}

export interface TagRecord {
  id: string;
  commitId: string;
  createdAt: string;
}

export interface CommitRecord {
  id: string;
  parents: string[];
  message: string;
  committer: string;
  metadata: Record<string, string>;
  createdAt: string; // ISO
  /** The committed tree ("" = empty). */
  tree: string;
  generation: number;
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
  /** Set when the user metadata was written through the REST API (lakeFS keeps it apart from S3's). */
  metaFrom?: "api";
  checksum?: StoredChecksum;
  /** The bytes, in order: one blob for a PUT, the part blobs for a completed multipart upload. */
  parts: BlobRef[];
}

/** A staged change: a new object record, or the deletion of a committed one. */
export type StagedEntry = ObjectRecord | { tombstone: true };

export const isTombstone = (e: StagedEntry): e is { tombstone: true } => "tombstone" in e;

export type RangeEntry = [path: string, record: ObjectRecord];

export interface RangeRef {
  id: string;
  first: string;
  last: string;
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
  /** With an algorithm: how the object's checksum is made (absent in older records: COMPOSITE). */
  checksumType?: StoredChecksum["type"];
}

export interface PartRecord {
  partNumber: number;
  blob: BlobRef;
  etag: string; // hex md5
  lastModified: string;
  checksum?: string; // base64, in the upload's algorithm
}

/**
 * What a completed upload answered, so that a retried CompleteMultipartUpload (a client that lost
 * the first response) gets the same 200 instead of NoSuchUpload, as on S3.
 */
export interface CompletedUpload {
  repo: string;
  ref: string;
  path: string;
  /** The part list the client completed with: "1:etag,2:etag…". */
  partList: string;
  etag: string;
  checksum?: StoredChecksum;
  completedAt: string; // ISO
}

export const SEP = "!"; // repository and branch names cannot contain it

/**
 * Bytes of staged entries kept in memory (see MetadataStore.stagedWrites; an estimate): some 3,000
 * records of small objects, which cost the benchmark's server ~7 MB of peak RSS (at 4 MB, ~10).
 */
const STAGED_WRITES_BYTES = 2 << 20;
/** Staged entries getStagedMany reads one by one on the event loop before it asks for them together. */
const SPOT_READS = 8;

/** Bytes of staging ranges held for listings (an estimate; see StagedIndex): some 45,000 small objects' records. */
const STAGED_INDEX_BYTES = 32 << 20;

export class StoreLockedError extends Error {
  constructor(readonly dataDir: string) {
    super(`data dir ${dataDir} is in use by another lakes3 process (LevelDB lock held)`);
  }
}

/** LevelDB would not open: one line naming the store, LevelDB's own cause, and what to do. */
export class StoreOpenError extends Error {
  constructor(location: string, err: unknown) {
    let cause = err as { message?: string; cause?: unknown };
    while (cause.cause && typeof cause.cause === "object") cause = cause.cause as typeof cause;
    const text = cause.message ?? String(err);
    const hint = /read-only file system/i.test(text)
      ? ": the data dir is on a read-only file system and lakes3 must write it (pass another --data-dir)"
      : /permission denied|operation not permitted/i.test(text)
        ? ": give the user running lakes3 write access to the data dir, or pass another --data-dir"
        : /corruption/i.test(text)
          ? ": LevelDB cannot read it (keep a copy of the data dir before trying anything else)"
          : "";
    super(`cannot open the metadata store in ${location}: ${text}${hint}`, { cause: err });
  }
}

export class MetadataStore {
  readonly db: Level<string, unknown>;
  readonly repos;
  readonly branches;
  readonly tags;
  readonly commits;
  /**
   * Write it only through batch(), and read single entries with getStaged(): a batch tells the
   * entries it writes to the ones kept in memory (stagedWrites).
   */
  readonly staging;
  /**
   * Staged entries written lately. HEAD and GET of an uncommitted object read one each, and the
   * LevelDB get through its sublevel with the JSON parse cost ~10 µs of a HEAD's ~100 µs of CPU.
   */
  private readonly stagedWrites = new RecentWrites<StagedEntry>(STAGED_WRITES_BYTES);
  /** Staging ranges held in memory for listings (see stagedRange). */
  private readonly stagedIndex: StagedIndex;
  /** Committed ranges and trees written by older versions (new ones are in `rangeFiles`). */
  readonly ranges;
  readonly trees;
  /** Committed ranges and trees, as files in <location>/ranges. */
  readonly rangeFiles: RangeFiles;
  readonly uploads;
  readonly uploadIndex;
  readonly parts;
  readonly completedUploads;
  readonly sealedStaging;
  /** Small blobs' bytes (see InlineBlobs in blob-store.ts). */
  readonly inlineBlobs: InlineBlobs;
  private readonly inline: Sublevel;
  /**
   * Small blobs written and not yet stored: their bytes go into the batch that stores the record
   * pointing at them (Batch.carry), so the bytes and the record are written atomically, with one
   * synced write instead of two (a synced put of the bytes, then the record's batch).
   */
  private readonly heldInline = new Map<string, Buffer>();
  /** Per-key serialisation of conditional writes (object keys, uploads). */
  readonly locks = new KeyedMutex();
  /** Per-branch: S3 writes share it, commits/merges/resets take it exclusively. */
  readonly branchLocks = new KeyedRwLock();
  /** Refuses writes after a failed one until the store has reopened cleanly (write-guard.ts). */
  private readonly guard: WriteGuard;
  private readonly sublevels: { open(): Promise<void> }[];
  /** What LevelDB dropped when this process opened the store, if anything. */
  damage: Damage | undefined;

  constructor(
    readonly location: string,
    private readonly dataDir = location,
    /** Bytes of staging ranges held for listings (0: listings read every range from LevelDB). */
    stagedIndexBytes = STAGED_INDEX_BYTES,
  ) {
    this.stagedIndex = new StagedIndex(stagedIndexBytes, (base) => this.scanStaged(base));
    // 64 KiB blocks, not LevelDB's 4 KiB: every table keeps its block index in memory, one key per
    // block, and with S3's long keys (up to 1 KiB) 4 KiB blocks made that index a third of the data.
    this.db = new Level<string, unknown>(location, { valueEncoding: "json", blockSize: 64 << 10 });
    this.guard = new WriteGuard(this.db as never, location, dataDir, () => this.reopenSublevels());
    readOnTheSpot(this.db);
    const json = { valueEncoding: "json" } as const;
    this.repos = this.db.sublevel<string, RepositoryRecord>("repos", json);
    this.branches = this.db.sublevel<string, BranchRecord>("branches", json);
    this.tags = this.db.sublevel<string, TagRecord>("tags", json);
    this.commits = this.db.sublevel<string, CommitRecord>("commits", json);
    this.staging = this.db.sublevel<string, StagedEntry>("staging", { valueEncoding: stagedEncoding });
    this.ranges = this.db.sublevel<string, RangeData>("ranges", { valueEncoding: rangeEncoding });
    this.rangeFiles = new RangeFiles(path.join(location, "ranges"));
    this.trees = this.db.sublevel<string, RangeRef[]>("trees", json);
    this.uploads = this.db.sublevel<string, UploadRecord>("uploads", json);
    this.uploadIndex = this.db.sublevel<string, string>("upload-index", { valueEncoding: "utf8" });
    this.parts = this.db.sublevel<string, PartRecord>("parts", json);
    this.completedUploads = this.db.sublevel<string, CompletedUpload>("completed-uploads", json);
    this.sealedStaging = this.db.sublevel<string, string>("sealed-staging", { valueEncoding: "utf8" });
    const inline = this.db.sublevel<string, Buffer>("inline-blobs", { valueEncoding: "buffer" });
    this.inline = inline;
    this.sublevels = [this.repos, this.branches, this.tags, this.commits, this.staging, this.ranges, this.trees, this.uploads, this.uploadIndex, this.parts, this.completedUploads, this.sealedStaging, inline];
    const held = this.heldInline;
    this.inlineBlobs = {
      get: async (blobId) => held.get(blobId) ?? inline.get(blobId),
      // Held until the batch of the record that points at them carries them (Batch.carry).
      put: async (blobId, bytes) => void held.set(blobId, bytes),
      delete: async (blobIds) => {
        if (blobIds.length === 0) return;
        for (const id of blobIds) held.delete(id);
        await inline.batch(blobIds.map((key) => ({ type: "del" as const, key })));
      },
      entries: async function* () {
        for await (const [blobId, bytes] of inline.iterator()) yield { blobId, size: bytes.length };
      },
    };
  }

  async open(): Promise<void> {
    try {
      await this.db.open();
    } catch (err) {
      if (isLockError(err)) throw new StoreLockedError(this.dataDir);
      throw new StoreOpenError(this.location, err);
    }
    await this.guard.opened();
    await this.rangeFiles.open();
    // LevelDB repairs a damaged log silently and says so only in its LOG: keep that on record
    // (damage.json) so that no later start or sweep takes the repaired store for a healthy one.
    const dropped = await droppedByLevelDb(this.location);
    if (dropped) this.damage = await recordDamage(this.dataDir, dropped);
  }

  close(): Promise<void> {
    this.guard.stop();
    this.rangeFiles.close();
    return this.db.close();
  }

  /** Whether the store takes writes; checks that the data dir is still there and writable. */
  health(): Promise<StoreHealth> {
    return this.guard.check();
  }

  /** A store failure as the StorageError it stands for (disk full, unavailable, …); others unchanged. */
  explain(err: unknown): unknown {
    return err instanceof StorageError ? err : this.guard.explain(err);
  }

  private async reopenSublevels(): Promise<void> {
    this.stagedWrites.clear();
    this.stagedIndex.clear();
    await Promise.all(this.sublevels.map((s) => s.open()));
  }

  /** An atomic batch of writes; `write()` it with `{ sync: true }`. */
  batch(): Batch {
    return new Batch(this.db, (ops, written) => this.writingStaged(ops, written), { held: this.heldInline, sublevel: this.inline });
  }

  /**
   * Every entry staged under `base` (a branch state's `repo!token!`), held in memory in key order
   * and kept up to date (staged-index.ts); undefined when the range is too large to hold, and a
   * listing reads it from the store.
   */
  stagedRange(base: string): Promise<StagedRange | undefined> {
    return this.stagedIndex.range(base);
  }

  /**
   * Have LevelDB rewrite the tables that hold the staged entries of `range`, after they were deleted:
   * until a compaction reaches them, deleted entries stay in its tables, which it maps into memory
   * and steps over. LevelDB compacts by the size of what is added, so a store that took a million
   * staged entries, committed them and is read from then on kept them for good (at a million
   * objects, 7 MB of tables, all of it in the server's RSS from its start).
   */
  async compactStaging(range: { gte: string; lt: string }): Promise<void> {
    // In Node, `level` is classic-level, which has compactRange (its types are the browser's too).
    const db = this.db as unknown as { compactRange(start: string, end: string): Promise<void> };
    await db.compactRange(this.staging.prefix + range.gte, this.staging.prefix + range.lt);
  }

  /**
   * An iterator over the staged entries under `base`: whole keys, values as stored text (parsed when
   * read whole, see StoredRecord), read up to 1 MB at a time. LevelDB's iterator stops a batch at
   * 16 KB by default, some 60 records, so a page of a thousand took 17 round trips to its thread
   * pool instead of 2.
   */
  scanStaged(base: string): StagedScan {
    const options = { ...rangeFor(base), valueEncoding: "utf8" as const, highWaterMarkBytes: 1 << 20 };
    return this.staging.iterator<string, string>(options);
  }

  /** A staged entry: one written lately from memory (stagedWrites), else from the store. */
  getStaged(key: string): Promise<StagedEntry | undefined> {
    const kept = this.stagedWrites.get(key);
    return kept ? Promise.resolve(kept) : this.staging.get(key);
  }

  /**
   * Staged entries by key, in order: those written lately from memory, the others read on the spot
   * when there are at most SPOT_READS of them, else in one getMany. A getMany is a job on libuv's
   * thread pool (25–50 µs of CPU in hand-offs, more than a small PUT's read of the entry it
   * replaces), and a synchronous get a few µs on the event loop: a DeleteObjects of 1,000 keys
   * would hold the loop for milliseconds.
   */
  async getStagedMany(keys: readonly string[]): Promise<(StagedEntry | undefined)[]> {
    const out = keys.map((key) => this.stagedWrites.get(key));
    const unread = keys.filter((_, i) => out[i] === undefined);
    if (unread.length === 0) return out;
    const read = await (unread.length <= SPOT_READS ? Promise.all(unread.map((key) => this.staging.get(key))) : this.staging.getMany(unread));
    let next = 0;
    return out.map((entry) => entry ?? read[next++]);
  }

  /**
   * A batch is about to write `ops` (`written` undefined), or has (true: they are in the store;
   * false: the write failed). Before, each staged put is encoded here, once, into the text the
   * sublevel stores (written as it is); after, the entry kept is that text parsed, as a read
   * returns it, so that a record never differs from the one stored.
   */
  private writingStaged(ops: BatchOperation[], written?: boolean): void {
    for (const op of ops) {
      if (op.sublevel !== this.staging) continue;
      if (written === undefined) {
        if (op.type === "put") Object.assign(op, { value: stagedEncoding.encode(op.value as StagedEntry), valueEncoding: "utf8" });
        this.stagedWrites.begin(op.key);
      } else {
        const text = written && op.type === "put" ? (op.value as string) : undefined;
        const known = this.stagedWrites.end(op.key, text === undefined ? undefined : { value: stagedEncoding.decode(text), bytes: 64 + 2 * text.length });
        if (written && known) this.stagedIndex.written(op.key, text);
        else this.stagedIndex.unsure(op.key);
      }
    }
  }

  /** Delete every record (programmatic reset). */
  async clear(): Promise<void> {
    this.stagedWrites.clear();
    this.stagedIndex.clear();
    try {
      await this.db.clear();
      await this.rangeFiles.clear();
    } finally {
      this.stagedWrites.clear();
      this.stagedIndex.clear();
    }
  }

  // ---- multipart uploads (not versioned: they become objects at Complete) -------------------

  async createUpload(upload: UploadRecord): Promise<void> {
    await this.batch()
      .put(upload.uploadId, upload, { sublevel: this.uploads })
      .put(uploadIndexKey(upload), upload.uploadId, { sublevel: this.uploadIndex })
      .write({ sync: true });
  }

  async hasUploads(): Promise<boolean> {
    for await (const _ of this.uploads.keys({ limit: 1 })) return true;
    return false;
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
      await this.batch().carry([part.blob]).put(key, part, { sublevel: this.parts }).write({ sync: true });
      return replaced;
    });
  }

  /** Parts in part-number order, strictly after `after`, at most `limit`. */
  async listParts(uploadId: string, options: { after?: number; limit?: number } = {}): Promise<{ parts: PartRecord[]; isTruncated: boolean }> {
    const range = rangeFor(uploadId + SEP);
    const start = options.after !== undefined ? { gt: partKey(uploadId, options.after) } : { gte: range.gte };
    const limit = options.limit ?? Infinity;
    const parts: PartRecord[] = [];
    for await (const part of this.parts.values({ ...start, lt: range.lt, limit: Number.isFinite(limit) ? limit + 1 : -1 })) parts.push(part);
    const isTruncated = parts.length > limit;
    return { parts: isTruncated ? parts.slice(0, limit) : parts, isTruncated };
  }

  /** Batch operations that drop an upload with its parts. */
  dropUpload(batch: Batch, upload: UploadRecord, parts: readonly PartRecord[]): void {
    batch.del(upload.uploadId, { sublevel: this.uploads });
    batch.del(uploadIndexKey(upload), { sublevel: this.uploadIndex });
    for (const p of parts) batch.del(partKey(upload.uploadId, p.partNumber), { sublevel: this.parts });
  }

  /** Completion markers older than `maxAgeMs` are dropped (at startup). */
  async pruneCompletedUploads(maxAgeMs: number, now = Date.now()): Promise<void> {
    const batch = this.batch();
    for await (const [id, done] of this.completedUploads.iterator()) {
      if (now - Date.parse(done.completedAt) > maxAgeMs) batch.del(id, { sublevel: this.completedUploads });
    }
    await batch.write({ sync: true });
  }

  /** Abort an upload: drop it and its parts; returns the part blobs. */
  abortUpload(uploadId: string): Promise<BlobRef[]> {
    return this.locks.run(`upload:${uploadId}`, async () => {
      const upload = await this.uploads.get(uploadId);
      if (!upload) throw new NoSuchUploadError(uploadId);
      const { parts } = await this.listParts(uploadId);
      const batch = this.batch();
      this.dropUpload(batch, upload, parts);
      await batch.write({ sync: true });
      return parts.map((p) => p.blob);
    });
  }

  /** Uploads of a repository in (client key, initiation) order, starting after a marker. */
  async *listUploads(repo: string, options: { prefix: string; keyMarker?: string; uploadIdMarker?: string }): AsyncGenerator<UploadRecord> {
    for await (const uploadId of this.uploadIndex.values(rangeFor(repo + SEP + options.prefix))) {
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
}

type Sublevel = AbstractSublevel<Level<string, unknown>, string | Buffer | Uint8Array, string, any>;
type BatchOperation = AbstractBatchOperation<Level<string, unknown>, string, unknown>;

/**
 * An atomic batch of the metadata store: operations are collected here and written in one call.
 * Not LevelDB's chained batch, whose native copy of every key and value lives until the garbage
 * collector happens to finalize it (tens of MB after a commit's batches); LevelDB frees an array
 * batch's copy as soon as the write is done.
 */
export class Batch {
  private ops: BatchOperation[] = [];
  /** The held inline blobs this batch stores. */
  private carried: { blobId: string; bytes: Buffer }[] = [];

  constructor(
    private readonly db: Level<string, unknown>,
    /**
     * Told of the operations before they are written (`written` undefined; it may encode their
     * values then) and after (whether they were).
     */
    private readonly writing: (ops: BatchOperation[], written?: boolean) => void,
    private readonly inline: { held: Map<string, Buffer>; sublevel: Sublevel },
  ) {}

  /**
   * Store the bytes of the blobs a record of this batch points at, those of them still held (small
   * blobs just written): every batch that stores a record pointing at new blobs carries them.
   */
  carry(blobs: readonly BlobRef[]): this {
    for (const { blobId } of blobs) {
      const bytes = this.inline.held.get(blobId);
      if (bytes === undefined) continue;
      this.carried.push({ blobId, bytes });
      this.put(blobId, bytes, { sublevel: this.inline.sublevel });
    }
    return this;
  }

  put(key: string, value: unknown, options: { sublevel?: Sublevel } = {}): this {
    this.ops.push({ type: "put", key, value, ...options } as BatchOperation);
    return this;
  }

  del(key: string, options: { sublevel?: Sublevel } = {}): this {
    this.ops.push({ type: "del", key, ...options } as BatchOperation);
    return this;
  }

  /** Write the operations atomically (and forget them). */
  async write(options: { sync?: boolean } = {}): Promise<void> {
    const { ops, carried } = this;
    this.ops = [];
    this.carried = [];
    if (ops.length === 0) return;
    this.writing(ops);
    try {
      await this.db.batch(ops, options);
    } catch (err) {
      this.writing(ops, false);
      throw err;
    }
    for (const { blobId, bytes } of carried) if (this.inline.held.get(blobId) === bytes) this.inline.held.delete(blobId);
    this.writing(ops, true);
  }
}

export class NoSuchUploadError extends Error {}

/** Uploads sort by client key, then initiation time (S3's ListMultipartUploads order). */
function uploadIndexKey(u: UploadRecord): string {
  return u.repo + SEP + u.clientKey + "\u0000" + u.initiated + u.uploadId;
}

function partKey(uploadId: string, partNumber: number): string {
  return uploadId + SEP + String(partNumber).padStart(5, "0");
}

/**
 * Point reads answer on the spot. LevelDB finds a key in its memtable, block cache or the page
 * cache in a few microseconds, and the asynchronous get's round trip through the thread pool cost
 * far more than the read: profiled under HEAD load, ~80 µs of CPU per get, a quarter of the
 * server's time (a synchronous get: ~2 µs). abstract-level calls `_get` only once the store is
 * open (a get during a reopen waits for it), so every sublevel's get() stays a promise and keeps
 * its semantics; a read that has to go to disk blocks the event loop for that read.
 */
function readOnTheSpot(db: Level<string, unknown>): void {
  const internals = db as unknown as { _get: (key: unknown, options: unknown) => Promise<unknown>; _getSync: (key: unknown, options: unknown) => unknown };
  internals._get = async (key, options) => internals._getSync(key, options);
}

function isLockError(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === "LEVEL_LOCKED") return true;
  }
  return false;
}
