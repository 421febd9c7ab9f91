/**
 * "Bodies are never held in memory", observed: a blob write puts bytes on disk while its source is
 * still open (the source stalls half-way until the temp file has grown), and a blob read holds only
 * a bounded window of the file (the reader stops after one chunk; the stream has not read ahead).
 * The RSS is printed for information.
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsBlobStore, isRecycling } from "../../src/storage/blob-store.js";
import { waitFor } from "../helpers/wait.js";

const MIB = 1024 * 1024;
let root: string;
let store: FsBlobStore;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "lakes3-streaming-"));
  store = new FsBlobStore(root);
  await store.init();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Bytes in the temp files of writes in flight. */
async function tmpBytes(): Promise<number> {
  let total = 0;
  for (const name of await readdir(path.join(root, "tmp"))) total += (await stat(path.join(root, "tmp", name)).catch(() => ({ size: 0 }))).size;
  return total;
}

describe("blob streaming", () => {
  it("a write reaches the disk before its source ends (16 MiB, then a stall until the temp file holds 8 MiB)", async () => {
    const chunk = Buffer.alloc(64 * 1024, 3);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const source = Readable.from(
      (async function* () {
        for (let i = 0; i < 256; i++) yield chunk; // 16 MiB
        await gate;
        for (let i = 0; i < 256; i++) yield chunk; // 16 MiB more
      })(),
    );
    const rss0 = process.memoryUsage().rss;
    const writing = store.write(source);
    let onDisk = 0;
    try {
      onDisk = await waitFor(async () => ((await tmpBytes()) >= 8 * MIB ? await tmpBytes() : false), { timeoutMs: 10_000, message: "8 MiB in the temp file while the source is stalled" });
    } finally {
      release();
    }
    const ref = await writing;
    expect(ref.size).toBe(32 * MIB);
    expect(onDisk).toBeGreaterThanOrEqual(8 * MIB);
    console.log(`streaming write: ${(onDisk / MIB).toFixed(1)} MiB on disk during the stall; RSS +${((process.memoryUsage().rss - rss0) / MIB).toFixed(1)} MiB`);
  });

  it("a read holds a bounded window: after one chunk the stream has not read ahead of its buffer", async () => {
    const ref = await store.write(Readable.from((function* () {
      for (let i = 0; i < 64; i++) yield Buffer.alloc(MIB, i);
    })()));
    const stream = await store.open([ref]);
    const first = await new Promise<Buffer>((resolve, reject) => {
      stream.once("data", (c: Buffer) => {
        stream.pause();
        resolve(c);
      });
      stream.once("error", reject);
    });
    expect(first[0]).toBe(0);
    // a window for read-ahead to show (a negative check: nothing to poll for); it must stop at its high-water mark
    await new Promise((r) => setTimeout(r, 100));
    expect(stream.readableLength).toBeLessThanOrEqual(stream.readableHighWaterMark + MIB);
    expect(stream.readableLength).toBeLessThan(8 * MIB);
    let rest = first.length;
    stream.on("data", (c: Buffer) => (rest += c.length));
    stream.resume();
    await new Promise((r) => stream.once("end", r));
    expect(rest).toBe(64 * MIB);
  });

  it("a read reads again into the chunks its consumer hands back, never into one it keeps", async () => {
    const ref = await store.write(Readable.from((function* () {
      for (let i = 0; i < 32; i++) yield Buffer.alloc(MIB, i);
    })()));
    const stream = await store.open([ref]);
    if (!isRecycling(stream)) throw new Error("a blob read takes its chunks back");
    const buffers = new Set<ArrayBufferLike>();
    const kept = new Map<number, Buffer>();
    let i = 0;
    await pipeline(
      stream,
      new Writable({
        write(chunk: Buffer, _e, cb) {
          expect(chunk.equals(Buffer.alloc(MIB, i))).toBe(true);
          buffers.add(chunk.buffer);
          if ([2, 3, 10, 20].includes(i)) kept.set(i, chunk);
          else stream.recycle(chunk);
          if (i === 1) stream.recycle(chunk); // handed back twice, lent again once
          i++;
          cb();
        },
      }),
    );
    expect(i).toBe(32);
    for (const [n, chunk] of kept) expect(chunk.equals(Buffer.alloc(MIB, n))).toBe(true);
    expect(buffers.size).toBeLessThanOrEqual(kept.size + 2);
  });
});
