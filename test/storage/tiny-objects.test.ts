/**
 * Objects of at most 32 bytes (empty markers such as `_SUCCESS`, folder markers, tiny flags) keep
 * their bytes in their blob id, so in their record (src/storage/blob-store.ts, immediateBlobId):
 * nothing is stored for them besides the record, and everything S3 and lakeFS clients do with an
 * object works on them as on any other, through commits, restarts, copies and multipart uploads.
 */
import { createHash } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { blobFiles, missingOrTruncated, orphans, referencedBlobs } from "../reliability/lib/datadir.js";

const Bucket = "test-repo";
const MIB = 1024 * 1024;
const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

let t: TestServer;
beforeEach(async () => {
  t = await startTestServer();
});
afterEach(async () => {
  await t.close();
});

const get = async (Key: string, Range?: string) => {
  const res = await t.client.send(new GetObjectCommand({ Bucket, Key, Range }));
  return { body: Buffer.from(await res.Body!.transformToByteArray()), res };
};

describe("tiny objects (at most 32 bytes)", () => {
  const objects: Record<string, Buffer> = {
    "main/out/_SUCCESS": Buffer.alloc(0),
    "main/flag": Buffer.from("1"),
    "main/sixteen": Buffer.from("0123456789abcdef"),
    "main/thirty-two": Buffer.from([...Array(32).keys()].map((i) => (i * 37) & 0xff)),
    "main/thirty-three": Buffer.alloc(33, 7), // one byte over: kept in the metadata store
  };

  it("read back whole, by range and by HEAD, listed, copied, committed, and kept over a restart; only the larger one is stored", async () => {
    for (const [Key, Body] of Object.entries(objects)) {
      const put = await t.client.send(new PutObjectCommand({ Bucket, Key, Body }));
      expect(put.ETag).toBe(`"${md5(Body)}"`);
    }
    const check = async (prefix: string) => {
      for (const [key, bytes] of Object.entries(objects)) {
        const Key = key.replace(/^main\//, prefix);
        const { body, res } = await get(Key);
        expect(body.equals(bytes), Key).toBe(true);
        expect(res.ETag).toBe(`"${md5(bytes)}"`);
        const head = await t.client.send(new HeadObjectCommand({ Bucket, Key }));
        expect(head.ContentLength).toBe(bytes.length);
        if (bytes.length > 5) expect((await get(Key, "bytes=2-5")).body.equals(bytes.subarray(2, 6))).toBe(true);
      }
    };
    await check("main/");
    const listed = await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "main/" }));
    expect(Object.fromEntries(listed.Contents!.map((o) => [o.Key, o.Size]))).toEqual(Object.fromEntries(Object.entries(objects).map(([k, b]) => [k, b.length])));

    await t.client.send(new CopyObjectCommand({ Bucket, Key: "main/flag-copy", CopySource: `${Bucket}/main/flag` }));
    expect((await get("main/flag-copy")).body.toString()).toBe("1");

    const commit = await fetch(`${t.url}/api/v1/repositories/${Bucket}/branches/main/commits`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${t.server.accessKeyId}:${t.server.secretAccessKey}`).toString("base64")}`, "content-type": "application/json" },
      body: JSON.stringify({ message: "tiny objects" }),
    });
    expect(commit.status).toBe(201);
    const { id } = (await commit.json()) as { id: string };
    await check(`${id}/`); // read at the commit

    await t.restart();
    await check("main/");

    await t.server.close();
    const refs = await referencedBlobs(t.dataDir);
    const stored = await blobFiles(t.dataDir);
    expect(missingOrTruncated(refs, stored)).toEqual([]);
    expect(orphans(refs, stored)).toEqual([]);
    // Only the 33-byte object's bytes are stored (in the metadata store); the tiny ones are their ids.
    expect([...stored.values()]).toEqual([33]);
    await t.restart(); // for afterEach
  });

  it("a multipart upload whose last part is tiny", async () => {
    const Key = "main/mp/tail.bin";
    const parts = [Buffer.alloc(5 * MIB, 1), Buffer.from("a tail of 20 bytes..")];
    const { UploadId } = await t.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const etags: string[] = [];
    for (const [i, Body] of parts.entries()) etags.push((await t.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }))).ETag!);
    await t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const whole = Buffer.concat(parts);
    expect((await get(Key)).body.equals(whole)).toBe(true);
    expect((await get(Key, `bytes=${5 * MIB - 3}-${5 * MIB + 4}`)).body.equals(whole.subarray(5 * MIB - 3, 5 * MIB + 5))).toBe(true);
  });
});
