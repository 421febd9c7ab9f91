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
import { SEP, type Batch, type MetadataStore, type ObjectRecord, type RangeEntry, type RangeRef } from "../storage/metadata-store.js";

export const EMPTY_TREE = "";
const RANGE_MAX = 1000;
const RANGE_SPLIT = 500;
const CACHE_SIZE = 512;

/** A change to apply: a record, or null to delete the path. */
export type Change = [path: string, record: ObjectRecord | null];

export class TreeStore {
  private readonly rangeCache = new Map<string, RangeEntry[]>();
  private readonly treeCache = new Map<string, RangeRef[]>();

  constructor(private readonly store: MetadataStore) {}

  async refs(repo: string, tree: string): Promise<RangeRef[]> {
    if (tree === EMPTY_TREE) return [];
    const key = repo + SEP + tree;
    let refs = this.treeCache.get(key);
    if (!refs) {
      refs = (await this.store.trees.get(key)) ?? [];
      remember(this.treeCache, key, refs);
    }
    return refs;
  }

  async range(repo: string, id: string): Promise<RangeEntry[]> {
    const key = repo + SEP + id;
    let entries = this.rangeCache.get(key);
    if (!entries) {
      entries = (await this.store.ranges.get(key)) ?? [];
      remember(this.rangeCache, key, entries);
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
   * changes touch are rewritten; new ranges and the tree go into `batch`. Returns the tree id.
   */
  async apply(repo: string, base: string, changes: readonly Change[], batch: Batch): Promise<string> {
    if (changes.length === 0) return base;
    const refs = await this.refs(repo, base);
    const out: RangeRef[] = [];
    let c = 0;
    const write = (entries: RangeEntry[]) => {
      for (let i = 0; i < entries.length; i += entries.length > RANGE_MAX ? RANGE_SPLIT : RANGE_MAX) {
        const chunk = entries.slice(i, i + (entries.length > RANGE_MAX ? RANGE_SPLIT : RANGE_MAX));
        const id = newId();
        batch.put(repo + SEP + id, chunk, { sublevel: this.store.ranges });
        remember(this.rangeCache, repo + SEP + id, chunk);
        out.push({ id, first: chunk[0]![0], last: chunk.at(-1)![0] });
      }
    };
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      const last = i === refs.length - 1;
      let end = c;
      while (end < changes.length && (last || compareKeys(changes[end]![0], ref.last) <= 0)) end++;
      if (end === c) {
        out.push(ref);
        continue;
      }
      write(merge(await this.range(repo, ref.id), changes.slice(c, end)));
      c = end;
    }
    if (c < changes.length) write(merge([], changes.slice(c)));
    if (out.length === 0) return EMPTY_TREE;
    const id = newId();
    batch.put(repo + SEP + id, out, { sublevel: this.store.trees });
    remember(this.treeCache, repo + SEP + id, out);
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

/** Two records describe the same object when they point at the same bytes. */
export function sameObject(a: ObjectRecord | undefined, b: ObjectRecord | undefined): boolean {
  if (!a || !b) return a === b;
  return a.etag === b.etag && a.size === b.size && a.parts.length === b.parts.length && a.parts.every((p, i) => p.blobId === b.parts[i]!.blobId);
}

function merge(entries: readonly RangeEntry[], changes: readonly Change[]): RangeEntry[] {
  const out: RangeEntry[] = [];
  let i = 0;
  for (const [path, record] of changes) {
    while (i < entries.length && compareKeys(entries[i]![0], path) < 0) out.push(entries[i++]!);
    if (i < entries.length && entries[i]![0] === path) i++;
    if (record) out.push([path, record]);
  }
  while (i < entries.length) out.push(entries[i++]!);
  return out;
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

/** Cache a value, dropping the oldest entry once the cache holds more than `max`. */
export function remember<V>(cache: Map<string, V>, key: string, value: V, max = CACHE_SIZE): void {
  cache.set(key, value);
  if (cache.size > max) cache.delete(cache.keys().next().value!);
}
