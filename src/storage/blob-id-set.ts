/**
 * The blob ids a whole-store sweep finds referenced, in 8 bytes an id: each is kept as a 53-bit
 * hash in an array sorted once filled (a million ids take 8 MB, where a Set of the strings held
 * ~80 MB, and the start after a crash of a server with a million objects peaked over 200 MB). Two
 * ids with the same hash are one: a dead blob may then look live and be kept, never the other way.
 */
export class BlobIdSet {
  private hashes = new Float64Array(1024);
  private count = 0;
  private sorted = true;

  add(id: string): void {
    if (this.count === this.hashes.length) {
      const grown = new Float64Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[this.count++] = hash(id);
    this.sorted = false;
  }

  has(id: string): boolean {
    this.sort();
    const h = hash(id);
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.hashes[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.count && this.hashes[lo] === h;
  }

  /** Distinct ids (hashes). */
  get size(): number {
    this.sort();
    return this.count;
  }

  /** Sort and drop repeats (an id referenced by many records is added as often). */
  private sort(): void {
    if (this.sorted) return;
    const all = this.hashes.subarray(0, this.count).sort();
    let n = 0;
    for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[n++] = all[i]!;
    this.count = n;
    this.sorted = true;
  }
}

/** Two 32-bit multiplicative hashes of the id's characters, as one 53-bit number. */
function hash(id: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 2 ** 21 + (b >>> 11);
}
