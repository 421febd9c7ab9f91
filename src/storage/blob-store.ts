/**
 * Object bytes as files named by server-generated ids (never by keys, so path traversal is
 * impossible by construction). Writes follow the crash-safe pattern of S3-COMPAT §4.4: temp file in
 * <root>/tmp → write → fsync → rename to <root>/blobs/<id[0..2]>/<id> → fsync the directory.
 * Reads stream one or several blobs as one byte sequence, optionally ranged, opening files lazily,
 * into read buffers the consumer hands back once sent (`Recycling`).
 *
 * Small blobs (a size hint of at most INLINE_MAX bytes) skip the file system: their bytes go into
 * the metadata LevelDB (`InlineBlobs`), under ids starting with "s", in the same synced batch as the
 * record that points at them, so a crash leaves both or neither — never a record without its bytes.
 * Tiny blobs (at most IMMEDIATE_MAX bytes) are their own ids, so the record holds their bytes.
 */

import { mkdir, open, opendir, rename, rm, stat, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fsyncDir, writeAll } from "./durable-file.js";
import { classifyFsError, StorageError } from "./errors.js";
import { randomString } from "./random.js";

export interface BlobRef {
  blobId: string;
  size: number;
}

/** Inclusive byte range over the concatenation of the blobs, already validated. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  /**
   * Stream source into a new blob: tmp file in <root>/tmp → write → fsync → rename to
   * <root>/blobs/<id[0..2]>/<id> → fsync that dir. On any error (source error, disk error,
   * maxSize exceeded → StorageError "too-large"; a disk failure → a StorageError naming it) the temp file is removed and the error rethrown
   * unchanged. Resolves once durable.
   */
  write(source: Readable, options?: WriteOptions): Promise<BlobRef>;
  /**
   * Stream bytes of one or several blobs concatenated (a multipart object is a list of part blobs),
   * optionally a range over the concatenation. Every blob the read needs is checked first: a
   * missing one is a StorageError "blob-missing", one whose size is not the recorded size
   * "blob-damaged", so a caller can answer an error before it sends anything (never a short body).
   * Files are then opened lazily one at a time; one removed after the check fails the stream.
   */
  open(parts: readonly BlobRef[], range?: ByteRange): Promise<Readable>;
  /**
   * The bytes of an object (or a range of it) whose parts are all small blobs kept in the metadata
   * store, checked as `open` checks them, in one buffer; undefined for any other object.
   */
  readInline(parts: readonly BlobRef[], range?: ByteRange): Promise<Buffer | undefined>;
  /** Ignores ENOENT. */
  delete(blobIds: Iterable<string>): Promise<void>;
  exists(blobId: string): Promise<boolean>;
  /** Absolute file path of a blob (for `inspect`); inline blobs have none. */
  pathOf(blobId: string): string;
  /**
   * Remove everything under tmp/ (unfinished writes), and every blob whose id `isLive` rejects,
   * except that an unreferenced blob file last written before `quarantineBefore` (ms since the
   * epoch; Infinity: every one) is moved to <root>/lost+found/ instead: nothing that cannot be
   * accounted for is deleted. Inline blobs are kept when everything is quarantined. Returns counts.
   */
  sweep(isLive: (blobId: string) => boolean | Promise<boolean>, options?: { quarantineBefore?: number }): Promise<SweepResult>;
  /** Remove everything under tmp/ but the writes in flight (the first step of sweep). */
  sweepTmp(): Promise<{ removed: number; bytes: number }>;
  /** Files in lost+found/ (what a sweep could not account for), for `lakes3 doctor`. */
  quarantined(): Promise<{ file: string; size: number }[]>;
  /** How many blob files there are (stops counting at `atMost`). */
  countFiles(atMost?: number): Promise<number>;
  /** Walk all blobs: for inspect/summary. */
  list(): AsyncIterable<{ blobId: string; size: number }>;
}

export interface SweepResult {
  removed: number;
  bytes: number;
  quarantined: number;
}

/** Where the sweep moves blob files it cannot account for. */
export const QUARANTINE_DIR = "lost+found";

export interface WriteOptions {
  maxSize?: number;
  signal?: AbortSignal;
  /** The expected size (a declared Content-Length); small blobs are stored inline. */
  sizeHint?: number;
}

/** Where small blobs live: a keyspace in the metadata store. */
export interface InlineBlobs {
  get(blobId: string): Promise<Buffer | undefined>;
  /**
   * Held (and readable) until the batch that stores the record pointing at them stores them too,
   * atomically with it; deleting the blob first drops them.
   */
  put(blobId: string, bytes: Buffer): Promise<void>;
  delete(blobIds: string[]): Promise<void>;
  entries(): AsyncIterable<{ blobId: string; size: number }>;
}

/** Blobs up to this size are stored inline in the metadata store. */
export const INLINE_MAX = 64 * 1024;

/** Blobs up to this size are their own ids (see immediateBlobId). */
export const IMMEDIATE_MAX = 32;

const BLOB_ID_RE = /^[0-9a-f]{32}$/;
const INLINE_ID_RE = /^s[0-9a-f]{31}$/;
/** Random characters after an immediate blob id's `i`, before its bytes. */
const IMMEDIATE_NONCE = 6;
/** `i`, the nonce, then up to IMMEDIATE_MAX bytes in base64url (43 characters for 32). */
const IMMEDIATE_ID_RE = new RegExp(`^i[A-Za-z0-9_-]{${IMMEDIATE_NONCE},${IMMEDIATE_NONCE + Math.ceil((IMMEDIATE_MAX * 4) / 3)}}$`);
/**
 * Bytes gathered before a write(v) is issued; one write is in flight while the next batch fills.
 * Each write costs the writing thread far more than its copy: with 256 KiB batches a large PUT
 * waited four times as long for its writes and ran ~10% slower.
 */
const WRITE_BATCH = 1 << 20;
/** Bytes written between background flushes of a large blob (see writeFile). */
const FLUSH_EVERY = 16 << 20;
/** Chunk size (and readable high-water mark) of blob reads. */
const READ_CHUNK = 1 << 20;
/** Read buffers handed back (Recycling) that a blob read keeps for its next reads. */
const SPARE_READ_BUFFERS = 4;
const DELETE_CONCURRENCY = 16;

/** 32 lowercase hex chars from 16 random bytes: unguessable, collision-free in practice. */
export function newBlobId(): string {
  return randomString(16, "hex");
}

/**
 * An inline blob's id: `s`, the time in ms as 12 hex digits, then 19 random ones. A newer blob's
 * id sorts after an older one's, so LevelDB adds new ones at the end of their key range. With
 * random ids every flush of new blobs overlapped nearly all the tables of a million older ones,
 * and the compactions that followed rewrote tens of MB (~0.5 s of CPU) after a thousand small PUTs.
 */
export function newInlineBlobId(now = Date.now()): string {
  return "s" + now.toString(16).padStart(12, "0").slice(-12) + randomString(10, "hex").slice(1);
}

/** A blob whose bytes live in the metadata store rather than in a file. */
export function isInlineBlob(blobId: string): boolean {
  return INLINE_ID_RE.test(blobId);
}

/**
 * The id of a blob of at most IMMEDIATE_MAX bytes: `i`, 6 random characters (each write has an id,
 * and an object its own physical address, as elsewhere), then the bytes in base64url. The record
 * that names it holds its bytes, as a file system keeps a tiny file's bytes in its inode, so an
 * empty object (a `_SUCCESS` marker, a folder marker) or a tiny one costs no write and no read
 * besides its record's. Kept in the metadata store, a million 16-byte objects' bytes were read
 * through LevelDB's tables, which it maps into memory: the server's RSS grew by 26 MB over 2,000
 * random GETs, and each GET spent ~100 µs decompressing a block.
 */
export function immediateBlobId(bytes: Buffer): string {
  return "i" + randomString(IMMEDIATE_NONCE, "base64url").slice(0, IMMEDIATE_NONCE) + bytes.toString("base64url");
}

/** The bytes an immediate blob's id holds. */
function immediateBytes(blobId: string): Buffer {
  return Buffer.from(blobId.slice(1 + IMMEDIATE_NONCE), "base64url");
}

/** A blob whose bytes are its id. */
export function isImmediateBlob(blobId: string): boolean {
  return IMMEDIATE_ID_RE.test(blobId);
}

/** A blob with no file: its bytes are in the metadata store, or its id. */
const hasNoFile = (blobId: string): boolean => isInlineBlob(blobId) || isImmediateBlob(blobId);

function toBuffer(chunk: Buffer | string | Uint8Array): Buffer {
  return typeof chunk === "string" ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

export class FsBlobStore implements BlobStore {
  readonly root: string;
  private readonly tmpDir: string;
  private readonly blobsDir: string;
  /** Fan-out directories known to exist. */
  private readonly knownDirs = new Set<string>();
  /** Temp file names of writes in flight (sweep leaves them alone). */
  private readonly inFlight = new Set<string>();
  /** Ids committed while a sweep runs (sweep keeps them: their metadata may not be published yet). */
  private committedDuringSweep: Set<string> | undefined;

  constructor(
    root: string,
    private readonly inline?: InlineBlobs,
  ) {
    this.root = root;
    this.tmpDir = join(root, "tmp");
    this.blobsDir = join(root, "blobs");
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.blobsDir, { recursive: true });
  }

  pathOf(blobId: string): string {
    if (!BLOB_ID_RE.test(blobId)) throw new Error(`invalid blob id: ${JSON.stringify(blobId)}`);
    return join(this.blobsDir, blobId.slice(0, 2), blobId);
  }

  async write(source: Readable, options: WriteOptions = {}): Promise<BlobRef> {
    if (this.inline && options.sizeHint !== undefined && options.sizeHint <= INLINE_MAX) return this.writeInline(this.inline, source, options);
    return this.writeFile(source, options);
  }

  /** Gather a small body and put it inline; a body larger than its hint spills into a file. */
  private async writeInline(inline: InlineBlobs, source: Readable, options: WriteOptions): Promise<BlobRef> {
    const chunks: Buffer[] = [];
    let size = 0;
    const it = source.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]();
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const buf = toBuffer(r.value as Buffer | string | Uint8Array);
      size += buf.length;
      chunks.push(buf);
      if (size > INLINE_MAX) {
        const rest = async function* () {
          yield* chunks;
          for (let n = await it.next(); !n.done; n = await it.next()) yield n.value as Buffer;
        };
        return this.writeFile(Readable.from(rest(), { objectMode: false }), options);
      }
    }
    options.signal?.throwIfAborted();
    const bytes = Buffer.concat(chunks, size);
    if (size <= IMMEDIATE_MAX) return { blobId: immediateBlobId(bytes), size };
    const blobId = newInlineBlobId();
    await inline.put(blobId, bytes);
    this.committedDuringSweep?.add(blobId);
    return { blobId, size };
  }

  private async writeFile(source: Readable, options: WriteOptions): Promise<BlobRef> {
    const { maxSize, signal } = options;
    signal?.throwIfAborted();
    const blobId = newBlobId();
    const tmpName = `${blobId}.tmp`;
    const tmpPath = join(this.tmpDir, tmpName);
    const finalPath = this.pathOf(blobId);
    this.inFlight.add(tmpName);

    // Abort: destroy the source so a pending read rejects with the abort reason.
    const onAbort = (): void => {
      const reason: unknown = signal?.reason;
      source.destroy(reason instanceof Error ? reason : Object.assign(new Error("The operation was aborted"), { name: "AbortError" }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });

    let fh: FileHandle | undefined;
    let renamed = false;
    let inflightWrite: Promise<void> | undefined;
    let flushing: Promise<void> | undefined;
    let flushedAt = 0;
    let flushError: unknown;
    try {
      fh = await open(tmpPath, "wx");
      let size = 0;
      let batch: Buffer[] = [];
      let batchBytes = 0;
      // Do not destroy the caller's stream when we stop early (e.g. EntityTooLarge): destroying an
      // IncomingMessage kills the socket before the error response can be sent.
      for await (const chunk of source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer | string | Uint8Array>) {
        const buf = toBuffer(chunk);
        if (buf.length === 0) continue;
        size += buf.length;
        if (maxSize !== undefined && size > maxSize) throw new StorageError("too-large", `the body is larger than ${maxSize} bytes`);
        batch.push(buf);
        batchBytes += buf.length;
        if (batchBytes >= WRITE_BATCH) {
          if (inflightWrite) await inflightWrite;
          signal?.throwIfAborted();
          inflightWrite = writeAll(fh, batch);
          // Avoid an unhandled rejection if the source fails while this write is pending.
          inflightWrite.catch(() => {});
          batch = [];
          batchBytes = 0;
          // A large body is flushed to disk while the rest arrives, so the final fsync is short.
          if (size - flushedAt >= FLUSH_EVERY && !flushing) {
            flushedAt = size;
            const file = fh;
            flushing = inflightWrite
              .then(() => file.datasync())
              .catch((err: unknown) => void (flushError ??= err))
              .finally(() => (flushing = undefined));
          }
        }
      }
      if (inflightWrite) await inflightWrite;
      inflightWrite = undefined;
      if (batch.length > 0) await writeAll(fh, batch);
      if (flushing) await flushing;
      // a failed background flush may not be reported again by the final fsync (Linux reports a
      // write-back error once), so it fails the write here
      if (flushError !== undefined) throw flushError;
      signal?.throwIfAborted();
      await fh.sync();
      await fh.close();
      fh = undefined;

      const dir = join(this.blobsDir, blobId.slice(0, 2));
      await this.ensureDir(dir);
      try {
        await rename(tmpPath, finalPath);
      } catch (err) {
        if (errCode(err) !== "ENOENT") throw err;
        // Fan-out dir removed behind our back: recreate once.
        this.knownDirs.delete(dir);
        await this.ensureDir(dir);
        await rename(tmpPath, finalPath);
      }
      renamed = true;
      this.committedDuringSweep?.add(blobId);
      await fsyncDir(dir);
      return { blobId, size };
    } catch (err) {
      if (inflightWrite) await inflightWrite.catch(() => {});
      if (flushing) await flushing;
      if (fh) await fh.close().catch(() => {});
      await unlink(renamed ? finalPath : tmpPath).catch(() => {});
      throw classifyFsError(err, this.root);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.inFlight.delete(tmpName);
    }
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const created = await mkdir(dir, { recursive: true });
    // A new fan-out dir is itself a directory entry in blobs/ that must survive power loss.
    if (created !== undefined) await fsyncDir(this.blobsDir);
    this.knownDirs.add(dir);
  }

  async open(parts: readonly BlobRef[], range?: ByteRange): Promise<Readable> {
    return new BlobReadStream(await this.segments(parts, range));
  }

  async readInline(parts: readonly BlobRef[], range?: ByteRange): Promise<Buffer | undefined> {
    if (!parts.every((p) => hasNoFile(p.blobId))) return undefined;
    const segments = await this.segments(parts, range);
    const pieces = segments.map((s) => s.inline!.subarray(s.start, s.start + s.length));
    return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
  }

  /** Where the bytes of these parts (or of a range of them) are, in order; checks every blob. */
  private async segments(parts: readonly BlobRef[], range?: ByteRange): Promise<Segment[]> {
    const segments: Segment[] = [];
    const checked = new Map<string, Promise<Buffer | undefined>>();
    const add = async (p: BlobRef, start: number, length: number) => {
      let bytes = checked.get(p.blobId);
      if (!bytes) checked.set(p.blobId, (bytes = this.check(p)));
      const inline = await bytes;
      segments.push(inline ? { inline, start, length } : { path: this.pathOf(p.blobId), start, length });
    };
    if (range === undefined) {
      for (const p of parts) await add(p, 0, p.size);
    } else {
      let offset = 0;
      for (const p of parts) {
        const partStart = offset;
        const partEnd = offset + p.size - 1; // inclusive; < partStart for empty blobs
        offset += p.size;
        if (p.size === 0 || partEnd < range.start) continue;
        if (partStart > range.end) break;
        const s = Math.max(range.start, partStart);
        const e = Math.min(range.end, partEnd);
        await add(p, s - partStart, e - s + 1);
      }
    }
    return segments;
  }

  /** A blob is there with its recorded size; resolves an inline blob's bytes. */
  private async check(p: BlobRef): Promise<Buffer | undefined> {
    if (isImmediateBlob(p.blobId)) {
      const bytes = immediateBytes(p.blobId);
      if (bytes.length !== p.size) throw damaged(p, `its id holds ${bytes.length} bytes`);
      return bytes;
    }
    if (isInlineBlob(p.blobId)) {
      const bytes = await this.inline?.get(p.blobId);
      if (!bytes) throw new StorageError("blob-missing", `the data of this object (small blob ${p.blobId}, ${p.size} bytes, kept in the metadata store) is missing: run \`lakes3 doctor\` to list the damaged objects`);
      if (bytes.length !== p.size) throw damaged(p, `the metadata store holds ${bytes.length} bytes`);
      return bytes;
    }
    const file = this.pathOf(p.blobId);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (err) {
      if (errCode(err) === "ENOENT") throw new StorageError("blob-missing", `the data file of this object (${file}, ${p.size} bytes) is missing: it was removed outside lakes3; run \`lakes3 doctor\` to list the damaged objects`, { path: file });
      throw classifyFsError(err, this.root);
    }
    if (size !== p.size) throw damaged(p, `its file ${file} has ${size}`);
    return undefined;
  }

  async delete(blobIds: Iterable<string>): Promise<void> {
    const ids = [...blobIds];
    const inline = ids.filter(isInlineBlob);
    if (inline.length > 0) await this.inline?.delete(inline);
    const it = ids.filter((id) => !hasNoFile(id))[Symbol.iterator]();
    const worker = async (): Promise<void> => {
      for (let r = it.next(); !r.done; r = it.next()) {
        try {
          await unlink(this.pathOf(r.value));
        } catch (err) {
          if (errCode(err) !== "ENOENT") throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: DELETE_CONCURRENCY }, worker));
  }

  async exists(blobId: string): Promise<boolean> {
    if (isImmediateBlob(blobId)) return true;
    if (isInlineBlob(blobId)) return (await this.inline?.get(blobId)) !== undefined;
    try {
      return (await stat(this.pathOf(blobId))).isFile();
    } catch (err) {
      if (errCode(err) === "ENOENT") return false;
      throw err;
    }
  }

  async sweep(isLive: (blobId: string) => boolean | Promise<boolean>, options: { quarantineBefore?: number } = {}): Promise<SweepResult> {
    const quarantineBefore = options.quarantineBefore ?? -Infinity;
    let removed = 0;
    let bytes = 0;
    let quarantined = 0;
    const committed = new Set<string>();
    this.committedDuringSweep = committed;
    try {
      ({ removed, bytes } = await this.sweepTmp());
      // Liveness is decided from the name; only orphans are stat'ed (a restart over 100k blobs
      // must not stat them all).
      const lostFound = join(this.root, QUARANTINE_DIR);
      for await (const { blobId, path } of this.walk()) {
        if (committed.has(blobId) || (await isLive(blobId))) continue;
        try {
          const { size, mtimeMs } = await stat(path);
          if (mtimeMs < quarantineBefore) {
            await mkdir(lostFound, { recursive: true });
            await rename(path, join(lostFound, blobId));
            quarantined++;
            continue;
          }
          await unlink(path);
          removed++;
          bytes += size;
        } catch (err) {
          if (errCode(err) !== "ENOENT") throw err;
        }
      }
      if (quarantined > 0) await fsyncDir(lostFound);
      if (this.inline && quarantineBefore !== Infinity) {
        const dead: string[] = [];
        for await (const { blobId, size } of this.inline.entries()) {
          if (committed.has(blobId) || (await isLive(blobId))) continue;
          dead.push(blobId);
          bytes += size;
        }
        await this.inline.delete(dead);
        removed += dead.length;
      }
    } finally {
      if (this.committedDuringSweep === committed) this.committedDuringSweep = undefined;
    }
    return { removed, bytes, quarantined };
  }

  async sweepTmp(): Promise<{ removed: number; bytes: number }> {
    let removed = 0;
    let bytes = 0;
    for await (const entry of await opendir(this.tmpDir)) {
      if (this.inFlight.has(entry.name)) continue;
      const p = join(this.tmpDir, entry.name);
      try {
        const st = await stat(p);
        await rm(p, { recursive: true, force: true });
        removed++;
        if (st.isFile()) bytes += st.size;
      } catch (err) {
        if (errCode(err) !== "ENOENT") throw err;
      }
    }
    return { removed, bytes };
  }

  /** Files in lost+found/ (for `lakes3 doctor`). */
  async quarantined(): Promise<{ file: string; size: number }[]> {
    const dir = join(this.root, QUARANTINE_DIR);
    const out: { file: string; size: number }[] = [];
    try {
      for await (const entry of await opendir(dir)) {
        const file = join(dir, entry.name);
        const st = await stat(file).catch(() => undefined);
        if (st?.isFile()) out.push({ file, size: st.size });
      }
    } catch (err) {
      if (errCode(err) !== "ENOENT") throw err;
    }
    return out.sort((a, b) => (a.file < b.file ? -1 : 1));
  }

  /** How many blob files there are (stops counting at `atMost`). */
  async countFiles(atMost = Infinity): Promise<number> {
    let n = 0;
    for await (const _ of this.walk()) if (++n >= atMost) break;
    return n;
  }

  async *list(): AsyncIterable<{ blobId: string; size: number }> {
    if (this.inline) yield* this.inline.entries();
    for await (const { blobId, path } of this.walk()) {
      try {
        yield { blobId, size: (await stat(path)).size };
      } catch (err) {
        if (errCode(err) !== "ENOENT") throw err;
      }
    }
  }

  /** Blob files in directory order (unsorted); names that are not blob ids are skipped. */
  private async *walk(): AsyncGenerator<{ blobId: string; path: string }> {
    for await (const fan of await opendir(this.blobsDir)) {
      if (!fan.isDirectory() || !/^[0-9a-f]{2}$/.test(fan.name)) continue;
      const dir = join(this.blobsDir, fan.name);
      let handle;
      try {
        handle = await opendir(dir);
      } catch (err) {
        if (errCode(err) === "ENOENT") continue;
        throw err;
      }
      for await (const entry of handle) {
        if (!entry.isFile() || !BLOB_ID_RE.test(entry.name) || !entry.name.startsWith(fan.name)) continue;
        yield { blobId: entry.name, path: join(dir, entry.name) };
      }
    }
  }
}

interface Segment {
  /** A blob file, or … */
  path?: string;
  /** … the bytes of an inline blob. */
  inline?: Buffer;
  /** Offset inside the blob. */
  start: number;
  length: number;
}

function damaged(p: BlobRef, actual: string): StorageError {
  return new StorageError("blob-damaged", `the data of this object (blob ${p.blobId}) should be ${p.size} bytes but ${actual}: it was changed outside lakes3; run \`lakes3 doctor\` to list the damaged objects`);
}

/**
 * A stream that takes back a chunk it produced once its consumer is done with it (the socket has
 * sent it), and reads into it again instead of allocating a buffer per read. Every new buffer
 * counts toward V8's external memory, and in a heap past 8 MB every 8 MB of it starts a full
 * collection: a 256 MiB GET that allocated its chunks spent about half its CPU collecting them.
 */
export interface Recycling {
  /** The consumer no longer needs `chunk` (any other buffer is ignored). */
  recycle(chunk: Buffer): void;
}

export function isRecycling(stream: Readable): stream is Readable & Recycling {
  return typeof (stream as Partial<Recycling>).recycle === "function";
}

/** Reads segments in order, one open file at a time, one chunk per `_read`. */
class BlobReadStream extends Readable implements Recycling {
  private readonly segments: Segment[];
  private index = 0;
  private fh: FileHandle | undefined;
  private position = 0;
  private remaining = 0;
  /** Full-size read buffers out with the consumer, and those it handed back for the next reads. */
  private readonly lent = new WeakSet<ArrayBufferLike>();
  private readonly spare: Buffer[] = [];

  constructor(segments: Segment[]) {
    super({ highWaterMark: READ_CHUNK });
    this.segments = segments;
  }

  recycle(chunk: Buffer): void {
    // only a buffer this stream lent, and only once: two reads never share one
    if (this.lent.delete(chunk.buffer) && this.spare.length < SPARE_READ_BUFFERS) this.spare.push(Buffer.from(chunk.buffer));
  }

  override _read(): void {
    this.readChunk().then(
      (chunk) => {
        if (!this.destroyed) this.push(chunk);
      },
      (err: Error) => this.destroy(err),
    );
  }

  /** Next non-empty chunk, or null at the end. */
  private async readChunk(): Promise<Buffer | null> {
    for (;;) {
      if (!this.fh) {
        const seg = this.segments[this.index];
        if (!seg) return null;
        if (seg.inline !== undefined) {
          this.index++;
          if (seg.length === 0) continue;
          return seg.inline.subarray(seg.start, seg.start + seg.length);
        }
        const fh = await open(seg.path!, "r");
        if (this.destroyed) {
          await fh.close();
          return null;
        }
        this.fh = fh;
        this.position = seg.start;
        this.remaining = seg.length;
      }
      if (this.remaining === 0) {
        const fh = this.fh;
        this.fh = undefined;
        this.index++;
        await fh.close();
        continue;
      }
      const want = Math.min(READ_CHUNK, this.remaining);
      // a full-size buffer (its own memory, never the shared pool) is lent out and may come back; the
      // short last read of a blob gets its own
      const full = want === READ_CHUNK || this.spare.length > 0;
      const buf = full ? (this.spare.pop() ?? Buffer.allocUnsafeSlow(READ_CHUNK)) : Buffer.allocUnsafe(want);
      if (full) this.lent.add(buf.buffer);
      const { bytesRead } = await this.fh.read(buf, 0, want, this.position);
      if (bytesRead === 0) {
        const seg = this.segments[this.index]!;
        throw Object.assign(new Error(`blob file shorter than recorded size: ${seg.path!}`), { code: "ERR_BLOB_TRUNCATED", path: seg.path });
      }
      this.position += bytesRead;
      this.remaining -= bytesRead;
      return bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = undefined;
    if (!fh) return callback(err);
    fh.close().then(
      () => callback(err),
      () => callback(err),
    );
  }
}
