import { describe, expect, it } from "vitest";
import { decodeTree, encodeRecord, encodeTreeParts, RangeData, RangeWriter } from "../../src/storage/range-data.js";
import type { ObjectRecord, RangeRef } from "../../src/storage/metadata-store.js";

const record = (n: number): ObjectRecord => ({ size: n, etag: `e${n}`, lastModified: "2026-01-01T00:00:00.000Z", contentType: "text/plain", headers: {}, userMeta: { n: `ü${n}` }, parts: [{ blobId: `b${n}`, size: n }] });

describe("committed ranges as stored", () => {
  it("round-trip: keys when asked for, records on demand, bytes copied as they are", () => {
    const entries = ["a", "b/ü", "c\u{1F600}"].map((k, i) => [k, record(i)] as const);
    const range = RangeData.decode(RangeData.of(entries.map(([k, r]) => [k, encodeRecord(r)])).encode());
    expect(range.keys).toEqual(["a", "b/ü", "c\u{1F600}"]);
    expect([...range.entries()]).toEqual(entries);
    expect(range.record(1)).toEqual(record(1));
    expect(range.raw(2).equals(encodeRecord(record(2)))).toBe(true);
    expect(RangeData.decode(RangeData.of([]).encode()).length).toBe(0);
  });
  it("finds a key in the keys as stored, without decoding them, as the decoded keys find it", () => {
    // Keys whose JSON has quotes, commas and brackets in it, that are prefixes of others, non-ASCII,
    // and keys written with escapes (the stored keys are then decoded to search them).
    const plain = ["", ",", "\",\"", "a", "a\"", "a,b", "ab", "b/ü", "c\u{1F600}", "x]", "[y"].sort();
    const escaped = [...plain, "q\\", "t\u0001", "\ud800"].sort();
    for (const keys of [plain.filter((k) => !k.includes('"')), escaped]) {
      const range = RangeData.decode(RangeData.encode(keys.map((k, i) => [k, encodeRecord(record(i))] as const)));
      for (const k of [...keys, "zz", "a\"b", "\"", ",\"a"]) {
        const j = keys.indexOf(k);
        expect(range.indexOf(k), JSON.stringify(k)).toBe(j);
        if (j >= 0) expect(range.record(j)).toEqual(record(j));
      }
    }
    // The same answers from a range whose keys were decoded first.
    const range = RangeData.decode(RangeData.encode(plain.map((k, i) => [k, encodeRecord(record(i))] as const)));
    expect(range.keys.length).toBe(plain.length);
    for (const k of [...plain, "zz"]) expect(range.indexOf(k)).toBe(plain.indexOf(k));
  });
  it("a range written from entries of stored ranges (copied by index, in runs) and new records: the same bytes as from the entries", () => {
    const stored = (keys: string[]) => RangeData.of(keys.map((k, i) => [k, encodeRecord(record(k.length * 10 + i))] as const));
    const a = stored(["a0", "a1", "a2", "a3", "a4", "a5"]);
    const b = stored(["b0", "b1"]);
    const w = new RangeWriter();
    const expected: [string, Buffer][] = [];
    // Runs of one range, a new record between, another range, an index out of order.
    for (const [r, i] of [[a, 0], [a, 1], [a, 2], ["x", 7], [a, 4], [b, 0], [b, 1], [a, 5], [a, 3], ["y", 8]] as const) {
      if (typeof r === "string") {
        w.add(r, encodeRecord(record(i)));
        expected.push([r, encodeRecord(record(i))]);
      } else {
        w.copy(r, i);
        expected.push([r.keys[i]!, r.raw(i)]);
      }
    }
    const first = w.take(5);
    expect(first.bytes.equals(RangeData.encode(expected.slice(0, 5)))).toBe(true);
    expect([first.first, first.last]).toEqual(["a0", "a4"]);
    expect(w.length).toBe(5);
    const rest = w.take(5);
    expect(rest.bytes.equals(RangeData.encode(expected.slice(5)))).toBe(true);
    expect([...RangeData.decode(rest.bytes).entries()].map(([k]) => k)).toEqual(["b0", "b1", "a5", "a3", "y"]);
    expect(RangeData.decode(rest.bytes).record(3)).toEqual(a.record(3));
  });
  it("reads a range written by an older lakes3 (a JSON array of [path, record])", () => {
    const legacy = Buffer.from(JSON.stringify([["x", record(1)], ["y", record(2)]]));
    const range = RangeData.decode(legacy);
    expect(range.keys).toEqual(["x", "y"]);
    expect(range.record(1)).toEqual(record(2));
  });
});

const ref = (i: number, tag = ""): RangeRef => ({ id: `p${tag}-${i.toString(36)}-1`, first: `k/${i}/a\u00e9`, last: `k/${i}/z\u{1F600}${tag}` });

/** A tree's stored bytes whole (the store writes its parts as they are). */
const encodeTree = (refs: readonly RangeRef[], base?: { bytes: Buffer; at: ArrayLike<number> }) => Buffer.concat(encodeTreeParts(refs, base));

describe("trees as stored", () => {
  it("round-trip, and reads a tree written by an older lakes3 (JSON of RangeRefs)", () => {
    const refs = Array.from({ length: 50 }, (_, i) => ref(i));
    expect(decodeTree(encodeTree(refs))).toEqual(refs);
    expect(decodeTree(encodeTree([]))).toEqual([]);
    expect(decodeTree(Buffer.from(JSON.stringify(refs)))).toEqual(refs);
  });
  it("a tree that keeps refs of its base copies their stored bytes: the same bytes as encoding them anew", () => {
    const base = Array.from({ length: 50 }, (_, i) => ref(i));
    const bytes = encodeTree(base);
    // Kept runs, new refs between, at both ends and alone; a ref dropped; one kept out of order.
    const picks: (number | RangeRef)[] = [ref(100, "new"), 0, 1, 2, ref(101, "new"), 5, 6, 7, 9, 40, ref(102, "new"), 41, 3, 49, ref(103, "new")];
    const refs = picks.map((p) => (typeof p === "number" ? base[p]! : p));
    const at = picks.map((p) => (typeof p === "number" ? p : -1));
    const spliced = encodeTree(refs, { bytes, at });
    expect(spliced.equals(encodeTree(refs))).toBe(true);
    expect(decodeTree(spliced)).toEqual(refs);
    // A base an older lakes3 wrote (JSON) is not copied from: the refs are encoded anew.
    expect(encodeTree(refs, { bytes: Buffer.from(JSON.stringify(base)), at }).equals(encodeTree(refs))).toBe(true);
  });
});
