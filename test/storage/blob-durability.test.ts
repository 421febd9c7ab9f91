/**
 * The crash-safe write order, observed rather than assumed (a SIGKILL keeps the page cache, so a
 * crash test cannot tell a missing fsync): the file-system calls are recorded through a wrapper
 * around node:fs/promises, and the metadata batches through MetadataStore.batch. A PUT must go
 * write → fsync the temp file → rename into blobs/xx/ → fsync that directory → one synced batch
 * that publishes the record, and answer only after that.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

const events: string[] = [];
let root = "";
/** A path relative to the data dir, with blob ids shortened to "<id>". */
const label = (p: unknown): string => {
  const rel = path.relative(root, String(p)).split(path.sep).join("/");
  return rel.replace(/[0-9a-f]{32}/g, "<id>").replace(/^blobs\/[0-9a-f]{2}/, "blobs/xx");
};

vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  const record = (e: string) => {
    if (root !== "") events.push(e);
  };
  const wrap = (fh: import("node:fs/promises").FileHandle, p: unknown) =>
    new Proxy(fh, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (prop === "sync" || prop === "datasync") record(`${String(prop)} ${label(p)}`);
          if (prop === "write" || prop === "writev" || prop === "writeFile") record(`write ${label(p)}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const open = async (p: Parameters<typeof actual.open>[0], ...rest: unknown[]) => wrap(await (actual.open as (...a: unknown[]) => Promise<import("node:fs/promises").FileHandle>)(p, ...rest), p);
  const rename = async (from: Parameters<typeof actual.rename>[0], to: Parameters<typeof actual.rename>[1]) => {
    record(`rename ${label(from)} -> ${label(to)}`);
    return actual.rename(from, to);
  };
  return { ...actual, open, rename, default: { ...actual, open, rename } };
});

const { FsBlobStore } = await import("../../src/storage/blob-store.js");
const { MetadataStore } = await import("../../src/storage/metadata-store.js");
const { Catalog } = await import("../../src/versioning/catalog.js");
const { startTestServer } = await import("../helpers/server.js");

/** Record every batch the metadata store writes, whether it was synced, and the keyspaces it puts to. */
const originalBatch = MetadataStore.prototype.batch;
const batchPuts: { synced: boolean; sublevels: string[] }[] = [];
let lastStore: InstanceType<typeof MetadataStore> | undefined;
vi.spyOn(MetadataStore.prototype, "batch").mockImplementation(function (this: InstanceType<typeof MetadataStore>) {
  lastStore = this;
  const batch = originalBatch.call(this);
  const write = batch.write.bind(batch) as (options?: { sync?: boolean }) => Promise<void>;
  (batch as unknown as { write: typeof write }).write = async (options) => {
    if (root !== "") {
      events.push(`batch${options?.sync ? " synced" : " NOT synced"}`);
      const ops = (batch as unknown as { ops: { type: string; sublevel?: { prefix: string } }[] }).ops;
      batchPuts.push({ synced: options?.sync === true, sublevels: ops.filter((o) => o.type === "put").map((o) => o.sublevel?.prefix ?? "") });
    }
    return write(options);
  };
  return batch;
});

/** The events of one blob's journey, from its temp file to its directory sync. */
function journey(): string[] {
  return events.filter((e) => / tmp\/<id>\.tmp| blobs\/xx$|rename|batch/.test(e) || e === "acknowledged");
}

describe("crash-safe write order", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-durability-"));
  });
  afterAll(async () => {
    root = "";
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    events.length = 0;
    batchPuts.length = 0;
  });

  it("FsBlobStore.write: write → fsync the temp file → rename → fsync the directory, then resolve", async () => {
    root = path.join(dir, "store");
    const store = new FsBlobStore(root);
    await store.init();
    events.length = 0;
    const body = Buffer.alloc(3 << 20, 7); // several write batches, above the inline limit
    const ref = await store.write(Readable.from([body.subarray(0, 1 << 20), body.subarray(1 << 20)]));
    events.push("acknowledged");
    expect(ref.size).toBe(body.length);
    const seen = journey();
    const lastWrite = seen.lastIndexOf("write tmp/<id>.tmp");
    const sync = seen.lastIndexOf("sync tmp/<id>.tmp");
    const renamed = seen.indexOf("rename tmp/<id>.tmp -> blobs/xx/<id>");
    const dirSync = seen.lastIndexOf("sync blobs/xx");
    expect(lastWrite, seen.join("\n")).toBeGreaterThanOrEqual(0);
    expect(sync, `no fsync of the temp file after its last write:\n${seen.join("\n")}`).toBeGreaterThan(lastWrite);
    expect(renamed, `rename before the fsync:\n${seen.join("\n")}`).toBeGreaterThan(sync);
    expect(dirSync, `no fsync of the directory after the rename:\n${seen.join("\n")}`).toBeGreaterThan(renamed);
    expect(seen.indexOf("acknowledged")).toBeGreaterThan(dirSync);
  });

  it("PutObject: the blob is durable before one synced batch publishes the record, and only then the answer", async () => {
    root = path.join(dir, "server");
    const t = await startTestServer({ dataDir: root });
    try {
      events.length = 0;
      const res = await t.raw({ method: "PUT", path: "/test-repo/main/durable.bin", body: Buffer.alloc(200 * 1024, 1) });
      events.push("acknowledged");
      expect(res.status, res.body).toBe(200);
      const seen = journey();
      const dirSync = seen.lastIndexOf("sync blobs/xx");
      const published = seen.findIndex((e, i) => i > dirSync && e.startsWith("batch"));
      expect(dirSync, seen.join("\n")).toBeGreaterThan(seen.indexOf("rename tmp/<id>.tmp -> blobs/xx/<id>"));
      expect(seen.indexOf("rename tmp/<id>.tmp -> blobs/xx/<id>")).toBeGreaterThan(seen.lastIndexOf("sync tmp/<id>.tmp"));
      expect(seen.lastIndexOf("sync tmp/<id>.tmp")).toBeGreaterThanOrEqual(0);
      expect(published, `no batch after the blob was durable:\n${seen.join("\n")}`).toBeGreaterThan(dirSync);
      expect(seen[published]).toBe("batch synced");
      expect(seen.indexOf("acknowledged")).toBeGreaterThan(published);
      // no batch published anything before the blob was durable
      expect(seen.slice(0, dirSync).filter((e) => e.startsWith("batch"))).toEqual([]);
    } finally {
      await t.close();
      root = "";
    }
  });

  it("PutObject of a small object: its bytes go into the one synced batch that publishes its record, then the answer", async () => {
    root = path.join(dir, "small");
    const t = await startTestServer({ dataDir: root });
    try {
      batchPuts.length = 0;
      const res = await t.raw({ method: "PUT", path: "/test-repo/main/small.bin", body: Buffer.alloc(1000, 3) });
      expect(res.status, res.body).toBe(200);
      // One write for the object: its bytes (inline-blobs) and its record (staging) together,
      // synced. A crash leaves both or neither; before, the bytes had a synced write of their own.
      expect(batchPuts).toEqual([{ synced: true, sublevels: ["!inline-blobs!", "!staging!"] }]);
      expect((lastStore as unknown as { heldInline: Map<string, Buffer> }).heldInline.size).toBe(0); // stored: no longer held
      await t.restart();
      const back = await t.raw({ method: "GET", path: "/test-repo/main/small.bin" });
      expect(back.status).toBe(200);
      expect(Buffer.from(back.body)).toEqual(Buffer.alloc(1000, 3));
      // A small part is stored with its part record the same way.
      const created = await t.raw({ method: "POST", path: "/test-repo/main/parts.bin?uploads" });
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(String(created.body))![1]!;
      batchPuts.length = 0;
      const part = await t.raw({ method: "PUT", path: `/test-repo/main/parts.bin?partNumber=1&uploadId=${uploadId}`, body: Buffer.alloc(500, 4) });
      expect(part.status).toBe(200);
      expect(batchPuts).toEqual([{ synced: true, sublevels: ["!inline-blobs!", "!parts!"] }]);
    } finally {
      await t.close();
      root = "";
    }
  });

  it("a small blob's bytes held for a record whose write is refused are dropped with the blob, never stored", async () => {
    root = path.join(dir, "refused");
    const store = new MetadataStore(path.join(root, "metadata"), root);
    await store.open();
    const blobs = new FsBlobStore(root, store.inlineBlobs);
    await blobs.init();
    const catalog = new Catalog(store);
    try {
      await catalog.createRepository("r");
      const target = { repo: "r", branch: "main" };
      const bytes = Buffer.from("held bytes, more than a blob id holds");
      const blob = await blobs.write(Readable.from([bytes]), { sizeHint: bytes.length });
      const held = (store as unknown as { heldInline: Map<string, Buffer> }).heldInline;
      expect([...held.keys()]).toEqual([blob.blobId]);
      expect(await blobs.readInline([blob])).toEqual(bytes); // readable meanwhile
      const record = { size: 10, etag: "e", lastModified: new Date().toISOString(), contentType: "text/plain", headers: {}, userMeta: {}, parts: [blob] };
      const refuse = () => {
        throw new Error("precondition failed");
      };
      await expect(catalog.putObject(target, "k", record, refuse)).rejects.toThrow("precondition failed");
      expect(held.size).toBe(1); // still held: the caller decides (publishObject reclaims the blob)
      await blobs.delete([blob.blobId]);
      expect(held.size).toBe(0);
      expect(await store.inlineBlobs.get(blob.blobId)).toBeUndefined();
      const stored: string[] = [];
      for await (const { blobId } of store.inlineBlobs.entries()) stored.push(blobId);
      expect(stored).toEqual([]);
    } finally {
      await store.close();
      root = "";
    }
  });
});
