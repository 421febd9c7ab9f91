/**
 * An in-memory cache of immutable records (committed ranges, trees, commits) bounded by an estimate
 * of the bytes it holds, not by a count: 512 ranges of 1,000 small objects and 512 ranges of 1,000
 * objects with kilobytes of metadata each differ a thousandfold. Least recently used goes first.
 */
export class ByteCache<V> {
  private readonly values = new Map<string, { value: V; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly budget: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  get(key: string): V | undefined {
    const hit = this.values.get(key);
    if (!hit) return undefined;
    this.values.delete(key); // most recently used last
    this.values.set(key, hit);
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
    this.values.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [k, v] of this.values) {
      if (this.bytes <= this.budget) break;
      this.values.delete(k);
      this.bytes -= v.bytes;
    }
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
