// When the hashing thread of large bodies starts (src/protocol/body-hash.ts): with the first body,
// so a server that is only read never pays for it (10-20 MB of RSS), and once.
// A file of its own: its process has started no hashing thread before.
import { GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

let t: TestServer;
const started: string[] = [];
const onWorker = () => started.push("worker");

beforeAll(async () => {
  process.on("worker", onWorker);
  t = await startTestServer();
});
afterAll(async () => {
  process.off("worker", onWorker);
  await t.close();
});

describe("the hashing thread", () => {
  it("is not started by reads, and is started once by the first body, small or large", async () => {
    const Bucket = "test-repo";
    await t.client.send(new HeadBucketCommand({ Bucket }));
    await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "main/" }));
    await expect(t.client.send(new GetObjectCommand({ Bucket, Key: "main/none" }))).rejects.toThrow();
    expect(started).toEqual([]);

    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/small", Body: "hi" }));
    await waitFor(() => started.length === 1);
    const large = randomBytes(2 << 20);
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/large", Body: large }));
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/large" }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(large)).toBe(true);
    expect(started).toEqual(["worker"]);
  });
});
