/**
 * Concurrency (issue 7.3): many clients writing, overwriting and deleting the same and different
 * keys while others read. Every read is one complete version (the ETag matches the bytes);
 * `If-None-Match: *` and `If-Match` let exactly one of N racing writers win; concurrent multipart
 * completes of one key leave one of them; a multipart object being read while it is overwritten and
 * deleted streams to the end (the Reclaimer pins its blobs); nothing is orphaned afterwards.
 */
import http from "node:http";
import { randomBytes } from "node:crypto";
import {
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeClient, startTestServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { blobFiles, missingOrTruncated, orphans, referencedBlobs } from "./lib/datadir.js";
import { Rng } from "./lib/random.js";
import { encodeKey, md5Hex, multipartEtag, send, signV4, type Endpoint } from "./lib/s3raw.js";

const BUCKET = "test-repo";
const MIB = 1024 * 1024;
let t: TestServer;
let ep: Endpoint;

beforeAll(async () => {
  t = await startTestServer();
  ep = { port: t.server.port, region: t.server.region, accessKeyId: t.server.accessKeyId, secretAccessKey: t.server.secretAccessKey };
});
// Last, after every test here (whichever ran, in whatever order): once the server has shut down,
// no blob is orphaned or missing. An assertion in afterAll fails the file.
afterAll(async () => {
  try {
    await t.server.close(); // the Reclaimer flushes what is no longer pinned
    const refs = await referencedBlobs(t.dataDir);
    const files = await blobFiles(t.dataDir);
    expect(missingOrTruncated(refs, files), "referenced blobs missing or truncated").toEqual([]);
    expect(orphans(refs, files), "orphaned blobs").toEqual([]);
  } finally {
    await t.close();
  }
});

const status = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** Upload a multipart object (parts given) through the SDK; returns the upload's Complete promise factory. */
async function prepareUpload(client: S3Client, key: string, parts: Buffer[]): Promise<{ uploadId: string; complete: (headers?: Record<string, string>) => Promise<{ status: number; etag?: string; code?: string }> }> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  const etags: string[] = [];
  for (const [i, p] of parts.entries()) {
    const out = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: p }));
    etags.push(out.ETag!);
  }
  const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
  return {
    uploadId: UploadId!,
    async complete(headers = {}) {
      const res = await send(ep, { method: "POST", path: `/${BUCKET}/${encodeKey(key)}?uploadId=${UploadId}`, headers, body: xml });
      return { status: res.status, etag: /<ETag>&quot;([^&]+)&quot;<\/ETag>|<ETag>"([^"]+)"<\/ETag>/.exec(res.text)?.slice(1).find(Boolean), code: /<Code>([^<]+)<\/Code>/.exec(res.text)?.[1] };
    },
  };
}

describe("concurrency", () => {
  it("parallel writes, overwrites, deletes and reads: every read is one complete version", async () => {
    const CLIENTS = 12;
    const OPS = 60;
    const shared = ["main/shared/a", "main/shared/b", "main/shared/ü c", "main/shared/d/e"];
    /** key → every (etag, size) ever written (a read must be one of them). */
    const written = new Map<string, Set<string>>();
    const lastAcked = new Map<string, string | null>();
    const note = (key: string, etag: string, size: number) => {
      if (!written.has(key)) written.set(key, new Set());
      written.get(key)!.add(`${etag}/${size}`);
    };
    const problems: string[] = [];
    let reads = 0;
    const clients = Array.from({ length: CLIENTS }, () => makeClient(t.server));

    await Promise.all(
      clients.map(async (client, c) => {
        const rng = new Rng(1000 + c);
        const own = Array.from({ length: 3 }, (_, i) => `main/own/${c}/${i}`);
        for (let op = 0; op < OPS; op++) {
          const key = rng.chance(0.6) ? rng.pick(shared) : rng.pick(own);
          const r = rng.next();
          try {
            if (r < 0.4) {
              const body = randomBytes(rng.chance(0.2) ? rng.int(256 * 1024, 2 * MIB) : rng.int(0, 64 * 1024));
              const etag = md5Hex(body);
              note(key, etag, body.length);
              const out = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
              if (out.ETag !== `"${etag}"`) problems.push(`PUT ${key}: ETag ${out.ETag} for md5 ${etag}`);
              if (own.includes(key)) lastAcked.set(key, `${etag}/${body.length}`);
            } else if (r < 0.5) {
              await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
              if (own.includes(key)) lastAcked.set(key, null);
            } else if (r < 0.55) {
              const keys = [key, rng.pick(shared)];
              await client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
              for (const k of keys) if (own.includes(k)) lastAcked.set(k, null);
            } else {
              reads++;
              const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
              const bytes = Buffer.from(await out.Body!.transformToByteArray());
              const etag = (out.ETag ?? "").replace(/"/g, "");
              if (Number(out.ContentLength) !== bytes.length) problems.push(`GET ${key}: Content-Length ${out.ContentLength}, got ${bytes.length} B`);
              if (!etag.includes("-") && etag !== md5Hex(bytes)) problems.push(`GET ${key}: ETag ${etag} but md5 of the bytes ${md5Hex(bytes)}`);
              if (!written.get(key)?.has(`${etag}/${bytes.length}`)) problems.push(`GET ${key}: ${etag}/${bytes.length} was never written`);
            }
          } catch (err) {
            if (!(r >= 0.55 && status(err) === 404)) problems.push(`${key}: ${(err as Error).name} ${(err as Error).message}`);
          }
        }
      }),
    );
    for (const client of clients) client.destroy();

    // Single-writer keys end exactly as their last acknowledged write; the listing agrees with reads.
    const listed = new Map<string, string>();
    let token: string | undefined;
    do {
      const page = await t.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "main/", ContinuationToken: token, MaxKeys: 7 }));
      for (const o of page.Contents ?? []) listed.set(o.Key!, `${(o.ETag ?? "").replace(/"/g, "")}/${o.Size}`);
      token = page.NextContinuationToken;
    } while (token);
    for (const [key, expected] of lastAcked) {
      expect(listed.get(key) ?? null, key).toBe(expected);
    }
    for (const [key, state] of listed) {
      if (!key.startsWith("main/own/") && !key.startsWith("main/shared/")) continue;
      const out = await t.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const bytes = Buffer.from(await out.Body!.transformToByteArray());
      expect(`${md5Hex(bytes)}/${bytes.length}`, key).toBe(state);
    }
    expect(problems).toEqual([]);
    expect(reads).toBeGreaterThan(100);
  });

  it("If-None-Match: * lets exactly one of N racing writers win (PutObject, N = 32, 5 rounds)", async () => {
    for (let round = 0; round < 5; round++) {
      const key = `main/race/put-${round}`;
      const bodies = Array.from({ length: 32 }, (_, i) => `writer ${i} of round ${round}`);
      const results = await Promise.all(bodies.map((body) => send(ep, { method: "PUT", path: `/${BUCKET}/${key}`, headers: { "if-none-match": "*" }, body })));
      const winners = results.flatMap((r, i) => (r.status === 200 ? [i] : []));
      expect(winners, `round ${round}`).toHaveLength(1);
      for (const r of results) if (r.status !== 200) expect([412, 409], r.text).toContain(r.status);
      const got = await send(ep, { method: "GET", path: `/${BUCKET}/${key}` });
      expect(got.text).toBe(bodies[winners[0]!]);
    }
  });

  it("If-Match: <etag> is a compare-and-swap: exactly one of N racing writers wins", async () => {
    const key = `/${BUCKET}/main/race/cas`;
    let current = (await send(ep, { method: "PUT", path: key, body: "v0" })).headers.etag as string;
    for (let round = 1; round <= 5; round++) {
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => send(ep, { method: "PUT", path: key, headers: { "if-match": current }, body: `v${round}-${i}` })));
      const winners = results.filter((r) => r.status === 200);
      expect(winners, `round ${round}`).toHaveLength(1);
      for (const r of results) if (r.status !== 200) expect([412, 409]).toContain(r.status);
      current = winners[0]!.headers.etag as string;
      const got = await send(ep, { method: "GET", path: key });
      expect(`"${md5Hex(got.body)}"`).toBe(current);
    }
  });

  it("If-None-Match: * on racing CompleteMultipartUpload: exactly one upload becomes the object", async () => {
    const key = "main/race/complete";
    const uploads = await Promise.all(Array.from({ length: 20 }, (_, i) => prepareUpload(t.client, key, [Buffer.from(`only part of upload ${i}`)])));
    const results = await Promise.all(uploads.map((u) => u.complete({ "if-none-match": "*" })));
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status !== 200) expect([412, 409], r.code).toContain(r.status);
    const got = await send(ep, { method: "GET", path: `/${BUCKET}/${key}` });
    expect(got.headers.etag).toBe(`"${winners[0]!.etag}"`);
  });

  it("concurrent completes of the same key: all succeed, the object is exactly one of them", async () => {
    const key = "main/race/multi";
    const contents = Array.from({ length: 6 }, () => [randomBytes(5 * MIB), randomBytes(100_000 + Math.floor(Math.random() * 1000))]);
    const uploads = await Promise.all(contents.map((parts) => prepareUpload(t.client, key, parts)));
    const results = await Promise.all(uploads.map((u) => u.complete()));
    for (const r of results) expect(r.status, r.code).toBe(200);
    const expected = contents.map((parts) => multipartEtag(parts));
    expect(results.map((r) => r.etag)).toEqual(expected);
    const got = await send(ep, { method: "GET", path: `/${BUCKET}/${key}` });
    const etag = (got.headers.etag as string).replace(/"/g, "");
    const winner = expected.indexOf(etag);
    expect(winner).toBeGreaterThanOrEqual(0);
    expect(md5Hex(got.body)).toBe(md5Hex(Buffer.concat(contents[winner]!)));
    // Completing one upload twice at once: one wins, the other sees the upload gone (or the same result).
    const twice = await prepareUpload(t.client, "main/race/twice", [Buffer.from("x")]);
    const both = await Promise.all([twice.complete(), twice.complete()]);
    expect(both.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    for (const r of both) if (r.status !== 200) expect(r.code).toBe("NoSuchUpload");
  });

  it("reads of a multipart object never fail mid-stream while it is overwritten and deleted", async () => {
    const key = "main/pinned/object";
    const parts = [randomBytes(5 * MIB), randomBytes(5 * MIB), randomBytes(5 * MIB), randomBytes(MIB)];
    const whole = Buffer.concat(parts);
    const upload = await prepareUpload(t.client, key, parts);
    expect((await upload.complete()).status).toBe(200);

    /**
     * A GET that stalls after its first chunk for longer than the Reclaimer's 1 s grace period:
     * the server can only buffer a few MiB into the socket, so it opens the later part blobs only
     * after the object has been overwritten and deleted (and its blobs reclaimed, unless pinned).
     */
    let firstChunks = 0;
    const stalledRead = (range?: string) =>
      new Promise<{ status: number; body: Buffer; complete: boolean }>((resolve, reject) => {
        const path = `/${BUCKET}/${key}`;
        const headers = signV4(ep, "GET", path, range ? { range } : {});
        const req = http.get({ host: "127.0.0.1", port: ep.port, path, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => {
            if (chunks.length === 0) {
              firstChunks++;
              res.pause();
              setTimeout(() => res.resume(), 1800);
            }
            chunks.push(c);
          });
          res.on("error", () => undefined);
          res.on("close", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: res.complete }));
        });
        req.on("error", reject);
      });

    const reads = [stalledRead(), stalledRead(), stalledRead("bytes=4194304-16777215"), stalledRead("bytes=-3000000")];
    await waitFor(() => firstChunks === reads.length, { message: "every read to get its first chunk" }); // the reads have pinned their blobs
    // Overwrite (PUT), overwrite again (multipart), then delete, while the reads are stalled.
    await t.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "replaced" }));
    const again = await prepareUpload(t.client, key, [randomBytes(5 * MIB), Buffer.from("tail")]);
    expect((await again.complete()).status).toBe(200);
    await t.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    const [a, b, c, d] = await Promise.all(reads);
    for (const r of [a!, b!]) {
      expect(r.status).toBe(200);
      expect(r.complete).toBe(true);
      expect(r.body.length).toBe(whole.length);
      expect(md5Hex(r.body)).toBe(md5Hex(whole));
    }
    expect(c!.status).toBe(206);
    expect(c!.complete).toBe(true);
    expect(c!.body.equals(whole.subarray(4194304, 16777216))).toBe(true);
    expect(d!.status).toBe(206);
    expect(d!.body.equals(whole.subarray(whole.length - 3000000))).toBe(true);
    expect((await send(ep, { method: "GET", path: `/${BUCKET}/${key}` })).status).toBe(404);
  });
});
