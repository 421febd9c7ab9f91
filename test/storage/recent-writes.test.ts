/** What the metadata store keeps of the staged entries it wrote (storage/recent-writes.ts). */
import { describe, expect, it } from "vitest";
import { RecentWrites } from "../../src/storage/recent-writes.js";

describe("RecentWrites", () => {
  const write = (w: RecentWrites<string>, key: string, value: string) => {
    w.begin(key);
    return () => w.end(key, { value, bytes: 1 });
  };

  it("keeps what a write put once it is written, and nothing while it is being written", () => {
    const w = new RecentWrites<string>(10);
    write(w, "k", "v1")();
    const done = write(w, "k", "v2");
    expect(w.get("k")).toBeUndefined(); // a read meanwhile goes to the store
    done();
    expect(w.get("k")).toBe("v2");
  });

  it("forgets a key a failed write or a delete touched", () => {
    const w = new RecentWrites<string>(10);
    write(w, "k", "v1")();
    w.begin("k");
    w.end("k"); // failed, or a delete
    expect(w.get("k")).toBeUndefined();
  });

  it("keeps nothing of writes of one key that overlapped (which one the store applied last is unknown)", () => {
    const w = new RecentWrites<string>(10);
    const first = write(w, "k", "v1");
    const second = write(w, "k", "v2");
    second();
    first();
    expect(w.get("k")).toBeUndefined();
    write(w, "k", "v3")(); // alone again: kept
    expect(w.get("k")).toBe("v3");
  });

  it("keeps nothing of a write under way when the store is cleared", () => {
    const w = new RecentWrites<string>(10);
    const done = write(w, "k", "v1");
    w.clear(); // the clear may land after the write
    done();
    expect(w.get("k")).toBeUndefined();
  });

  it("holds its budget", () => {
    const w = new RecentWrites<string>(3);
    for (const k of ["a", "b", "c", "d", "e"]) write(w, k, k)();
    expect(["a", "b", "c", "d", "e"].filter((k) => w.get(k) !== undefined)).toHaveLength(3);
  });
});
