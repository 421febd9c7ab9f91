/**
 * Committed ranges and trees as files, as lakeFS keeps its ranges and metaranges (immutable
 * SSTables in the object store, pkg/graveler/committed): written once, never changed, read through
 * the caches above (tree.ts).
 *
 * Kept in LevelDB, every page of committed ranges a listing or a read touched stayed in the
 * server's RSS (LevelDB maps its table files into memory), and every commit's tree (megabytes at a
 * million objects) went through LevelDB's log, memtable and compactions; read from files with
 * pread, they are in the page cache, which the kernel shares and reclaims, not in the process.
 *
 * One file (a pack) holds what one commit, merge or revert writes: its new ranges, then its tree,
 * so a commit that rewrites a thousand ranges syncs one file, not a thousand:
 *
 *   <metadata>/ranges/<repo>/<pack>   "lakes3-ranges-1\n", then per entry: u32 length, u32 CRC-32,
 *                                     the entry's bytes (a range: RangeData.encode; a tree:
 *                                     encodeTreeParts, or JSON from older versions),
 *                                     little-endian
 *   <metadata>/ranges/.tmp/<pack>     a pack being written (emptied when the store opens; no
 *                                     repository name starts with a dot)
 *
 * An entry's id names its place: "<pack>-<offset>-<length>" (offset of its header and length of
 * its bytes, base 36), so a read is one pread of a file kept open, with no index to load. Ids
 * without "-" are ranges and trees kept in LevelDB by older versions (tree.ts reads them there).
 *
 * A pack is complete before anything names it: written under tmp/, fsynced, renamed into its
 * repository's folder, and that folder fsynced, before the commit record that names its tree is
 * written. A pack no commit names (a commit that crashed before its record landed) is left alone:
 * its records are still staged, or still in the trees they came from.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { mkdir, open, readdir, rename, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { crc32 } from "./crc32.js";
import { fsyncDir, writeAll } from "./durable-file.js";
import { StorageError } from "./errors.js";
import { randomString } from "./random.js";

const MAGIC = Buffer.from("lakes3-ranges-1\n");
const HEADER = 8;
/** Bytes gathered before a pack writer writes them out. */
const WRITE_CHUNK = 1 << 20;
/** Pack files kept open for reads. */
const OPEN_FILES = 64;
/** Packs being written, beside the repositories' folders. */
const TMP = ".tmp";
const REPO_DIR = /^\w[\w-]*$/;

/** Whether an id names a place in a pack (else: a range or tree in LevelDB, written before packs). */
export const isPacked = (id: string): boolean => id.includes("-");

export class RangeFiles {
  private readonly tmpDir: string;
  /** Open pack files by path, least recently used first. */
  private readonly fds = new Map<string, number>();
  /** Repository folders known to exist durably. */
  private readonly knownDirs = new Set<string>();

  constructor(
    /** <metadata>/ranges */
    readonly dir: string,
  ) {
    this.tmpDir = path.join(dir, TMP);
  }

  /** Create the folders (durably) and remove packs a stopped process left half-written. */
  async open(): Promise<void> {
    const created = await mkdir(this.tmpDir, { recursive: true });
    if (created) await syncDirs(path.dirname(this.dir), this.dir);
    await Promise.all((await readdir(this.tmpDir)).map((name) => rm(path.join(this.tmpDir, name), { force: true })));
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  /** A writer for what one commit writes. */
  writer(repo: string): PackWriter {
    return new PackWriter(this, repo);
  }

  /** The entry `id` of `repo`; a missing, cut or changed pack is a StorageError naming the file. */
  read(repo: string, id: string): Buffer {
    const { pack, offset, length } = parseId(id);
    const file = this.packPath(repo, pack);
    // Its own ArrayBuffer, not a slice of Node's shared 8 KiB pool (most ranges are under 4 KiB): a
    // cached range then holds its bytes and no more, and they count as cached (see ByteCache).
    const buf = Buffer.allocUnsafeSlow(HEADER + length);
    let n: number;
    try {
      n = readSync(this.fd(file), buf, 0, buf.length, offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw damaged(repo, file, "is missing (removed outside lakes3)");
      throw err;
    }
    if (n < buf.length) throw damaged(repo, file, `was cut short outside lakes3 (entry ${id} ends past its end)`);
    const body = buf.subarray(HEADER);
    if (buf.readUInt32LE(0) !== length || buf.readUInt32LE(4) !== crc32(body)) throw damaged(repo, file, `was changed outside lakes3 (entry ${id} fails its checksum)`);
    return body;
  }

  /** Remove every pack of a repository (after the repository's records are gone). */
  async removeRepository(repo: string): Promise<void> {
    for (const [file, fd] of this.fds) {
      if (path.dirname(file) !== this.repoDir(repo)) continue;
      closeSync(fd);
      this.fds.delete(file);
    }
    this.knownDirs.delete(repo);
    await rm(this.repoDir(repo), { recursive: true, force: true });
  }

  /** Remove every pack (the store was cleared). */
  async clear(): Promise<void> {
    this.close();
    this.knownDirs.clear();
    for (const name of await readdir(this.dir).catch(() => [])) if (name !== TMP) await rm(path.join(this.dir, name), { recursive: true, force: true });
  }

  private repoDir(repo: string): string {
    // Repository names are lakeFS's (names.ts): one path segment, never ".tmp".
    if (!REPO_DIR.test(repo)) throw new Error(`not a repository name: ${JSON.stringify(repo)}`);
    return path.join(this.dir, repo);
  }

  private packPath(repo: string, pack: string): string {
    return path.join(this.repoDir(repo), pack);
  }

  private fd(file: string): number {
    let fd = this.fds.get(file);
    if (fd !== undefined) {
      this.fds.delete(file); // most recently used last
    } else {
      fd = openSync(file, "r");
      if (this.fds.size >= OPEN_FILES) {
        const [oldest, old] = this.fds.entries().next().value!;
        closeSync(old);
        this.fds.delete(oldest);
      }
    }
    this.fds.set(file, fd);
    return fd;
  }

  /** @internal A temp file for a new pack. */
  tmpPath(pack: string): string {
    return path.join(this.tmpDir, pack);
  }

  /** @internal Move a complete, synced pack into place, durably. */
  async publish(repo: string, pack: string): Promise<void> {
    const dir = this.repoDir(repo);
    if (!this.knownDirs.has(repo)) {
      if (await mkdir(dir, { recursive: true })) await syncDirs(this.dir);
      this.knownDirs.add(repo);
    }
    await rename(this.tmpPath(pack), this.packPath(repo, pack));
    await syncDirs(dir);
  }
}

/**
 * Appends one commit's entries to a pack file as they come (never all in memory); seal() makes the
 * pack durable and puts it in place. Until then, no id it gave out may be written down.
 *
 * Entries are written a chunk at a time, as they are, with one writev (no copy into one buffer),
 * and the writer goes on while a chunk is written: add() waits only for the chunk before.
 */
export class PackWriter {
  private readonly pack = randomString(12, "hex");
  private file: Promise<FileHandle> | undefined;
  /** The chunk being written, if any (a failure surfaces at the next flush or at seal). */
  private writing: Promise<unknown> = Promise.resolve();
  private chunks: Buffer[] = [MAGIC];
  private chunked = MAGIC.length;
  private size = MAGIC.length;
  private entries = 0;

  constructor(
    private readonly files: RangeFiles,
    private readonly repo: string,
  ) {}

  /** Add an entry (its bytes, or its bytes in parts, written as they are); returns its id. */
  async add(body: Buffer | readonly Buffer[]): Promise<string> {
    const parts = Buffer.isBuffer(body) ? [body] : body;
    let length = 0;
    let crc = 0;
    for (const part of parts) {
      length += part.length;
      crc = crc32(part, crc);
    }
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32LE(length, 0);
    header.writeUInt32LE(crc, 4);
    const id = `${this.pack}-${this.size.toString(36)}-${length.toString(36)}`;
    this.chunks.push(header, ...parts);
    this.chunked += HEADER + length;
    this.size += HEADER + length;
    this.entries++;
    if (this.chunked >= WRITE_CHUNK) await this.flush();
    return id;
  }

  /** Write, sync and publish the pack (nothing when no entry was added). */
  async seal(): Promise<void> {
    if (this.entries === 0) return;
    try {
      await this.flush();
      await this.writing;
      const file = await this.file!;
      await file.sync();
      await file.close();
      await this.files.publish(this.repo, this.pack);
      this.file = undefined;
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Drop the pack being written (its entries were never named). */
  async abort(): Promise<void> {
    await this.writing.catch(() => undefined);
    const file = this.file;
    this.file = undefined;
    this.chunks = [];
    if (!file) return;
    await file.then((f) => f.close()).catch(() => undefined); // closed already after a failed publish
    await rm(this.files.tmpPath(this.pack), { force: true });
  }

  /** Start writing the chunk gathered, once the one before is written. */
  private async flush(): Promise<void> {
    await this.writing;
    this.file ??= open(this.files.tmpPath(this.pack), "wx");
    const file = await this.file;
    const chunks = this.chunks;
    this.chunks = [];
    this.chunked = 0;
    this.writing = writeAll(file, chunks);
    this.writing.catch(() => undefined); // awaited later; not an unhandled rejection meanwhile
  }
}

function parseId(id: string): { pack: string; offset: number; length: number } {
  const [pack, offset, length] = id.split("-");
  return { pack: pack!, offset: parseInt(offset!, 36), length: parseInt(length!, 36) };
}

function damaged(repo: string, file: string, what: string): StorageError {
  return new StorageError("metadata-damaged", `committed metadata of repository ${repo} is damaged: the range file ${file} ${what}; run \`lakes3 doctor\` to list what is affected`, { path: file });
}

async function syncDirs(...dirs: string[]): Promise<void> {
  for (const dir of dirs) await fsyncDir(dir);
}
