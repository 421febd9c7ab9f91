/**
 * Fault and latency injection (issue 17), through a real server and the JS SDK with its default
 * retry policy: injected errors are S3 XML and store nothing, SDK retries get through a few
 * SlowDowns and surface the SDK's own error past them, a reset mid-body leaves no object and no
 * orphan blob (and lib-storage retries the part), latency hits only the matched operation, and the
 * fault shows in the request log.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RequestEvent } from "../../src/log/events.js";
import { errorCode, s3Error, startTestServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

let t: TestServer;
const ended: RequestEvent[] = [];

beforeAll(async () => {
  t = await startTestServer();
  t.server.log.subscribe((e, phase) => void (phase === "end" && ended.push(e)));
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => {
  t.server.faults.clear();
});

/** A client with the SDK's default retry policy (3 attempts, standard mode). */
const sdkDefaults = () => new S3Client(t.server.s3ClientConfig);

const notStored = async (key: string) => expect((await t.raw({ method: "HEAD", path: `/test-repo/main/${key}` })).status).toBe(404);

/** Blob files and unfinished temp files in the data dir. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(t.dataDir, dir), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

/** Blob files no record references (the admin route's inspect summary). */
async function orphans(): Promise<number> {
  return ((await (await fetch(`${t.url}/_lakes3/inspect/summary`)).json()) as { orphanedBlobs: number }).orphanedBlobs;
}

describe("injected errors", () => {
  it("answer S3 error XML with the code's status, store nothing, and are marked in the log", async () => {
    t.server.faults.add("op=PutObject,key=raw/*,error=SlowDown");
    const res = await t.raw({ method: "PUT", path: "/test-repo/main/raw/a.csv", body: "a,b\n1,2\n" });
    expect(res.status).toBe(503);
    expect(errorCode(res.body)).toBe("SlowDown");
    expect(res.body).toContain("<Key>raw/a.csv</Key>");
    await notStored("raw/a.csv");
    // Another key is not matched.
    expect((await t.raw({ method: "PUT", path: "/test-repo/main/other/a.csv", body: "x" })).status).toBe(200);
    const event = await waitFor(() => ended.find((e) => e.path === "raw/a.csv" && e.operation === "PutObject"));
    expect(event.fault).toEqual({ rule: "op=PutObject,key=raw/*,error=SlowDown", action: "error=SlowDown" });
    expect(event.errorCode).toBe("SlowDown");
    expect(ended.find((e) => e.path === "other/a.csv")?.fault).toBeUndefined();
  });

  it("leave a delete and a completed upload undone", async () => {
    await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/keep.txt", Body: "kept" }));
    t.server.faults.add({ op: "DeleteObject", error: "InternalError" });
    expect((await t.raw({ method: "DELETE", path: "/test-repo/main/keep.txt" })).status).toBe(500);
    expect((await t.raw({ method: "HEAD", path: "/test-repo/main/keep.txt" })).status).toBe(200);
  });

  it("through the SDK's default retries: 2 SlowDowns are retried away, 10 fail with the SDK's SlowDown error", async () => {
    const s3 = sdkDefaults();
    try {
      t.server.faults.add("op=PutObject,key=retry/ok.txt,error=SlowDown,times=2");
      const ok = await s3.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/retry/ok.txt", Body: "made it" }));
      expect(ok.$metadata.attempts).toBe(3);
      expect(t.server.faults.list()[0]).toMatchObject({ fired: 2, seen: 3 });
      const got = await s3.send(new GetObjectCommand({ Bucket: "test-repo", Key: "main/retry/ok.txt" }));
      expect(await got.Body!.transformToString()).toBe("made it");

      t.server.faults.add("op=PutObject,key=retry/never.txt,error=SlowDown,times=10");
      const err = await s3Error(s3.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/retry/never.txt", Body: "no" })));
      expect(err.name).toBe("SlowDown");
      expect(err.$metadata.httpStatusCode).toBe(503);
      expect(err.$metadata.attempts).toBe(3);
      await notStored("retry/never.txt");
    } finally {
      s3.destroy();
    }
  }, 60_000);
});

describe("connection resets", () => {
  it("a reset mid-body leaves no partial object, no orphan blob and no temp file", async () => {
    t.server.faults.add("op=PutObject,key=big/*,reset=after:1MiB");
    const body = Buffer.alloc(4 * 1024 * 1024, 7);
    const err = await s3Error(t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/big/cut.bin", Body: body })));
    // the connection itself went, not an answer
    expect((err as { code?: string }).code).toMatch(/^(ECONNRESET|EPIPE)$/);
    expect(err.$metadata.httpStatusCode).toBeUndefined();
    const event = await waitFor(() => ended.find((e) => e.path === "big/cut.bin"));
    expect(event.fault).toEqual({ rule: "op=PutObject,key=big/*,reset=after:1MiB", action: "reset=after:1MiB" });
    // logged as the body cut short (or as the client gone, 499, should the socket close first)
    expect(event.errorCode).toMatch(/^(IncompleteBody|ClientDisconnected)$/);
    await notStored("big/cut.bin");
    await waitFor(async () => (await filesUnder("tmp")).length === 0, { message: "temp files removed" });
    expect(await orphans()).toBe(0);
  });

  it("lib-storage retries a part whose upload was reset mid-body", async () => {
    const s3 = sdkDefaults();
    try {
      t.server.faults.add("op=UploadPart,reset=after:1MiB,times=1");
      const body = Buffer.alloc(11 * 1024 * 1024);
      for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i);
      const upload = new Upload({ client: s3, params: { Bucket: "test-repo", Key: "main/mp/retried.bin", Body: body }, partSize: 5 * 1024 * 1024, queueSize: 1 });
      await upload.done();
      expect(t.server.faults.list()[0]).toMatchObject({ fired: 1 });
      const got = await s3.send(new GetObjectCommand({ Bucket: "test-repo", Key: "main/mp/retried.bin" }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
      const resets = ended.filter((e) => e.operation === "UploadPart" && e.fault);
      expect(resets).toHaveLength(1);
      expect(await orphans()).toBe(0);
    } finally {
      s3.destroy();
    }
  }, 60_000);
});

describe("latency", () => {
  it("delays only the matched operation", async () => {
    await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/slow.txt", Body: "slow" }));
    t.server.faults.add("op=GetObject,delay=1500ms");
    const timed = async (p: () => Promise<unknown>) => {
      const start = performance.now();
      await p();
      return performance.now() - start;
    };
    const get = await timed(() => t.client.send(new GetObjectCommand({ Bucket: "test-repo", Key: "main/slow.txt" })).then((r) => r.Body!.transformToString()));
    const head = await timed(() => t.client.send(new HeadObjectCommand({ Bucket: "test-repo", Key: "main/slow.txt" })));
    expect(get).toBeGreaterThanOrEqual(1490);
    expect(head).toBeLessThan(1000);
    const event = await waitFor(() => ended.find((e) => e.operation === "GetObject" && e.path === "slow.txt"));
    expect(event.fault?.action).toBe("delay=1500ms");
  });
});
