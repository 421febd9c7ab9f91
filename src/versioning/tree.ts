/**
 * Committed trees, shared between commits (lakeFS's ranges and metaranges, over LevelDB).
 *
 * A tree is an immutable, sorted list of ranges; a range is an immutable sorted run of at most
 * RANGE_MAX entries. Committing rewrites only the ranges the staged changes fall into and reuses
 * every other range by id, so a commit costs in proportion to its changes, a branch is a pointer,
 * and reading a path or a page at any commit is a binary search plus one or two range reads.
 * Ranges are immutable, so they are cached in memory without invalidation.
 */
import { randomBytes } from "node:crypto";
import { compareKeys } from "../storage/keys.js";
import { approxBytes, ByteCache } from "./byte-cache.js";
import { SEP, type Batch, type MetadataStore, type ObjectRecord, type RangeEntry, type RangeRef } from "../storage/metadata-store.js";

export const EMPTY_TREE = "";
const RANGE_MAX = 1000;
const RANGE_SPLIT = 500;
/** Bytes of committed ranges and trees kept in memory (an estimate; see byte-cache.ts). */
const RANGE_CACHE_BYTES = 32 << 20;
const TREE_CACHE_BYTES = 8 << 20;

/** A change to apply: a record, or null to delete the path. */
export type Change = [path: string, record: ObjectRecord | null];

export class TreeStore {
  private readonly rangeCache = new ByteCache<RangeEntry[]>(RANGE_CACHE_BYTES, approxBytes);
  private readonly treeCache = new ByteCache<RangeRef[]>(TREE_CACHE_BYTES, approxBytes);

  constructor(private readonly store: MetadataStore) {}

  async refs(repo: string, tree: string): Promise<RangeRef[]> {
    if (tree === EMPTY_TREE) return [];
    const key = repo + SEP + tree;
    let refs = this.treeCache.get(key);
    if (!refs) {
      refs = (await this.store.trees.get(key)) ?? [];
      this.treeCache.set(key, refs);
    }
    return refs;
  }

  async range(repo: string, id: string): Promise<RangeEntry[]> {
    const key = repo + SEP + id;
    let entries = this.rangeCache.get(key);
    if (!entries) {
      // Cached here, so not in LevelDB's block cache too.
      entries = (await this.store.ranges.get(key, { fillCache: false } as object)) ?? [];
      this.rangeCache.set(key, entries);
    }
    return entries;
  }

  async get(repo: string, tree: string, path: string): Promise<ObjectRecord | undefined> {
    const refs = await this.refs(repo, tree);
    const i = firstRangeEndingAtOrAfter(refs, path);
    if (i >= refs.length || compareKeys(path, refs[i]!.first) < 0) return undefined;
    const entries = await this.range(repo, refs[i]!.id);
    const j = lowerBound(entries, path);
    return j < entries.length && entries[j]![0] === path ? entries[j]![1] : undefined;
  }

  /** Entries with path ≥ `from` (or > when `exclusive`), in order, across ranges. */
  async *entries(repo: string, tree: string, from = "", exclusive = false): AsyncGenerator<RangeEntry> {
    const refs = await this.refs(repo, tree);
    for (let i = firstRangeEndingAtOrAfter(refs, from); i < refs.length; i++) {
      const entries = await this.range(repo, refs[i]!.id);
      let j = lowerBound(entries, from);
      if (exclusive && j < entries.length && entries[j]![0] === from) j++;
      for (; j < entries.length; j++) yield entries[j]!;
    }
  }

  /**
   * A new tree: `base` with `changes` (sorted by path, unique) applied. Only the ranges the
   * changes touch are rewritten; the tree goes into `batch`. Returns the tree id.
   *
   * Changes stream in (a commit of 100,000 staged objects never holds them all), and so do the
   * new ranges: they go into `batch` too, unless they add up to more than RANGE_FLUSH_BYTES, in
   * which case they are written ahead in synced batches of their own. That is safe because a range
   * is immutable and unreferenced until the tree that names it lands with `batch`; a crash before
   * that leaves only unreferenced ranges.
   */
  async apply(repo: string, base: string, changes: Iterable<Change> | AsyncIterable<Change>, batch: Batch): Promise<string> {
    const it = (Symbol.asyncIterator in changes ? changes[Symbol.asyncIterator]() : (changes as Iterable<Change>)[Symbol.iterator]()) as AsyncIterator<Change> | Iterator<Change>;
    let next = await it.next();
    if (next.done) return base;
    const refs = await this.refs(repo, base);
    const out: RangeRef[] = [];
    const ahead = new RangeWriter(this.store);
    let pending: RangeEntry[] = [];
    const emit = async (chunk: RangeEntry[]) => {
      const id = newId();
      // Not cached: a commit of many changes would push every range readers use out of the cache
      // and hold its own new ranges in memory; a new range is cached when it is first read.
      await ahead.put(repo + SEP + id, chunk, approxBytes(chunk));
      out.push({ id, first: chunk[0]![0], last: chunk.at(-1)![0] });
    };
    // A range that grows past RANGE_MAX is cut into RANGE_SPLIT-sized ranges, leaving room to grow.
    const push = async (entry: RangeEntry) => {
      pending.push(entry);
      if (pending.length > RANGE_MAX) await emit(pending.splice(0, RANGE_SPLIT));
    };
    const endRange = async () => {
      if (pending.length > 0) await emit(pending);
      pending = [];
    };
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      const last = i === refs.length - 1;
      if (next.done || (!last && compareKeys(next.value[0], ref.last) > 0)) {
        out.push(ref);
        continue;
      }
      const entries = await this.range(repo, ref.id);
      let j = 0;
      while (!next.done && (last || compareKeys(next.value[0], ref.last) <= 0)) {
        const [path, record] = next.value;
        while (j < entries.length && compareKeys(entries[j]![0], path) < 0) await push(entries[j++]!);
        if (j < entries.length && entries[j]![0] === path) j++;
        if (record) await push([path, record]);
        next = await it.next();
      }
      while (j < entries.length) await push(entries[j++]!);
      await endRange();
    }
    for (; !next.done; next = await it.next()) if (next.value[1]) await push([next.value[0], next.value[1]]);
    await endRange();
    ahead.finish(batch);
    if (out.length === 0) return EMPTY_TREE;
    const id = newId();
    batch.put(repo + SEP + id, out, { sublevel: this.store.trees });
    this.treeCache.set(repo + SEP + id, out);
    return id;
  }

  /**
   * Differences between two trees, in path order: [path, left, right] for every path whose
   * record differs. Ranges both trees share are skipped without being read (the ranges of one
   * tree are disjoint, so a path outside the shared ranges cannot be inside them on either side).
   */
  async *diff(repo: string, left: string, right: string): AsyncGenerator<[string, ObjectRecord | undefined, ObjectRecord | undefined]> {
    if (left === right) return;
    const shared = new Set((await this.refs(repo, left)).map((r) => r.id));
    const rightRefs = await this.refs(repo, right);
    const rightIds = new Set(rightRefs.map((r) => r.id));
    const leftIt = this.entriesExcept(repo, left, rightIds);
    const rightIt = this.entriesExcept(repo, right, shared);
    let l = await leftIt.next();
    let r = await rightIt.next();
    while (!l.done || !r.done) {
      const cmp = l.done ? 1 : r.done ? -1 : compareKeys(l.value[0], r.value[0]);
      if (cmp < 0) {
        yield [l.value![0], l.value![1], undefined];
        l = await leftIt.next();
      } else if (cmp > 0) {
        yield [r.value![0], undefined, r.value![1]];
        r = await rightIt.next();
      } else {
        if (!sameObject(l.value![1], r.value![1])) yield [l.value![0], l.value![1], r.value![1]];
        l = await leftIt.next();
        r = await rightIt.next();
      }
    }
  }

  /** Entries of a tree, skipping whole ranges whose ids are in `skip`. */
  private async *entriesExcept(repo: string, tree: string, skip: Set<string>): AsyncGenerator<RangeEntry> {
    for (const ref of await this.refs(repo, tree)) {
      if (skip.has(ref.id)) continue;
      yield* await this.range(repo, ref.id);
    }
  }
}

/**
 * Two records are the same entry when their identities match, as lakeFS's (pkg/catalog/entry.go
 * EntryToValue: size, ETag, user metadata and content type; never the physical address), so the
 * same bytes written separately on two branches are no difference and no conflict. The headers
 * lakes3 keeps and lakeFS drops (Cache-Control, …) count too.
 */
export function sameObject(a: ObjectRecord | undefined, b: ObjectRecord | undefined): boolean {
  if (!a || !b) return a === b;
  return a.etag === b.etag && a.size === b.size && a.contentType === b.contentType && sameStrings(a.userMeta, b.userMeta) && sameStrings(a.headers, b.headers);
}

function sameStrings(a: object, b: object): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) if (x[k] !== y[k]) return false;
  return true;
}

/** New ranges' bytes (estimated) past which they are written ahead of the batch that names them. */
const RANGE_FLUSH_BYTES = 2 << 20;

/**
 * Holds the new ranges of one apply(): in memory while they are small, so that they land with the
 * tree in one batch; past RANGE_FLUSH_BYTES, written ahead in synced batches of their own.
 */
class RangeWriter {
  private pending: [key: string, entries: RangeEntry[]][] = [];
  private bytes = 0;

  constructor(private readonly store: MetadataStore) {}

  async put(key: string, entries: RangeEntry[], bytes: number): Promise<void> {
    this.pending.push([key, entries]);
    this.bytes += bytes;
    if (this.bytes <= RANGE_FLUSH_BYTES) return;
    const ahead = this.store.batch();
    this.finish(ahead);
    await ahead.write({ sync: true });
  }

  /** Put what is still pending into `batch`. */
  finish(batch: Batch): void {
    for (const [key, entries] of this.pending) batch.put(key, entries, { sublevel: this.store.ranges });
    this.pending = [];
    this.bytes = 0;
  }
}

function firstRangeEndingAtOrAfter(refs: readonly RangeRef[], path: string): number {
  let lo = 0;
  let hi = refs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(refs[mid]!.last, path) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBound(entries: readonly RangeEntry[], path: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(entries[mid]![0], path) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function newId(): string {
  return randomBytes(12).toString("hex");
}
