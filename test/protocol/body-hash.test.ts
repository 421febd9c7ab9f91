// The digest of a body, hashed on a thread of its own past 256 KiB (src/protocol/body-hash.ts): the
// same digest as node:crypto over the same bytes, whatever the sizes of the chunks, with bodies
// interleaved, abandoned half-way, or too fast for the thread.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { BodyHash, startHashThread, type BodyHashAlgorithm } from "../../src/protocol/body-hash.js";
import { Digester } from "../../src/protocol/checksums.js";

const MiB = 1 << 20;
const BATCH = 256 << 10; // what body-hash.ts hands over at a time
const digestOf = (algorithm: BodyHashAlgorithm, b: Buffer) => createHash(algorithm).update(b).digest("hex");
const md5 = (b: Buffer) => digestOf("md5", b);

/** `data` cut into chunks of the sizes given, round and round. */
function chunksOf(data: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** Feeds the chunks in order, waiting whenever update says so: the digest in hex, how often it said wait, and where it was hashed. */
async function hash(chunks: readonly Buffer[], algorithm: BodyHashAlgorithm = "md5"): Promise<{ hex: string; waits: number; onThread: boolean }> {
  const m = new BodyHash(algorithm);
  let waits = 0;
  for (const c of chunks) {
    const wait = m.update(c);
    if (wait) {
      waits++;
      await wait;
    }
  }
  return { hex: (await m.digest()).toString("hex"), waits, onThread: m.onThread };
}

beforeAll(async () => {
  expect(await startHashThread()).toBe(true);
});

describe("a body's MD5", () => {
  it.each(["md5", "sha256"] as const)("is node:crypto's %s for bodies below, at and across the hand-over size, in chunks of any size", async (algorithm) => {
    const data = randomBytes(9 * MiB + 12345);
    for (const [size, pieces] of [
      [0, [1]],
      [1, [1]],
      [BATCH - 1, [65536]],
      [BATCH, [65536]],
      [BATCH + 1, [65536]],
      [3 * MiB + 7, [1, 65536, 333, 1 << 18]],
      [9 * MiB + 12345, [5 * MiB]], // a chunk larger than a batch buffer
      [9 * MiB + 12345, [16384, 65536, 7]],
    ] as const) {
      const body = data.subarray(0, size);
      const { hex, onThread } = await hash(chunksOf(body, pieces), algorithm);
      expect(hex, `${size} bytes in chunks of ${pieces.join("/")}`).toBe(digestOf(algorithm, body));
      expect(onThread, `${size} bytes`).toBe(size >= BATCH);
    }
  });

  it("keeps bodies hashed at the same time apart", async () => {
    const bodies = Array.from({ length: 6 }, (_, i) => randomBytes(2 * MiB + i * 100_003));
    const algorithms = bodies.map((_, i) => (i % 2 ? "sha256" : "md5") as BodyHashAlgorithm);
    const hashes = algorithms.map((a) => new BodyHash(a));
    const chunks = bodies.map((b) => chunksOf(b, [65536]));
    for (let i = 0; i < Math.max(...chunks.map((c) => c.length)); i++) {
      await Promise.all(chunks.map((c, b) => (c[i] ? hashes[b]!.update(c[i]!) : undefined)));
    }
    const digests = await Promise.all(hashes.map((h) => h.digest()));
    expect(digests.map((d) => d.toString("hex"))).toEqual(bodies.map((b, i) => digestOf(algorithms[i]!, b)));
    expect(hashes.every((h) => h.onThread)).toBe(true);
  });

  it("makes a body that outruns the thread wait, and goes on once it caught up", async () => {
    // chunks handed over synchronously, as fast as memory copies: the thread cannot keep up
    const body = randomBytes(24 * MiB);
    const { hex, waits, onThread } = await hash(chunksOf(body, [MiB]));
    expect(hex).toBe(md5(body));
    expect(onThread).toBe(true);
    expect(waits).toBeGreaterThan(0);
  });

  it("makes bodies wait once the thread has QUEUED batches of them all, however many bodies there are", async () => {
    // Each body hands over one batch, at once: none of them has AHEAD batches queued, yet only the
    // first QUEUED - 1 go on without waiting (the thread cannot hand a batch back within this turn).
    const QUEUED = 8; // what body-hash.ts queues at the thread, all bodies together
    const bodies = Array.from({ length: 12 }, () => randomBytes(BATCH + 17));
    const hashes = bodies.map(() => new BodyHash("md5"));
    const waits = hashes.map((h, i) => h.update(bodies[i]!));
    expect(waits.map((w) => w !== undefined)).toEqual(bodies.map((_, i) => i >= QUEUED - 1));
    await Promise.all(waits); // each goes on once others' batches come back
    const digests = await Promise.all(hashes.map((h) => h.digest()));
    expect(digests.map((d) => d.toString("hex"))).toEqual(bodies.map(md5));
  });

  it("lets a body waiting for the thread go on when it is abandoned", async () => {
    // A consumer that stops reading (a document over its size limit) destroys the stream while
    // its last chunk waits for the thread: that wait must end, or the request hangs.
    const abandoned = new BodyHash("md5");
    let wait: Promise<void> | undefined;
    for (let i = 0; i < 64 && !wait; i++) wait = abandoned.update(randomBytes(BATCH));
    expect(wait).toBeDefined();
    abandoned.discard();
    const ended = await Promise.race([wait!.then(() => "went on"), new Promise((r) => setTimeout(r, 5000, "still waiting"))]);
    expect(ended).toBe("went on");
  });

  it("hashes the next bodies as before once one was abandoned half-way", async () => {
    const abandoned = new BodyHash("md5");
    for (const c of chunksOf(randomBytes(3 * MiB), [65536])) await abandoned.update(c);
    abandoned.discard();
    const body = randomBytes(3 * MiB + 5);
    expect((await hash(chunksOf(body, [65536]))).hex).toBe(md5(body));
  });

  it("does not keep the process alive once it is done, nor while it only started", () => {
    // Scripts with nothing left to do must end by themselves: after a body hashed on the thread,
    // and after a first large body that started the thread and was hashed where it was read.
    const module = JSON.stringify(path.resolve(import.meta.dirname, "../../dist/protocol/body-hash.js"));
    const hashFourMiB = `
      const m = new BodyHash("md5");
      const chunk = Buffer.alloc(1 << 20, 1);
      for (let i = 0; i < 4; i++) await m.update(chunk);
      console.log(m.onThread, (await m.digest()).toString("hex"));`;
    const scripts = {
      true: `const { BodyHash, startHashThread } = await import(${module});
        if (!(await startHashThread())) throw new Error("no hashing thread");
        ${hashFourMiB}`,
      false: `const { BodyHash } = await import(${module});
        ${hashFourMiB}`,
    };
    for (const [onThread, script] of Object.entries(scripts)) {
      const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
      expect(run.error, script).toBeUndefined();
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expect(run.stdout.trim()).toBe(`${onThread} ${md5(Buffer.alloc(4 << 20, 1))}`);
    }
  });
});

describe("the Digester with a large body", () => {
  it("answers the ETag of the whole body and checks Content-MD5 against it", async () => {
    const body = randomBytes(5 * MiB + 3);
    const run = async (d: Digester) => {
      const out: Buffer[] = [];
      await pipeline(Readable.from(chunksOf(body, [65536])), d, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
      expect(Buffer.concat(out).equals(body)).toBe(true); // every byte passed on, in order
      return d;
    };
    const plain = await run(new Digester({}));
    expect(plain.md5Hex).toBe(md5(body));
    expect((await run(new Digester({ contentMd5: createHash("md5").update(body).digest("base64") }))).md5Hex).toBe(md5(body));
    await expect(run(new Digester({ contentMd5: createHash("md5").update("other").digest("base64") }))).rejects.toMatchObject({ code: "BadDigest" });
  });

  it("goes on hashing bodies after one whose stream failed", async () => {
    const src = new PassThrough();
    const d = new Digester({});
    const done = pipeline(src, d, new Writable({ write: (_c, _e, cb) => cb() }));
    for (let i = 0; i < 3; i++) src.write(randomBytes(MiB));
    src.destroy(new Error("client went away"));
    await expect(done).rejects.toThrow("client went away");
    const body = randomBytes(2 * MiB);
    expect((await hash(chunksOf(body, [65536]))).hex).toBe(md5(body));
  });
});
