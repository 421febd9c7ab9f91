/**
 * How committed ranges and trees are kept as bytes.
 *
 * A range (an immutable sorted run of [path, ObjectRecord]) is kept in memory as a RangeData: its keys are
 * decoded at once, its records only when asked for. A read of one path at a commit, or a listing
 * that skips past a common prefix, needs the keys of a range and one record, not every record of
 * it; and a commit that rewrites a range copies the records it keeps as bytes, without parsing or
 * re-serializing them.
 *
 * Encoding (a LevelDB value): 0x01, u32 count n, u32 byte length of the keys, the keys as a JSON
 * array, n+1 u32 offsets into the records, the records (JSON each), all little-endian. Older data
 * dirs hold a range as a JSON array of [path, record]; decode() reads both.
 */
import type { ObjectRecord, RangeEntry, RangeRef } from "./metadata-store.js";
import { lowerBound } from "./keys.js";
import { recordText, StoredRecord } from "./stored-record.js";

const FORMAT = 1;
const HEADER = 9;

export class RangeData {
  /** The keys, once decoded (see keys). */
  private decoded: readonly string[] | undefined;
  /** Whether the keys' JSON has an escape in it (see indexOf); undefined until looked at. */
  private escaped: boolean | undefined;

  private constructor(
    /** The range as stored (encode). */
    private readonly encoded: Buffer,
    /** The keys as stored: a JSON array of strings. */
    private readonly keysJson: Buffer,
    /** Byte offsets of each record in `records`, and its end. */
    private readonly offsets: Uint32Array,
    private readonly records: Buffer,
  ) {}

  get length(): number {
    return this.offsets.length - 1;
  }

  /**
   * The keys, decoded when first asked for. A read of one object does not ask (indexOf): at a
   * million objects nearly every HEAD or GET reads a range that is not in the cache, and its
   * keys, decoded and kept with it, were most of what V8 copied and promoted at each collection.
   */
  get keys(): readonly string[] {
    return (this.decoded ??= JSON.parse(this.keysJson.toString("utf8")) as string[]);
  }

  /**
   * The index of `key`, or -1; found in the keys as stored while they are not decoded. Without a
   * backslash in them, the stored keys are `"key"` pieces whose quotes are all delimiters (UTF-8
   * never has the byte `"` inside a character), so `key` is entry i where its JSON occurs after an
   * even number (2i) of quotes; an occurrence after an odd number starts at a closing quote.
   */
  indexOf(key: string): number {
    if (this.decoded) return this.find(key);
    const needle = JSON.stringify(key);
    this.escaped ??= this.keysJson.includes(0x5c);
    if (this.escaped || needle.includes("\\")) return this.find(key);
    let quotes = 0;
    let counted = 0;
    for (let at = this.keysJson.indexOf(needle); at >= 0; at = this.keysJson.indexOf(needle, at + 1)) {
      for (; counted < at; counted++) if (this.keysJson[counted] === 0x22) quotes++;
      if (quotes % 2 === 0) return quotes / 2;
    }
    return -1;
  }

  /** The index of `key` among the decoded keys (sorted), or -1. */
  private find(key: string): number {
    const keys = this.keys;
    const j = lowerBound(keys, key);
    return j < keys.length && keys[j] === key ? j : -1;
  }

  record(i: number): ObjectRecord {
    return JSON.parse(this.raw(i).toString("utf8")) as ObjectRecord;
  }

  /** Record i, parsed when read whole. */
  stored(i: number): StoredRecord {
    return StoredRecord.fromText(this.raw(i).toString("utf8"))!;
  }

  /** Record i as its stored bytes (JSON). */
  raw(i: number): Buffer {
    return this.records.subarray(this.offsets[i], this.offsets[i + 1]);
  }

  *entries(): Generator<RangeEntry> {
    for (let i = 0; i < this.keys.length; i++) yield [this.keys[i]!, this.record(i)];
  }

  /** An estimate of the memory held, for the range cache: with its keys decoded (`"k",` each in the JSON). */
  get bytes(): number {
    return 64 + this.records.length + this.offsets.byteLength + 32 * this.length + 2 * (this.keysJson.length - 3 * this.length - 1);
  }

  /** A range of these entries (sorted, unique), records given as stored bytes. */
  static of(entries: readonly (readonly [string, Buffer])[]): RangeData {
    return RangeData.decode(RangeData.encode(entries));
  }

  /** The stored bytes of a range of these entries (sorted, unique), records given as stored bytes. */
  static encode(entries: readonly (readonly [string, Buffer])[]): Buffer {
    const w = new RangeWriter();
    for (const [key, raw] of entries) w.add(key, raw);
    return w.take(w.length).bytes;
  }

  /** The stored size of record i. */
  recordSize(i: number): number {
    return this.offsets[i + 1]! - this.offsets[i]!;
  }

  /** Copy records i..j (exclusive) as stored into `target` at `at`. */
  copyRecords(i: number, j: number, target: Buffer, at: number): void {
    this.records.copy(target, at, this.offsets[i], this.offsets[j]);
  }

  encode(): Buffer {
    return this.encoded;
  }

  static decode(buf: Buffer): RangeData {
    if (buf[0] !== FORMAT) {
      const entries = JSON.parse(buf.toString("utf8")) as RangeEntry[];
      return RangeData.of(entries.map(([k, r]) => [k, encodeRecord(r)] as const));
    }
    const n = buf.readUInt32LE(1);
    const keysEnd = HEADER + buf.readUInt32LE(5);
    const offsets = new Uint32Array(n + 1);
    for (let i = 0; i <= n; i++) offsets[i] = buf.readUInt32LE(keysEnd + 4 * i);
    return new RangeData(buf, buf.subarray(HEADER, keysEnd), offsets, buf.subarray(keysEnd + 4 * (n + 1)));
  }
}

/**
 * A range being written: what a commit gathers for each range it rewrites, records kept from the
 * range it replaces copied by index (no Buffer made for each, and runs of them copied at once) and
 * new ones given as bytes; take() writes the stored bytes of the first entries.
 */
export class RangeWriter {
  private readonly keys: string[] = [];
  /** Per entry: the range its record is copied from and its index there, or its bytes and 0. */
  private readonly from: (RangeData | Buffer)[] = [];
  private readonly index: number[] = [];

  get length(): number {
    return this.keys.length;
  }

  /** The key of entry i. */
  key(i: number): string {
    return this.keys[i]!;
  }

  /** Add entry i of a stored range. */
  copy(range: RangeData, i: number): void {
    this.keys.push(range.keys[i]!);
    this.from.push(range);
    this.index.push(i);
  }

  /** Add an entry with its record as stored bytes. */
  add(key: string, raw: Buffer): void {
    this.keys.push(key);
    this.from.push(raw);
    this.index.push(0);
  }

  /** Take out the first n entries (sorted, unique): their range's stored bytes, first and last key. */
  take(n: number): { bytes: Buffer; first: string; last: string } {
    const keys = this.keys.splice(0, n);
    const from = this.from.splice(0, n);
    const index = this.index.splice(0, n);
    const json = JSON.stringify(keys);
    const keysLength = Buffer.byteLength(json);
    const recordsAt = HEADER + keysLength + 4 * (n + 1);
    let size = recordsAt;
    for (let k = 0; k < n; k++) {
      const src = from[k]!;
      size += src instanceof RangeData ? src.recordSize(index[k]!) : src.length;
    }
    const buf = Buffer.allocUnsafe(size);
    buf.writeUInt8(FORMAT, 0);
    buf.writeUInt32LE(n, 1);
    buf.writeUInt32LE(keysLength, 5);
    let at = HEADER + buf.write(json, HEADER);
    let offset = 0;
    for (let k = 0; k < n; ) {
      const src = from[k]!;
      if (src instanceof RangeData) {
        // A run of records consecutive in the same range: one copy.
        let e = k + 1;
        while (e < n && from[e] === src && index[e] === index[k]! + (e - k)) e++;
        src.copyRecords(index[k]!, index[k]! + (e - k), buf, recordsAt + offset);
        for (; k < e; k++) {
          at = buf.writeUInt32LE(offset, at);
          offset += src.recordSize(index[k]!);
        }
      } else {
        at = buf.writeUInt32LE(offset, at);
        offset += src.copy(buf, recordsAt + offset);
        k++;
      }
    }
    buf.writeUInt32LE(offset, at);
    return { bytes: buf, first: keys[0]!, last: keys[n - 1]! };
  }
}

/** A record as a range stores it. */
export function encodeRecord(record: ObjectRecord): Buffer {
  return Buffer.from(recordText(record), "utf8");
}

/** The value encoding of the `ranges` sublevel. */
export const rangeEncoding = {
  name: "lakes3-range",
  format: "buffer" as const,
  encode: (range: RangeData): Buffer => range.encode(),
  decode: (buf: Buffer): RangeData => RangeData.decode(buf),
};

/**
 * A tree (a commit's RangeRefs, tens of thousands at a million objects) as stored:
 *
 *   0x02, three zero bytes, u32 count n, n+1 u32 offsets (where each ref's bytes start in the
 *   body, then the body's length), the body: per ref, u32 byte length of its id, u32 byte length
 *   of its first path, then its id, first and last path (UTF-8); all little-endian.
 *
 * Older versions stored a tree as JSON (it starts with "["); decodeTree reads both. A commit's
 * tree reuses most of its parent's refs: encodeTreeParts copies their bytes from the parent's, in runs,
 * and encodes only the new refs (serializing all of them, ~40,000 at a million objects spread over
 * the heap, took ~15 ms at every commit).
 */
const TREE_FORMAT = 2;
const TREE_HEADER = 8;
const REF_HEADER = 8;

/**
 * The stored bytes of a tree of `refs`, in parts to write as they are (runs copied from the base
 * are views of it); `base`, when given, a stored tree (`bytes`) whose ref at[i] (when at[i] >= 0)
 * is refs[i].
 */
export function encodeTreeParts(refs: readonly RangeRef[], base?: { bytes: Buffer; at: ArrayLike<number> }): Buffer[] {
  const from = base && base.bytes[0] === TREE_FORMAT ? base : undefined;
  const n = refs.length;
  const head = Buffer.alloc(TREE_HEADER + 4 * (n + 1));
  head.writeUInt8(TREE_FORMAT, 0);
  head.writeUInt32LE(n, 4);
  const baseBody = from ? TREE_HEADER + 4 * (from.bytes.readUInt32LE(4) + 1) : 0;
  const baseOffset = (b: number) => from!.bytes.readUInt32LE(TREE_HEADER + 4 * b);
  const pieces: Buffer[] = [head];
  let size = 0;
  for (let i = 0; i < n; ) {
    const b = from ? from.at[i]! : -1;
    if (b >= 0) {
      // A run of refs consecutive in the base: one copy.
      let j = i + 1;
      while (j < n && from!.at[j] === b + (j - i)) j++;
      const start = baseOffset(b);
      for (let k = b; k < b + (j - i); k++) head.writeUInt32LE(size + baseOffset(k) - start, TREE_HEADER + 4 * (i + k - b));
      const end = baseOffset(b + (j - i));
      pieces.push(from!.bytes.subarray(baseBody + start, baseBody + end));
      size += end - start;
      i = j;
    } else {
      head.writeUInt32LE(size, TREE_HEADER + 4 * i);
      const ref = encodeRef(refs[i]!);
      pieces.push(ref);
      size += ref.length;
      i++;
    }
  }
  head.writeUInt32LE(size, TREE_HEADER + 4 * n);
  return pieces;
}

function encodeRef({ id, first, last }: RangeRef): Buffer {
  const idLength = Buffer.byteLength(id);
  const firstLength = Buffer.byteLength(first);
  const buf = Buffer.allocUnsafe(REF_HEADER + idLength + firstLength + Buffer.byteLength(last));
  buf.writeUInt32LE(idLength, 0);
  buf.writeUInt32LE(firstLength, 4);
  buf.write(id, REF_HEADER);
  buf.write(first, REF_HEADER + idLength);
  buf.write(last, REF_HEADER + idLength + firstLength);
  return buf;
}

export function decodeTree(buf: Buffer): RangeRef[] {
  if (buf[0] !== TREE_FORMAT) return JSON.parse(buf.toString("utf8")) as RangeRef[];
  const n = buf.readUInt32LE(4);
  const body = TREE_HEADER + 4 * (n + 1);
  const refs = new Array<RangeRef>(n);
  let at = body + buf.readUInt32LE(TREE_HEADER);
  for (let i = 0; i < n; i++) {
    const end = body + buf.readUInt32LE(TREE_HEADER + 4 * (i + 1));
    const idEnd = at + REF_HEADER + buf.readUInt32LE(at);
    const firstEnd = idEnd + buf.readUInt32LE(at + 4);
    refs[i] = { id: buf.toString("utf8", at + REF_HEADER, idEnd), first: buf.toString("utf8", idEnd, firstEnd), last: buf.toString("utf8", firstEnd, end) };
    at = end;
  }
  return refs;
}
