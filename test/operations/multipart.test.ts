import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeChecksum, type ChecksumAlgorithm } from "../../src/protocol/checksums.js";
import { errorCode, s3Error, startTestServer, type TestServer } from "../helpers/server.js";

let t: TestServer;
const Bucket = "test-repo";
const MiB = 1024 * 1024;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

/** Deterministic pseudo-random bytes (different per seed). */
function bytes(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
const md5 = (b: Buffer) => createHash("md5").update(b).digest();

describe("multipart through @aws-sdk/lib-storage", () => {
  it("uploads a 64 MiB stream with concurrency 4 and reads it back byte for byte", async () => {
    const size = 64 * MiB;
    const part = 5 * MiB;
    const data = bytes(size, 1);
    const chunks = function* () {
      for (let i = 0; i < size; i += 1024 * 1024) yield data.subarray(i, i + 1024 * 1024);
    };
    const upload = new Upload({ client: t.client, params: { Bucket, Key: "main/big/64m.bin", Body: Readable.from(chunks()) }, queueSize: 4, partSize: part });
    const result = await upload.done();
    const nParts = Math.ceil(size / part);
    const expectedEtag = createHash("md5").update(Buffer.concat(Array.from({ length: nParts }, (_, i) => md5(data.subarray(i * part, (i + 1) * part))))).digest("hex");
    expect(result.ETag).toBe(`"${expectedEtag}-${nParts}"`);
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/big/64m.bin" }));
    const back = Buffer.from(await got.Body!.transformToByteArray());
    expect(back.length).toBe(size);
    expect(back.equals(data)).toBe(true);
    expect(got.ETag).toBe(result.ETag);
    expect(got.PartsCount).toBeUndefined(); // only with ?partNumber, as S3

    // part by number, as parallel downloaders read it: part 3 and the short last part
    for (const n of [3, nParts]) {
      const p = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/big/64m.bin", PartNumber: n }));
      const want = data.subarray((n - 1) * part, Math.min(n * part, size));
      expect(p.$metadata.httpStatusCode).toBe(206);
      expect([p.PartsCount, p.ETag, p.ContentLength, p.ContentRange]).toEqual([nParts, result.ETag, want.length, `bytes ${(n - 1) * part}-${(n - 1) * part + want.length - 1}/${size}`]);
      expect(Buffer.from(await p.Body!.transformToByteArray()).equals(want)).toBe(true);
    }
    const headPart = await t.client.send(new HeadObjectCommand({ Bucket, Key: "main/big/64m.bin", PartNumber: 1 }));
    expect([headPart.PartsCount, headPart.ContentLength]).toEqual([nParts, part]);

    // a ranged read that starts in one part and ends in another
    const start = part - 100;
    const end = 3 * part + 50;
    const ranged = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/big/64m.bin", Range: `bytes=${start}-${end}` }));
    const slice = Buffer.from(await ranged.Body!.transformToByteArray());
    expect(slice.equals(data.subarray(start, end + 1))).toBe(true);
  }, 120_000);
});

describe("GET and HEAD by part number", () => {
  it("answers part 1 of a plain object with all of it; beyond the parts, with Range, or malformed fail as S3 does", async () => {
    const Key = "main/parts/plain.txt";
    await t.client.send(new PutObjectCommand({ Bucket, Key, Body: "four" }));
    const one = await t.client.send(new GetObjectCommand({ Bucket, Key, PartNumber: 1 }));
    expect([await one.Body!.transformToString(), one.PartsCount, one.ContentRange]).toEqual(["four", undefined, "bytes 0-3/4"]);
    const beyond = await t.raw({ method: "GET", path: `/${Bucket}/${Key}?partNumber=2` });
    expect([beyond.status, errorCode(beyond.body)]).toEqual([416, "InvalidPartNumber"]);
    expect(beyond.body).toContain("<ActualPartCount>1</ActualPartCount>");
    const headBeyond = await t.raw({ method: "HEAD", path: `/${Bucket}/${Key}?partNumber=2` });
    expect([headBeyond.status, headBeyond.body]).toEqual([416, ""]);
    const both = await t.raw({ method: "GET", path: `/${Bucket}/${Key}?partNumber=1`, headers: { range: "bytes=0-1" } });
    expect([both.status, errorCode(both.body)]).toEqual([400, "InvalidRequest"]);
    for (const bad of ["0", "10001", "x", "-1"]) {
      const res = await t.raw({ method: "GET", path: `/${Bucket}/${Key}?partNumber=${bad}` });
      expect([bad, res.status, errorCode(res.body)]).toEqual([bad, 400, "InvalidArgument"]);
    }
  });
});

describe("multipart checksum types", () => {
  const parts = [bytes(5 * MiB, 21), bytes(5 * MiB, 22), bytes(777, 23)];
  const whole = Buffer.concat(parts);
  const b64 = (alg: ChecksumAlgorithm, b: Buffer) => computeChecksum(alg, b).toString("base64");

  async function uploadAll(Key: string, alg: ChecksumAlgorithm, type?: "FULL_OBJECT" | "COMPOSITE") {
    const created = await t.client.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: alg, ChecksumType: type }));
    const done = [];
    for (const [i, Body] of parts.entries()) {
      const r = await t.client.send(new UploadPartCommand({ Bucket, Key, UploadId: created.UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: alg }));
      done.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    return { created, UploadId: created.UploadId!, Parts: done };
  }

  it("FULL_OBJECT CRC32: the whole object's CRC, from the parts' without re-reading them; a wrong claim is BadDigest", async () => {
    const Key = "main/ck/full-crc32.bin";
    const { created, UploadId, Parts } = await uploadAll(Key, "CRC32", "FULL_OBJECT");
    expect(created.ChecksumType).toBe("FULL_OBJECT");
    const listed = await t.client.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(listed.ChecksumType).toBe("FULL_OBJECT");
    const wrong = await s3Error(t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts }, ChecksumType: "FULL_OBJECT", ChecksumCRC32: "AAAAAA==" })));
    expect(wrong.name).toBe("BadDigest");
    const mode = await s3Error(t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts }, ChecksumType: "COMPOSITE" })));
    expect(mode.name).toBe("InvalidRequest");
    const done = await t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts }, ChecksumType: "FULL_OBJECT", ChecksumCRC32: b64("CRC32", whole) }));
    expect([done.ChecksumCRC32, done.ChecksumType]).toEqual([b64("CRC32", whole), "FULL_OBJECT"]);
    const head = await t.client.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: "ENABLED" }));
    expect([head.ChecksumCRC32, head.ChecksumType]).toEqual([b64("CRC32", whole), "FULL_OBJECT"]);
  });

  it("CRC64NVME defaults to FULL_OBJECT; SHA256 is COMPOSITE and a claim matches with or without -N", async () => {
    const nvme = await uploadAll("main/ck/nvme.bin", "CRC64NVME");
    expect(nvme.created.ChecksumType).toBe("FULL_OBJECT");
    const listed = await t.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: "main/ck/nvme.bin" }));
    expect(listed.Uploads?.map((u) => [u.ChecksumAlgorithm, u.ChecksumType])).toEqual([["CRC64NVME", "FULL_OBJECT"]]);
    const nvmeDone = await t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key: "main/ck/nvme.bin", UploadId: nvme.UploadId, MultipartUpload: { Parts: nvme.Parts } }));
    expect([nvmeDone.ChecksumCRC64NVME, nvmeDone.ChecksumType]).toEqual([b64("CRC64NVME", whole), "FULL_OBJECT"]);

    for (const suffix of ["-3", ""]) {
      const Key = `main/ck/sha${suffix}.bin`;
      const sha = await uploadAll(Key, "SHA256");
      expect(sha.created.ChecksumType).toBe("COMPOSITE");
      const composite = createHash("sha256").update(Buffer.concat(parts.map((p) => computeChecksum("SHA256", p)))).digest("base64");
      const done = await t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: sha.UploadId, MultipartUpload: { Parts: sha.Parts }, ChecksumSHA256: composite + suffix }));
      expect([done.ChecksumSHA256, done.ChecksumType]).toEqual([`${composite}-3`, "COMPOSITE"]);
    }
  });

  it("refuses a type the algorithm cannot have", async () => {
    for (const [alg, type] of [["SHA256", "FULL_OBJECT"], ["CRC64NVME", "COMPOSITE"]] as const) {
      const e = await s3Error(t.client.send(new CreateMultipartUploadCommand({ Bucket, Key: "main/ck/bad", ChecksumAlgorithm: alg, ChecksumType: type })));
      expect([alg, e.name, e.$metadata.httpStatusCode]).toEqual([alg, "InvalidRequest", 400]);
    }
  });
});

describe("multipart operations", () => {
  async function create(key: string, extra: Record<string, unknown> = {}) {
    const res = await t.client.send(new CreateMultipartUploadCommand({ Bucket, Key: key, ...extra }));
    return res.UploadId!;
  }

  it("create, upload parts (re-upload replaces), list parts, complete with checksums", async () => {
    const key = "main/mp/object.bin";
    const uploadId = await create(key, { ContentType: "application/x-test", Metadata: { m: "1" }, ChecksumAlgorithm: "CRC32" });
    const p1 = bytes(5 * MiB, 2);
    const p1b = bytes(5 * MiB, 3);
    const p2 = bytes(1234, 4);
    await t.client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: p1, ChecksumAlgorithm: "CRC32" }));
    const r1 = await t.client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: p1b, ChecksumAlgorithm: "CRC32" }));
    const r2 = await t.client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 2, Body: p2, ChecksumAlgorithm: "CRC32" }));
    expect(r1.ETag).toBe(`"${md5(p1b).toString("hex")}"`);
    expect(r1.ChecksumCRC32).toBeDefined();
    const parts = await t.client.send(new ListPartsCommand({ Bucket, Key: key, UploadId: uploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, p1b.length, r1.ETag],
      [2, p2.length, r2.ETag],
    ]);
    const page = await t.client.send(new ListPartsCommand({ Bucket, Key: key, UploadId: uploadId, MaxParts: 1 }));
    expect(page.IsTruncated).toBe(true);
    expect(page.NextPartNumberMarker).toBe("1");
    const page2 = await t.client.send(new ListPartsCommand({ Bucket, Key: key, UploadId: uploadId, PartNumberMarker: "1" }));
    expect(page2.Parts?.map((p) => p.PartNumber)).toEqual([2]);

    const done = await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r1.ETag, ChecksumCRC32: r1.ChecksumCRC32 }, { PartNumber: 2, ETag: r2.ETag, ChecksumCRC32: r2.ChecksumCRC32 }] },
      }),
    );
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect(done.Key).toBe(key);
    const head = await t.client.send(new HeadObjectCommand({ Bucket, Key: key, ChecksumMode: "ENABLED" }));
    expect(head.ContentType).toBe("application/x-test");
    expect(head.Metadata).toEqual({ m: "1" });
    expect(head.ContentLength).toBe(p1b.length + p2.length);
    expect(head.ETag).toBe(done.ETag);
    expect(head.ChecksumCRC32).toMatch(/-2$/);
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([p1b, p2]))).toBe(true);
    const gone = await s3Error(t.client.send(new ListPartsCommand({ Bucket, Key: key, UploadId: uploadId })));
    expect(gone.name).toBe("NoSuchUpload");

    // a retried Complete (the client lost the answer) gets the same answer; any other does not
    const partList = [{ PartNumber: 1, ETag: r1.ETag }, { PartNumber: 2, ETag: r2.ETag }];
    const retried = await t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: partList } }));
    expect([retried.ETag, retried.ChecksumCRC32]).toEqual([done.ETag, head.ChecksumCRC32]);
    const fewer = await s3Error(t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: partList.slice(0, 1) } })));
    expect(fewer.name).toBe("NoSuchUpload");
    const elsewhere = await s3Error(t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key: "main/mp/other.bin", UploadId: uploadId, MultipartUpload: { Parts: partList } })));
    expect(elsewhere.name).toBe("NoSuchUpload");
  });

  it("validates Complete as S3 does", async () => {
    const key = "main/mp/invalid.bin";
    const uploadId = await create(key);
    const small = bytes(1024, 5);
    const r1 = await t.client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: small }));
    const r2 = await t.client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 2, Body: small }));
    const complete = (Parts: { PartNumber: number; ETag?: string }[]) =>
      s3Error(t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts } })));
    expect((await complete([{ PartNumber: 2, ETag: r2.ETag }, { PartNumber: 1, ETag: r1.ETag }])).name).toBe("InvalidPartOrder");
    expect((await complete([{ PartNumber: 1, ETag: r1.ETag }, { PartNumber: 1, ETag: r1.ETag }])).name).toBe("InvalidPartOrder");
    expect((await complete([{ PartNumber: 1, ETag: r1.ETag }, { PartNumber: 2, ETag: r2.ETag }, { PartNumber: 2, ETag: r2.ETag }])).name).toBe("InvalidPartOrder");
    expect((await complete([{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }])).name).toBe("InvalidPart");
    expect((await complete([{ PartNumber: 3, ETag: r1.ETag }])).name).toBe("InvalidPart");
    expect((await complete([{ PartNumber: 1, ETag: r1.ETag }, { PartNumber: 2, ETag: r2.ETag }])).name).toBe("EntityTooSmall");
    const bad = await t.raw({
      method: "POST",
      path: `/test-repo/main/mp/invalid.bin?uploadId=${uploadId}`,
      body: "<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
    });
    expect(errorCode(bad.body)).toBe("InvalidArgument");
    const malformed = await t.raw({ method: "POST", path: `/test-repo/main/mp/invalid.bin?uploadId=${uploadId}`, body: "<Complete" });
    expect(errorCode(malformed.body)).toBe("MalformedXML");
    // a single small part is fine (the last part may be small)
    const ok = await t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r1.ETag }] } }));
    expect(ok.ETag).toMatch(/-1"$/);
  });

  it("rejects bad part numbers and unknown uploads; If-None-Match on Complete", async () => {
    const key = "main/mp/errors.bin";
    const uploadId = await create(key);
    for (const n of ["0", "10001", "x"]) {
      const res = await t.raw({ method: "PUT", path: `/test-repo/main/mp/errors.bin?partNumber=${n}&uploadId=${uploadId}`, body: "x" });
      expect(errorCode(res.body), n).toBe("InvalidArgument");
    }
    const e = await s3Error(t.client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: "nope", PartNumber: 1, Body: "x" })));
    expect(e.name).toBe("NoSuchUpload");
    const other = await s3Error(t.client.send(new UploadPartCommand({ Bucket, Key: "main/mp/other", UploadId: uploadId, PartNumber: 1, Body: "x" })));
    expect(other.name).toBe("NoSuchUpload");
    const r1 = await t.client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: "x" }));
    await t.client.send(new PutObjectCommand({ Bucket, Key: key, Body: "exists" }));
    const cond = await s3Error(
      t.client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId, IfNoneMatch: "*", MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r1.ETag }] } })),
    );
    expect(cond.$metadata.httpStatusCode).toBe(412);
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe("exists");
    const e2 = await s3Error(t.client.send(new CreateMultipartUploadCommand({ Bucket, Key: "nobranch/x" })));
    expect(e2.name).toBe("NoSuchBucket");
  });

  it("decodes numeric character references in the part list (Go's XML encoder writes &#34;)", async () => {
    const key = "main/mp/go-style.bin";
    const uploadId = await create(key);
    const r1 = await t.client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: "go" }));
    const etag = r1.ETag!.replace(/"/g, "&#34;");
    const res = await t.raw({
      method: "POST",
      path: `/test-repo/main/mp/go-style.bin?uploadId=${uploadId}`,
      body: `<CompleteMultipartUpload><Part><ETag>${etag}</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`,
    });
    expect(res.status).toBe(200);
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe("go");
  });

  it("abort removes the upload; ListMultipartUploads paginates", async () => {
    const ids: string[] = [];
    for (const k of ["main/lmu/a", "main/lmu/b", "main/lmu/b", "main/lmu/c/d"]) ids.push(await create(k));
    const all = await t.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: "main/lmu/" }));
    expect(all.Uploads?.map((u) => u.Key)).toEqual(["main/lmu/a", "main/lmu/b", "main/lmu/b", "main/lmu/c/d"]);
    const delim = await t.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: "main/lmu/", Delimiter: "/" }));
    expect(delim.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["main/lmu/c/"]);
    const page1 = await t.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: "main/lmu/", MaxUploads: 2 }));
    expect(page1.IsTruncated).toBe(true);
    const page2 = await t.client.send(
      new ListMultipartUploadsCommand({ Bucket, Prefix: "main/lmu/", KeyMarker: page1.NextKeyMarker, UploadIdMarker: page1.NextUploadIdMarker }),
    );
    expect([...(page1.Uploads ?? []), ...(page2.Uploads ?? [])].map((u) => u.UploadId)).toEqual(all.Uploads?.map((u) => u.UploadId));
    await t.client.send(new AbortMultipartUploadCommand({ Bucket, Key: "main/lmu/a", UploadId: ids[0] }));
    const again = await s3Error(t.client.send(new AbortMultipartUploadCommand({ Bucket, Key: "main/lmu/a", UploadId: ids[0] })));
    expect(again.name).toBe("NoSuchUpload");
    const after = await t.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: "main/lmu/" }));
    expect(after.Uploads?.length).toBe(3);
    for (const [i, k] of ["main/lmu/b", "main/lmu/b", "main/lmu/c/d"].entries()) {
      await t.client.send(new AbortMultipartUploadCommand({ Bucket, Key: k, UploadId: ids[i + 1] }));
    }
  });

  it("UploadPartCopy copies whole objects and ranges from any ref", async () => {
    const src = bytes(6 * MiB, 9);
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/mp/src.bin", Body: src }));
    const key = "main/mp/copied.bin";
    const uploadId = await create(key);
    const c1 = await t.client.send(new UploadPartCopyCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 1, CopySource: `${Bucket}/main/mp/src.bin` }));
    const c2 = await t.client.send(
      new UploadPartCopyCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 2, CopySource: `${Bucket}/main/mp/src.bin`, CopySourceRange: "bytes=10-99" }),
    );
    expect(c2.CopyPartResult?.ETag).toBe(`"${md5(src.subarray(10, 100)).toString("hex")}"`);
    const bad = await s3Error(
      t.client.send(new UploadPartCopyCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 3, CopySource: `${Bucket}/main/mp/src.bin`, CopySourceRange: "bytes=0-99999999" })),
    );
    expect([bad.name, bad.$metadata.httpStatusCode]).toEqual(["InvalidRange", 416]);
    const malformed = await s3Error(
      t.client.send(new UploadPartCopyCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 3, CopySource: `${Bucket}/main/mp/src.bin`, CopySourceRange: "bytes=abc" })),
    );
    expect(malformed.name).toBe("InvalidArgument");
    const cond = await s3Error(
      t.client.send(new UploadPartCopyCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: 3, CopySource: `${Bucket}/main/mp/src.bin`, CopySourceIfMatch: '"nope"' })),
    );
    expect(cond.$metadata.httpStatusCode).toBe(412);
    await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: c1.CopyPartResult?.ETag }, { PartNumber: 2, ETag: c2.CopyPartResult?.ETag }] },
      }),
    );
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([src, src.subarray(10, 100)]))).toBe(true);
  });
});
