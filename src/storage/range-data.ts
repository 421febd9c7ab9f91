/**
 * How a committed range (an immutable sorted run of [path, ObjectRecord]) is kept: its keys are
 * decoded at once, its records only when asked for. A read of one path at a commit, or a listing
 * that skips past a common prefix, needs the keys of a range and one record, not every record of
 * it; and a commit that rewrites a range copies the records it keeps as bytes, without parsing or
 * re-serializing them.
 *
 * Encoding (a LevelDB value): 0x01, u32 count n, u32 byte length of the keys, the keys as a JSON
 * array, n+1 u32 offsets into the records, the records (JSON each), all little-endian. Older data
 * dirs hold a range as a JSON array of [path, record]; decode() reads both.
 */
import type { ObjectRecord, RangeEntry } from "./metadata-store.js";

const FORMAT = 1;
const HEADER = 9;

export class RangeData {
  private constructor(
    /** The range as stored (encode). */
    private readonly stored: Buffer,
    readonly keys: readonly string[],
    /** Byte offsets of each record in `records`, and its end. */
    private readonly offsets: Uint32Array,
    private readonly records: Buffer,
  ) {}

  get length(): number {
    return this.keys.length;
  }

  record(i: number): ObjectRecord {
    return JSON.parse(this.raw(i).toString("utf8")) as ObjectRecord;
  }

  /** Record i as its stored bytes (JSON). */
  raw(i: number): Buffer {
    return this.records.subarray(this.offsets[i], this.offsets[i + 1]);
  }

  *entries(): Generator<RangeEntry> {
    for (let i = 0; i < this.keys.length; i++) yield [this.keys[i]!, this.record(i)];
  }

  /** An estimate of the memory held, for the range cache. */
  get bytes(): number {
    let n = 64 + this.records.length + this.offsets.byteLength;
    for (const k of this.keys) n += 32 + 2 * k.length;
    return n;
  }

  /** A range of these entries (sorted, unique), records given as stored bytes. */
  static of(entries: readonly (readonly [string, Buffer])[]): RangeData {
    return RangeData.decode(RangeData.encode(entries));
  }

  /**
   * The stored bytes of a range of these entries (sorted, unique), records given as stored bytes:
   * what a commit writes for each range it rewrites, so each record is copied once, into place.
   */
  static encode(entries: readonly (readonly [string, Buffer])[]): Buffer {
    const keys = JSON.stringify(entries.map(([k]) => k));
    const keysLength = Buffer.byteLength(keys);
    const recordsAt = HEADER + keysLength + 4 * (entries.length + 1);
    let size = recordsAt;
    for (const [, raw] of entries) size += raw.length;
    const buf = Buffer.allocUnsafe(size);
    buf.writeUInt8(FORMAT, 0);
    buf.writeUInt32LE(entries.length, 1);
    buf.writeUInt32LE(keysLength, 5);
    let at = HEADER + buf.write(keys, HEADER);
    let offset = 0;
    for (const [, raw] of entries) {
      at = buf.writeUInt32LE(offset, at);
      offset += raw.copy(buf, recordsAt + offset);
    }
    buf.writeUInt32LE(offset, at);
    return buf;
  }

  encode(): Buffer {
    return this.stored;
  }

  static decode(buf: Buffer): RangeData {
    if (buf[0] !== FORMAT) {
      const entries = JSON.parse(buf.toString("utf8")) as RangeEntry[];
      return RangeData.of(entries.map(([k, r]) => [k, encodeRecord(r)] as const));
    }
    const n = buf.readUInt32LE(1);
    const keysEnd = HEADER + buf.readUInt32LE(5);
    const keys = JSON.parse(buf.toString("utf8", HEADER, keysEnd)) as string[];
    const offsets = new Uint32Array(n + 1);
    for (let i = 0; i <= n; i++) offsets[i] = buf.readUInt32LE(keysEnd + 4 * i);
    return new RangeData(buf, keys, offsets, buf.subarray(keysEnd + 4 * (n + 1)));
  }
}

/** A record as a range stores it. */
export function encodeRecord(record: ObjectRecord): Buffer {
  return Buffer.from(JSON.stringify(record), "utf8");
}

/** The value encoding of the `ranges` sublevel. */
export const rangeEncoding = {
  name: "lakes3-range",
  format: "buffer" as const,
  encode: (range: RangeData): Buffer => range.encode(),
  decode: (buf: Buffer): RangeData => RangeData.decode(buf),
};
