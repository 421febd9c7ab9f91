/**
 * An in-memory cache of immutable records (committed ranges, trees, commits) bounded by an estimate
 * of the bytes it holds, not by a count: 512 ranges of 1,000 small objects and 512 ranges of 1,000
 * objects with kilobytes of metadata each differ a thousandfold. What goes first is what was not
 * read lately: "second chance" (CLOCK), an approximation of least-recently-used whose reads only
 * mark the value, where moving each value read to the back of the Map (an exact LRU) cost as much
 * as the rest of a listing's seek past a common prefix.
 */
export class ByteCache<V> {
  /** Oldest first; `read` marks a value kept or read since it was last given its second chance. */
  private readonly values = new Map<string, { value: V; bytes: number; read: boolean }>();
  private bytes = 0;

  constructor(
    private readonly budget: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  get(key: string): V | undefined {
    const hit = this.values.get(key);
    if (!hit) return undefined;
    hit.read = true;
    return hit.value;
  }

  /** Keep a value; `bytes` when the caller has sized it already. */
  set(key: string, value: V, bytes = this.sizeOf(value)): void {
    const old = this.values.get(key);
    if (old) {
      this.values.delete(key);
      this.bytes -= old.bytes;
    }
    if (bytes > this.budget) return; // never worth holding
    this.values.set(key, { value, bytes, read: true }); // about to be read
    this.bytes += bytes;
    // From the oldest: a value read since goes to the back, unmarked (its second chance); one that
    // was not is dropped. (A Map's iteration visits what is moved to its back, once more.)
    for (const [k, v] of this.values) {
      if (this.bytes <= this.budget) break;
      this.values.delete(k);
      if (v.read) {
        v.read = false;
        this.values.set(k, v);
      } else this.bytes -= v.bytes;
    }
  }

  delete(key: string): void {
    const old = this.values.get(key);
    if (!old) return;
    this.values.delete(key);
    this.bytes -= old.bytes;
  }

  clear(): void {
    this.values.clear();
    this.bytes = 0;
  }

  /** Estimated bytes held (for tests). */
  get size(): number {
    return this.bytes;
  }
}

/** A rough size in bytes of a JSON-like value as V8 holds it (strings at 2 bytes a character). */
export function approxBytes(value: unknown): number {
  if (typeof value === "string") return 16 + value.length * 2;
  if (typeof value !== "object" || value === null) return 8;
  let n = 32;
  if (Array.isArray(value)) for (const v of value) n += 8 + approxBytes(v);
  else for (const [k, v] of Object.entries(value)) n += 16 + k.length + approxBytes(v);
  return n;
}
