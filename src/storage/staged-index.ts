/**
 * Staging ranges held in memory, in key order, for listings: the entries of one branch state
 * (`repo!token!`, every path staged under it) read from LevelDB once and kept up to date by every
 * staging write after.
 *
 * A listing page read its thousand staged entries through a LevelDB iterator: a batch read on the
 * thread pool, each entry copied out of LevelDB, made into two JS strings and an array, and handed
 * through the sublevel's layers. Profiled on the side-by-side benchmark, that was some 40% of the
 * server's CPU for a page; held here, a page reads the entries where they are.
 *
 * A range is read whole the first time a listing asks for it, from a LevelDB snapshot taken as the
 * index begins recording the range's writes; the writes that end while it is read are applied over
 * it in the order they ended. Writes of one key never overlap (the catalog writes a key under
 * its lock); when they do, or a write fails, or the store is cleared or reopened, what they touched
 * is dropped, and the next listing reads it from the store again.
 *
 * Bounded by an estimate of bytes: the range listed least lately goes first, and a range larger
 * than the whole budget is not held at all (its listings read LevelDB, as before).
 */
import { compareKeys, keyBefore, ordersNatively, rangeFor } from "./keys.js";
import { StoredRecord } from "./stored-record.js";

/** An iterator over a staging range (MetadataStore.scanStaged): whole keys, stored texts, its snapshot taken when it is made. */
export interface StagedScan {
  nextv(size: number): Promise<[key: string, text: string][]>;
  seek(target: string): void;
  close(): Promise<void>;
}

export class StagedIndex {
  /** Held ranges by base, the one listed least lately first. */
  private readonly ranges = new Map<string, StagedRange>();
  /** Ranges being read, with the writes that ended meanwhile. */
  private readonly loading = new Map<string, Loading>();
  /** Ranges found larger than the budget (their listings read the store). */
  private readonly oversized = new Set<string>();
  private bytes = 0;

  constructor(
    private readonly budget: number,
    /** The range's base is the staging key of the empty path (`repo!token!`). */
    private readonly scan: (base: string) => StagedScan,
  ) {}

  /** The range under `base`, read from the store if it is not held; undefined when it is too large to hold. */
  async range(base: string): Promise<StagedRange | undefined> {
    const held = this.ranges.get(base);
    if (held) {
      this.ranges.delete(base);
      this.ranges.set(base, held);
      return held;
    }
    if (this.oversized.has(base)) return undefined;
    return (this.loading.get(base) ?? this.load(base)).done;
  }

  /** A write of staging `key` succeeded: `text` is what it stores now (undefined: deleted). */
  written(key: string, text: string | undefined): void {
    if (this.ranges.size === 0 && this.loading.size === 0) return;
    const base = baseOf(key);
    if (compareKeys(key, rangeFor(base).lt) >= 0) return; // past the range a scan reads (its end marker)
    const loading = this.loading.get(base);
    if (loading) loading.writes.push([key.slice(base.length), text]);
    const range = this.ranges.get(base);
    if (!range) return;
    this.bytes -= range.bytes;
    range.write(key.slice(base.length), text);
    this.bytes += range.bytes;
    this.fit();
  }

  /** A write of staging `key` failed or overlapped another: what it stores is not known here. */
  unsure(key: string): void {
    const base = baseOf(key);
    const loading = this.loading.get(base);
    if (loading) loading.unsure = true;
    this.drop(base);
  }

  /** Forget every range (the store was cleared or reopened). */
  clear(): void {
    for (const loading of this.loading.values()) loading.unsure = true;
    this.ranges.clear();
    this.oversized.clear();
    this.bytes = 0;
  }

  private load(base: string): Loading {
    const scan = this.scan(base); // its snapshot and the recording begin in the same turn
    const loading: Loading = { writes: [], unsure: false, done: undefined! };
    this.loading.set(base, loading);
    loading.done = this.read(base, scan, loading).finally(() => {
      this.loading.delete(base);
      scan.close().catch(() => {}); // a snapshot not released is LevelDB's to mind; the range is read
    });
    return loading;
  }

  private async read(base: string, scan: StagedScan, loading: Loading): Promise<StagedRange | undefined> {
    const range = new StagedRange();
    for (;;) {
      const batch = await scan.nextv(LOAD_BATCH);
      if (batch.length === 0) break;
      for (const [key, text] of batch) range.append(key.slice(base.length), text);
      if (range.bytes > this.budget) {
        if (this.oversized.size >= MAX_OVERSIZED) this.oversized.clear();
        this.oversized.add(base);
        return undefined;
      }
    }
    if (loading.unsure) return undefined;
    for (const [path, text] of loading.writes) range.write(path, text);
    this.ranges.set(base, range);
    this.bytes += range.bytes;
    this.fit();
    return range;
  }

  /** Drop the ranges listed least lately until the rest fit the budget. */
  private fit(): void {
    for (const [base, range] of this.ranges) {
      if (this.bytes <= this.budget) return;
      this.drop(base);
      if (range.bytes > this.budget) this.oversized.add(base);
    }
  }

  private drop(base: string): void {
    const range = this.ranges.get(base);
    if (!range) return;
    this.ranges.delete(base);
    this.bytes -= range.bytes;
  }
}

interface Loading {
  writes: [path: string, text: string | undefined][];
  /** A write it could not account for ended meanwhile, or the store was cleared. */
  unsure: boolean;
  done: Promise<StagedRange | undefined>;
}

/**
 * The entries of one staging range: paths (keys without the range's base) in key order, and their
 * texts. A deleted entry leaves a hole (its text undefined) until holes are a quarter of the
 * entries, so that deleting a range's entries one by one (a commit drops its sealed range a batch
 * at a time) does not move the rest once for each.
 */
export class StagedRange {
  private paths: string[] = [];
  private texts: (string | undefined)[] = [];
  private holes = 0;
  bytes = 0;
  /** Counts the changes, so that a reader knows when to find its place again. */
  changes = 0;

  /** Read from the store in key order. */
  append(path: string, text: string): void {
    this.paths.push(path);
    this.texts.push(text);
    this.bytes += entryBytes(path, text);
  }

  write(path: string, text: string | undefined): void {
    const at = this.find(path, true);
    if (this.paths[at] === path) {
      const old = this.texts[at];
      if (old === undefined && text === undefined) return;
      this.bytes += (text === undefined ? 0 : entryBytes(path, text)) - (old === undefined ? 0 : entryBytes(path, old));
      this.holes += (text === undefined ? 1 : 0) - (old === undefined ? 1 : 0);
      this.texts[at] = text;
    } else if (text === undefined) return;
    else {
      this.paths.splice(at, 0, path);
      this.texts.splice(at, 0, text);
      this.bytes += entryBytes(path, text);
    }
    this.changes++;
    if (this.holes > 64 && this.holes * 4 > this.paths.length) this.compact();
  }

  /** A cursor over the range as it is when each entry is read. */
  reader(): StagedRangeReader {
    return new StagedRangeReader(this);
  }

  /** The entry at `at` (its text undefined for a hole), undefined past the end. */
  entry(at: number): [path: string, text: string | undefined] | undefined {
    return at < this.paths.length ? [this.paths[at]!, this.texts[at]] : undefined;
  }

  /** The index of the first path at or after `from` (`inclusive`), or after it. */
  find(from: string, inclusive: boolean): number {
    const native = ordersNatively(from);
    const paths = this.paths;
    let lo = 0;
    let hi = paths.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = paths[mid]!;
      if (keyBefore(p, from, native) || (!inclusive && p === from)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private compact(): void {
    const keep = this.texts.map((t) => t !== undefined);
    this.paths = this.paths.filter((_, i) => keep[i]);
    this.texts = this.texts.filter((_, i) => keep[i]);
    this.holes = 0;
  }
}

/**
 * Reads a StagedRange forward from where it was sought: each entry as the range holds it when read,
 * each path once, in key order (after a change to the range, it finds its place by the last path).
 */
export class StagedRangeReader {
  private at = 0;
  private seen = -1;
  private from = "";
  private inclusive = true;

  constructor(private readonly range: StagedRange) {}

  seek(from: string): void {
    this.from = from;
    this.inclusive = true;
    this.seen = -1;
  }

  /** The next path and its record (undefined for a tombstone); undefined at the end. */
  next(): [path: string, record: StoredRecord | undefined] | undefined {
    const range = this.range;
    if (this.seen !== range.changes) {
      this.at = range.find(this.from, this.inclusive);
      this.seen = range.changes;
    }
    for (;;) {
      const entry = range.entry(this.at++);
      if (!entry) return undefined;
      this.from = entry[0];
      this.inclusive = false;
      if (entry[1] !== undefined) return [entry[0], StoredRecord.fromText(entry[1])];
    }
  }
}

/** Staging keys are repo!token!path (metadata-store.ts): the base is through the second `!`. */
function baseOf(key: string): string {
  return key.slice(0, key.indexOf("!", key.indexOf("!") + 1) + 1);
}

/** An estimate of what an entry holds in memory: two strings of UTF-16 units and two array slots. */
function entryBytes(path: string, text: string): number {
  return 2 * (path.length + text.length) + 64;
}

const LOAD_BATCH = 1000;
const MAX_OVERSIZED = 1024;
