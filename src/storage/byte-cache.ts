/**
 * An in-memory cache of immutable records (committed ranges, trees, commits) bounded by an estimate
 * of the bytes it holds, not by a count: 512 ranges of 1,000 small objects and 512 ranges of 1,000
 * objects with kilobytes of metadata each differ a thousandfold. What goes first is what was not
 * read lately: "second chance" (CLOCK), an approximation of least-recently-used whose reads only
 * mark the value, where moving each value read to the back of the Map (an exact LRU) cost as much
 * as the rest of a listing's seek past a common prefix.
 *
 * A cache of values that hold ArrayBuffers (committed ranges keep their stored bytes) also counts
 * those buffers' bytes, for the whole process: cachedBufferBytes() tells the heap tuning
 * (cli/heap.ts) which of the process's ArrayBuffers are kept on purpose and not garbage.
 */
export class ByteCache<V> {
  /** Oldest first; `read` marks a value kept or read since it was last given its second chance. */
  private readonly values = new Map<string, { value: V; bytes: number; read: boolean }>();
  private bytes = 0;
  /** Bytes of the ArrayBuffers its values hold (with `buffersOf`). */
  private buffers = 0;

  private readonly buffersOf?: (value: V) => number;
  private readonly keepAtLeast: number;

  constructor(
    private readonly budget: number,
    private readonly sizeOf: (value: V) => number,
    options: {
      /** The bytes of ArrayBuffers a value holds, when it holds any. */
      buffersOf?: (value: V) => number;
      /**
       * Values held even past the budget (the newest; a value over the whole budget among them):
       * for values that would otherwise be read again at every use, whatever their size.
       */
      keepAtLeast?: number;
    } = {},
  ) {
    this.buffersOf = options.buffersOf;
    this.keepAtLeast = options.keepAtLeast ?? 0;
    if (this.buffersOf) counting.add(new WeakRef(this as ByteCache<unknown>));
  }

  get(key: string): V | undefined {
    const hit = this.values.get(key);
    if (!hit) return undefined;
    hit.read = true;
    return hit.value;
  }

  /** Keep a value; `bytes` when the caller has sized it already. */
  set(key: string, value: V, bytes = this.sizeOf(value)): void {
    const old = this.values.get(key);
    if (old) this.forget(key, old);
    if (bytes > this.budget && this.keepAtLeast === 0) return; // never worth holding
    this.values.set(key, { value, bytes, read: true }); // about to be read
    this.bytes += bytes;
    if (this.buffersOf) this.buffers += this.buffersOf(value);
    // From the oldest: a value read since goes to the back, unmarked (its second chance); one that
    // was not is dropped. (A Map's iteration visits what is moved to its back, once more.)
    for (const [k, v] of this.values) {
      if (this.bytes <= this.budget || this.values.size <= this.keepAtLeast) break;
      if (v.read) {
        this.values.delete(k);
        v.read = false;
        this.values.set(k, v);
      } else this.forget(k, v);
    }
  }

  delete(key: string): void {
    const old = this.values.get(key);
    if (old) this.forget(key, old);
  }

  clear(): void {
    this.values.clear();
    this.bytes = 0;
    this.buffers = 0;
  }

  private forget(key: string, held: { value: V; bytes: number }): void {
    this.values.delete(key);
    this.bytes -= held.bytes;
    if (this.buffersOf) this.buffers -= this.buffersOf(held.value);
  }

  /** Estimated bytes held (for tests). */
  get size(): number {
    return this.bytes;
  }

  /** Bytes of the ArrayBuffers its values hold (0 without `buffersOf`). */
  get bufferBytes(): number {
    return this.buffers;
  }
}

/** The caches given a `buffersOf`, while they are alive (one dropped still holds its buffers until collected). */
const counting = new Set<WeakRef<ByteCache<unknown>>>();

/** Bytes of ArrayBuffers the process's caches hold (those given a `buffersOf`). */
export function cachedBufferBytes(): number {
  let n = 0;
  for (const ref of counting) {
    const cache = ref.deref();
    if (cache) n += cache.bufferBytes;
    else counting.delete(ref);
  }
  return n;
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
