import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3Error, startTestServer, type TestServer } from "../helpers/server.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ mode: "s3", repos: [] });
});
afterAll(async () => {
  await t.close();
});

describe("mode s3: a plain S3 emulator over the same store", () => {
  it("creates a bucket, writes keys directly, lists keys at the root, and deletes an empty bucket", async () => {
    await t.client.send(new CreateBucketCommand({ Bucket: "plain-bucket" }));
    const again = await s3Error(t.client.send(new CreateBucketCommand({ Bucket: "plain-bucket" })));
    expect(again.name).toBe("BucketAlreadyOwnedByYou");
    await t.client.send(new PutObjectCommand({ Bucket: "plain-bucket", Key: "dir/file.txt", Body: "plain" }));
    await t.client.send(new PutObjectCommand({ Bucket: "plain-bucket", Key: "top.txt", Body: "top" }));
    const got = await t.client.send(new GetObjectCommand({ Bucket: "plain-bucket", Key: "dir/file.txt" }));
    expect(await got.Body!.transformToString()).toBe("plain");
    const root = await t.client.send(new ListObjectsV2Command({ Bucket: "plain-bucket", Delimiter: "/" }));
    expect(root.Contents?.map((c) => c.Key)).toEqual(["top.txt"]);
    expect(root.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["dir/"]);
    const all = await t.client.send(new ListObjectsV2Command({ Bucket: "plain-bucket", MaxKeys: 1 }));
    expect(all.Contents?.map((c) => c.Key)).toEqual(["dir/file.txt"]);
    const next = await t.client.send(new ListObjectsV2Command({ Bucket: "plain-bucket", ContinuationToken: all.NextContinuationToken }));
    expect(next.Contents?.map((c) => c.Key)).toEqual(["top.txt"]);

    const notEmpty = await s3Error(t.client.send(new DeleteBucketCommand({ Bucket: "plain-bucket" })));
    expect(notEmpty.name).toBe("BucketNotEmpty");
    await t.client.send(new DeleteObjectCommand({ Bucket: "plain-bucket", Key: "dir/file.txt" }));
    await t.client.send(new DeleteObjectCommand({ Bucket: "plain-bucket", Key: "top.txt" }));
    await t.client.send(new DeleteBucketCommand({ Bucket: "plain-bucket" }));
    const gone = await s3Error(t.client.send(new ListObjectsV2Command({ Bucket: "plain-bucket" })));
    expect(gone.name).toBe("NoSuchBucket");
  });
  it("rejects a bad continuation token", async () => {
    await t.client.send(new CreateBucketCommand({ Bucket: "tokens" }));
    const e = await s3Error(t.client.send(new ListObjectsV2Command({ Bucket: "tokens", ContinuationToken: "%%%" })));
    expect(e.$metadata.httpStatusCode).toBe(400);
  });
});
