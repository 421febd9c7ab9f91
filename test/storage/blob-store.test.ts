// Tests for src/storage/blob-store.ts: durability path, ranged multi-blob reads, cleanup on error, sweep.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { toS3Error } from "../../src/protocol/errors.js";
import { StorageError } from "../../src/storage/errors.js";
import { type BlobRef, FsBlobStore, isInlineBlob, newBlobId, newInlineBlobId } from "../../src/storage/blob-store.js";

let root: string;
let store: FsBlobStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "lakes3-blob-"));
  store = new FsBlobStore(root);
  await store.init();
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function collect(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

function chunked(data: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(e.name);
  return out;
}

describe("FsBlobStore", () => {
  it("round-trips bytes, stores under the fan-out path, leaves tmp empty", async () => {
    const data = randomBytes(3_000_000);
    const ref = await store.write(chunked(data, 65_536));
    expect(ref.size).toBe(data.length);
    expect(ref.blobId).toMatch(/^[0-9a-f]{32}$/);
    expect(store.pathOf(ref.blobId)).toBe(join(root, "blobs", ref.blobId.slice(0, 2), ref.blobId));
    expect((await stat(store.pathOf(ref.blobId))).size).toBe(data.length);
    expect(await readdir(join(root, "tmp"))).toEqual([]);
    expect((await collect(await store.open([ref]))).equals(data)).toBe(true);
    expect(await store.exists(ref.blobId)).toBe(true);
  });

  it("writes empty and tiny blobs", async () => {
    const empty = await store.write(Readable.from([]));
    expect(empty.size).toBe(0);
    expect((await collect(await store.open([empty]))).length).toBe(0);
    const tiny = await store.write(Readable.from([Buffer.from("hi")]));
    expect((await collect(await store.open([tiny]))).toString()).toBe("hi");
  });

  it("accepts string chunks", async () => {
    const ref = await store.write(Readable.from(["ab", "cd"], { objectMode: true }));
    expect((await collect(await store.open([ref]))).toString()).toBe("abcd");
  });

  it("pathOf rejects anything that is not a blob id", () => {
    expect(() => store.pathOf("../etc/passwd")).toThrow();
    expect(() => store.pathOf("ABCDEF")).toThrow();
  });

  it("ranged reads inside one blob", async () => {
    const data = randomBytes(5000);
    const ref = await store.write(Readable.from([data]));
    for (const [s, e] of [
      [0, 0],
      [0, 4999],
      [10, 20],
      [4999, 4999],
      [1234, 4321],
    ] as const) {
      expect((await collect(await store.open([ref], { start: s, end: e }))).equals(data.subarray(s, e + 1))).toBe(true);
    }
  });

  it("reads several blobs concatenated, with ranges crossing boundaries and empty blobs", async () => {
    const datas = [randomBytes(1000), Buffer.alloc(0), randomBytes(1), randomBytes(2_500_000), Buffer.alloc(0), randomBytes(777)];
    const refs: BlobRef[] = [];
    for (const d of datas) refs.push(await store.write(Readable.from(d.length ? [d] : [])));
    const all = Buffer.concat(datas);
    expect((await collect(await store.open(refs))).equals(all)).toBe(true);
    const cases: Array<[number, number]> = [
      [0, all.length - 1],
      [999, 1000], // last byte of blob 0 to the 1-byte blob 2
      [1000, 1000], // exactly the 1-byte blob
      [500, 1_200_000], // start in blob 0, end in blob 3
      [1001, all.length - 1], // start at blob 3, through the tail blob
      [all.length - 777, all.length - 1], // exactly the last blob
      [all.length - 1, all.length - 1],
      [2_500_000, 2_500_010], // crosses from blob 3 into blob 5
    ];
    for (const [s, e] of cases) {
      const got = await collect(await store.open(refs, { start: s, end: e }));
      expect(got.equals(all.subarray(s, e + 1)), `${s}-${e}`).toBe(true);
    }
  });

  it("a missing blob fails open() (blob-missing, naming the file) before any byte is read", async () => {
    const a = await store.write(Readable.from([Buffer.from("abc")]));
    const missing = { blobId: newBlobId(), size: 10 };
    const err = await store.open([a, missing]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).problem).toBe("blob-missing");
    expect((err as StorageError).message).toContain(missing.blobId);
  });

  it("a blob with another size than recorded fails open() (blob-damaged), never a short or long body", async () => {
    const a = await store.write(Readable.from([Buffer.from("abc")]));
    for (const size of [10, 2]) {
      const err = await store.open([{ blobId: a.blobId, size }]).catch((e: unknown) => e);
      expect((err as StorageError).problem).toBe("blob-damaged");
    }
  });

  it("destroying a read stream early closes it cleanly", async () => {
    const ref = await store.write(Readable.from([randomBytes(5 << 20)]));
    const r = await store.open([ref]);
    for await (const _ of r) break;
    expect(r.destroyed).toBe(true);
  });

  it("a source error leaves no file in tmp or blobs and is rethrown unchanged", async () => {
    const boom = new Error("boom");
    async function* src(): AsyncGenerator<Buffer> {
      yield randomBytes(3 << 20);
      yield randomBytes(100);
      throw boom;
    }
    const err = await store.write(Readable.from(src())).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(await filesUnder(root)).toEqual([]);
  });

  it("maxSize exceeded → a too-large StorageError (EntityTooLarge above), nothing left behind, source not destroyed", async () => {
    const src = chunked(randomBytes(5000), 1000);
    const err = await store.write(src, { maxSize: 4999 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).problem).toBe("too-large");
    expect(toS3Error(err).code).toBe("EntityTooLarge");
    expect(src.destroyed).toBe(false);
    expect(await filesUnder(root)).toEqual([]);
    const ok = await store.write(chunked(randomBytes(5000), 1000), { maxSize: 5000 });
    expect(ok.size).toBe(5000);
  });

  it("abort signal stops the write and cleans up", async () => {
    const ac = new AbortController();
    const src = new Readable({ read() {} });
    src.push(randomBytes(1000));
    const p = store.write(src, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    const err = await p.catch((e: unknown) => e);
    expect((err as Error).name).toBe("AbortError");
    expect(await filesUnder(root)).toEqual([]);
    await expect(store.write(Readable.from([]), { signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it("delete is idempotent and exists reflects it", async () => {
    const a = await store.write(Readable.from([Buffer.from("a")]));
    const b = await store.write(Readable.from([Buffer.from("b")]));
    await store.delete([a.blobId, b.blobId, newBlobId()]);
    await store.delete([a.blobId]);
    expect(await store.exists(a.blobId)).toBe(false);
    expect(await store.exists(b.blobId)).toBe(false);
  });

  it("sweep removes orphans and tmp files, keeps live blobs", async () => {
    const live = await store.write(Readable.from([Buffer.from("live")]));
    const orphan = await store.write(Readable.from([Buffer.from("orphan!")]));
    await writeFile(join(root, "tmp", "leftover.tmp"), "12345");
    const res = await store.sweep(async (id) => id === live.blobId);
    expect(res).toEqual({ removed: 2, bytes: 12, quarantined: 0 });
    expect(await store.exists(live.blobId)).toBe(true);
    expect(await store.exists(orphan.blobId)).toBe(false);
    expect(await readdir(join(root, "tmp"))).toEqual([]);
    const listed: Array<{ blobId: string; size: number }> = [];
    for await (const b of store.list()) listed.push(b);
    expect(listed).toEqual([{ blobId: live.blobId, size: 4 }]);
  });

  it("sweep moves unreferenced blobs written before `quarantineBefore` to lost+found/ instead of deleting them", async () => {
    const live = await store.write(Readable.from([Buffer.from("live")]));
    const old = await store.write(Readable.from([Buffer.from("old orphan")]));
    const past = new Date(Date.now() - 60_000);
    await utimes(store.pathOf(old.blobId), past, past);
    const fresh = await store.write(Readable.from([Buffer.from("fresh orphan")]));
    const res = await store.sweep((id) => id === live.blobId, { quarantineBefore: Date.now() - 30_000 });
    expect(res).toEqual({ removed: 1, bytes: 12, quarantined: 1 });
    expect(await store.exists(fresh.blobId)).toBe(false);
    expect(await readdir(join(root, "lost+found"))).toEqual([old.blobId]);
    expect(await store.quarantined()).toEqual([{ file: join(root, "lost+found", old.blobId), size: 10 }]);
    // Infinity: nothing unreferenced is deleted at all.
    const another = await store.write(Readable.from([Buffer.from("x")]));
    expect(await store.sweep((id) => id === live.blobId, { quarantineBefore: Infinity })).toEqual({ removed: 0, bytes: 0, quarantined: 1 });
    expect((await readdir(join(root, "lost+found"))).sort()).toEqual([old.blobId, another.blobId].sort());
    expect(await store.exists(live.blobId)).toBe(true);
  });

  it("list walks every blob with its size", async () => {
    const refs = await Promise.all(Array.from({ length: 20 }, (_, i) => store.write(Readable.from([Buffer.alloc(i, 1)]))));
    const listed = new Map<string, number>();
    for await (const b of store.list()) listed.set(b.blobId, b.size);
    expect(listed).toEqual(new Map(refs.map((r) => [r.blobId, r.size])));
  });

  it("inline blob ids sort by the time they were made (LevelDB adds new ones at the end of their range), unique within a millisecond", async () => {
    const t = Date.UTC(2026, 11, 5);
    const ids = [newInlineBlobId(t), newInlineBlobId(t + 1), newInlineBlobId(t + 60_000), newInlineBlobId(Date.UTC(2100, 0, 1))];
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every(isInlineBlob)).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => newInlineBlobId(t))).size).toBe(1000);
    // and the store names its inline blobs so
    const kept = new Map<string, Buffer>();
    const inline = { get: async (id: string) => kept.get(id), put: async (id: string, b: Buffer) => void kept.set(id, b), delete: async () => {}, entries: async function* () {} };
    const inlineStore = new FsBlobStore(root, inline);
    const now = vi.spyOn(Date, "now");
    const written: string[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        now.mockReturnValue(t + i);
        written.push((await inlineStore.write(Readable.from([Buffer.alloc(40, i)]), { sizeHint: 40 })).blobId);
      }
    } finally {
      now.mockRestore();
    }
    expect(written.every(isInlineBlob)).toBe(true);
    expect([...written].sort()).toEqual(written);
  });

  it("ids are unique", async () => {
    const ids = new Set(Array.from({ length: 10_000 }, newBlobId));
    expect(ids.size).toBe(10_000);
    const refs = await Promise.all(Array.from({ length: 50 }, () => store.write(Readable.from([Buffer.from("x")]))));
    expect(new Set(refs.map((r) => r.blobId)).size).toBe(50);
  });

  it("survives the fan-out directory disappearing", async () => {
    const a = await store.write(Readable.from([Buffer.from("a")]));
    await rm(join(root, "blobs"), { recursive: true });
    // Any later write into a previously-known dir must recreate it.
    for (let i = 0; i < 20; i++) await store.write(Readable.from([Buffer.from("b")]));
    expect(await store.exists(a.blobId)).toBe(false);
  });

  it("64 MiB streaming write/read keeps memory flat (prints RSS and speed)", async () => {
    const total = 64 << 20;
    const chunk = randomBytes(64 << 10);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    let produced = 0;
    const src = new Readable({
      highWaterMark: 64 << 10,
      read() {
        if (produced >= total) return void this.push(null);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const t0 = performance.now();
    const ref = await store.write(src);
    const t1 = performance.now();
    let readBytes = 0;
    await pipeline(
      await store.open([ref]),
      new Writable({
        highWaterMark: 64 << 10,
        write(c: Buffer, _e, cb) {
          readBytes += c.length;
          setImmediate(cb);
        },
      }),
    );
    const t2 = performance.now();
    clearInterval(sample);
    expect(ref.size).toBe(total);
    expect(readBytes).toBe(total);
    const mib = (n: number): string => (n / (1 << 20)).toFixed(1);
    console.log(
      `64 MiB: write ${(64 / ((t1 - t0) / 1000)).toFixed(0)} MiB/s, read ${(64 / ((t2 - t1) / 1000)).toFixed(0)} MiB/s; ` +
        `RSS start ${mib(rss0)} MiB, peak ${mib(peak)} MiB (+${mib(peak - rss0)})`,
    );
  }, 60_000);
});
