import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BlobIdSet } from "../../src/storage/blob-id-set.js";

describe("the sweep's set of live blob ids", () => {
  it("answers has() for what was added, counts repeats once, and takes new ids after a lookup", () => {
    const set = new BlobIdSet();
    expect(set.has("a")).toBe(false);
    for (const id of ["b", "a", "c", "a", "b"]) set.add(id);
    expect(set.size).toBe(3);
    expect(["a", "b", "c", "d", ""].map((id) => set.has(id))).toEqual([true, true, true, false, false]);
    set.add("d");
    expect(set.has("d")).toBe(true);
    expect(set.size).toBe(4);
  });

  it("tells 200,000 random ids (and ids a character apart) from 200,000 it was not given", () => {
    const set = new BlobIdSet();
    const given = Array.from({ length: 200_000 }, () => randomBytes(16).toString("hex"));
    for (const id of given) set.add(id);
    expect(set.size).toBe(given.length);
    expect(given.every((id) => set.has(id))).toBe(true);
    const others = Array.from({ length: 200_000 }, (_, i) => (i % 2 ? randomBytes(16).toString("hex") : given[i]!.slice(0, -1) + (given[i]!.endsWith("0") ? "1" : "0")));
    expect(others.filter((id) => set.has(id))).toEqual([]);
  });
});
