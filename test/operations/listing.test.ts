import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, s3Error, startTestServer, type TestServer } from "../helpers/server.js";

let t: TestServer;
const Bucket = "test-repo";
const keys = ["a.txt", "b/1.txt", "b/2.txt", "b/c/3.txt", "d/4.txt", "e.txt", "ü/5.txt"];

beforeAll(async () => {
  t = await startTestServer();
  for (const k of keys) await t.client.send(new PutObjectCommand({ Bucket, Key: `main/${k}`, Body: k }));
});
afterAll(async () => {
  await t.close();
});

describe("buckets are repositories", () => {
  it("ListBuckets lists repositories; HeadBucket and GetBucketLocation answer", async () => {
    const res = await t.client.send(new ListBucketsCommand({}));
    expect(res.Buckets?.map((b) => b.Name)).toContain(Bucket);
    expect(res.Buckets?.[0]?.CreationDate).toBeInstanceOf(Date);
    await t.client.send(new HeadBucketCommand({ Bucket }));
    const loc = await t.client.send(new GetBucketLocationCommand({ Bucket }));
    expect(loc.LocationConstraint ?? "").toBe("");
    const e = await s3Error(t.client.send(new HeadBucketCommand({ Bucket: "missing-repo" })));
    expect(e.$metadata.httpStatusCode).toBe(404);
  });
  it("CreateBucket creates a new repository (with branch main) and answers 409 for an existing one", async () => {
    await t.client.send(new CreateBucketCommand({ Bucket: "new-repo" }));
    await t.client.send(new PutObjectCommand({ Bucket: "new-repo", Key: "main/x", Body: "x" }));
    const e = await s3Error(t.client.send(new CreateBucketCommand({ Bucket: "new-repo" })));
    expect(e.name).toBe("BucketAlreadyExists");
    const bad = await s3Error(t.client.send(new CreateBucketCommand({ Bucket: "Bad_Name" })));
    expect(bad.$metadata.httpStatusCode).toBe(400);
  });
  it("DeleteBucket is not supported in lakefs mode", async () => {
    await t.client.send(new CreateBucketCommand({ Bucket: "undeletable-repo" }));
    const e = await s3Error(t.client.send(new DeleteBucketCommand({ Bucket: "undeletable-repo" })));
    expect(e.$metadata.httpStatusCode).toBe(405);
    expect(e.name).toBe("ERRLakeFSNotSupported");
  });
});

describe("ListObjectsV2", () => {
  it("lists branches as CommonPrefixes at the repository root", async () => {
    const root = await t.client.send(new ListObjectsV2Command({ Bucket, Delimiter: "/" }));
    expect(root.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["main/"]);
    expect(root.Contents ?? []).toEqual([]);
    const noDelim = await t.client.send(new ListObjectsV2Command({ Bucket }));
    expect(noDelim.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["main/"]);
  });
  it("lists keys with the ref in front, grouped at the delimiter", async () => {
    const res = await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "main/", Delimiter: "/" }));
    expect(res.Contents?.map((c) => c.Key)).toEqual(["main/a.txt", "main/e.txt"]);
    expect(res.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["main/b/", "main/d/", "main/ü/"]);
    expect(res.KeyCount).toBe(5);
    expect(res.Contents?.[0]?.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(res.Contents?.[0]?.StorageClass).toBe("STANDARD");
    const nested = await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "main/b/", Delimiter: "/" }));
    expect(nested.Contents?.map((c) => c.Key)).toEqual(["main/b/1.txt", "main/b/2.txt"]);
    expect(nested.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["main/b/c/"]);
  });
  it("paginates with continuation tokens, never repeating a common prefix", async () => {
    const seen: string[] = [];
    for await (const page of paginateListObjectsV2({ client: t.client, pageSize: 1 }, { Bucket, Prefix: "main/", Delimiter: "/" })) {
      seen.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
    }
    expect(seen).toEqual(["main/a.txt", "main/b/", "main/d/", "main/e.txt", "main/ü/"]);
    const flat: string[] = [];
    for await (const page of paginateListObjectsV2({ client: t.client, pageSize: 2 }, { Bucket, Prefix: "main/" })) {
      flat.push(...(page.Contents ?? []).map((c) => c.Key!));
    }
    expect(flat).toEqual(keys.map((k) => `main/${k}`));
  });
  it("honours start-after, max-keys 0 and fetch-owner", async () => {
    const res = await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "main/", StartAfter: "main/b/2.txt" }));
    expect(res.Contents?.map((c) => c.Key)).toEqual(["main/b/c/3.txt", "main/d/4.txt", "main/e.txt", "main/ü/5.txt"]);
    const zero = await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "main/", MaxKeys: 0 }));
    expect(zero.KeyCount).toBe(0);
    expect(zero.IsTruncated).toBe(false); // as S3 answers (s3-tests test_bucket_listv2_maxkeys_zero)
    expect(zero.NextContinuationToken).toBeUndefined();
    const owner = await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "main/a", FetchOwner: true }));
    expect(owner.Contents?.[0]?.Owner?.ID).toBeDefined();
  });
  it("encoding-type=url encodes keys (the SDK decodes them back)", async () => {
    const res = await t.raw({ method: "GET", path: "/test-repo?list-type=2&prefix=main/%C3%BC/&encoding-type=url" });
    expect(res.body).toContain("<Key>main/%C3%BC/5.txt</Key>");
    expect(res.body).toContain("<EncodingType>url</EncodingType>");
  });
  it("escapes XML's special characters in keys, prefixes, markers and tokens", async () => {
    await t.client.send(new CreateBucketCommand({ Bucket: "escape-repo" }));
    const key = `main/x&y/a<b>'"`;
    for (const k of [key, "main/x&y/c&d/e"]) await t.client.send(new PutObjectCommand({ Bucket: "escape-repo", Key: k, Body: "x" }));
    const q = (params: Record<string, string>) => new URLSearchParams(params).toString().replace(/\+/g, "%20");
    const first = await t.raw({ method: "GET", path: `/escape-repo?${q({ "list-type": "2", prefix: "main/x&y/", delimiter: "/", "max-keys": "1", "start-after": "main/x&y/<" })}` });
    const escaped = "main/x&amp;y/a&lt;b&gt;&apos;&quot;";
    expect(first.body).toContain("<Prefix>main/x&amp;y/</Prefix><StartAfter>main/x&amp;y/&lt;</StartAfter>");
    expect(first.body).toContain(`<NextContinuationToken>${escaped}</NextContinuationToken>`);
    expect(first.body).toMatch(new RegExp(`<Contents><Key>${escaped}</Key><LastModified>[^<]+</LastModified><ETag>&quot;[0-9a-f]{32}&quot;</ETag>`));
    const second = await t.raw({ method: "GET", path: `/escape-repo?${q({ "list-type": "2", prefix: "main/x&y/", delimiter: "/", "continuation-token": key })}` });
    expect(second.body).toContain(`<ContinuationToken>${escaped}</ContinuationToken>`);
    expect(second.body).toContain("<CommonPrefixes><Prefix>main/x&amp;y/c&amp;d/</Prefix></CommonPrefixes>");
    const v1 = await t.client.send(new ListObjectsCommand({ Bucket: "escape-repo", Prefix: "main/x&y/", Delimiter: "/", Marker: "main/x&y/<", MaxKeys: 1 }));
    expect([v1.Marker, v1.NextMarker, v1.Contents?.[0]?.Key]).toEqual(["main/x&y/<", key, key]);
  });
  it("an empty continuation token lists from the start and is echoed", async () => {
    const res = await t.raw({ method: "GET", path: "/test-repo?list-type=2&prefix=main/&continuation-token=&max-keys=1" });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/<ContinuationToken(><\/ContinuationToken>|\/>)/);
    expect(res.body).toContain("<Key>main/a.txt</Key>");
  });
  it("an unknown ref lists nothing", async () => {
    const res = await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "nobranch/" }));
    expect(res.KeyCount).toBe(0);
  });
  it("rejects bad max-keys, a token for another ref, and an unknown encoding", async () => {
    for (const q of ["max-keys=-1", "max-keys=abc", "max-keys=2147483648", "continuation-token=other/x", "encoding-type=base64"]) {
      const res = await t.raw({ method: "GET", path: `/test-repo?list-type=2&prefix=main/&${q}` });
      expect(res.status, q).toBe(400);
      expect(errorCode(res.body), q).toBe("InvalidArgument");
    }
  });
  it("caps max-keys at 1000", async () => {
    const res = await t.raw({ method: "GET", path: "/test-repo?list-type=2&prefix=main/&max-keys=5000" });
    expect(res.body).toContain("<MaxKeys>1000</MaxKeys>");
  });
});

describe("ListObjects v1", () => {
  it("lists with marker and NextMarker", async () => {
    const page1 = await t.client.send(new ListObjectsCommand({ Bucket, Prefix: "main/", Delimiter: "/", MaxKeys: 2 }));
    expect(page1.Contents?.map((c) => c.Key)).toEqual(["main/a.txt"]);
    expect(page1.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["main/b/"]);
    expect(page1.IsTruncated).toBe(true);
    expect(page1.NextMarker).toBe("main/b/");
    const page2 = await t.client.send(new ListObjectsCommand({ Bucket, Prefix: "main/", Delimiter: "/", Marker: page1.NextMarker }));
    expect(page2.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["main/d/", "main/ü/"]);
    expect(page2.Contents?.map((c) => c.Key)).toEqual(["main/e.txt"]);
  });
});

describe("DeleteObjects", () => {
  // A repository of its own: the listings above enumerate test-repo's main.
  const Bucket = "delete-repo";
  beforeAll(async () => {
    await t.client.send(new CreateBucketCommand({ Bucket }));
  });
  it("deletes many keys, reports missing ones as deleted and bad refs as errors", async () => {
    for (const k of ["x/1", "x/2", "x/3"]) await t.client.send(new PutObjectCommand({ Bucket, Key: `main/${k}`, Body: k }));
    const res = await t.client.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: [{ Key: "main/x/1" }, { Key: "main/x/2" }, { Key: "main/x/missing" }, { Key: "main~1/x/3" }, { Key: "main/" }] },
      }),
    );
    expect(res.Deleted?.map((d) => d.Key).sort()).toEqual(["main/", "main/x/1", "main/x/2", "main/x/missing"]);
    expect(res.Errors?.map((e) => e.Key)).toEqual(["main~1/x/3"]);
    const left = await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "main/x/" }));
    expect(left.Contents?.map((c) => c.Key)).toEqual(["main/x/3"]);
  });
  it("quiet mode omits Deleted entries", async () => {
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/x/3", Body: "x/3" }));
    const res = await t.client.send(new DeleteObjectsCommand({ Bucket, Delete: { Quiet: true, Objects: [{ Key: "main/x/3" }] } }));
    expect(res.Deleted ?? []).toEqual([]);
    expect((await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "main/x/" }))).KeyCount).toBe(0);
  });
  it("refuses more than 1000 keys and malformed XML", async () => {
    const many = Array.from({ length: 1001 }, (_, i) => `<Object><Key>main/k${i}</Key></Object>`).join("");
    const res = await t.raw({ method: "POST", path: "/test-repo?delete", body: `<Delete>${many}</Delete>` });
    expect(res.status).toBe(400);
    expect(errorCode(res.body)).toBe("MalformedXML");
    const bad = await t.raw({ method: "POST", path: "/test-repo?delete", body: "<Delete><Object><Key>oops" });
    expect(errorCode(bad.body)).toBe("MalformedXML");
    const empty = await t.raw({ method: "POST", path: "/test-repo?delete", body: "<Delete></Delete>" });
    expect(errorCode(empty.body)).toBe("MalformedXML");
  });
});
