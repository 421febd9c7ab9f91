import { describe, expect, it } from "vitest";
import { encodeRecord, RangeData } from "../../src/storage/range-data.js";
import type { ObjectRecord } from "../../src/storage/metadata-store.js";

const record = (n: number): ObjectRecord => ({ size: n, etag: `e${n}`, lastModified: "2026-01-01T00:00:00.000Z", contentType: "text/plain", headers: {}, userMeta: { n: `ü${n}` }, parts: [{ blobId: `b${n}`, size: n }] });

describe("committed ranges as stored", () => {
  it("round-trip: keys at once, records on demand, bytes copied as they are", () => {
    const entries = ["a", "b/ü", "c\u{1F600}"].map((k, i) => [k, record(i)] as const);
    const range = RangeData.decode(RangeData.of(entries.map(([k, r]) => [k, encodeRecord(r)])).encode());
    expect(range.keys).toEqual(["a", "b/ü", "c\u{1F600}"]);
    expect([...range.entries()]).toEqual(entries);
    expect(range.record(1)).toEqual(record(1));
    expect(range.raw(2).equals(encodeRecord(record(2)))).toBe(true);
    expect(RangeData.decode(RangeData.of([]).encode()).length).toBe(0);
  });
  it("reads a range written by an older lakes3 (a JSON array of [path, record])", () => {
    const legacy = Buffer.from(JSON.stringify([["x", record(1)], ["y", record(2)]]));
    const range = RangeData.decode(legacy);
    expect(range.keys).toEqual(["x", "y"]);
    expect(range.record(1)).toEqual(record(2));
  });
});
