/**
 * Every entry of the divergence catalogue (src/protocol/divergences.ts), against two real servers:
 * the default one answers as lakes3 and marks the request when the entry is permissive; the
 * `strict: true` one marks nothing and answers as lakeFS for permissive entries (lakeFS sources
 * are named in the catalogue, e.g. pkg/gateway/middleware.go for CreateBucket's 501), and as lakes3
 * for the others. Also: the README table is the catalogue's.
 */
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIVERGENCES, readmeTable, type DivergenceId } from "../../src/protocol/divergences.js";
import type { RequestEvent } from "../../src/log/events.js";
import { textLine } from "../../src/log/sinks.js";
import { ConfigError } from "../../src/server/config.js";
import { startServer } from "../../src/server/lifecycle.js";
import { chunkedRequest, honestBody } from "../reliability/lib/aws-chunked.js";
import { errorCode, startTestServer, type RawResponse, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

let lax: TestServer;
let strict: TestServer;
let n = 0;
const unique = (what: string) => `${what}-${++n}`;

beforeAll(async () => {
  [lax, strict] = await Promise.all([startTestServer(), startTestServer({ strict: true })]);
});
afterAll(async () => {
  await Promise.all([lax?.close(), strict?.close()]);
});

// ---- requests -----------------------------------------------------------------------------------

async function put(t: TestServer, key: string, body = "hello", headers: Record<string, string> = {}): Promise<RawResponse> {
  return t.raw({ method: "PUT", path: `/test-repo/main/${key}`, body, headers });
}

/** A REST API call with the quickstart key (HTTP Basic). */
async function api(t: TestServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const auth = Buffer.from(`${t.server.accessKeyId}:${t.server.secretAccessKey}`).toString("base64");
  const data = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return send(t, method, `/api/v1${path}`, { authorization: `Basic ${auth}`, ...(typeof body === "object" ? { "content-type": "application/json" } : {}), ...headers }, data);
}

/** An unsigned (or hand-signed) request, exactly as given. */
function send(t: TestServer, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<RawResponse> {
  return t.raw({ method, path, headers, body, sign: false });
}

/** SigV2 header auth with a given Date value (string to sign: method, MD5, type, date, resource). */
function sigV2(t: TestServer, method: string, path: string, date: string, secret = t.server.secretAccessKey): Promise<RawResponse> {
  const signature = createHmac("sha1", secret).update(`${method}\n\n\n${date}\n${path}`).digest("base64");
  return send(t, method, path, { host: `127.0.0.1:${t.server.port}`, date, authorization: `AWS ${t.server.accessKeyId}:${signature}` });
}

async function multipartUpload(t: TestServer, key: string): Promise<string> {
  const res = await t.raw({ method: "POST", path: `/test-repo/main/${key}?uploads` });
  return /<UploadId>([^<]+)<\/UploadId>/.exec(res.body)![1]!;
}

/**
 * The finished event of a response: by its request id, else (a REST error carries none) the last
 * finished REST request (the tests of one file run one at a time).
 */
async function eventOf(t: TestServer, res: RawResponse): Promise<RequestEvent> {
  const id = (res.headers["x-amz-request-id"] ?? res.headers["x-request-id"]) as string | undefined;
  return waitFor(() => t.server.log.getSnapshot().finished.findLast((e) => (id ? e.id === id : e.source === "admin" && e.status === res.status)));
}

// ---- one case per catalogue entry ---------------------------------------------------------------

interface Case {
  /** Sets up what it needs and sends the request whose answer depends on the entry. */
  probe(t: TestServer): Promise<RawResponse & { extra?: unknown }>;
  /** lakes3's answer (default mode; under --strict too for non-permissive entries). */
  lakes3(res: RawResponse & { extra?: unknown }): void;
  /** lakeFS's answer under --strict (permissive entries only). */
  lakefs?(res: RawResponse & { extra?: unknown }): void;
}

const code = (res: RawResponse) => errorCode(res.body);

const CASES: Record<DivergenceId, Case> = {
  "create-bucket": {
    probe: (t) => t.raw({ method: "PUT", path: `/${unique("new-repo")}` }),
    lakes3: (r) => expect(r.status).toBe(200),
    lakefs: (r) => expect([r.status, code(r)]).toEqual([501, "NotImplemented"]),
  },
  "checksum-verified": {
    probe: (t) => put(t, "cs", "hello", { "content-md5": Buffer.alloc(16).toString("base64") }),
    lakes3: (r) => expect([r.status, code(r)]).toEqual([400, "BadDigest"]),
  },
  "signed-trailer": {
    async probe(t) {
      const req = await chunkedRequest(t.server, "PUT", "/test-repo/main/trailer", [Buffer.from("hello")], { mode: "signed-trailer", trailers: { "x-amz-checksum-crc32": "NhCmhg==" } });
      return send(t, "PUT", "/test-repo/main/trailer", req.headers, honestBody("signed-trailer", req));
    },
    lakes3: (r) => expect(r.status).toBe(200),
    lakefs: (r) => expect([r.status, code(r)]).toEqual([403, "AccessDenied"]),
  },
  "conditional-get": {
    async probe(t) {
      const etag = (await put(t, "cond")).headers.etag!;
      return t.raw({ method: "GET", path: "/test-repo/main/cond", headers: { "if-none-match": etag } });
    },
    lakes3: (r) => expect(r.status).toBe(304),
    lakefs: (r) => expect([r.status, r.body]).toEqual([200, "hello"]),
  },
  "stored-headers": {
    async probe(t) {
      const res = await put(t, "cached", "x", { "cache-control": "max-age=60" });
      const head = await t.raw({ method: "HEAD", path: "/test-repo/main/cached" });
      return { ...res, extra: head.headers["cache-control"] };
    },
    lakes3: (r) => expect([r.status, r.extra]).toEqual([200, "max-age=60"]),
    lakefs: (r) => expect([r.status, r.extra]).toEqual([200, undefined]),
  },
  "if-match-write": {
    async probe(t) {
      const etag = (await put(t, "ifmatch")).headers.etag!;
      return put(t, "ifmatch", "again", { "if-match": etag });
    },
    lakes3: (r) => expect(r.status).toBe(200),
    lakefs: (r) => expect([r.status, code(r)]).toEqual([501, "NotImplemented"]),
  },
  "copy-conditions": {
    async probe(t) {
      await put(t, "copy-src");
      return t.raw({ method: "PUT", path: "/test-repo/main/copy-dst", headers: { "x-amz-copy-source": "test-repo/main/copy-src", "x-amz-copy-source-if-match": '"0000"' } });
    },
    lakes3: (r) => expect([r.status, code(r)]).toEqual([412, "PreconditionFailed"]),
    lakefs: (r) => expect(r.status).toBe(200),
  },
  "complete-part-list": {
    async probe(t) {
      const id = await multipartUpload(t, "mpu-bad");
      await t.raw({ method: "PUT", path: `/test-repo/main/mpu-bad?partNumber=1&uploadId=${id}`, body: "part" });
      const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"00000000000000000000000000000000"</ETag></Part></CompleteMultipartUpload>`;
      return t.raw({ method: "POST", path: `/test-repo/main/mpu-bad?uploadId=${id}`, body: xml });
    },
    lakes3: (r) => expect([r.status, code(r)]).toEqual([400, "InvalidPart"]),
  },
  "multipart-etag": {
    async probe(t) {
      const id = await multipartUpload(t, "mpu-ok");
      const part = await t.raw({ method: "PUT", path: `/test-repo/main/mpu-ok?partNumber=1&uploadId=${id}`, body: "part" });
      const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.headers.etag}</ETag></Part></CompleteMultipartUpload>`;
      await t.raw({ method: "POST", path: `/test-repo/main/mpu-ok?uploadId=${id}`, body: xml });
      return t.raw({ method: "HEAD", path: "/test-repo/main/mpu-ok" });
    },
    lakes3: (r) => expect(r.headers.etag).toMatch(/-1"$/),
  },
  "list-parts-local": {
    async probe(t) {
      const id = await multipartUpload(t, "mpu-parts");
      return t.raw({ method: "GET", path: `/test-repo/main/mpu-parts?uploadId=${id}` });
    },
    lakes3: (r) => expect(r.body).toContain("<ListPartsResult"),
    lakefs: (r) => expect([r.status, code(r)]).toEqual([500, "InternalError"]),
  },
  "list-uploads-local": {
    probe: (t) => t.raw({ method: "GET", path: "/test-repo?uploads" }),
    lakes3: (r) => expect(r.body).toContain("<ListMultipartUploadsResult"),
    lakefs: (r) => expect([r.status, code(r)]).toEqual([501, "NotImplemented"]),
  },
  "unknown-access-key": {
    probe: (t) => send(t, "GET", "/test-repo/main/x", { "x-amz-date": "20250101T000000Z", "x-amz-content-sha256": "UNSIGNED-PAYLOAD", authorization: `AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN0000000000/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${"0".repeat(64)}` }),
    lakes3: (r) => expect([r.status, code(r)]).toEqual([403, "InvalidAccessKeyId"]),
  },
  "no-credentials": {
    probe: (t) => send(t, "GET", "/test-repo/main/x", {}),
    lakes3: (r) => expect([r.status, code(r)]).toEqual([403, "AccessDenied"]),
  },
  "invalid-branch-write": {
    probe: (t) => t.raw({ method: "PUT", path: "/test-repo/main~1/x", body: "x" }),
    lakes3: (r) => expect([r.status, code(r)]).toEqual([400, "InvalidArgument"]),
  },
  "max-keys": {
    probe: (t) => t.raw({ method: "GET", path: "/test-repo?list-type=2&prefix=main/&max-keys=abc" }),
    lakes3: (r) => expect([r.status, code(r)]).toEqual([400, "InvalidArgument"]),
  },
  "encoding-type-url": {
    async probe(t) {
      await put(t, "enc/a%20b");
      return t.raw({ method: "GET", path: "/test-repo?list-type=2&prefix=main/enc/&encoding-type=url" });
    },
    lakes3: (r) => expect(r.body).toContain("<Key>main/enc/a%20b</Key>"),
    lakefs: (r) => expect([r.body.includes("<Key>main/enc/a b</Key>"), r.body.includes("EncodingType")]).toEqual([true, false]),
  },
  "key-too-long": {
    probe: (t) => put(t, "k".repeat(1100)),
    lakes3: (r) => expect([r.status, code(r)]).toEqual([400, "KeyTooLongError"]),
  },
  "empty-key": {
    probe: (t) => t.raw({ method: "GET", path: "/test-repo/main/" }),
    lakes3: (r) => expect([r.status, code(r)]).toEqual([404, "NoSuchKey"]),
  },
  "upload-part-copy-root": {
    async probe(t) {
      await put(t, "upc-src");
      const id = await multipartUpload(t, "upc");
      return t.raw({ method: "PUT", path: `/test-repo/main/upc?partNumber=1&uploadId=${id}`, headers: { "x-amz-copy-source": "test-repo/main/upc-src" } });
    },
    lakes3: (r) => expect(r.body).toContain("<CopyPartResult"),
  },
  "part-number-get": {
    async probe(t) {
      await put(t, "whole");
      return t.raw({ method: "GET", path: "/test-repo/main/whole?partNumber=1" });
    },
    lakes3: (r) => expect(r.status).toBe(206),
    lakefs: (r) => expect([r.status, r.headers["content-range"]]).toEqual([200, undefined]),
  },
  "merge-fast-forward": {
    async probe(t) {
      const [dest, src] = [unique("dest"), unique("src")];
      await api(t, "POST", "/repositories/test-repo/branches", { name: dest, source: "main" });
      await api(t, "POST", "/repositories/test-repo/branches", { name: src, source: dest });
      await api(t, "POST", `/repositories/test-repo/branches/${src}/objects?path=ff.txt`, "ff", { "content-type": "text/plain" });
      const commit = JSON.parse((await api(t, "POST", `/repositories/test-repo/branches/${src}/commits`, { message: "on src" })).body) as { id: string };
      const res = await api(t, "POST", `/repositories/test-repo/refs/${src}/merge/${dest}`, {});
      const reference = (JSON.parse(res.body) as { reference: string }).reference;
      const merged = JSON.parse((await api(t, "GET", `/repositories/test-repo/commits/${reference}`)).body) as { parents: string[] };
      return { ...res, extra: { fastForward: reference === commit.id, parents: merged.parents.length } };
    },
    lakes3: (r) => expect([r.status, r.extra]).toEqual([200, { fastForward: true, parents: 1 }]),
    lakefs: (r) => expect([r.status, r.extra]).toEqual([200, { fastForward: false, parents: 2 }]),
  },
  "metadata-namespace": {
    async probe(t) {
      await api(t, "POST", "/repositories/test-repo/branches/main/objects?path=meta.txt", "m", { "content-type": "text/plain", "x-lakefs-meta-color": "red" });
      return t.raw({ method: "HEAD", path: "/test-repo/main/meta.txt" });
    },
    lakes3: (r) => expect(r.headers["x-amz-meta-color"]).toBe("red"),
    lakefs: (r) => expect([r.status, r.headers["x-amz-meta-color"]]).toEqual([200, undefined]),
  },
  "rest-amount": {
    probe: (t) => api(t, "GET", "/repositories?amount=5000"),
    lakes3: (r) => expect(r.status).toBe(400),
  },
  "list-uploads-filters": {
    probe: (t) => t.raw({ method: "GET", path: "/test-repo?uploads&prefix=main/" }),
    lakes3: (r) => expect(r.body).toContain("<Prefix>main/</Prefix>"),
    lakefs: (r) => expect([r.status, code(r)]).toEqual([501, "NotImplemented"]),
  },
  "list-buckets-paging": {
    probe: (t) => t.raw({ method: "GET", path: "/?max-buckets=1" }),
    lakes3: (r) => expect([r.status, r.body.includes("ContinuationToken")]).toEqual([200, false]),
  },
  "sigv4-http-date": {
    probe: (t) => send(t, "GET", "/test-repo/main/x", { date: new Date().toUTCString(), "x-amz-content-sha256": "UNSIGNED-PAYLOAD", authorization: `AWS4-HMAC-SHA256 Credential=${t.server.accessKeyId}/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${"0".repeat(64)}` }),
    lakes3: (r) => expect([r.status, code(r)]).toEqual([400, "MalformedDate"]),
  },
  "sigv2-no-date": {
    probe: (t) => send(t, "GET", "/test-repo/main/x", { authorization: `AWS ${t.server.accessKeyId}:AAAA` }),
    lakes3: (r) => expect([r.status, code(r)]).toEqual([403, "AccessDenied"]),
  },
  "sigv2-date-forms": {
    async probe(t) {
      await put(t, "v2");
      // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT, with today's date
      const d = new Date();
      const [day, , mon, year, time] = d.toUTCString().split(" ");
      const weekday = { Mon: "Monday", Tue: "Tuesday", Wed: "Wednesday", Thu: "Thursday", Fri: "Friday", Sat: "Saturday", Sun: "Sunday" }[day!.slice(0, 3)];
      const rfc850 = `${weekday}, ${d.toUTCString().split(" ")[1]}-${mon}-${year!.slice(2)} ${time} GMT`;
      return sigV2(t, "GET", "/test-repo/main/v2", rfc850);
    },
    lakes3: (r) => expect([r.status, r.body]).toEqual([200, "hello"]),
    lakefs: (r) => expect([r.status, code(r)]).toEqual([400, "MalformedDate"]),
  },
  "sigv2-check-order": {
    probe: (t) => sigV2(t, "GET", "/test-repo/main/x", "Mon, 01 Jan 2001 00:00:00 GMT", "wrong-secret"),
    lakes3: (r) => expect([r.status, code(r)]).toEqual([403, "SignatureDoesNotMatch"]),
  },
  "undecodable-path": {
    probe: (t) => t.raw({ method: "GET", path: "/test-repo/main/%zz" }),
    lakes3: (r) => expect([r.status, code(r)]).toEqual([400, "InvalidURI"]),
  },
};

describe.each(DIVERGENCES.map((d) => [d.id, d] as const))("%s", (id, entry) => {
  const c = CASES[id];
  const permissive = entry.kind === "permissive";

  it(permissive ? "default: answers as lakes3 and marks the request" : "default: answers as lakes3, no warning", async () => {
    const res = await c.probe(lax);
    c.lakes3(res);
    const event = await eventOf(lax, res);
    expect(event.divergence).toEqual(permissive ? { id, lakefs: entry.lakefs.replace(/`/g, "") } : undefined);
  });

  it(permissive ? "--strict: answers as lakeFS, no warning" : "--strict: keeps lakes3's answer, no warning", async () => {
    const res = await c.probe(strict);
    (permissive ? c.lakefs! : c.lakes3)(res);
    expect((await eventOf(strict, res)).divergence).toBeUndefined();
  });
});

describe("the catalogue", () => {
  it("has a case for every entry, and lakeFS's answer for every permissive one", () => {
    for (const d of DIVERGENCES) expect(d.kind !== "permissive" || CASES[d.id].lakefs !== undefined, d.id).toBe(true);
    expect(Object.keys(CASES).sort()).toEqual(DIVERGENCES.map((d) => d.id).sort());
  });

  it("is the README's table, row by row", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const lines = readme.slice(readme.indexOf("## Where lakes3 differs from lakeFS")).split("\n");
    const start = lines.findIndex((l) => l.startsWith("|"));
    const end = lines.findIndex((l, i) => i > start && !l.startsWith("|"));
    expect(lines.slice(start, end).join("\n"), "regenerate the README table from readmeTable()").toBe(readmeTable());
  });

  it("the text log line ends with what lakeFS answers", async () => {
    const res = await lax.raw({ method: "GET", path: "/test-repo?uploads" });
    expect(textLine(await eventOf(lax, res))).toMatch(/ ≠lakeFS: 501 NotImplemented$/);
  });

  it("metadata-namespace, the REST side: S3's keys as lakeFS stores them (X-Amz-Meta-<name>) under --strict", async () => {
    const stat = async (t: TestServer) => {
      await put(t, "s3meta.txt", "m", { "x-amz-meta-color": "red" });
      const res = await api(t, "GET", "/repositories/test-repo/refs/main/objects/stat?path=s3meta.txt");
      return { metadata: (JSON.parse(res.body) as { metadata: unknown }).metadata, event: await eventOf(t, res) };
    };
    const [plain, separate] = await Promise.all([stat(lax), stat(strict)]);
    expect([plain.metadata, plain.event.divergence?.id]).toEqual([{ color: "red" }, "metadata-namespace"]);
    expect([separate.metadata, separate.event.divergence]).toEqual([{ "X-Amz-Meta-color": "red" }, undefined]);
  });

  it("--strict is for mode lakefs only", async () => {
    await expect(startServer({ mode: "s3", strict: true })).rejects.toThrow(ConfigError);
  });

  it("mode s3 marks nothing", async () => {
    const s3 = await startTestServer({ mode: "s3" });
    try {
      const res = await s3.raw({ method: "GET", path: "/test-repo?uploads" });
      expect(res.status).toBe(200);
      expect((await eventOf(s3, res)).divergence).toBeUndefined();
    } finally {
      await s3.close();
    }
  });
});
