/**
 * Committed trees, shared between commits (lakeFS's ranges and metaranges).
 *
 * A tree is an immutable, sorted list of ranges; a range is an immutable sorted run of at most
 * RANGE_MAX entries. Committing rewrites only the ranges the staged changes fall into and reuses
 * every other range by id, so a commit costs in proportion to its changes, a branch is a pointer,
 * and reading a path or a page at any commit is a binary search plus one or two range reads.
 * Ranges are immutable, so they are cached in memory without invalidation.
 *
 * Ranges are small (tens of entries) and keep their records as bytes until asked (range-data.ts):
 * a read that misses the cache decodes one small range, and a commit of scattered changes rewrites
 * each range it touches by copying bytes; both then cost the same at 1,000 or 1,000,000 objects.
 * (The price is a longer tree: one RangeRef per range, ~40,000 at a million objects.)
 *
 * Ranges and trees are files (storage/range-files.ts: a commit's new ranges and its tree in one
 * pack), or, written by older versions, LevelDB records: each is read where its id says it is.
 */
import { StorageError } from "../storage/errors.js";
import { compareKeys, keyBefore, lowerBound, ordersNatively, rangeFor } from "../storage/keys.js";
import { decodeTree, encodeTreeParts, RangeData, RangeWriter } from "../storage/range-data.js";
import type { StoredRecord } from "../storage/stored-record.js";
import { isPacked } from "../storage/range-files.js";
import { ByteCache } from "../storage/byte-cache.js";
import { SEP, type MetadataStore, type ObjectRecord, type RangeRef } from "../storage/metadata-store.js";

export const EMPTY_TREE = "";
/**
 * Entries of a range, at most; one that grows past it is cut, at RANGE_SPLIT entries or where
 * between RANGE_MIN and RANGE_MAX its keys part soonest (see cutPoint).
 */
const RANGE_MAX = 32;
const RANGE_SPLIT = 24;
const RANGE_MIN = 8;
/** Bytes of committed ranges and trees kept in memory (an estimate; see storage/byte-cache.ts). */
const RANGE_CACHE_BYTES = 32 << 20;
const TREE_CACHE_BYTES = 16 << 20;
/**
 * Trees held even past TREE_CACHE_BYTES (the ones used last): a tree that is not held is read and
 * decoded again by every request that reads through it. A million objects with keys of 20
 * characters or more make a tree larger than the budget by its estimate, and a HEAD took ~100×
 * as long (17 ops/s against ~1,600).
 */
const TREES_KEPT = 2;
/** Changes read ahead by apply(), whose ranges are read from the store together. */
const PREFETCH = 256;
/**
 * Ranges a cursor walked onto once, remembered (by key) so that one walked onto again is cached:
 * about as many as the range cache holds (~4,500 at a million objects).
 */
const WALKED_KEPT = 4096;

/**
 * Where to cut an overfull range (RANGE_MAX + 1 entries): after the entry n in RANGE_MIN..RANGE_MAX
 * whose key shares the shortest prefix with the next one, the nearest RANGE_SPLIT among equals.
 * Ranges then tend to start where a folder does, so a listing with a delimiter, skipping a folder,
 * finds the next one's first key in the tree's list of ranges instead of reading the range it
 * starts in (at a million objects in 1000 folders, the root page read a thousand ranges).
 */
function cutPoint(pending: RangeWriter): number {
  let best = RANGE_SPLIT;
  let fewest = Infinity;
  for (let n = RANGE_MIN; n <= RANGE_MAX; n++) {
    const shared = sharedPrefix(pending.key(n - 1), pending.key(n));
    if (shared < fewest || (shared === fewest && Math.abs(n - RANGE_SPLIT) < Math.abs(best - RANGE_SPLIT))) {
      best = n;
      fewest = shared;
    }
  }
  return best;
}

function sharedPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** A change to apply: the record as a range stores it (encodeRecord), or null to delete the path. */
export type Change = [path: string, record: Buffer | null];

export class TreeStore {
  private readonly rangeCache = new ByteCache<RangeData>(RANGE_CACHE_BYTES, (r) => r.bytes, { buffersOf: (r) => r.encode().buffer.byteLength });
  private readonly treeCache: ByteCache<RangeRef[]>;
  /** Keys of ranges walked onto once and not cached (see ranges(), "again"); the oldest first. */
  private readonly walkedOnce = new Set<string>();

  constructor(
    private readonly store: MetadataStore,
    /** The tree cache's budget (a test's, to make a small tree larger than it). */
    treeCacheBytes = TREE_CACHE_BYTES,
  ) {
    this.treeCache = new ByteCache<RangeRef[]>(treeCacheBytes, treeBytes, { keepAtLeast: TREES_KEPT });
  }

  /** A tree's ranges; a tree that cannot be read is a StorageError "metadata-damaged". */
  async refs(repo: string, tree: string): Promise<RangeRef[]> {
    if (tree === EMPTY_TREE) return [];
    const key = repo + SEP + tree;
    let refs = this.treeCache.get(key);
    if (!refs) this.treeCache.set(key, (refs = await this.readRefs(repo, tree)));
    return refs;
  }

  private async readRefs(repo: string, tree: string): Promise<RangeRef[]> {
    if (isPacked(tree)) return decodeTree(this.store.rangeFiles.read(repo, tree));
    return (await this.store.trees.get(repo + SEP + tree)) ?? missing(repo, "tree", tree);
  }

  async range(repo: string, id: string): Promise<RangeData> {
    return this.cachedRange(repo + SEP + id) ?? (await this.ranges(repo, [id]))[0]!;
  }

  /** A range if it is in the cache, by its key (repo!id). */
  cachedRange(key: string): RangeData | undefined {
    return this.rangeCache.get(key);
  }

  /**
   * Ranges by id, in order: those in the cache from it, the others read (from their pack files, or
   * together in one getMany kept out of LevelDB's block cache, since they are cached here) and
   * cached unless `cache` is off, or, when it is "again", unless this is the first time lately
   * that they are read so: a listing page walks on through ranges that, at a million objects, the
   * next page seldom reads again, and caching each pushed out others, kept it alive into V8's old
   * generation and made work for its collections (a page from a random start-after: 9.5–10.6 ms
   * against 13.1–13.4, alternated twice); a prefix listed again is cached the second time. A
   * range that cannot be read is a StorageError "metadata-damaged".
   */
  async ranges(repo: string, ids: readonly string[], cache: boolean | "again" = true): Promise<RangeData[]> {
    const out = ids.map((id) => this.rangeCache.get(repo + SEP + id));
    const read: number[] = [];
    const legacy: number[] = [];
    ids.forEach((id, i) => {
      if (out[i]) return;
      read.push(i);
      if (isPacked(id)) out[i] = RangeData.decode(this.store.rangeFiles.read(repo, id));
      else legacy.push(i);
    });
    if (legacy.length > 0) {
      const values = await this.store.ranges.getMany(legacy.map((i) => repo + SEP + ids[i]), { fillCache: false } as object);
      legacy.forEach((i, m) => (out[i] = values[m] ?? missing(repo, "range", ids[i]!)));
    }
    for (const i of read) {
      const key = repo + SEP + ids[i];
      if (cache === true || (cache === "again" && this.walkedBefore(key))) this.rangeCache.set(key, out[i]!);
    }
    return out as RangeData[];
  }

  /** Whether range `key` was walked onto lately (see ranges()); it is remembered as walked onto now. */
  private walkedBefore(key: string): boolean {
    if (this.walkedOnce.delete(key)) return true;
    if (this.walkedOnce.size >= WALKED_KEPT) this.walkedOnce.delete(this.walkedOnce.values().next().value!);
    this.walkedOnce.add(key);
    return false;
  }

  /**
   * Every range a commit of `repo` (of every repository when omitted) names through its tree,
   * once, with its repository: all the store holds committed. A tree or range that cannot be read
   * is handed to `onDamage` and skipped when it is given, else thrown.
   */
  async *committedRanges(options: { repo?: string; onDamage?: (err: StorageError) => void } = {}): AsyncGenerator<[repo: string, range: RangeData]> {
    const damaged = (err: unknown) => {
      if (!options.onDamage || !(err instanceof StorageError) || err.problem !== "metadata-damaged") throw err;
      options.onDamage(err);
    };
    const seen = new Set<string>();
    for await (const [key, commit] of this.store.commits.iterator(options.repo === undefined ? {} : rangeFor(options.repo + SEP))) {
      const repo = key.slice(0, key.indexOf(SEP));
      if (seen.has(repo + SEP + commit.tree)) continue;
      seen.add(repo + SEP + commit.tree);
      let refs: RangeRef[];
      try {
        // Not cached: a whole-store walk would push out the trees readers use.
        refs = commit.tree === EMPTY_TREE ? [] : (this.treeCache.get(repo + SEP + commit.tree) ?? (await this.readRefs(repo, commit.tree)));
      } catch (err) {
        damaged(err);
        continue;
      }
      for (const { id } of refs) {
        if (seen.has(repo + SEP + id)) continue;
        seen.add(repo + SEP + id);
        let range: RangeData;
        try {
          [range] = (await this.ranges(repo, [id], false)) as [RangeData];
        } catch (err) {
          damaged(err);
          continue;
        }
        yield [repo, range];
      }
    }
  }

  async get(repo: string, tree: string, path: string): Promise<ObjectRecord | undefined> {
    const refs = await this.refs(repo, tree);
    const i = firstRangeEndingAtOrAfter(refs, path);
    if (i >= refs.length || compareKeys(path, refs[i]!.first) < 0) return undefined;
    const range = await this.range(repo, refs[i]!.id);
    const j = range.indexOf(path);
    return j < 0 ? undefined : range.record(j);
  }

  /** A cursor over a tree's entries, at its start (see TreeCursor). */
  async cursor(repo: string, tree: string): Promise<TreeCursor> {
    return new TreeCursor(this, repo, await this.refs(repo, tree));
  }

  /**
   * A new tree: `base` with `changes` (sorted by path, unique) applied. Only the ranges the
   * changes touch are rewritten; the tree goes into `batch`. Returns the tree id.
   *
   * Changes stream in (a commit of 100,000 staged objects never holds them all), and so do the
   * new ranges: into one pack file, and the tree after them, synced and in place before this
   * returns, so before the commit record (the only record that names the tree) can be written. A
   * crash before that leaves a pack no commit names.
   */
  async apply(repo: string, base: string, changes: Iterable<Change> | AsyncIterable<Change>): Promise<string> {
    const refs = await this.refs(repo, base);
    // The ranges the changes fall into, read ahead; not cached, since the new tree replaces them.
    const prefetched = new Map<string, RangeData>();
    const it = this.prefetched(repo, refs, changes, prefetched);
    let next = await it.next();
    if (next.done) return base;
    const out = new TreeBuilder(refs);
    const pack = this.store.rangeFiles.writer(repo);
    // Entries of the range being written; kept records are copied as their stored bytes.
    const pending = new RangeWriter();
    const emit = async (n: number) => {
      // Not cached: a commit of many changes would push every range readers use out of the cache
      // and hold its own new ranges in memory; a new range is cached when it is first read.
      const { bytes, first, last } = pending.take(n);
      out.add({ id: await pack.add(bytes), first, last });
    };
    const overfull = () => pending.length > RANGE_MAX;
    const split = () => emit(cutPoint(pending));
    const endRange = async () => {
      if (pending.length > 0) await emit(pending.length);
    };
    try {
      for (let i = 0; i < refs.length; i++) {
        // The ranges before the one the next change falls into are kept (a commit of scattered
        // changes at a million objects passes tens of thousands of ranges).
        const to = next.done ? refs.length : next.value[2];
        out.keep(i, to);
        if ((i = to) === refs.length) break;
        const ref = refs[i]!;
        const range = prefetched.get(ref.id) ?? (await this.range(repo, ref.id));
        prefetched.delete(ref.id);
        let j = 0;
        while (!next.done && next.value[2] === i) {
          const [path, record] = next.value;
          for (; j < range.length && compareKeys(range.keys[j]!, path) < 0; j++) {
            pending.copy(range, j);
            if (overfull()) await split();
          }
          if (j < range.length && range.keys[j] === path) j++;
          if (record) pending.add(path, record);
          if (overfull()) await split();
          next = await it.next();
        }
        for (; j < range.length; j++) {
          pending.copy(range, j);
          if (overfull()) await split();
        }
        await endRange();
      }
      for (; !next.done; next = await it.next()) {
        if (next.value[1]) pending.add(next.value[0], next.value[1]);
        if (overfull()) await split();
      }
      await endRange();
      // The refs kept are copied as they are stored in the base tree (read again: a few megabytes
      // from the page cache at a million objects, against serializing tens of thousands of refs).
      const { refs: tree, at } = out.build();
      const stored = isPacked(base) ? { bytes: this.store.rangeFiles.read(repo, base), at } : undefined;
      const id = tree.length === 0 ? EMPTY_TREE : await pack.add(encodeTreeParts(tree, stored));
      await pack.seal();
      if (id !== EMPTY_TREE) this.treeCache.set(repo + SEP + id, tree);
      return id;
    } catch (err) {
      await pack.abort();
      throw err;
    }
  }

  /**
   * The changes, each with the index in `refs` of the range it falls into (the last range for a
   * path past it), read ahead PREFETCH at a time: the ranges of `refs` they fall into are read from
   * the store together (one getMany) into `into` before apply() needs them, not one at a time.
   */
  private async *prefetched(repo: string, refs: readonly RangeRef[], changes: Iterable<Change> | AsyncIterable<Change>, into: Map<string, RangeData>): AsyncGenerator<[...Change, range: number]> {
    let chunk: [...Change, range: number][] = [];
    let from = 0; // the changes come in path order: each is in the range of the one before or past it
    const prefetch = async () => {
      const ids = new Set<string>();
      for (const placed of chunk) {
        from = firstRangeEndingAtOrAfter(refs, placed[0], from);
        placed[2] = Math.min(from, refs.length - 1);
        const ref = refs[placed[2]];
        if (ref && !into.has(ref.id)) ids.add(ref.id);
      }
      const wanted = [...ids];
      const ranges = await this.ranges(repo, wanted, false);
      wanted.forEach((id, i) => into.set(id, ranges[i]!));
    };
    for await (const [path, record] of changes) {
      chunk.push([path, record, 0]);
      if (chunk.length < PREFETCH) continue;
      await prefetch();
      yield* chunk;
      chunk = [];
    }
    await prefetch();
    yield* chunk;
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
    const leftIt = this.slotsExcept(repo, left, rightIds);
    const rightIt = this.slotsExcept(repo, right, shared);
    let l = await leftIt.next();
    let r = await rightIt.next();
    while (!l.done || !r.done) {
      const cmp = l.done ? 1 : r.done ? -1 : compareKeys(l.value[0], r.value[0]);
      if (cmp < 0) {
        yield [l.value![0], recordAt(l.value!), undefined];
        l = await leftIt.next();
      } else if (cmp > 0) {
        yield [r.value![0], undefined, recordAt(r.value!)];
        r = await rightIt.next();
      } else {
        // A record copied unchanged into a rewritten range is the same bytes: no need to parse it.
        const [, lr, li] = l.value!;
        const [, rr, ri] = r.value!;
        if (!lr.raw(li).equals(rr.raw(ri))) {
          const a = lr.record(li);
          const b = rr.record(ri);
          if (!sameObject(a, b)) yield [l.value![0], a, b];
        }
        l = await leftIt.next();
        r = await rightIt.next();
      }
    }
  }

  /** A tree's entries as [path, range, index], skipping whole ranges whose ids are in `skip`. */
  private async *slotsExcept(repo: string, tree: string, skip: Set<string>): AsyncGenerator<Slot> {
    const ids = (await this.refs(repo, tree)).map((r) => r.id).filter((id) => !skip.has(id));
    for (let at = 0; at < ids.length; at += READ_AHEAD) {
      for (const range of await this.ranges(repo, ids.slice(at, at + READ_AHEAD))) {
        for (let i = 0; i < range.length; i++) yield [range.keys[i]!, range, i];
      }
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

/**
 * A new tree's refs as apply() finds them: runs of its base tree's refs kept as they are, and new
 * refs. Put together once at the end: an array grown a ref at a time is copied at each growth, and
 * past ~16,000 refs each copy goes straight to V8's old generation, where at a million objects the
 * copies (of it and of the index of kept refs) started a full collection at every commit.
 */
class TreeBuilder {
  /** Runs of refs, each with the index in the base of its first ref, or -1 for new refs. */
  private readonly runs: [from: number, refs: RangeRef[]][] = [];

  constructor(private readonly base: readonly RangeRef[]) {}

  /** Keep the base's refs from..to (exclusive). */
  keep(from: number, to: number): void {
    if (to > from) this.runs.push([from, this.base.slice(from, to)]);
  }

  add(ref: RangeRef): void {
    const last = this.runs.at(-1);
    if (last?.[0] === -1) last[1].push(ref);
    else this.runs.push([-1, [ref]]);
  }

  /** The refs, and for each its index in the base, or -1. */
  build(): { refs: RangeRef[]; at: Int32Array } {
    let refs: RangeRef[] = [];
    // concat sizes its result once; a few thousand runs at a time, as arguments.
    for (let i = 0; i < this.runs.length; i += 4096) refs = refs.concat(...this.runs.slice(i, i + 4096).map(([, r]) => r));
    const at = new Int32Array(refs.length);
    let k = 0;
    for (const [from, run] of this.runs) for (let j = 0; j < run.length; j++) at[k++] = from < 0 ? -1 : from + j;
    return { refs, at };
  }
}

/** approxBytes of a tree, without walking its ~20,000 refs as generic objects. */
function treeBytes(refs: readonly RangeRef[]): number {
  let n = 32;
  for (const r of refs) n += 200 + 2 * (r.id.length + r.first.length + r.last.length);
  return n;
}

function firstRangeEndingAtOrAfter(refs: readonly RangeRef[], path: string, lo = 0): number {
  const native = ordersNatively(path);
  let hi = refs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keyBefore(refs[mid]!.last, path, native)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * What a tree's cursors look up at each seek, made once per tree and kept while the tree is: its
 * ranges' last keys in one array, and their cache keys (repo!id), each made when first used. Read
 * from tens of thousands of RangeRefs spread over the heap, and a cache key made anew (and hashed)
 * at every lookup, they cost more than the rest of a delimiter listing's step past a common
 * prefix, at a million objects.
 */
class TreeIndex {
  private readonly lasts: readonly string[];
  private readonly keys: (string | undefined)[];

  private constructor(
    private readonly repo: string,
    private readonly refs: readonly RangeRef[],
  ) {
    this.lasts = refs.map((r) => r.last);
    this.keys = new Array<string | undefined>(refs.length);
  }

  /** A tree's refs are its repository's: they alone name the index. */
  private static readonly made = new WeakMap<readonly RangeRef[], TreeIndex>();

  static of(repo: string, refs: readonly RangeRef[]): TreeIndex {
    let index = TreeIndex.made.get(refs);
    if (!index) TreeIndex.made.set(refs, (index = new TreeIndex(repo, refs)));
    return index;
  }

  /** Range i's cache key. */
  rangeKey(i: number): string {
    return (this.keys[i] ??= this.repo + SEP + this.refs[i]!.id);
  }

  /**
   * The first range at or after `i` ending at or after `path`, for a cursor at range `i` all of
   * whose predecessors end before it. Its seeks land mostly a few ranges on, and past common
   * prefixes of like size alike far apart: the search tries `guess` (as far on as the last seek
   * went) and its predecessor first, then gallops (1, 2, 4, … ranges on) before it bisects.
   */
  ahead(path: string, i: number, guess: number): number {
    const native = ordersNatively(path);
    // the answer is in [lo, hi]: ranges before lo end before `path`, range hi does not (or is none)
    let lo = i;
    let hi = this.lasts.length;
    if (guess > i && guess < hi) {
      if (this.endsBefore(guess, path, native)) lo = guess + 1;
      else if (this.endsBefore(guess - 1, path, native)) return guess;
      else hi = guess - 1;
    }
    for (let step = 1; lo + step - 1 < hi; step *= 2) {
      const probe = lo + step - 1;
      if (!this.endsBefore(probe, path, native)) {
        hi = probe;
        break;
      }
      lo = probe + 1;
    }
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.endsBefore(mid, path, native)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether range i ends before `path` (`native`: ordersNatively(path)). */
  endsBefore(i: number, path: string, native = ordersNatively(path)): boolean {
    return keyBefore(this.lasts[i]!, path, native);
  }
}

/**
 * A forward cursor over a tree's entries that can seek: `seek(from)` is a search within the range
 * in hand when `from` falls in it, else over the ranges ahead of it, so a listing skips past a
 * common prefix without reading what lies under it. A range is read when next() needs it; next()
 * answers the path, stored() its record (parsed only when asked: a listing that makes a common
 * prefix of a path never needs it).
 */
export class TreeCursor {
  private i = 0;
  private range: RangeData | undefined;
  private j = 0;
  private from = "";
  private jump = 1;
  /** Ranges read ahead while the cursor walks range after range (not after a seek jumped). */
  private ahead: RangeData[] = [];
  /** Range i's first path was returned from its ref, the range itself not read (see next()). */
  private atFirst = false;
  private readonly index: TreeIndex;

  constructor(
    private readonly trees: TreeStore,
    private readonly repo: string,
    private readonly refs: readonly RangeRef[],
  ) {
    this.index = TreeIndex.of(repo, refs);
  }

  /** Next, return the first entry ≥ `from` not returned yet (a cursor never moves backwards). */
  seek(from: string): void {
    if (compareKeys(from, this.from) <= 0) return;
    this.from = from;
    this.atFirst = false; // `from` is past that first path now: searching for it skips it
    if (this.i < this.refs.length && !this.index.endsBefore(this.i, from)) {
      // in range i still (if it is not read yet, next() searches it from `from`)
      if (this.range) this.j = Math.max(this.j, lowerBound(this.range.keys, from));
      return;
    }
    const i = this.index.ahead(from, this.i + 1, this.i + this.jump);
    this.jump = i - this.i;
    this.i = i;
    this.range = undefined;
    this.ahead = [];
  }

  /**
   * The next entry's path (undefined at the end): at once while the range in hand has more, a
   * promise when a range must be read first.
   */
  next(): MaybePromise<string | undefined> {
    if (this.range && this.j < this.range.length) return (this.from = this.range.keys[this.j++]!);
    if (this.i >= this.refs.length) return undefined;
    // A range's first path is in its ref: when it is the next entry, it is answered without
    // reading the range, so a listing that makes a common prefix of it and seeks past never reads
    // the range (a delimiter page at the root of a million objects in a thousand folders read
    // about a thousand ranges).
    if (!this.range) {
      const first = this.refs[this.i]!.first;
      if (!this.atFirst && compareKeys(this.from, first) <= 0) {
        this.atFirst = true;
        return (this.from = first);
      }
      // A range in the cache is searched at once, without a promise (a seek past a common prefix
      // lands in a new range for every folder of a delimiter page).
      const cached = this.ahead.length === 0 ? this.cached() : undefined;
      if (cached) {
        this.inHand(cached);
        if (this.j < cached.length) return (this.from = cached.keys[this.j++]!);
      }
    }
    return this.read();
  }

  /** Range i if it is in the cache. */
  private cached(): RangeData | undefined {
    return this.trees.cachedRange(this.index.rangeKey(this.i));
  }

  /** Range i, read: the cursor goes on past `from` (past the first path, if that was answered from the ref). */
  private inHand(range: RangeData): RangeData {
    this.range = range;
    this.j = this.atFirst ? 1 : lowerBound(range.keys, this.from);
    this.atFirst = false;
    return range;
  }

  private async read(): Promise<string | undefined> {
    while (this.i < this.refs.length) {
      const range = this.range ?? this.inHand(this.ahead.shift() ?? this.cached() ?? (await this.trees.range(this.repo, this.refs[this.i]!.id)));
      if (this.j < range.length) {
        this.from = range.keys[this.j++]!;
        return this.from;
      }
      this.i++;
      this.range = undefined;
      // Walking on from one range to the next (a page of a listing): read the next ones together,
      // cached only when walked onto again.
      if (this.ahead.length === 0 && this.i < this.refs.length) {
        this.ahead = await this.trees.ranges(this.repo, this.refs.slice(this.i, this.i + READ_AHEAD).map((r) => r.id), "again");
      }
    }
    return undefined;
  }

  /** The record of the path next() returned last (before any seek): read first if it came from the ref. */
  stored(): MaybePromise<StoredRecord> {
    if (!this.atFirst) return this.range!.stored(this.j - 1);
    const recordOfFirst = (range: RangeData) => this.inHand(range).stored(0);
    const cached = this.cached();
    return cached ? recordOfFirst(cached) : this.trees.range(this.repo, this.refs[this.i]!.id).then(recordOfFirst);
  }
}

/** A value, or a promise of it when it has to be read first. */
export type MaybePromise<T> = T | Promise<T>;

/** Ranges read together by a cursor walking on, and by diff(). */
const READ_AHEAD = 16;

/** An entry in place: its path, its range and its index there (parsed only when needed). */
type Slot = [path: string, range: RangeData, index: number];

const recordAt = ([, range, i]: Slot): ObjectRecord => range.record(i);

function missing(repo: string, what: "range" | "tree", id: string): never {
  throw new StorageError("metadata-damaged", `committed metadata of repository ${repo} is damaged: its ${what} ${id} is missing from the metadata store; run \`lakes3 doctor\` to list what is affected`);
}
