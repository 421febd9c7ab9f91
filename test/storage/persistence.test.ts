import { readdir } from "node:fs/promises";
import path from "node:path";
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { FsBlobStore } from "../../src/storage/blob-store.js";
import { MetadataStore } from "../../src/storage/metadata-store.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startServer } from "../../src/server/lifecycle.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

// A server (and data dir) per test: they restart and close it, so none may depend on another.
let t: TestServer;
beforeEach(async () => {
  t = await startTestServer();
});
afterEach(async () => {
  await t.close();
});

async function blobFiles(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  const root = path.join(dataDir, "blobs");
  for (const dir of await readdir(root).catch(() => [])) out.push(...(await readdir(path.join(root, dir))));
  return out;
}

describe("persistence", () => {
  it("keeps objects across a restart on the same data dir", async () => {
    await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/keep.txt", Body: "durable", Metadata: { a: "b" } }));
    await t.restart();
    const got = await t.client.send(new GetObjectCommand({ Bucket: "test-repo", Key: "main/keep.txt" }));
    expect(await got.Body!.transformToString()).toBe("durable");
    expect(got.Metadata).toEqual({ a: "b" });
  });

  it("reclaims overwritten and deleted blobs, small (inline) and large (files)", async () => {
    const big = (i: number) => Buffer.alloc(100 * 1024, i);
    for (let i = 0; i < 5; i++) await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/over.txt", Body: `v${i}: more bytes than a blob id holds` }));
    for (let i = 0; i < 5; i++) await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/over.bin", Body: big(i) }));
    await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/gone.txt", Body: "bye: more bytes than a blob id holds" }));
    await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/gone.bin", Body: big(9) }));
    await t.client.send(new DeleteObjectsCommand({ Bucket: "test-repo", Delete: { Objects: [{ Key: "main/gone.txt" }, { Key: "main/gone.bin" }] } }));
    await t.server.close(); // close flushes pending reclamation
    expect((await blobFiles(t.dataDir)).length).toBe(1); // over.bin's last version
    const store = new MetadataStore(path.join(t.dataDir, "metadata"));
    await store.open();
    const all = [];
    for await (const b of new FsBlobStore(t.dataDir, store.inlineBlobs).list()) all.push(b);
    await store.close();
    expect(all.map((b) => b.size).sort((a, b) => a - b)).toEqual([Buffer.byteLength("v4: more bytes than a blob id holds"), 100 * 1024]); // over.txt, over.bin
    await t.restart();
    const got = await t.client.send(new GetObjectCommand({ Bucket: "test-repo", Key: "main/over.bin" }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(big(4))).toBe(true);
  });

  it("a second server on the same data dir fails with a clear lock error", async () => {
    await expect(startServer({ port: 0, dataDir: t.dataDir })).rejects.toThrow(/in use by another lakes3 process/);
  });
});
