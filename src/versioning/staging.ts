/**
 * The branch view, as graveler's StagingManager over its committed trees: reads at a ref (staged
 * changes over the committed tree: one object, all objects in order, a listing page), staged
 * writes to a branch (put, delete, complete a multipart upload: one shared stage()), and a
 * branch's uncommitted changes (diff, reset).
 *
 * Blob ownership: a staged record owns its blobs until it is committed; committed blobs are never
 * reclaimed. So overwriting or deleting a *staged* record hands its blobs back to the caller
 * (to reclaim), while replacing a committed one only stages a change.
 */
import type { BlobRef } from "../storage/blob-store.js";
import { compareKeys, rangeFor, skipPast } from "../storage/keys.js";
import type { StagedScan } from "../storage/staged-index.js";
import { StoredRecord } from "../storage/stored-record.js";
import {
  isTombstone,
  NoSuchUploadError,
  SEP,
  type Batch,
  type BranchRecord,
  type CompletedUpload,
  type MetadataStore,
  type ObjectRecord,
  type PartRecord,
  type UploadRecord,
} from "../storage/metadata-store.js";
import type { DiffEntry } from "./compare.js";
import { notFound } from "./errors.js";
import type { RefManager, RefView } from "./refs.js";
import { RecordCache } from "./record-cache.js";
import { dropStaging, hasStaged, newToken, stagingKey } from "./staging-keys.js";
import { EMPTY_TREE, type MaybePromise, type TreeCursor, type TreeStore } from "./tree.js";

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

export type ListItem = { key: string; object: StoredRecord } | { prefix: string };

export interface ListPage {
  items: ListItem[];
  isTruncated: boolean;
  /** The last key or common prefix returned (the next page starts after it). */
  last?: string;
}

/** A write precondition checked atomically with the write (under the key's lock). */
export type WriteCondition = (current: ObjectRecord | undefined) => void;

/**
 * A key's state on a branch while a write holds it. The staged entry is read up front; the
 * committed record (a tree lookup) only when asked for, once.
 */
interface KeyState {
  /** The staged record (undefined when nothing, or a tombstone, is staged). */
  staged?: ObjectRecord;
  /** The record at the branch head. */
  committed(): Promise<ObjectRecord | undefined>;
  /** What reads see: the staged entry over the committed record. */
  visible(): Promise<ObjectRecord | undefined>;
}

export class BranchStaging {
  /**
   * Per branch (repo!branch): whether the staging range of `token` holds anything. A listing of a
   * branch with nothing staged reads the committed tree alone: a LevelDB iterator, created and
   * positioned, seeks in every level of the store, which at a million committed objects costs a
   * millisecond or more of reading per page (a level's next key there can be a committed tree of
   * megabytes). Only stage() adds entries to a live range, and it forgets its branch before and
   * after it writes; what it knows of another token than the view's is read again.
   */
  private readonly stagedState = new RecordCache<{ token: string; empty: boolean }>();

  constructor(
    private readonly store: MetadataStore,
    private readonly trees: TreeStore,
    private readonly refs: RefManager,
  ) {}

  // ---- reading objects -----------------------------------------------------------------------

  /**
   * A branch read races the writes that move the branch: a commit, merge, revert, cherry-pick or
   * full reset moves it to a new tree and staging token and drops the old staging entries in one
   * batch, so a view resolved before that batch and read after it sees neither the dropped staged
   * entry nor the new tree. lakeFS never shows that gap (graveler reads a branch's staging and
   * commit as one state), and neither do we: a read that reached the committed tree, and every
   * listing page, checks that the branch is still where the view says, and reads again from where
   * it is now if it moved. When no branch write began since the view's branch was read, it cannot
   * have moved (BranchWrites), and nothing is read; else the branch is read from the store itself
   * (never the cache). Asking the store every time cost a committed object's HEAD ~20 µs of CPU.
   */
  private async moved(view: RefView): Promise<RefView | undefined> {
    if (view.branchName === undefined || this.refs.branchWrites.noneSince(view.writesMark)) return undefined;
    const writesMark = this.refs.branchWrites.mark();
    const branch = await this.store.branches.get(view.repo + SEP + view.branchName);
    if (!branch || (branch.head === view.commitId && branch.stagingToken === view.staging)) return undefined;
    return this.refs.resolver.rebase(view, branch, writesMark);
  }

  async getObject(view: RefView, path: string): Promise<ObjectRecord | undefined> {
    for (let current: RefView | undefined = view; ; ) {
      // A branch with nothing staged is read from its tree alone (a LevelDB get that finds
      // nothing searches every level, which at a million committed objects costs more than the
      // tree lookup).
      if (current.staging !== undefined && !(await this.nothingStaged(current.repo, current.branchName!, current.staging))) {
        const staged = await this.store.getStaged(stagingKey(current.repo, current.staging, path));
        if (staged) return isTombstone(staged) ? undefined : staged;
      }
      const record = await this.trees.get(current.repo, current.tree, path);
      const next = await this.moved(current);
      if (!next) return record;
      current = next;
    }
  }

  /** Visible objects of a view, in key order: staged changes over the tree. */
  async *objects(view: RefView): AsyncGenerator<[string, ObjectRecord]> {
    const cursor = await this.cursor(view);
    try {
      for (let path = await cursor.next(); path !== undefined; path = await cursor.next()) yield [path, (await cursor.stored()).record()];
    } finally {
      await cursor.close();
    }
  }

  /** A seekable cursor over a view's visible objects (close it). */
  private async cursor(view: RefView): Promise<ViewCursor> {
    const committed = await this.trees.cursor(view.repo, view.tree);
    if (view.staging === undefined || (await this.nothingStaged(view.repo, view.branchName!, view.staging))) return new ViewCursor(committed);
    const base = stagingKey(view.repo, view.staging, "");
    const held = await this.store.stagedRange(base);
    if (held) return new ViewCursor(committed, held.reader());
    return new ViewCursor(committed, new StagedReader(this.store.scanStaged(base), base));
  }

  private async nothingStaged(repo: string, branch: string, token: string): Promise<boolean> {
    const key = repo + SEP + branch;
    const load = async () => ({ token, empty: !(await hasStaged(this.store, repo, token)) });
    let known = (await this.stagedState.get(key, load))!;
    if (known.token !== token) {
      this.stagedState.invalidate(key);
      known = (await this.stagedState.get(key, load))!;
    }
    return known.empty;
  }

  /** One page of a listing, grouped into common prefixes at `delimiter` (seeking past each). */
  async listObjects(view: RefView, options: ListOptions): Promise<ListPage> {
    for (let current: RefView | undefined = view; ; ) {
      const page = await this.listPage(current, options);
      const next = await this.moved(current);
      if (!next) return page;
      current = next;
    }
  }

  private async listPage(view: RefView, options: ListOptions): Promise<ListPage> {
    const { prefix, delimiter, limit } = options;
    let from = prefix;
    let after: string | undefined;
    if (options.startAfter !== undefined && compareKeys(options.startAfter, prefix) >= 0) {
      from = options.startAfter;
      after = options.startAfter;
      // A start-after that is itself a common prefix skips everything under it (the prefix
      // itself is none: a page that ended on the key `prefix` continues with what follows it).
      if (delimiter && options.startAfter.startsWith(prefix) && options.startAfter.endsWith(delimiter)) {
        const rest = options.startAfter.slice(prefix.length);
        if (rest.length > 0 && rest.indexOf(delimiter) === rest.length - delimiter.length) {
          from = skipPast(options.startAfter);
          after = undefined;
        }
      }
    }
    const items: ListItem[] = [];
    let isTruncated = false;
    const cursor = await this.cursor(view);
    try {
      cursor.seek(from);
      for (;;) {
        let key = cursor.next();
        if (key instanceof Promise) key = await key; // only when a batch or range is read
        if (key === undefined || !key.startsWith(prefix)) break;
        if (key === after) continue;
        if (items.length >= limit) {
          isTruncated = true;
          break;
        }
        const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
        if (at < 0) {
          let object = cursor.stored();
          if (object instanceof Promise) object = await object; // only when its range is read first
          items.push({ key, object });
          continue;
        }
        const common = key.slice(0, at + delimiter!.length);
        items.push({ prefix: common });
        cursor.seek(skipPast(common));
      }
    } finally {
      await cursor.close();
    }
    const lastItem = items.at(-1);
    const last = lastItem === undefined ? undefined : "key" in lastItem ? lastItem.key : lastItem.prefix;
    return { items, isTruncated, last };
  }

  // ---- writing objects (branch staging) ------------------------------------------------------

  /** The branch behind a write; lakeFS-style errors are the caller's (S3 or REST) to render. */
  async branchTarget(repo: string, ref: string): Promise<BranchTarget | undefined> {
    return (await this.refs.getBranch(repo, ref)) ? { repo, branch: ref } : undefined;
  }

  /**
   * Stage an object. The condition sees the visible object (staged over committed) and runs under
   * the key's lock. Returns the replaced *staged* record, whose blobs the caller reclaims.
   */
  putObject(target: BranchTarget, path: string, record: ObjectRecord, condition?: WriteCondition): Promise<{ replaced?: ObjectRecord }> {
    return this.stage(target, [path], async (branch, current, batch) => {
      if (condition) condition(await current.get(path)!.visible());
      batch.carry(record.parts).put(stagingKey(target.repo, branch.stagingToken, path), record, { sublevel: this.store.staging });
    }).then(([replaced]) => ({ replaced }));
  }

  /**
   * Delete objects from a branch: a staged record is dropped, a committed one gets a tombstone.
   * Returns the staged records removed (their blobs are the caller's to reclaim).
   */
  async deleteObjects(target: BranchTarget, paths: readonly string[]): Promise<ObjectRecord[]> {
    return this.stage(target, paths, async (branch, current, batch) => {
      for (const [path, state] of current) {
        const key = stagingKey(target.repo, branch.stagingToken, path);
        if (await state.committed()) batch.put(key, { tombstone: true }, { sublevel: this.store.staging });
        else if (state.staged) batch.del(key, { sublevel: this.store.staging });
      }
    });
  }

  /**
   * Complete a multipart upload atomically: `build` validates the stored parts and returns the
   * record; then ONE synced batch stages the object and drops the upload and its parts. Returns
   * the record, the replaced staged record and the part blobs the object does not use.
   */
  async completeUpload(
    upload: UploadRecord,
    target: BranchTarget,
    build: (parts: PartRecord[]) => ObjectRecord,
    condition: WriteCondition | undefined,
    partList: string,
  ): Promise<{ record: ObjectRecord; replaced?: ObjectRecord; unused: BlobRef[] }> {
    return this.store.locks.run(`upload:${upload.uploadId}`, async () => {
      if (!(await this.store.uploads.get(upload.uploadId))) throw new NoSuchUploadError(upload.uploadId);
      const { parts } = await this.store.listParts(upload.uploadId);
      const record = build(parts);
      const [replaced] = await this.stage(target, [upload.path], async (branch, current, batch) => {
        if (condition) condition(await current.get(upload.path)!.visible());
        batch.put(stagingKey(target.repo, branch.stagingToken, upload.path), record, { sublevel: this.store.staging });
        this.store.dropUpload(batch, upload, parts);
        const done: CompletedUpload = { repo: upload.repo, ref: upload.ref, path: upload.path, partList, etag: record.etag, checksum: record.checksum, completedAt: record.lastModified };
        batch.put(upload.uploadId, done, { sublevel: this.store.completedUploads });
      });
      const used = new Set(record.parts.map((p) => p.blobId));
      return { record, replaced, unused: parts.map((p) => p.blob).filter((b) => !used.has(b.blobId)) };
    });
  }

  /**
   * The shared write path: hold the branch (shared) and the keys, read each key's staged state
   * (its committed state on demand), let `apply` fill one batch, write it synced. Returns the
   * staged records the batch replaced or removed.
   */
  private stage(
    target: BranchTarget,
    paths: readonly string[],
    apply: (branch: BranchRecord, current: Map<string, KeyState>, batch: Batch) => Promise<void>,
  ): Promise<ObjectRecord[]> {
    return this.refs.withBranch(target.repo, target.branch, "shared", async (branch) => {
      const unique = [...new Set(paths)];
      const keys = unique.map((p) => stagingKey(target.repo, branch.stagingToken, p));
      return this.store.locks.runAll(keys, async () => {
        let headTree: Promise<string> | undefined;
        const tree = () => (headTree ??= this.refs.resolver.commit(target.repo, branch.head).then((head) => head?.tree ?? EMPTY_TREE));
        const entries = await this.store.getStagedMany(keys);
        const current = new Map<string, KeyState>();
        for (const [i, path] of unique.entries()) {
          const entry = entries[i];
          const staged = entry && !isTombstone(entry) ? entry : undefined;
          let committed: Promise<ObjectRecord | undefined> | undefined;
          const state: KeyState = {
            staged,
            committed: () => (committed ??= tree().then((t) => this.trees.get(target.repo, t, path))),
            visible: () => (entry ? Promise.resolve(staged) : state.committed()),
          };
          current.set(path, state);
        }
        const batch = this.store.batch();
        await apply(branch, current, batch);
        const state = target.repo + SEP + target.branch;
        this.stagedState.invalidate(state);
        await batch.write({ sync: true });
        this.stagedState.invalidate(state);
        return [...current.values()].flatMap((c) => (c.staged ? [c.staged] : []));
      });
    });
  }

  // ---- uncommitted changes ------------------------------------------------------------------

  /** A branch's uncommitted changes against its head commit. */
  async *diffBranch(repo: string, branchName: string, prefix = ""): AsyncGenerator<DiffEntry> {
    const branch = await this.refs.getBranch(repo, branchName);
    if (!branch) throw notFound(`branch ${branchName}`);
    const head = (await this.refs.resolver.commit(repo, branch.head))!;
    const base = stagingKey(repo, branch.stagingToken, "");
    for await (const [key, entry] of this.store.staging.iterator(rangeFor(base + prefix))) {
      const path = key.slice(base.length);
      const committed = await this.trees.get(repo, head.tree, path);
      if (isTombstone(entry)) {
        if (committed) yield { type: "removed", path, record: committed };
      } else yield { type: committed ? "changed" : "added", path, record: entry };
    }
  }

  /**
   * Discard uncommitted changes: all of them (`reset`), one object, or everything under a prefix.
   * Returns the staged blobs to reclaim.
   */
  async resetBranch(repo: string, name: string, scope: { type: "reset" } | { type: "object" | "common_prefix"; path: string }): Promise<BlobRef[]> {
    return this.refs.withBranch(repo, name, "exclusive", async (branch) => {
      const batch = this.store.batch();
      let blobs: BlobRef[];
      if (scope.type === "object") {
        const key = stagingKey(repo, branch.stagingToken, scope.path);
        const entry = await this.store.getStaged(key);
        blobs = entry && !isTombstone(entry) ? entry.parts : [];
        if (entry) batch.del(key, { sublevel: this.store.staging });
      } else if (scope.type === "common_prefix") {
        blobs = await dropStaging(this.store, repo, branch.stagingToken, scope.path, batch);
      } else {
        // A full reset starts a fresh staging range, as a commit does: scans of the branch never
        // walk the deleted keys of the old one.
        blobs = await dropStaging(this.store, repo, branch.stagingToken, "", batch);
        this.refs.putBranch(batch, repo, { ...branch, stagingToken: newToken() }, branch.stagingToken);
      }
      await this.refs.write(batch, { branches: [repo + SEP + name] });
      return blobs;
    });
  }
}

/**
 * A view's visible objects in key order, seekable forward: the staged entries (the view's
 * staging range, held in memory or read from LevelDB) over the committed tree's cursor;
 * a staged tombstone hides the committed record. seek() moves each side only if it is behind.
 * next() answers the path, stored() its record.
 */
class ViewCursor {
  /** The next entry of each side: undefined until read, null once a side is exhausted. */
  private staged: StagedItem | null | undefined;
  private committed: string | null | undefined;
  /** Keys up to here were sought past or returned: a seek there or before is no move. */
  private floor = "";
  /** The record of the path returned last; undefined when it is the tree cursor's. */
  private current: StoredRecord | undefined;
  constructor(
    private readonly tree: TreeCursor,
    private readonly stagedAhead?: StagedSource,
  ) {
    if (!stagedAhead) this.staged = null;
  }

  /** Next, return the first visible object ≥ `from` not returned yet. */
  seek(from: string): void {
    if (compareKeys(from, this.floor) <= 0) return;
    this.floor = from;
    if (this.staged !== null && (this.staged === undefined || compareKeys(this.staged[0], from) < 0)) {
      this.stagedAhead!.seek(from);
      this.staged = undefined;
    }
    if (this.committed !== null && (this.committed === undefined || compareKeys(this.committed, from) < 0)) {
      this.tree.seek(from);
      this.committed = undefined;
    }
  }

  /**
   * The next visible path (undefined at the end). Entries both sides hold already are answered at
   * once, without a promise: a page of a thousand paths cost three promises and their turns each.
   */
  next(): MaybePromise<string | undefined> {
    for (;;) {
      if (this.staged === undefined) {
        const staged = this.stagedAhead!.next();
        if (staged instanceof Promise) return staged.then((s) => ((this.staged = s ?? null), this.next()));
        this.staged = staged ?? null;
      }
      if (this.committed === undefined) {
        const committed = this.tree.next();
        if (committed instanceof Promise) return committed.then((c) => ((this.committed = c ?? null), this.next()));
        this.committed = committed ?? null;
      }
      const s = this.staged;
      const c = this.committed;
      if (!s && c === null) return undefined;
      const cmp = !s ? 1 : c === null ? -1 : compareKeys(s[0], c);
      if (cmp > 0) {
        this.committed = undefined;
        this.current = undefined;
        return (this.floor = c!);
      }
      this.staged = undefined;
      if (cmp === 0) this.committed = undefined;
      this.floor = s![0];
      if (s![1] !== undefined) {
        this.current = s![1];
        return s![0];
      }
    }
  }

  /** The record of the path next() returned last (before any seek). */
  stored(): MaybePromise<StoredRecord> {
    return this.current ?? this.tree.stored();
  }

  async close(): Promise<void> {
    await this.stagedAhead?.close?.();
  }
}

/** The staged side of a ViewCursor: a range held in memory (StagedRangeReader), or read from LevelDB. */
interface StagedSource {
  seek(from: string): void;
  next(): MaybePromise<StagedItem | undefined>;
  close?(): Promise<void>;
}

/**
 * The staged side of a ViewCursor for a range too large to hold in memory: entries read from a
 * LevelDB iterator in batches (one call for many entries instead of an asynchronous next() per
 * entry), paths without the staging range's `base`. After a seek it reads one entry, as a seek
 * past a common prefix often needs no more; walking on, a batch at a time.
 */
class StagedReader implements StagedSource {
  private batch: [string, string][] = [];
  private at = 0;
  private walking = false;

  constructor(
    private readonly iterator: StagedScan,
    private readonly base: string,
  ) {}

  seek(from: string): void {
    this.iterator.seek(this.base + from);
    this.batch = [];
    this.at = 0;
    this.walking = false;
  }

  /** The next staged entry: at once from the batch in hand, a promise when a batch must be read. */
  next(): MaybePromise<StagedItem | undefined> {
    return this.at < this.batch.length ? this.take() : this.read();
  }

  private async read(): Promise<StagedItem | undefined> {
    this.batch = await this.iterator.nextv(this.walking ? STAGED_BATCH : 1);
    this.at = 0;
    this.walking = true;
    return this.batch.length === 0 ? undefined : this.take();
  }

  private take(): StagedItem {
    const [key, text] = this.batch[this.at++]!;
    return [key.slice(this.base.length), StoredRecord.fromText(text)];
  }

  close(): Promise<void> {
    return this.iterator.close();
  }
}

/** A staged path and its record; undefined for a tombstone. */
type StagedItem = [path: string, record: StoredRecord | undefined];

/** Staged entries read at a time by a cursor walking on (as the LevelDB iterator's own next() does). */
const STAGED_BATCH = 1000;
