import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { createHash } from "node:crypto";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, s3Error, startTestServer, type TestServer } from "../helpers/server.js";

let t: TestServer;
const Bucket = "test-repo";

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

describe("PutObject / GetObject through @aws-sdk/client-s3", () => {
  it("round-trips a Buffer body with metadata and standard headers", async () => {
    const body = Buffer.from("hello, lakes3\n");
    const put = await t.client.send(
      new PutObjectCommand({
        Bucket,
        Key: "main/docs/hello.txt",
        Body: body,
        ContentType: "text/plain; charset=utf-8",
        Metadata: { owner: "data-team", "run-id": "42" },
        CacheControl: "max-age=60",
        ContentDisposition: 'attachment; filename="hello.txt"',
        ContentLanguage: "en",
        Expires: new Date("2030-01-01T00:00:00Z"),
      }),
    );
    expect(put.ETag).toBe(`"${md5(body)}"`);
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/docs/hello.txt" }));
    expect(await got.Body!.transformToString()).toBe(body.toString());
    expect(got.ETag).toBe(`"${md5(body)}"`);
    expect(got.ContentType).toBe("text/plain; charset=utf-8");
    expect(got.Metadata).toEqual({ owner: "data-team", "run-id": "42" });
    expect(got.CacheControl).toBe("max-age=60");
    expect(got.ContentDisposition).toBe('attachment; filename="hello.txt"');
    expect(got.ContentLanguage).toBe("en");
    expect(got.ExpiresString ?? got.Expires?.toUTCString()).toContain("2030");
    expect(got.ContentLength).toBe(body.length);
    expect(got.AcceptRanges).toBe("bytes");
  });

  it("streams a file body (aws-chunked with a CRC32 trailer) and stores the bytes, not the framing", async () => {
    const file = path.join(t.dataDir, "upload.bin");
    const data = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    await writeFile(file, data);
    const put = await t.client.send(
      new PutObjectCommand({ Bucket, Key: "main/data/upload.bin", Body: createReadStream(file), ContentLength: data.length }),
    );
    expect(put.ETag).toBe(`"${md5(data)}"`);
    expect(put.ChecksumCRC32).toBeDefined();
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/data/upload.bin", ChecksumMode: "ENABLED" }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.equals(data)).toBe(true);
    expect(got.ChecksumCRC32).toBe(put.ChecksumCRC32);
  });

  it("accepts a body of unknown length (Transfer-Encoding: chunked, no Content-Length)", async () => {
    const body = Buffer.concat(Array.from({ length: 20 }, (_, i) => Buffer.alloc(10_000, i)));
    const res = await t.raw({ method: "PUT", path: "/test-repo/main/data/unknown-length.bin", body, headers: { "transfer-encoding": "chunked" } });
    expect(res.status).toBe(200);
    const head = await t.client.send(new HeadObjectCommand({ Bucket, Key: "main/data/unknown-length.bin" }));
    expect(head.ContentLength).toBe(200_000);
    expect(head.ETag).toBe(`"${md5(body)}"`);
  });

  it("infers Content-Type from the key's extension when none is sent", async () => {
    await t.raw({ method: "PUT", path: "/test-repo/main/data/table.csv", body: "a,b\n1,2\n" });
    const head = await t.client.send(new HeadObjectCommand({ Bucket, Key: "main/data/table.csv" }));
    expect(head.ContentType).toBe("text/csv");
    await t.raw({ method: "PUT", path: "/test-repo/main/data/noext", body: "x" });
    const head2 = await t.client.send(new HeadObjectCommand({ Bucket, Key: "main/data/noext" }));
    expect(head2.ContentType).toBe("application/octet-stream");
  });

  it("keeps keys opaque: //, .., trailing slash, spaces, + and unicode are distinct keys", async () => {
    const keys = ["main/a//b", "main/a/../b", "main/dir/", "main/dir", "main/with space+plus", "main/ünïcödé/日本.txt", "main//leading"];
    for (const [i, Key] of keys.entries()) await t.client.send(new PutObjectCommand({ Bucket, Key, Body: `v${i}` }));
    for (const [i, Key] of keys.entries()) {
      const got = await t.client.send(new GetObjectCommand({ Bucket, Key }));
      expect(await got.Body!.transformToString()).toBe(`v${i}`);
    }
  });

  it("answers NoSuchKey, NoSuchBucket, and rejects writes to a missing branch", async () => {
    const e1 = await s3Error(t.client.send(new GetObjectCommand({ Bucket, Key: "main/missing" })));
    expect(e1.name).toBe("NoSuchKey");
    expect(e1.$metadata.httpStatusCode).toBe(404);
    const e2 = await s3Error(t.client.send(new GetObjectCommand({ Bucket: "no-such-repo", Key: "main/x" })));
    expect(e2.name).toBe("NoSuchBucket");
    const e3 = await s3Error(t.client.send(new PutObjectCommand({ Bucket, Key: "nobranch/x", Body: "x" })));
    expect(e3.name).toBe("NoSuchBucket");
    const e4 = await s3Error(t.client.send(new PutObjectCommand({ Bucket, Key: "main~1/x", Body: "x" })));
    expect(e4.$metadata.httpStatusCode).toBe(400);
    const head = await s3Error(t.client.send(new HeadObjectCommand({ Bucket, Key: "main/missing" })));
    expect(head.$metadata.httpStatusCode).toBe(404);
  });

  it("error XML carries Resource ref@repo, Key without the ref, and a RequestId matching the header", async () => {
    const res = await t.raw({ method: "GET", path: "/test-repo/main/nope.txt" });
    expect(res.status).toBe(404);
    expect(errorCode(res.body)).toBe("NoSuchKey");
    expect(res.body).toContain("<Key>nope.txt</Key>");
    expect(res.body).toContain("<BucketName>test-repo</BucketName>");
    expect(res.body).toContain("<Resource>main@test-repo</Resource>");
    expect(res.body).toContain(`<RequestId>${res.headers["x-amz-request-id"]}</RequestId>`);
  });
});

describe("ranges", () => {
  const data = Buffer.from("0123456789abcdefghij");
  beforeAll(async () => {
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/range.txt", Body: data }));
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/empty.txt", Body: "" }));
  });
  const cases: [string, number, string | undefined][] = [
    ["bytes=0-4", 206, "01234"],
    ["bytes=5-", 206, "56789abcdefghij"],
    ["bytes=-3", 206, "hij"],
    ["bytes=15-100", 206, "fghij"],
    ["bytes=-100", 206, data.toString()],
    ["bytes=5-2", 200, data.toString()],
    ["bytes=abc", 200, data.toString()],
    ["items=0-1", 200, data.toString()],
    ["bytes=0-1,3-4", 200, data.toString()],
    ["bytes=20-", 416, undefined],
    ["bytes=-0", 416, undefined],
  ];
  for (const [range, status, expected] of cases) {
    it(`${range} → ${status}`, async () => {
      const res = await t.raw({ method: "GET", path: "/test-repo/main/range.txt", headers: { range } });
      expect(res.status).toBe(status);
      if (expected !== undefined) expect(res.body).toBe(expected);
      if (status === 206) expect(res.headers["content-range"]).toMatch(/^bytes \d+-\d+\/20$/);
      if (status === 416) {
        expect(errorCode(res.body)).toBe("InvalidRange");
        expect(res.headers["content-range"]).toBe("bytes */20");
      }
    });
  }
  it("any range on an empty object is 416", async () => {
    const res = await t.raw({ method: "GET", path: "/test-repo/main/empty.txt", headers: { range: "bytes=0-" } });
    expect(res.status).toBe(416);
  });
  it("HEAD with a range answers 206 with the range's length", async () => {
    const head = await t.client.send(new HeadObjectCommand({ Bucket, Key: "main/range.txt", Range: "bytes=2-5" }));
    expect(head.ContentLength).toBe(4);
    expect(head.ContentRange).toBe("bytes 2-5/20");
  });
  it("never returns a checksum on a ranged read", async () => {
    const put = await t.client.send(new PutObjectCommand({ Bucket, Key: "main/data/checksummed.bin", Body: "0123456789abcdef", ChecksumAlgorithm: "CRC32" }));
    expect(put.ChecksumCRC32).toBeDefined();
    const whole = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/data/checksummed.bin", ChecksumMode: "ENABLED" }));
    expect(whole.ChecksumCRC32).toBe(put.ChecksumCRC32); // the object has one …
    await whole.Body!.transformToByteArray();
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/data/checksummed.bin", Range: "bytes=0-9", ChecksumMode: "ENABLED" }));
    expect(got.ChecksumCRC32).toBeUndefined(); // … that a range does not get
    expect((await got.Body!.transformToByteArray()).length).toBe(10);
  });
});

describe("conditional requests", () => {
  let etag: string;
  let modified: Date;
  beforeAll(async () => {
    etag = (await t.client.send(new PutObjectCommand({ Bucket, Key: "main/cond.txt", Body: "cond" }))).ETag!;
    modified = (await t.client.send(new HeadObjectCommand({ Bucket, Key: "main/cond.txt" }))).LastModified!;
  });
  const get = (headers: Record<string, string>) => t.raw({ method: "GET", path: "/test-repo/main/cond.txt", headers });
  it("If-Match / If-None-Match", async () => {
    expect((await get({ "if-match": etag })).status).toBe(200);
    expect((await get({ "if-match": '"nope"' })).status).toBe(412);
    expect((await get({ "if-none-match": etag })).status).toBe(304);
    expect((await get({ "if-none-match": '"nope"' })).status).toBe(200);
    expect((await get({ "if-none-match": "*" })).status).toBe(304);
  });
  it("If-Modified-Since / If-Unmodified-Since with S3 precedence", async () => {
    const before = new Date(modified.getTime() - 60_000).toUTCString();
    const after = new Date(modified.getTime() + 60_000).toUTCString();
    expect((await get({ "if-modified-since": after })).status).toBe(304);
    expect((await get({ "if-modified-since": before })).status).toBe(200);
    expect((await get({ "if-unmodified-since": before })).status).toBe(412);
    expect((await get({ "if-unmodified-since": after })).status).toBe(200);
    // If-Match true wins over If-Unmodified-Since false; If-None-Match false wins over If-Modified-Since true.
    expect((await get({ "if-match": etag, "if-unmodified-since": before })).status).toBe(200);
    expect((await get({ "if-none-match": etag, "if-modified-since": before })).status).toBe(304);
    expect((await get({ "if-modified-since": "not a date" })).status).toBe(200);
    // At the second it was modified (an HTTP date has seconds): not modified since, and not modified after.
    const at = modified.toUTCString();
    expect((await get({ "if-modified-since": at })).status).toBe(304);
    expect((await get({ "if-unmodified-since": at })).status).toBe(200);
  });
  it("304 carries ETag and no body", async () => {
    const res = await get({ "if-none-match": etag });
    expect(res.headers.etag).toBe(etag);
    expect(res.body).toBe("");
  });
  it("If-None-Match: * on PutObject creates only once", async () => {
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/once.txt", Body: "first", IfNoneMatch: "*" }));
    const e = await s3Error(t.client.send(new PutObjectCommand({ Bucket, Key: "main/once.txt", Body: "second", IfNoneMatch: "*" })));
    expect(e.$metadata.httpStatusCode).toBe(412);
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/once.txt" }));
    expect(await got.Body!.transformToString()).toBe("first");
  });
  it("If-Match on PutObject replaces only the expected version", async () => {
    // its own key: the other tests here read main/cond.txt as written in beforeAll
    const etag = (await t.client.send(new PutObjectCommand({ Bucket, Key: "main/cond-put.txt", Body: "cond" }))).ETag!;
    const e = await s3Error(t.client.send(new PutObjectCommand({ Bucket, Key: "main/cond-put.txt", Body: "x", IfMatch: '"0000"' })));
    expect(e.$metadata.httpStatusCode).toBe(412);
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/cond-put.txt", Body: "new", IfMatch: etag }));
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/cond-put.txt" }));
    expect(await got.Body!.transformToString()).toBe("new");
    const missing = await s3Error(t.client.send(new PutObjectCommand({ Bucket, Key: "main/absent.txt", Body: "x", IfMatch: etag })));
    expect(missing.$metadata.httpStatusCode).toBe(404);
  });
  it("response-* overrides", async () => {
    const got = await t.client.send(
      new GetObjectCommand({ Bucket, Key: "main/cond.txt", ResponseContentType: "application/x-test", ResponseContentDisposition: "inline", ResponseCacheControl: "no-cache" }),
    );
    expect(got.ContentType).toBe("application/x-test");
    expect(got.ContentDisposition).toBe("inline");
    expect(got.CacheControl).toBe("no-cache");
  });
});

describe("CopyObject", () => {
  it("copies bytes and metadata (COPY) or replaces metadata (REPLACE)", async () => {
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/src/a b+c.txt", Body: "copy me", ContentType: "text/x-src", Metadata: { k: "v" } }));
    const copied = await t.client.send(new CopyObjectCommand({ Bucket, Key: "main/dst/copy.txt", CopySource: `${Bucket}/main/src/${encodeURIComponent("a b+c.txt")}` }));
    expect(copied.CopyObjectResult?.ETag).toBe(`"${md5("copy me")}"`);
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/dst/copy.txt" }));
    expect(await got.Body!.transformToString()).toBe("copy me");
    expect(got.ContentType).toBe("text/x-src");
    expect(got.Metadata).toEqual({ k: "v" });

    await t.client.send(
      new CopyObjectCommand({ Bucket, Key: "main/dst/replaced.txt", CopySource: `${Bucket}/main/src/${encodeURIComponent("a b+c.txt")}`, MetadataDirective: "REPLACE", ContentType: "text/plain", Metadata: { other: "1" } }),
    );
    const got2 = await t.client.send(new HeadObjectCommand({ Bucket, Key: "main/dst/replaced.txt" }));
    expect(got2.ContentType).toBe("text/plain");
    expect(got2.Metadata).toEqual({ other: "1" });
  });
  it("copy-source conditionals, missing sources and self-copy", async () => {
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/src/a b+c.txt", Body: "copy me" }));
    const src = `${Bucket}/main/src/${encodeURIComponent("a b+c.txt")}`;
    const e1 = await s3Error(t.client.send(new CopyObjectCommand({ Bucket, Key: "main/dst/c1", CopySource: src, CopySourceIfMatch: '"bad"' })));
    expect(e1.$metadata.httpStatusCode).toBe(412);
    const e2 = await s3Error(t.client.send(new CopyObjectCommand({ Bucket, Key: "main/dst/c2", CopySource: `${Bucket}/main/src/none` })));
    expect(e2.name).toBe("NoSuchKey");
    const e3 = await s3Error(t.client.send(new CopyObjectCommand({ Bucket, Key: "main/src/a b+c.txt", CopySource: src })));
    expect(e3.name).toBe("InvalidRequest");
    const bad = await t.raw({ method: "PUT", path: "/test-repo/main/dst/c3", headers: { "x-amz-copy-source": "justabucket" } });
    expect(errorCode(bad.body)).toBe("InvalidArgument");
  });
});

describe("DeleteObject", () => {
  it("deletes, and answers 204 for a missing key", async () => {
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/del.txt", Body: "x" }));
    const res = await t.client.send(new DeleteObjectCommand({ Bucket, Key: "main/del.txt" }));
    expect(res.$metadata.httpStatusCode).toBe(204);
    const again = await t.client.send(new DeleteObjectCommand({ Bucket, Key: "main/del.txt" }));
    expect(again.$metadata.httpStatusCode).toBe(204);
    const e = await s3Error(t.client.send(new GetObjectCommand({ Bucket, Key: "main/del.txt" })));
    expect(e.name).toBe("NoSuchKey");
  });
});

describe("virtual-host style", () => {
  it("addresses the repository through the Host header", async () => {
    await t.vhostClient.send(new PutObjectCommand({ Bucket, Key: "main/vhost.txt", Body: "via host" }));
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/vhost.txt" }));
    expect(await got.Body!.transformToString()).toBe("via host");
    const got2 = await t.vhostClient.send(new GetObjectCommand({ Bucket, Key: "main/vhost.txt" }));
    expect(await got2.Body!.transformToString()).toBe("via host");
  });
});

describe("browser form uploads (POST Object)", () => {
  it("answer that they are not supported, not that credentials are missing", async () => {
    const form = new FormData();
    form.append("key", "main/form.txt");
    form.append("file", new Blob(["x"]), "form.txt");
    const res = await fetch(`${t.url}/${Bucket}`, { method: "POST", body: form });
    expect([res.status, errorCode(await res.text())]).toEqual([405, "ERRLakeFSNotSupported"]);
    const plain = await fetch(`${t.url}/${Bucket}`, { method: "POST", body: "x" });
    expect([plain.status, errorCode(await plain.text())]).toEqual([403, "AccessDenied"]);
  });
});
