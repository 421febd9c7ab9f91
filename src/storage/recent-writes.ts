/**
 * Values a store wrote lately, kept as a read of the store returns them, for the reads that
 * follow (a client reads what it just wrote: HEAD and GET after PUT).
 *
 * Only writes add values; reads never do. A client walking more keys than the budget holds would
 * otherwise replace a value on every read, and values that live long enough to reach V8's old
 * generation only to die there cost more than the reads they save.
 *
 * A batch calls begin() for each key before it writes and end() once it is done, so a read meanwhile
 * goes to the store. A value is kept only when its write succeeded and nothing else happened to the
 * key meanwhile: another write of it (which one the store applied last is not known here), or the
 * store being cleared.
 */
import { ByteCache } from "./byte-cache.js";

export class RecentWrites<V> {
  private readonly kept: ByteCache<V>;
  private readonly writing = new Map<string, { count: number; doubtful: boolean }>();

  constructor(budget: number) {
    this.kept = new ByteCache<V>(budget, () => {
      throw new Error("RecentWrites: every value is sized by its write (end())");
    });
  }

  get(key: string): V | undefined {
    return this.kept.get(key);
  }

  begin(key: string): void {
    this.kept.delete(key);
    const w = this.writing.get(key);
    if (w) {
      w.count++;
      w.doubtful = true;
    } else this.writing.set(key, { count: 1, doubtful: false });
  }

  /**
   * A write of `key` is over: `value` (with its size) is what a read of it returns now, if the write
   * succeeded. Answers whether that is known: false when another write of the key overlapped it or
   * the store was cleared meanwhile.
   */
  end(key: string, value?: { value: V; bytes: number }): boolean {
    const w = this.writing.get(key)!;
    if (--w.count === 0) this.writing.delete(key);
    if (value && !w.doubtful) this.kept.set(key, value.value, value.bytes);
    else this.kept.delete(key);
    return !w.doubtful;
  }

  /** Forget every value, and keep none of the writes under way (the store was cleared or reopened). */
  clear(): void {
    this.kept.clear();
    for (const w of this.writing.values()) w.doubtful = true;
  }
}
