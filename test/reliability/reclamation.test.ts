/**
 * Blobs nobody references any more are deleted: each test does one thing that hands blobs back
 * (parts left out of a Complete, a part uploaded again, a REST reset, a REST delete-many, a
 * branch delete, an overwrite), stops the server (the Reclaimer flushes on close) and compares
 * the blob files and inline blobs on disk with the blobs the metadata references, read offline
 * (test/reliability/lib/datadir.ts). Bodies are above the inline limit unless said otherwise.
 */
import { randomBytes } from "node:crypto";
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { apiClient, type Api } from "../api/helpers.js";
import { blobFiles, missingOrTruncated, orphans, referencedBlobs } from "./lib/datadir.js";

const Bucket = "test-repo";
const MIB = 1024 * 1024;
let t: TestServer;
let api: Api;

beforeEach(async () => {
  t = await startTestServer();
  api = apiClient(t);
});
afterEach(async () => {
  await t.close();
});

/** Stop the server; then the disk must hold exactly the referenced blobs. Returns the file count. */
async function expectNoOrphans(): Promise<number> {
  await t.server.close();
  const refs = await referencedBlobs(t.dataDir);
  const files = await blobFiles(t.dataDir);
  expect(missingOrTruncated(refs, files), "referenced blobs missing").toEqual([]);
  expect(orphans(refs, files), "blobs no record references").toEqual([]);
  return files.size;
}

const put = (Key: string, Body: Buffer | string) => t.client.send(new PutObjectCommand({ Bucket, Key, Body }));

describe("blob reclamation", () => {
  it("control: blobs that are still referenced stay (and the check sees them)", async () => {
    await put("main/kept-large.bin", randomBytes(100 * 1024));
    await put("main/kept-small.txt", "inline: more bytes than a blob id holds");
    await put("main/kept-tiny.txt", "tiny"); // its bytes are its blob id: nothing stored, nothing to reclaim
    expect(await expectNoOrphans()).toBe(2);
  });

  it("CompleteMultipartUpload deletes the parts it was not given", async () => {
    const Key = "main/mp/partial.bin";
    const { UploadId } = await t.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const parts = [randomBytes(5 * MIB), randomBytes(100 * 1024), randomBytes(100 * 1024)];
    const etags: string[] = [];
    for (const [i, Body] of parts.entries()) etags.push((await t.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }))).ETag!);
    await t.client.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etags[0] }, { PartNumber: 3, ETag: etags[2] }] } }),
    );
    expect(await expectNoOrphans()).toBe(2); // parts 1 and 3; part 2 is gone
  });

  it("UploadPart again with the same number deletes the part it replaces", async () => {
    const Key = "main/mp/again.bin";
    const { UploadId } = await t.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    for (let i = 0; i < 3; i++) await t.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: randomBytes(100 * 1024) }));
    expect(await expectNoOrphans()).toBe(1); // the upload is still open: only its current part 1
  });

  it("PutObject over a staged object deletes the old bytes", async () => {
    await put("main/over.bin", randomBytes(100 * 1024));
    await put("main/over.bin", randomBytes(100 * 1024));
    await put("main/over-small.txt", "one: more bytes than a blob id holds");
    await put("main/over-small.txt", "two: more bytes than a blob id holds");
    expect(await expectNoOrphans()).toBe(2);
  });

  it("REST reset of a branch deletes its staged blobs (one object, a prefix, everything)", async () => {
    for (const k of ["one.bin", "dir/a.bin", "dir/b.bin", "rest/c.bin", "rest/small.txt"]) await put(`main/${k}`, k.endsWith(".txt") ? "small" : randomBytes(100 * 1024));
    const reset = (json: unknown) => api("PUT", `/repositories/${Bucket}/branches/main`, { json });
    expect((await reset({ type: "object", path: "one.bin" })).status).toBe(204);
    expect((await reset({ type: "common_prefix", path: "dir/" })).status).toBe(204);
    expect((await reset({ type: "reset" })).status).toBe(204);
    expect(await expectNoOrphans()).toBe(0);
  });

  it("REST delete-many (and delete one) deletes the staged blobs", async () => {
    for (const k of ["a.bin", "b.bin", "c.txt", "d.bin"]) await put(`main/del/${k}`, k.endsWith(".txt") ? "small" : randomBytes(100 * 1024));
    const many = await api("POST", `/repositories/${Bucket}/branches/main/objects/delete`, { json: { paths: ["del/a.bin", "del/b.bin", "del/c.txt"] } });
    expect(many.status, many.text).toBe(200);
    expect((await api("DELETE", `/repositories/${Bucket}/branches/main/objects?path=del/d.bin`)).status).toBe(204);
    expect(await expectNoOrphans()).toBe(0);
  });

  it("REST branch delete deletes the branch's staged blobs, not the committed ones", async () => {
    await put("main/committed.bin", randomBytes(100 * 1024));
    expect((await api("POST", `/repositories/${Bucket}/branches/main/commits`, { json: { message: "c" } })).status).toBe(201);
    expect((await api("POST", `/repositories/${Bucket}/branches`, { json: { name: "dev", source: "main" } })).status).toBe(201);
    await t.client.send(new PutObjectCommand({ Bucket, Key: "dev/staged.bin", Body: randomBytes(100 * 1024) }));
    expect((await api("DELETE", `/repositories/${Bucket}/branches/dev`)).status).toBe(204);
    expect(await expectNoOrphans()).toBe(1);
  });
});
