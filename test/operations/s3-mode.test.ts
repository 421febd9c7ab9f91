import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
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
  it("applies S3's bucket naming rules on top of lakeFS's", async () => {
    for (const bad of ["foo-", "xn--abc", "sthree-x", "abc-s3alias", "ab", "Upper", "a.b.c"]) {
      const res = await t.raw({ method: "PUT", path: `/${bad}` });
      expect([bad, res.status, res.body]).toEqual([bad, 400, expect.stringContaining("<Code>InvalidBucketName</Code>")]);
    }
  });
  it("a copy from a missing bucket is NoSuchBucket (lakeFS mode answers NoSuchKey)", async () => {
    await t.client.send(new CreateBucketCommand({ Bucket: "copy-target" }));
    const e = await s3Error(t.client.send(new CopyObjectCommand({ Bucket: "copy-target", Key: "k", CopySource: "no-such-bucket/k" })));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(["NoSuchBucket", 404]);
  });
  it("rejects a bad continuation token", async () => {
    await t.client.send(new CreateBucketCommand({ Bucket: "tokens" }));
    const e = await s3Error(t.client.send(new ListObjectsV2Command({ Bucket: "tokens", ContinuationToken: "%%%" })));
    expect(e.$metadata.httpStatusCode).toBe(400);
  });
});

// S3 ListBuckets (issue 13, item 14): in --mode s3 S3 wins, so max-buckets, continuation-token and
// prefix page and filter as AWS documents them (ContinuationToken while more remain, Prefix echoed).
// lakeFS (pkg/gateway/operations/listbuckets.go) honours only prefix and returns every repository.
describe("mode s3: ListBuckets pages with max-buckets and continuation-token, filters by prefix", () => {
  it("returns pages of max-buckets with a token to the next one, and only names under prefix", async () => {
    const names = ["lb-a1", "lb-a2", "lb-a3", "lb-b1"];
    for (const Bucket of names) await t.client.send(new CreateBucketCommand({ Bucket }));
    try {
      const seen: string[] = [];
      let ContinuationToken: string | undefined;
      let pages = 0;
      do {
        const page = await t.client.send(new ListBucketsCommand({ MaxBuckets: 2, Prefix: "lb-", ContinuationToken }));
        expect(page.Buckets!.length).toBeLessThanOrEqual(2);
        expect(page.Prefix).toBe("lb-");
        seen.push(...page.Buckets!.map((b) => b.Name!));
        ContinuationToken = page.ContinuationToken;
        pages++;
      } while (ContinuationToken);
      expect(seen).toEqual(names);
      expect(pages).toBe(2);

      const a = await t.client.send(new ListBucketsCommand({ Prefix: "lb-a" }));
      expect(a.Buckets!.map((b) => b.Name)).toEqual(["lb-a1", "lb-a2", "lb-a3"]);
      expect(a.ContinuationToken).toBeUndefined();

      for (const bad of ["0", "10001", "x"]) {
        const res = await t.raw({ method: "GET", path: `/?max-buckets=${bad}` });
        expect(res.status, bad).toBe(400);
        expect(res.body).toContain("<Code>InvalidArgument</Code>");
      }
    } finally {
      for (const Bucket of names) await t.client.send(new DeleteBucketCommand({ Bucket }));
    }
  });
});

/**
 * A SigV4 GET / dated only by an RFC 1123 `Date` header, as botocore signs when the caller sets
 * Date: the string to sign carries the same instant in ISO 8601 basic form.
 */
function dateOnlyListBuckets(server: TestServer["server"], when: Date): Promise<{ status: number; body: string }> {
  const host = `127.0.0.1:${server.port}`;
  const date = when.toUTCString();
  const iso = when.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const emptySha = createHash("sha256").update("").digest("hex");
  const signedHeaders = "date;host;x-amz-content-sha256";
  const canonical = ["GET", "/", "", `date:${date}`, `host:${host}`, `x-amz-content-sha256:${emptySha}`, "", signedHeaders, emptySha].join("\n");
  const scope = `${iso.slice(0, 8)}/${server.region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", iso, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  let key: Buffer | string = "AWS4" + server.secretAccessKey;
  for (const part of [iso.slice(0, 8), server.region, "s3", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  const headers = {
    host,
    date,
    "x-amz-content-sha256": emptySha,
    authorization: `AWS4-HMAC-SHA256 Credential=${server.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: server.port, method: "GET", path: "/", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end();
  });
}

// Issue 13, item 14: AWS accepts a SigV4 request whose only date is `Date` (RFC 1123); lakeFS
// parses every date as ISO 8601 basic (pkg/gateway/sig/v4.go getAmzDate: time.Parse(v4timeFormat)
// → ErrMalformedDate), which lakefs mode keeps.
describe("SigV4 dated only by a Date header", () => {
  it("is accepted in mode s3 and is MalformedDate in lakefs mode, as lakeFS", async () => {
    const ok = await dateOnlyListBuckets(t.server, new Date());
    expect(ok.status, ok.body).toBe(200);
    const stale = await dateOnlyListBuckets(t.server, new Date(Date.now() - 60 * 60 * 1000));
    expect(stale.status).toBe(403);
    expect(stale.body).toContain("<Code>RequestTimeTooSkewed</Code>");

    const lakefs = await startTestServer();
    try {
      const refused = await dateOnlyListBuckets(lakefs.server, new Date());
      expect(refused.status).toBe(400);
      expect(refused.body).toContain("<Code>MalformedDate</Code>");
    } finally {
      await lakefs.close();
    }
  });
});
