/** Committed ranges and trees as files (src/storage/range-files.ts): one pack a commit, read by id, damage reported. */
import { existsSync } from "node:fs";
import { mkdtemp, open, readdir, rm, truncate, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StorageError } from "../../src/storage/errors.js";
import { encodeRecord, RangeData } from "../../src/storage/range-data.js";
import { isPacked, RangeFiles } from "../../src/storage/range-files.js";
import type { ObjectRecord } from "../../src/storage/metadata-store.js";

const record = (n: number): ObjectRecord => ({ size: n, etag: `e${n}`, lastModified: "2026-01-01T00:00:00.000Z", contentType: "text/plain", headers: {}, userMeta: {}, parts: [{ blobId: `b${n}`, size: n }] });
const range = (from: number, n: number) => RangeData.of(Array.from({ length: n }, (_, i) => [`k${String(from + i).padStart(5, "0")}`, encodeRecord(record(from + i))] as const)).encode();

let dir: string;
let files: RangeFiles;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-range-files-"));
  files = new RangeFiles(path.join(dir, "ranges"));
  await files.open();
});
afterEach(async () => {
  files.close();
  await rm(dir, { recursive: true, force: true });
});

/** A sealed pack of `count` ranges of 20 entries; returns their ids. */
async function pack(repo: string, count: number): Promise<string[]> {
  const w = files.writer(repo);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await w.add(range(i * 20, 20)));
  await w.seal();
  return ids;
}

const packFile = (repo: string, id: string) => path.join(dir, "ranges", repo, id.split("-")[0]!);

function expectDamage(fn: () => unknown, what: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).problem).toBe("metadata-damaged");
    expect((err as Error).message).toMatch(what);
    return;
  }
  throw new Error("expected a StorageError");
}

describe("range files", () => {
  it("a commit's ranges go into one pack, in place once sealed, each read back by its id", async () => {
    const ids = await pack("repo-a", 300); // ~1.6 MB: written out in more than one chunk
    expect(ids.every(isPacked)).toBe(true);
    expect(new Set(ids.map((id) => id.split("-")[0])).size).toBe(1);
    expect(await readdir(path.join(dir, "ranges", "repo-a"))).toHaveLength(1);
    expect(await readdir(path.join(dir, "ranges", ".tmp"))).toEqual([]);
    for (const i of [0, 1, 150, 299]) {
      const r = RangeData.decode(files.read("repo-a", ids[i]!));
      expect(r.keys[0]).toBe(`k${String(i * 20).padStart(5, "0")}`);
      expect(r.record(19)).toEqual(record(i * 20 + 19));
    }
    // Ids written by older versions (ranges in LevelDB) are told apart.
    expect(isPacked("0123456789abcdef01234567")).toBe(false);
  });

  it("an entry added in parts is read back whole, its checksum over all of them", async () => {
    const w = files.writer("repo-a");
    const whole = range(0, 20);
    const before = await w.add(range(100, 5));
    const id = await w.add([whole.subarray(0, 7), whole.subarray(7, 7), whole.subarray(7)]);
    await w.seal();
    expect(files.read("repo-a", id).equals(whole)).toBe(true);
    expect(RangeData.decode(files.read("repo-a", before)).keys[0]).toBe("k00100");
  });

  it("a writer given no range writes no file; an aborted one leaves nothing", async () => {
    await files.writer("repo-a").seal();
    const w = files.writer("repo-a");
    for (let i = 0; i < 600; i++) await w.add(range(i, 20)); // past the first chunk: a temp file
    expect(await readdir(path.join(dir, "ranges", ".tmp"))).toHaveLength(1);
    await w.abort();
    expect(await readdir(path.join(dir, "ranges", ".tmp"))).toEqual([]);
    expect(existsSync(path.join(dir, "ranges", "repo-a"))).toBe(false);
  });

  it("a seal that fails (the file synced and closed, then not put in place) leaves no temp file", async () => {
    const w = files.writer("repo-a");
    for (let i = 0; i < 600; i++) await w.add(range(i, 20));
    files.publish = async () => {
      throw new Error("rename failed");
    };
    await expect(w.seal()).rejects.toThrow("rename failed");
    expect(await readdir(path.join(dir, "ranges", ".tmp"))).toEqual([]);
  });

  it("a pack removed, cut short or changed outside lakes3 is reported with its file, never read as empty", async () => {
    const ids = await pack("repo-a", 5);
    const file = packFile("repo-a", ids[0]!);
    // Changed in place: one byte of the last range's records.
    const fh = await open(file, "r+");
    const { size } = await fh.stat();
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, size - 3);
    await fh.write(Buffer.from([byte[0]! ^ 0x20]), 0, 1, size - 3);
    await fh.close();
    expect(RangeData.decode(files.read("repo-a", ids[0]!)).length).toBe(20);
    expectDamage(() => files.read("repo-a", ids[4]!), /range file .* was changed outside lakes3 \(entry .* fails its checksum\)/);
    // Cut short.
    await truncate(file, size - 100);
    expectDamage(() => files.read("repo-a", ids[4]!), /was cut short outside lakes3/);
    // Removed (a fresh RangeFiles: no file kept open).
    files.close();
    await unlink(file);
    files = new RangeFiles(path.join(dir, "ranges"));
    await files.open();
    expectDamage(() => files.read("repo-a", ids[0]!), new RegExp(`repository repo-a is damaged: the range file ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is missing`));
  });

  it("open() removes packs a stopped process left half-written, and nothing else", async () => {
    const ids = await pack("repo-a", 2);
    const named = await pack("tmp", 1); // a valid repository name
    await writeFile(path.join(dir, "ranges", ".tmp", "0123456789abcdef01234567"), "half a pack");
    files.close();
    files = new RangeFiles(path.join(dir, "ranges"));
    await files.open();
    expect(await readdir(path.join(dir, "ranges", ".tmp"))).toEqual([]);
    expect(RangeData.decode(files.read("repo-a", ids[1]!)).length).toBe(20);
    expect(RangeData.decode(files.read("tmp", named[0]!)).length).toBe(20);
  });

  it("removeRepository drops a repository's packs only", async () => {
    await pack("repo-a", 2);
    const kept = await pack("repo-b", 2);
    await files.removeRepository("repo-a");
    expect(existsSync(path.join(dir, "ranges", "repo-a"))).toBe(false);
    expect(RangeData.decode(files.read("repo-b", kept[0]!)).length).toBe(20);
  });
});
