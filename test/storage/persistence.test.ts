import { readdir } from "node:fs/promises";
import path from "node:path";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/server.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
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

  it("reclaims overwritten and deleted blobs", async () => {
    for (let i = 0; i < 5; i++) await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/over.txt", Body: `v${i}` }));
    await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/gone.txt", Body: "bye" }));
    await t.client.send(new DeleteObjectCommand({ Bucket: "test-repo", Key: "main/gone.txt" }));
    await t.restart(); // close flushes pending reclamation; start sweeps orphans
    expect((await blobFiles(t.dataDir)).length).toBe(2); // keep.txt and over.txt
  });

  it("a second server on the same data dir fails with a clear lock error", async () => {
    await expect(startServer({ port: 0, dataDir: t.dataDir })).rejects.toThrow(/in use by another lakes3 process/);
  });
});
