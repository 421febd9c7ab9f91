/**
 * README claims that no other test held: GetBucketVersioning (never enabled), GetObjectTagging
 * (always empty), GET of `repo/ref/` (NoSuchKey XML), SigV2 presigned URLs and virtual-host style
 * end to end, and of `lakes3 serve`: --domain, --region, LAKES3_REPO lists, the JSON log shape,
 * --quiet still printing failures, and the last 10,000 requests kept in the data dir.
 * All traffic goes to 127.0.0.1; a virtual host is a Host header, never a DNS lookup.
 */
import { createHmac } from "node:crypto";
import http from "node:http";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RequestLog } from "../src/log/events.js";
import { readRequests, REQUEST_LOG_CAPACITY, RequestStore } from "../src/log/request-store.js";
import { errorCode, startTestServer, type TestServer } from "./helpers/server.js";
import { killAll, spawnServer, type SpawnedServer } from "./reliability/lib/cli.js";
import { waitFor } from "./helpers/wait.js";

const Bucket = "test-repo";
const CREDENTIALS = { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
let t: TestServer;
let dir: string;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-readme-"));
});
afterAll(async () => {
  killAll();
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

/** A GET to 127.0.0.1 with the Host header given (virtual-host style without DNS). */
function getWithHost(port: number, host: string, target: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: target, headers: { host, ...headers } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

/** SigV2 header auth for a GET (the S3 SigV2 string to sign, no Content-MD5/Type, no x-amz-*). */
function sigV2Header(resource: string, secret = CREDENTIALS.secretAccessKey): Record<string, string> {
  const date = new Date().toUTCString();
  const signature = createHmac("sha1", secret).update(`GET\n\n\n${date}\n${resource}`).digest("base64");
  return { date, authorization: `AWS ${CREDENTIALS.accessKeyId}:${signature}` };
}

describe("S3 operations the README lists", () => {
  it("GetBucketVersioning: versioning is never enabled", async () => {
    const out = await t.client.send(new GetBucketVersioningCommand({ Bucket }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.Status).toBeUndefined();
    expect(out.MFADelete).toBeUndefined();
    const raw = await t.raw({ method: "GET", path: `/${Bucket}?versioning` });
    expect(raw.body).toContain("<VersioningConfiguration");
    expect(raw.body).not.toContain("<Status>");
  });

  it("GetObjectTagging: always an empty tag set (for an existing object)", async () => {
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/tagged.txt", Body: "x" }));
    const out = await t.client.send(new GetObjectTaggingCommand({ Bucket, Key: "main/tagged.txt" }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.TagSet ?? []).toEqual([]);
  });

  it("GET of repo/ref/ (an empty key) is a NoSuchKey XML 404", async () => {
    const res = await t.raw({ method: "GET", path: `/${Bucket}/main/` });
    expect(res.status).toBe(404);
    expect(res.headers["content-type"]).toMatch(/xml/);
    expect(errorCode(res.body)).toBe("NoSuchKey");
  });

  it("SigV2 presigned URL: works end to end; a wrong signature or an expired URL is refused", async () => {
    await t.client.send(new PutObjectCommand({ Bucket, Key: "main/v2/presigned.txt", Body: "signed the old way" }));
    const resource = `/${Bucket}/main/v2/presigned.txt`;
    const url = (expires: number, secret = CREDENTIALS.secretAccessKey) => {
      const signature = createHmac("sha1", secret).update(`GET\n\n\n${expires}\n${resource}`).digest("base64");
      return `${t.url}${resource}?AWSAccessKeyId=${CREDENTIALS.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(signature)}`;
    };
    const later = Math.floor(Date.now() / 1000) + 300;
    const ok = await fetch(url(later));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("signed the old way");
    const forged = await fetch(url(later, "not-the-secret"));
    expect([forged.status, errorCode(await forged.text())]).toEqual([403, "SignatureDoesNotMatch"]);
    const expired = await fetch(url(Math.floor(Date.now() / 1000) - 60));
    expect([expired.status, errorCode(await expired.text())]).toEqual([403, "AccessDenied"]);
  });

  it("virtual-host style end to end: PUT and GET through repo.s3.local.lakefs.io (resolved to 127.0.0.1)", async () => {
    await t.vhostClient.send(new PutObjectCommand({ Bucket, Key: "main/vhost/e2e.txt", Body: "by host" }));
    const got = await t.vhostClient.send(new GetObjectCommand({ Bucket, Key: "main/vhost/e2e.txt" }));
    expect(await got.Body!.transformToString()).toBe("by host");
    // the same object by path style: one store
    const byPath = await t.client.send(new GetObjectCommand({ Bucket, Key: "main/vhost/e2e.txt" }));
    expect(await byPath.Body!.transformToString()).toBe("by host");
  });
});

describe("lakes3 serve flags the README lists", () => {
  let s: SpawnedServer;
  beforeAll(async () => {
    s = await spawnServer(["--data-dir", path.join(dir, "flags"), "--domain", "lakes3.example.test", "--region", "eu-west-1", "--log-format", "json"], {
      env: { LAKES3_REPO: "alpha-repo,beta-repo" },
    });
  });
  afterAll(async () => {
    await s?.kill();
  });
  const client = (region: string) => new S3Client({ endpoint: s.url, region, forcePathStyle: true, maxAttempts: 1, credentials: CREDENTIALS });

  it("LAKES3_REPO takes a comma-separated list of repositories", async () => {
    const c = client("eu-west-1");
    const names = (await c.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    c.destroy();
    expect(names).toEqual(expect.arrayContaining(["alpha-repo", "beta-repo"]));
  });

  it("--region is what GetBucketLocation reports; any signing region is accepted", async () => {
    for (const signing of ["eu-west-1", "us-east-1", "ap-south-2"]) {
      const c = client(signing);
      const loc = await c.send(new GetBucketLocationCommand({ Bucket: "alpha-repo" }));
      c.destroy();
      expect(loc.LocationConstraint, signing).toBe("eu-west-1");
    }
  });

  it("--domain: <repo>.<domain> addresses the repository (virtual-host style)", async () => {
    const c = client("eu-west-1");
    await c.send(new PutObjectCommand({ Bucket: "beta-repo", Key: "main/by-domain.txt", Body: "domain" }));
    c.destroy();
    const host = `beta-repo.lakes3.example.test:${s.port}`;
    const res = await getWithHost(s.port, host, "/main/by-domain.txt", sigV2Header("/beta-repo/main/by-domain.txt"));
    expect(res).toEqual({ status: 200, body: "domain" });
    // the default domain is not served when --domain names another one
    const other = await getWithHost(s.port, `beta-repo.s3.local.lakefs.io:${s.port}`, "/main/by-domain.txt", sigV2Header("/beta-repo/main/by-domain.txt"));
    expect(other.status).not.toBe(200);
  });

  it("--log-format json: one JSON object per request, with the request's facts", async () => {
    const res = await getWithHost(s.port, `127.0.0.1:${s.port}`, "/alpha-repo/main/nothing-here.txt", sigV2Header("/alpha-repo/main/nothing-here.txt"));
    expect(res.status).toBe(404);
    const line = await waitFor(() => s.stdout().split("\n").find((l) => l.includes('"nothing-here.txt"')), { message: "the request's log line" });
    const event = JSON.parse(line) as Record<string, unknown>;
    expect(event).toMatchObject({ source: "s3", method: "GET", repo: "alpha-repo", ref: "main", path: "nothing-here.txt", operation: "GetObject", status: 404, errorCode: "NoSuchKey" });
    expect(typeof event["id"]).toBe("string");
    expect(typeof event["durationMs"]).toBe("number");
    expect(Date.parse(String(event["time"]))).not.toBeNaN();
    // every request line is JSON (the banner lines are not request lines)
    for (const l of s.stdout().split("\n").filter((x) => x.startsWith("{"))) expect(() => JSON.parse(l)).not.toThrow();
  });
});

describe("lakes3 serve --quiet", () => {
  it("prints the startup line and failed requests only", async () => {
    const s = await spawnServer(["--data-dir", path.join(dir, "quiet"), "--repo", "quiet-repo", "--quiet"]);
    try {
      const c = new S3Client({ endpoint: s.url, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, credentials: CREDENTIALS });
      await c.send(new PutObjectCommand({ Bucket: "quiet-repo", Key: "main/ok.txt", Body: "ok" }));
      await c.send(new GetObjectCommand({ Bucket: "quiet-repo", Key: "main/missing.txt" })).then(
        () => expect.unreachable(),
        () => undefined,
      );
      c.destroy();
      await waitFor(() => s.stdout().includes("missing.txt"), { message: "the failed request's line" });
    } finally {
      await s.stop();
    }
    const lines = s.stdout().trim().split("\n");
    expect(lines[0]).toMatch(/^lakes3 listening on http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.stdout()).toMatch(/missing\.txt.*404|404.*missing\.txt/);
    expect(s.stdout()).not.toContain("ok.txt");
    expect(s.stdout()).not.toContain("access key"); // no banner
  });
});

describe("the request log in the data dir", () => {
  it(`keeps the last ${REQUEST_LOG_CAPACITY.toLocaleString("en")} requests`, async () => {
    expect(REQUEST_LOG_CAPACITY).toBe(10_000);
    const dataDir = path.join(dir, "ring");
    await mkdir(dataDir, { recursive: true });
    const log = new RequestLog();
    const store = new RequestStore(dataDir);
    await store.attach(log);
    const total = REQUEST_LOG_CAPACITY + 2_500;
    for (let i = 0; i < total; i++) {
      log.end(log.start({ id: `r${i}`, source: "s3", method: "GET", operation: "GetObject", repo: "r", ref: "main", path: `k${i}` }), { status: 200 });
      if (i % 1000 === 999) await store.flush();
    }
    await store.close();
    const kept = await readRequests(dataDir);
    expect(kept).toHaveLength(REQUEST_LOG_CAPACITY);
    expect(kept.at(-1)?.id).toBe(`r${total - 1}`);
    expect(kept[0]?.id).toBe(`r${total - REQUEST_LOG_CAPACITY}`);
  });

  it("keeps the failures apart, so that they outlive any amount of successful traffic (inspect requests --errors)", async () => {
    const dataDir = path.join(dir, "failures");
    await mkdir(dataDir, { recursive: true });
    const log = new RequestLog();
    const store = new RequestStore(dataDir);
    await store.attach(log);
    for (let i = 0; i < 5; i++) log.end(log.start({ id: `bad${i}`, source: "s3", method: "GET", operation: "GetObject", path: `missing${i}` }), { status: 404, errorCode: "NoSuchKey" });
    for (let i = 0; i < 2 * REQUEST_LOG_CAPACITY + 100; i++) {
      log.end(log.start({ id: `ok${i}`, source: "s3", method: "GET", operation: "GetObject", path: `k${i}` }), { status: 200 });
      if (i % 1000 === 999) await store.flush();
    }
    await store.close();
    expect((await readRequests(dataDir)).some((e) => e.id.startsWith("bad"))).toBe(false);
    const { requests } = await import("../src/inspect/queries.js");
    expect((await requests({ dataDir }, { errors: true })).map((e) => e.id)).toEqual(["bad0", "bad1", "bad2", "bad3", "bad4"]);
  });
});
