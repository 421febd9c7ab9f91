/** Staging ranges held in memory for listings (storage/staged-index.ts). */
import { describe, expect, it } from "vitest";
import { StagedIndex, type StagedScan, type StagedRange } from "../../src/storage/staged-index.js";

const BASE = "repo!token!";
const text = (etag: string) => JSON.stringify({ size: 1, etag, lastModified: "2026-12-05T00:00:00.000Z" });

/**
 * A store of staging entries (full keys → texts) whose scans read a snapshot taken when they are
 * made, a batch at a time; `pause` holds every scan before its next batch until released.
 */
class FakeStore {
  readonly entries = new Map<string, string>();
  scans = 0;
  private gate: Promise<void> | undefined;
  private release: (() => void) | undefined;

  pause(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  resume(): void {
    this.release?.();
    this.gate = undefined;
  }

  scan = (base: string): StagedScan => {
    this.scans++;
    const snapshot = [...this.entries].filter(([k]) => k.startsWith(base)).sort(([a], [b]) => (a < b ? -1 : 1));
    let at = 0;
    return {
      nextv: async (size) => {
        await this.gate;
        const batch = snapshot.slice(at, at + size);
        at += batch.length;
        return batch;
      },
      seek: () => {
        throw new Error("not used by the index");
      },
      close: async () => {},
    };
  };
}

function put(store: FakeStore, index: StagedIndex, path: string, etag: string): void {
  store.entries.set(BASE + path, text(etag));
  index.written(BASE + path, text(etag));
}
function del(store: FakeStore, index: StagedIndex, path: string): void {
  store.entries.delete(BASE + path);
  index.written(BASE + path, undefined);
}

/** Every path and ETag of a range, from a reader sought to `from`. */
function read(range: StagedRange, from = ""): string[] {
  const reader = range.reader();
  reader.seek(from);
  const out: string[] = [];
  for (let e = reader.next(); e; e = reader.next()) out.push(`${e[0]}=${e[1]?.summary().etag ?? "tombstone"}`);
  return out;
}

describe("StagedIndex", () => {
  it("reads a range from the store once, then follows every write to it", async () => {
    const store = new FakeStore();
    const index = new StagedIndex(1 << 20, store.scan);
    put(store, index, "b", "b1");
    put(store, index, "d", "d1");
    const range = (await index.range(BASE))!;
    expect(read(range)).toEqual(["b=b1", "d=d1"]);
    put(store, index, "a", "a1"); // before every entry
    put(store, index, "c", "c1"); // between
    put(store, index, "e", "e1"); // after
    put(store, index, "b", "b2"); // over
    del(store, index, "d");
    del(store, index, "x"); // nothing there
    store.entries.set(BASE + "f", JSON.stringify({ tombstone: true }));
    index.written(BASE + "f", JSON.stringify({ tombstone: true }));
    index.written("repo!other!z", text("z1")); // another range, not held
    index.written(BASE + "\u{10FFFF}", JSON.stringify({ tombstone: true })); // the range's end marker, past what a scan reads
    expect(await index.range(BASE)).toBe(range);
    expect(read(range)).toEqual(["a=a1", "b=b2", "c=c1", "e=e1", "f=tombstone"]);
    expect(read(range, "c")).toEqual(["c=c1", "e=e1", "f=tombstone"]);
    expect(store.scans).toBe(1);
  });

  it("applies the writes that end while a range is read over the snapshot, in the order they ended", async () => {
    const store = new FakeStore();
    const index = new StagedIndex(1 << 20, store.scan);
    for (let i = 0; i < 2500; i++) put(store, index, `k${String(i).padStart(4, "0")}`, "old");
    store.pause();
    const loading = index.range(BASE); // the snapshot is taken now
    put(store, index, "k0001", "new"); // ends during the read: not in the snapshot
    put(store, index, "k9999", "added");
    del(store, index, "k0002");
    put(store, index, "k0003", "first");
    put(store, index, "k0003", "second");
    store.resume();
    const range = (await loading)!;
    const all = read(range);
    expect(all).toHaveLength(2500);
    expect(all.slice(0, 4)).toEqual(["k0000=old", "k0001=new", "k0003=second", "k0004=old"]);
    expect(all.at(-1)).toBe("k9999=added");
  });

  it("drops what a failed or overlapping write touched, and reads it from the store again", async () => {
    const store = new FakeStore();
    const index = new StagedIndex(1 << 20, store.scan);
    put(store, index, "a", "a1");
    await index.range(BASE);
    store.entries.set(BASE + "a", text("a2")); // the store has it, the index was not told
    index.unsure(BASE + "a");
    expect(read((await index.range(BASE))!)).toEqual(["a=a2"]);
    expect(store.scans).toBe(2);
  });

  it("holds nothing read while a write it cannot account for ended, or the store was cleared", async () => {
    const store = new FakeStore();
    const index = new StagedIndex(1 << 20, store.scan);
    put(store, index, "a", "a1");
    store.pause();
    const unsure = index.range(BASE);
    index.unsure(BASE + "a");
    store.resume();
    expect(await unsure).toBeUndefined();
    store.pause();
    const cleared = index.range(BASE);
    index.clear();
    store.resume();
    expect(await cleared).toBeUndefined();
    expect(read((await index.range(BASE))!)).toEqual(["a=a1"]); // read anew
    expect(store.scans).toBe(3);
  });

  it("one read serves every listing that asks meanwhile", async () => {
    const store = new FakeStore();
    const index = new StagedIndex(1 << 20, store.scan);
    put(store, index, "a", "a1");
    const [x, y] = await Promise.all([index.range(BASE), index.range(BASE)]);
    expect(x).toBe(y);
    expect(store.scans).toBe(1);
  });

  it("holds no range larger than its budget, and does not read it again", async () => {
    const store = new FakeStore();
    const index = new StagedIndex(10_000, store.scan);
    for (let i = 0; i < 100; i++) put(store, index, `k${i}`, "e");
    expect(await index.range(BASE)).toBeUndefined();
    expect(await index.range(BASE)).toBeUndefined();
    expect(store.scans).toBe(1);
  });

  it("drops the range listed least lately when the ranges outgrow the budget, and a range that outgrows it alone", async () => {
    const store = new FakeStore();
    const index = new StagedIndex(4500, store.scan); // a range of 5 entries: ~1 KB
    const bases = ["r!a!", "r!b!", "r!c!"];
    for (const b of bases) for (let i = 0; i < 5; i++) store.entries.set(`${b}k${i}`, text("e"));
    const [a, , c] = [await index.range(bases[0]!), await index.range(bases[1]!), await index.range(bases[2]!)];
    expect(store.scans).toBe(3);
    expect(await index.range(bases[0]!)).toBe(a); // listed again: now the latest
    for (let i = 5; i < 15; i++) index.written(`r!c!k${i}`, text("e")); // c grows: b goes first
    expect(await index.range(bases[0]!)).toBe(a);
    expect(await index.range(bases[2]!)).toBe(c);
    expect(store.scans).toBe(3);
    await index.range(bases[1]!);
    expect(store.scans).toBe(4);
    expect(await index.range(bases[2]!)).toBe(c); // the latest again
    for (let i = 15; i < 200; i++) index.written(`r!c!k${i}`, text("e")); // until c alone is over the budget
    expect(await index.range(bases[2]!)).toBeUndefined(); // dropped, and not read again
    expect(store.scans).toBe(4);
  });

  it("a reader walks each path once in key order while entries are added and removed between its steps", async () => {
    const store = new FakeStore();
    const index = new StagedIndex(1 << 20, store.scan);
    for (const p of ["b", "d", "f", "h"]) put(store, index, p, "1");
    const range = (await index.range(BASE))!;
    const reader = range.reader();
    reader.seek("c");
    expect(reader.next()?.[0]).toBe("d");
    put(store, index, "a", "1"); // before: shifts every position
    put(store, index, "e", "1"); // just ahead
    expect(reader.next()?.[0]).toBe("e");
    del(store, index, "e"); // the one just read
    del(store, index, "f"); // the next one
    expect(reader.next()?.[0]).toBe("h");
    expect(reader.next()).toBeUndefined();
    put(store, index, "i", "1");
    expect(reader.next()?.[0]).toBe("i");
  });

  it("deleting most of a range entry by entry (as a commit drops its sealed range) leaves the rest, readable as before", async () => {
    const store = new FakeStore();
    const index = new StagedIndex(1 << 20, store.scan);
    const key = (i: number) => `k${String(i).padStart(4, "0")}`;
    for (let i = 0; i < 1000; i++) put(store, index, key(i), `e${i}`);
    const range = (await index.range(BASE))!;
    const reader = range.reader();
    reader.seek("");
    expect(reader.next()?.[0]).toBe(key(0));
    for (let i = 0; i < 1000; i++) if (i % 10 !== 9) del(store, index, key(i)); // holes, then compactions
    put(store, index, key(5), "back"); // into a hole, or where one was
    del(store, index, key(5));
    put(store, index, key(5), "again");
    expect(reader.next()?.[0]).toBe(key(5));
    expect(reader.next()?.[0]).toBe(key(9));
    const rest = read(range);
    expect(rest).toHaveLength(101);
    expect(rest.slice(0, 3)).toEqual([`${key(5)}=again`, `${key(9)}=e9`, `${key(19)}=e19`]);
    expect(read(range, key(990))).toEqual([`${key(999)}=e999`]);
    for (let i = 0; i < 1000; i++) del(store, index, key(i));
    expect(read(range)).toEqual([]);
    expect(range.bytes).toBe(0);
  });

  it("orders paths by code point (UTF-8 byte order, as LevelDB), not by UTF-16 unit", async () => {
    const store = new FakeStore();
    const index = new StagedIndex(1 << 20, store.scan);
    const range = (await index.range(BASE))!;
    for (const p of ["\u{1F600}", "\uFF21", "z"]) put(store, index, p, "1");
    expect(read(range).map((e) => e.split("=")[0])).toEqual(["z", "\uFF21", "\u{1F600}"]);
    expect(read(range, "\uFFFF").map((e) => e.split("=")[0])).toEqual(["\u{1F600}"]);
  });
});
