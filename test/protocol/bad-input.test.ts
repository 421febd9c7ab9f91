/**
 * The bad-input table (S3-COMPAT.md §4.6) as raw requests: each row asserts the exact S3 code and
 * status, and that the object written before is unchanged afterwards.
 */
import http from "node:http";
import net from "node:net";
import zlib from "node:zlib";
import { createHash } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, startTestServer, type RawRequest, type TestServer } from "../helpers/server.js";
import { Sha256 } from "../helpers/sha256.js";
import { waitFor } from "../helpers/wait.js";
import { chunkedRequest, encodeChunked, honestBody, type ChunkedMode } from "../reliability/lib/aws-chunked.js";
import { send, type Endpoint } from "../reliability/lib/s3raw.js";

let t: TestServer;
const KEY = "/test-repo/main/state.txt";
const ORIGINAL = "original content";

beforeAll(async () => {
  t = await startTestServer();
  await t.raw({ method: "PUT", path: KEY, body: ORIGINAL });
});
afterAll(async () => {
  await t.close();
});

async function stateIntact() {
  const res = await t.raw({ method: "GET", path: KEY });
  expect(res.status).toBe(200);
  expect(res.body).toBe(ORIGINAL);
}

const b64md5 = (s: string) => createHash("md5").update(s).digest("base64");
const GIB = 1024 ** 3;
const deleteXml = (keys: string[]) => `<Delete>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join("")}</Delete>`;

const rows: [string, RawRequest, number, string][] = [
  ["1 Content-MD5 not base64 of 16 bytes", { method: "PUT", path: KEY, body: "x", headers: { "content-md5": "not-md5" } }, 400, "InvalidDigest"],
  ["2 Content-MD5 mismatch", { method: "PUT", path: KEY, body: "x", headers: { "content-md5": b64md5("y") } }, 400, "BadDigest"],
  ["3 checksum header mismatch", { method: "PUT", path: KEY, body: "x", headers: { "x-amz-checksum-crc32": "AAAAAA==" } }, 400, "BadDigest"],
  ["4 checksum value malformed", { method: "PUT", path: KEY, body: "x", headers: { "x-amz-checksum-crc32": "###" } }, 400, "InvalidRequest"],
  ["5 sdk algorithm without a checksum", { method: "PUT", path: KEY, body: "x", headers: { "x-amz-sdk-checksum-algorithm": "CRC32" } }, 400, "InvalidRequest"],
  ["5 sdk algorithm does not match the checksum sent", { method: "PUT", path: KEY, body: "x", headers: { "x-amz-sdk-checksum-algorithm": "CRC32", "x-amz-checksum-sha1": "EL7jSiwl5DjYpp8mTRdqHzD1dJQ=" } }, 400, "InvalidRequest"],
  ["6 two checksum headers", { method: "PUT", path: KEY, body: "x", headers: { "x-amz-checksum-crc32": "jL5Ccg==", "x-amz-checksum-sha1": "EL7jSiwl5DjYpp8mTRdqHzD1dJQ=" } }, 400, "InvalidRequest"],
  ["7 payload hash mismatch", { method: "PUT", path: KEY, body: "x", contentSha256: createHash("sha256").update("y").digest("hex") }, 400, "XAmzContentSHA256Mismatch"],
  ["9 payload hash not an allowed value", { method: "PUT", path: KEY, body: "x", contentSha256: "SOMETHING-ELSE" }, 400, "InvalidArgument"],
  ["15 key longer than 1024 bytes", { method: "PUT", path: `/test-repo/main/${"k".repeat(1025)}`, body: "x" }, 400, "KeyTooLongError"],
  ["16 invalid bucket name on create", { method: "PUT", path: "/Bad_Bucket" }, 400, "InvalidBucketName"],
  ["17 no such bucket", { method: "GET", path: "/no-such-repo/main/x" }, 404, "NoSuchBucket"],
  ["17 no such key", { method: "GET", path: "/test-repo/main/none" }, 404, "NoSuchKey"],
  ["17 no such upload", { method: "PUT", path: `${KEY}?partNumber=1&uploadId=deadbeef`, body: "x" }, 404, "NoSuchUpload"],
  ["20 malformed XML", { method: "POST", path: "/test-repo?delete", body: "<Delete><Object>" }, 400, "MalformedXML"],
  ["26 part number out of range", { method: "PUT", path: `${KEY}?partNumber=0&uploadId=x`, body: "x" }, 400, "InvalidArgument"],
  ["30 If-None-Match * on an existing key", { method: "PUT", path: KEY, body: "x", headers: { "if-none-match": "*" } }, 412, "PreconditionFailed"],
  ["30 If-Match mismatch", { method: "PUT", path: KEY, body: "x", headers: { "if-match": '"0"' } }, 412, "PreconditionFailed"],
  ["30 If-None-Match other than *", { method: "PUT", path: KEY, body: "x", headers: { "if-none-match": '"abc"' } }, 501, "NotImplemented"],
  ["34 wrong secret", { method: "PUT", path: KEY, body: "x", secret: "wrong-secret" }, 403, "SignatureDoesNotMatch"],
  ["34 no credentials at all", { method: "PUT", path: KEY, body: "x", sign: false }, 403, "AccessDenied"],
  ["35 malformed Authorization", { method: "PUT", path: KEY, body: "x", sign: false, headers: { authorization: "AWS4-HMAC-SHA256 garbage", "x-amz-date": "20250101T000000Z", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } }, 400, "AuthorizationHeaderMalformed"],
  ["39 unsupported sub-resource", { method: "PUT", path: `${KEY}?acl`, body: "x" }, 405, "ERRLakeFSNotSupported"],
  ["39 unsupported method", { method: "PATCH", path: KEY, body: "x" }, 405, "MethodNotAllowed"],
  ["40 copy source malformed", { method: "PUT", path: "/test-repo/main/copy-dst", headers: { "x-amz-copy-source": "nobucket" } }, 400, "InvalidArgument"],
  ["40 copy source missing", { method: "PUT", path: "/test-repo/main/copy-dst", headers: { "x-amz-copy-source": "/test-repo/main/none" } }, 404, "NoSuchKey"],
  ["41 user metadata over 2 KB", { method: "PUT", path: KEY, body: "x", headers: { "x-amz-meta-big": "v".repeat(2100) } }, 400, "MetadataTooLarge"],
  ["42 max-keys not a number", { method: "GET", path: "/test-repo?list-type=2&prefix=main/&max-keys=x" }, 400, "InvalidArgument"],
  ["42 max-keys negative", { method: "GET", path: "/test-repo?list-type=2&prefix=main/&max-keys=-1" }, 400, "InvalidArgument"],
  ["42 continuation token of another ref", { method: "GET", path: "/test-repo?list-type=2&prefix=main/&continuation-token=other%2Fx" }, 400, "InvalidArgument"],
  ["14 x-amz-decoded-content-length over 5 GiB", { method: "PUT", path: KEY, body: "0\r\n\r\n", contentSha256: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", headers: { "content-encoding": "aws-chunked", "x-amz-decoded-content-length": String(6 * GIB) } }, 400, "EntityTooLarge"],
  ["20 schema-invalid DeleteObjects (no Key)", { method: "POST", path: "/test-repo?delete", body: "<Delete><Object><Nope>main/state.txt</Nope></Object></Delete>" }, 400, "MalformedXML"],
  ["20 DeleteObjects with another root element", { method: "POST", path: "/test-repo?delete", body: "<Remove><Object><Key>main/state.txt</Key></Object></Remove>" }, 400, "MalformedXML"],
  ["20 empty DeleteObjects body", { method: "POST", path: "/test-repo?delete", body: "" }, 400, "MalformedXML"],
  ["21 DeleteObjects with 1001 keys", { method: "POST", path: "/test-repo?delete", body: deleteXml(["main/state.txt", ...Array.from({ length: 1000 }, (_, i) => `main/k${i}`)]) }, 400, "MalformedXML"],
  ["22 DeleteObjects with a wrong Content-MD5", { method: "POST", path: "/test-repo?delete", body: deleteXml(["main/state.txt"]), headers: { "content-md5": b64md5("something else") } }, 400, "BadDigest"],
  ["26 part number above 10000", { method: "PUT", path: `${KEY}?partNumber=10001&uploadId=x`, body: "x" }, 400, "InvalidArgument"],
  ["26 part number not a number", { method: "PUT", path: `${KEY}?partNumber=one&uploadId=x`, body: "x" }, 400, "InvalidArgument"],
  ["30 CopyObject If-None-Match * onto an existing key", { method: "PUT", path: KEY, headers: { "x-amz-copy-source": "/test-repo/main/state.txt", "x-amz-metadata-directive": "REPLACE", "if-none-match": "*" } }, 412, "PreconditionFailed"],
  ["39 SigV4a streaming payload", { method: "PUT", path: KEY, body: "x", contentSha256: "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD" }, 501, "NotImplemented"],
  ["40 copy source not percent-decodable", { method: "PUT", path: "/test-repo/main/copy-dst", headers: { "x-amz-copy-source": "/test-repo/main/%ZZ" } }, 400, "InvalidArgument"],
];

describe("bad input answers with S3's code and leaves the store intact", () => {
  for (const [name, req, status, code] of rows) {
    it(name, async () => {
      const res = await t.raw(req);
      expect(res.status).toBe(status);
      expect(errorCode(res.body)).toBe(code);
      await stateIntact();
    });
  }

  it("8 header-signed SigV4 without x-amz-content-sha256", async () => {
    const res = await t.raw({ method: "GET", path: KEY, headers: { "x-amz-content-sha256": "" } });
    expect(res.status).toBe(400);
  });

  it("SignatureDoesNotMatch carries the server's StringToSign and CanonicalRequest", async () => {
    const res = await t.raw({ method: "GET", path: KEY, secret: "wrong" });
    expect(res.body).toContain("<StringToSign>AWS4-HMAC-SHA256\n");
    expect(res.body).toContain("<CanonicalRequest>GET\n/test-repo/main/state.txt\n");
    expect(res.body).not.toContain(t.server.secretAccessKey);
  });

  it("33 request time skewed by more than 15 minutes", async () => {
    const signer = new SignatureV4({ service: "s3", region: "us-east-1", credentials: { accessKeyId: t.server.accessKeyId, secretAccessKey: t.server.secretAccessKey }, sha256: Sha256, uriEscapePath: false });
    const url = new URL(t.url);
    const signed = await signer.sign(
      { method: "GET", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: "/test-repo/main/state.txt", headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } },
      { signingDate: new Date(Date.now() - 20 * 60 * 1000) },
    );
    const res = await fetch(`${t.url}/test-repo/main/state.txt`, { headers: signed.headers });
    expect(res.status).toBe(403);
    expect(errorCode(await res.text())).toBe("RequestTimeTooSkewed");
  });

  describe("presigned URLs", () => {
    async function presign(path: string, options: { expiresIn?: number; signingDate?: Date; secret?: string } = {}) {
      const signer = new SignatureV4({ service: "s3", region: "us-east-1", credentials: { accessKeyId: t.server.accessKeyId, secretAccessKey: options.secret ?? t.server.secretAccessKey }, sha256: Sha256, uriEscapePath: false });
      const url = new URL(t.url);
      const req = await signer.presign(
        // As @aws-sdk/s3-request-presigner does: the payload of a presigned request is UNSIGNED-PAYLOAD.
        { method: "GET", protocol: "http:", hostname: url.hostname, port: Number(url.port), path, headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } },
        {
          expiresIn: options.expiresIn ?? 300,
          signingDate: options.signingDate,
          unhoistableHeaders: new Set(["x-amz-content-sha256"]),
          unsignableHeaders: new Set(["x-amz-content-sha256"]),
        },
      );
      const q = new URLSearchParams(req.query as Record<string, string>).toString();
      return `${t.url}${path}?${q}`;
    }
    it("a valid presigned GET works without headers", async () => {
      const res = await fetch(await presign("/test-repo/main/state.txt"));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(ORIGINAL);
    });
    it("37 an expired presigned URL is rejected", async () => {
      const res = await fetch(await presign("/test-repo/main/state.txt", { expiresIn: 60, signingDate: new Date(Date.now() - 5 * 60 * 1000) }));
      expect(res.status).toBe(403);
      const body = await res.text();
      expect(errorCode(body)).toBe("AccessDenied");
      expect(body).toContain("expired");
    });
    it("a tampered presigned URL is rejected", async () => {
      const url = (await presign("/test-repo/main/state.txt")).replace("state.txt", "other.txt");
      const res = await fetch(url);
      expect(res.status).toBe(403);
      expect(errorCode(await res.text())).toBe("SignatureDoesNotMatch");
    });
    it("36 X-Amz-Expires out of range", async () => {
      const url = (await presign("/test-repo/main/state.txt")).replace(/X-Amz-Expires=\d+/, "X-Amz-Expires=999999");
      const res = await fetch(url);
      expect(res.status).toBe(400);
      expect(errorCode(await res.text())).toBe("AuthorizationQueryParametersError");
    });
    it("38 an unsigned x-amz-* header on a presigned request is rejected", async () => {
      const res = await fetch(await presign("/test-repo/main/state.txt"), { headers: { "x-amz-meta-sneaky": "1" } });
      expect(res.status).toBe(403);
      expect(errorCode(await res.text())).toBe("AccessDenied");
    });
  });

  describe("framing (raw sockets)", () => {
    function rawSocket(text: string, waitMs = 2000): Promise<string> {
      return new Promise((resolve) => {
        const sock = net.connect(t.server.port, "127.0.0.1");
        let out = "";
        sock.on("data", (d) => (out += d.toString()));
        sock.on("close", () => resolve(out));
        sock.on("error", () => resolve(out));
        sock.write(text);
        setTimeout(() => sock.destroy(), waitMs);
      });
    }
    async function signedHead(method: string, path: string, extra: Record<string, string>) {
      const signer = new SignatureV4({ service: "s3", region: "us-east-1", credentials: { accessKeyId: t.server.accessKeyId, secretAccessKey: t.server.secretAccessKey }, sha256: Sha256, uriEscapePath: false });
      const host = `127.0.0.1:${t.server.port}`;
      const signed = await signer.sign({ method, protocol: "http:", hostname: "127.0.0.1", port: t.server.port, path, headers: { host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", ...extra } });
      return `${method} ${path} HTTP/1.1\r\n${Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}`).join("\r\n")}\r\n`;
    }
    it("11 PUT without Content-Length and not chunked → 411 MissingContentLength", async () => {
      const out = await rawSocket((await signedHead("PUT", "/test-repo/main/state.txt", {})) + "Connection: close\r\n\r\n");
      expect(out).toMatch(/^HTTP\/1.1 411/);
      expect(out).toContain("<Code>MissingContentLength</Code>");
      await stateIntact();
    });
    it("14 Content-Length over 5 GiB → EntityTooLarge before the body is read", async () => {
      const out = await rawSocket((await signedHead("PUT", "/test-repo/main/state.txt", { "content-length": String(6 * 1024 ** 3) })) + "\r\nsome bytes");
      expect(out).toMatch(/^HTTP\/1.1 400/);
      expect(out).toContain("<Code>EntityTooLarge</Code>");
      await stateIntact();
    });
    it("10 a body shorter than Content-Length never becomes visible", async () => {
      await rawSocket((await signedHead("PUT", "/test-repo/main/short.txt", { "content-length": "1000" })) + "\r\nonly a few bytes", 300);
      const res = await t.raw({ method: "GET", path: "/test-repo/main/short.txt" });
      expect(res.status).toBe(404);
    });
    it("a HEAD whose request line the parser refuses in a later read gets a 400 without a body (src/server/client-error.ts)", async () => {
      // The request line in two writes, the refused byte in the second: the server reads them apart
      // (50 ms between them; read together, the case is the one below and still must pass), and the
      // packet the parser fails on then says nothing of the method. A body after the answer to a
      // HEAD breaks the client's next read (Node's client: "Data after `Connection: close`").
      const out = await new Promise<string>((resolve) => {
        const sock = net.connect(t.server.port, "127.0.0.1");
        let got = "";
        sock.on("data", (d) => (got += d.toString("latin1")));
        sock.on("close", () => resolve(got));
        sock.on("error", () => resolve(got));
        sock.write("HEAD /test-repo/main/state.txt?x=", () => setTimeout(() => sock.write(Buffer.from("\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", "latin1")), 50));
        setTimeout(() => sock.destroy(), 2000);
      });
      expect(out).toMatch(/^HTTP\/1.1 400/);
      expect(out).toContain("Content-Length: 0\r\n");
      expect(out.slice(out.indexOf("\r\n\r\n") + 4)).toBe("");
      // Read together, the request line starts the packet: the same answer.
      const together = await rawSocket("HEAD /test-repo/main/state.txt?x=\xff HTTP/1.1\r\nHost: x\r\n\r\n", 500);
      expect(together).toMatch(/^HTTP\/1.1 400/);
      expect(together.slice(together.indexOf("\r\n\r\n") + 4)).toBe("");
      await stateIntact();
    });
    it("a refused request read together with the tail of an earlier body: a GET gets error XML, a HEAD no body (fuzz seed 7, iteration 1848)", async () => {
      // An unsigned PUT is refused (403) before its body arrives and the connection is kept: its
      // 5 bytes then reach the server in one packet with the next request, which the parser
      // refuses (a raw byte in the query). The packet starts with the body's tail, not a method.
      async function afterTail(tail: string, next: string): Promise<string> {
        const sock = net.connect(t.server.port, "127.0.0.1");
        let got = "";
        sock.on("data", (d) => (got += d.toString("latin1")));
        sock.on("error", () => undefined);
        const closed = new Promise((resolve) => sock.on("close", resolve));
        sock.write("PUT /test-repo/main/tail.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
        await waitFor(() => got.includes("</Error>"));
        expect(got).toMatch(/^HTTP\/1.1 403/);
        expect(got).toContain("Connection: keep-alive");
        got = "";
        sock.write(Buffer.from(tail + next, "latin1"));
        await closed;
        return got;
      }
      const get = await afterTail("xHEAD", "GET /test-repo?max-keys=\xd2M\xb3<Yw HTTP/1.1\r\nHost: x\r\n\r\n");
      expect(get).toMatch(/^HTTP\/1.1 400/);
      expect(errorCode(get)).toBe("BadRequest");
      expect(get).toContain("Invalid char in url query");
      // The request log shows it, as far as it was read, under the id the answer gave.
      const id = /x-amz-request-id: ([\w-]+)/.exec(get)![1];
      const logged = t.server.log.getSnapshot().finished.find((e) => e.id === id);
      expect(logged).toMatchObject({ method: "GET", path: "/test-repo", query: "max-keys=", status: 400, errorCode: "BadRequest" });
      expect(logged!.errorMessage).toContain("Invalid char in url query");
      const head = await afterTail("hello", "HEAD /test-repo/main/state.txt?x=\xd2 HTTP/1.1\r\nHost: x\r\n\r\n");
      expect(head).toMatch(/^HTTP\/1.1 400/);
      expect(head.slice(head.indexOf("\r\n\r\n") + 4)).toBe("");
      // The refused byte in a header this time, after the request line.
      const header = await afterTail("GET /", "PUT /test-repo/main/tail.txt HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n");
      expect(errorCode(header)).toBe("BadRequest");
      await stateIntact();
    });
    it("a garbage request line gets a 400 and the server keeps serving", async () => {
      const out = await rawSocket("NOT HTTP AT ALL\r\n\r\n", 500);
      expect(out).toMatch(/^HTTP\/1.1 400/);
      await stateIntact();
    });
  });
});

describe("bad input: aws-chunked bodies, multipart, ranges, conditionals, buckets", () => {
  const ep = (): Endpoint => ({ port: t.server.port, region: t.server.region, accessKeyId: t.server.accessKeyId, secretAccessKey: t.server.secretAccessKey });
  const crc32 = (data: Buffer) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(zlib.crc32(data));
    return b.toString("base64");
  };

  /** PUT `chunks` as an aws-chunked body; `tamper` may rewrite the frames/trailers before encoding. */
  async function putChunked(
    path: string,
    mode: ChunkedMode,
    chunks: Buffer[],
    options: { trailers?: Record<string, string>; headers?: Record<string, string>; decodedLength?: number } = {},
    tamper?: (req: Awaited<ReturnType<typeof chunkedRequest>>) => Buffer,
  ) {
    const req = await chunkedRequest(ep(), "PUT", path, chunks, { mode, ...options });
    const body = tamper ? tamper(req) : honestBody(mode, req);
    return send(ep(), { method: "PUT", path, headers: req.headers, body, sign: false });
  }

  const kib = (n: number, fill: string) => Buffer.alloc(n * 1024, fill);

  it("honest aws-chunked bodies in all three modes are accepted (the builder is right)", async () => {
    const data = [kib(8, "a"), kib(1, "b")];
    const all = Buffer.concat(data);
    for (const mode of ["signed", "signed-trailer", "unsigned-trailer"] as const) {
      const trailers: Record<string, string> = mode === "signed" ? {} : { "x-amz-checksum-crc32": crc32(all) };
      const res = await putChunked(`/test-repo/main/chunked-${mode}`, mode, data, { trailers });
      expect(res.status, `${mode}: ${res.text}`).toBe(200);
      const got = await t.raw({ method: "GET", path: `/test-repo/main/chunked-${mode}` });
      expect(got.body).toBe(all.toString());
    }
  });

  const chunkRows: [string, () => ReturnType<typeof putChunked>, number, string][] = [
    ["12 non-final signed chunk under 8 KiB", () => putChunked(KEY, "signed", [Buffer.alloc(100, "a"), Buffer.alloc(100, "b")]), 403, "InvalidChunkSizeError"],
    [
      "13 bad chunk signature",
      () => putChunked(KEY, "signed", [kib(8, "a"), kib(1, "b")], {}, (r) => encodeChunked("signed", r.frames.map((f, i) => (i === 1 ? { ...f, signature: "0".repeat(64) } : f)))),
      403,
      "SignatureDoesNotMatch",
    ],
    [
      "13 chunk data changed under a valid signature",
      () => putChunked(KEY, "signed", [kib(8, "a"), kib(1, "b")], {}, (r) => encodeChunked("signed", r.frames.map((f, i) => (i === 1 ? { ...f, data: Buffer.alloc(f.data.length, "c") } : f)))),
      403,
      "SignatureDoesNotMatch",
    ],
    [
      "13 bad trailer signature",
      () =>
        putChunked(KEY, "signed-trailer", [kib(8, "a")], { trailers: { "x-amz-checksum-crc32": crc32(kib(8, "a")) } }, (r) =>
          encodeChunked("signed-trailer", r.frames, r.trailers, "f".repeat(64)),
        ),
      403,
      "SignatureDoesNotMatch",
    ],
    [
      "13 trailer value changed under a valid trailer signature",
      () =>
        putChunked(KEY, "signed-trailer", [kib(8, "a")], { trailers: { "x-amz-checksum-crc32": crc32(kib(8, "a")) } }, (r) =>
          encodeChunked("signed-trailer", r.frames, { "x-amz-checksum-crc32": "AAAAAA==" }, r.trailerSignature),
        ),
      403,
      "SignatureDoesNotMatch",
    ],
    ["3 checksum trailer mismatch", () => putChunked(KEY, "unsigned-trailer", [Buffer.from("x")], { trailers: { "x-amz-checksum-crc32": "AAAAAA==" } }), 400, "BadDigest"],
    ["4 checksum trailer malformed", () => putChunked(KEY, "unsigned-trailer", [Buffer.from("x")], { trailers: { "x-amz-checksum-crc32": "###" } }), 400, "InvalidRequest"],
    [
      "6 checksum header and x-amz-trailer together",
      () => putChunked(KEY, "unsigned-trailer", [Buffer.from("x")], { trailers: { "x-amz-checksum-crc32": crc32(Buffer.from("x")) }, headers: { "x-amz-checksum-crc32": crc32(Buffer.from("x")) } }),
      400,
      "InvalidRequest",
    ],
    ["10 aws-chunked body shorter than x-amz-decoded-content-length", () => putChunked(KEY, "unsigned-trailer", [Buffer.from("short")], { decodedLength: 20 }), 400, "IncompleteBody"],
    ["10 aws-chunked body longer than x-amz-decoded-content-length", () => putChunked(KEY, "signed", [kib(9, "a")], { decodedLength: 20 }), 400, "IncompleteBody"],
  ];
  for (const [name, run, status, code] of chunkRows) {
    it(name, async () => {
      const res = await run();
      expect(res.status, res.text).toBe(status);
      expect(errorCode(res.text)).toBe(code);
      await stateIntact();
    });
  }

  it("8 header-signed SigV4 without x-amz-content-sha256 → 400 InvalidRequest", async () => {
    const res = await send(ep(), { method: "GET", path: KEY, signOptions: { payload: null } });
    expect(res.status).toBe(400);
    expect(errorCode(res.text)).toBe("InvalidRequest");
  });

  it("34 unknown access key → 403 InvalidAccessKeyId", async () => {
    const res = await send(ep(), { method: "PUT", path: KEY, body: "x", signOptions: { accessKeyId: "AKIAUNKNOWNUNKNOWN00" } });
    expect(res.status).toBe(403);
    expect(errorCode(res.text)).toBe("InvalidAccessKeyId");
    await stateIntact();
  });

  it("17 HEAD of a missing key or bucket: 404 without a body", async () => {
    for (const path of ["/test-repo/main/none", "/no-such-repo/main/x", "/no-such-repo"]) {
      const res = await t.raw({ method: "HEAD", path });
      expect(res.status, path).toBe(404);
      expect(res.body, path).toBe("");
    }
  });

  it("14 UploadPart with Content-Length over 5 GiB → EntityTooLarge before the body is read", async () => {
    const created = await t.raw({ method: "POST", path: `${KEY}?uploads` });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)![1]!;
    const path = `${KEY}?partNumber=1&uploadId=${uploadId}`;
    const started = Date.now();
    // A connection of its own: the 6 GiB body never comes, so that connection is not reusable (see below).
    const res = await send(ep(), { method: "PUT", path, headers: { "content-length": String(6 * GIB) }, body: undefined, timeoutMs: 10_000, agent: false }).catch((e: Error) => e);
    expect(res).not.toBeInstanceOf(Error);
    const r = res as Awaited<ReturnType<typeof send>>;
    expect(r.status).toBe(400);
    expect(errorCode(r.text)).toBe("EntityTooLarge");
    expect(Date.now() - started).toBeLessThan(5000);
    await t.raw({ method: "DELETE", path: `${KEY}?uploadId=${uploadId}` });
    await stateIntact();
  });

  // A body refused before it is read (a declared size over 5 GiB) must close the connection, as S3
  // does: otherwise the server waits for the 6 GiB to discard them and swallows the next request.
  it("14 a body refused unread (declared over 5 GiB) closes the connection; the next request is not swallowed", async () => {
    const created = await t.raw({ method: "POST", path: `${KEY}?uploads` });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)![1]!;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await send(ep(), { method: "PUT", path: `${KEY}?partNumber=1&uploadId=${uploadId}`, headers: { "content-length": String(6 * GIB) }, agent, timeoutMs: 5000 });
      expect(errorCode(refused.text)).toBe("EntityTooLarge");
      const next = await send(ep(), { method: "GET", path: KEY, agent, timeoutMs: 3000 }).catch((e: Error) => e);
      expect(next).not.toBeInstanceOf(Error);
      expect((next as Awaited<ReturnType<typeof send>>).status).toBe(200);
    } finally {
      agent.destroy();
      await t.raw({ method: "DELETE", path: `${KEY}?uploadId=${uploadId}` });
    }
  });

  describe("CompleteMultipartUpload (23, 24, 25, 20, 30)", () => {
    let uploadId: string;
    const etags: string[] = [];
    beforeAll(async () => {
      const created = await t.raw({ method: "POST", path: `${KEY}?uploads` });
      uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)![1]!;
      for (const [n, data] of [[1, "a".repeat(10)], [2, "b".repeat(10)]] as const) {
        const res = await t.raw({ method: "PUT", path: `${KEY}?partNumber=${n}&uploadId=${uploadId}`, body: data });
        etags.push(res.headers.etag as string);
      }
    });
    const complete = (parts: [number, string][], headers: Record<string, string> = {}, body?: string) =>
      t.raw({
        method: "POST",
        path: `${KEY}?uploadId=${uploadId}`,
        headers,
        body: body ?? `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join("")}</CompleteMultipartUpload>`,
      });
    const cases: [string, () => ReturnType<typeof complete>, number, string][] = [
      ["23 a non-last part under 5 MiB", () => complete([[1, etags[0]!], [2, etags[1]!]]), 400, "EntityTooSmall"],
      ["24 a part that was never uploaded", () => complete([[3, etags[0]!]]), 400, "InvalidPart"],
      ["24 a part with the wrong ETag", () => complete([[1, '"00000000000000000000000000000000"']]), 400, "InvalidPart"],
      ["25 parts not in ascending order", () => complete([[2, etags[1]!], [1, etags[0]!]]), 400, "InvalidPartOrder"],
      ["25 the same part number twice", () => complete([[1, etags[0]!], [1, etags[0]!]]), 400, "InvalidPartOrder"],
      ["20 unparseable part list", () => complete([], {}, "<CompleteMultipartUpload><Part>"), 400, "MalformedXML"],
      ["20 no parts at all", () => complete([], {}, "<CompleteMultipartUpload></CompleteMultipartUpload>"), 400, "MalformedXML"],
      ["26 part number 0 in the part list", () => complete([[0, etags[0]!]]), 400, "InvalidArgument"],
      ["30 If-None-Match * on an existing key", () => complete([[1, etags[0]!]], { "if-none-match": "*" }), 412, "PreconditionFailed"],
    ];
    for (const [name, run, status, code] of cases) {
      it(name, async () => {
        const res = await run();
        expect(res.status, res.body).toBe(status);
        expect(errorCode(res.body)).toBe(code);
        await stateIntact();
        // The failed Complete left the upload and its parts as they were.
        const parts = await t.raw({ method: "GET", path: `${KEY}?uploadId=${uploadId}` });
        expect(parts.status).toBe(200);
        expect(parts.body.match(/<Part>/g)).toHaveLength(2);
      });
    }
    afterAll(async () => {
      await t.raw({ method: "DELETE", path: `${KEY}?uploadId=${uploadId}` });
    });
  });

  describe("ranges and read conditionals (27, 28, 29, 32)", () => {
    const get = (headers: Record<string, string>, path = KEY) => t.raw({ method: "GET", path, headers });
    it("27 a range starting at or past the end → 416 InvalidRange with Content-Range bytes */size", async () => {
      for (const range of ["bytes=16-", "bytes=100-200"]) {
        const res = await get({ range });
        expect(res.status, range).toBe(416);
        expect(errorCode(res.body)).toBe("InvalidRange");
        expect(res.headers["content-range"]).toBe("bytes */16");
      }
    });
    it("27 any range on an empty object → 416", async () => {
      await t.raw({ method: "PUT", path: "/test-repo/main/empty.txt", body: "" });
      for (const range of ["bytes=0-0", "bytes=-1", "bytes=0-"]) {
        const res = await get({ range }, "/test-repo/main/empty.txt");
        expect(res.status, range).toBe(416);
        expect(res.headers["content-range"]).toBe("bytes */0");
      }
    });
    it("28 a syntactically invalid range (or end < start) is ignored → 200 with the whole object", async () => {
      for (const range of ["bytes=5-2", "bytes=abc", "items=0-1", "bytes=0-1,3-4", "bytes=--1", ""]) {
        const res = await get({ range });
        expect(res.status, range).toBe(200);
        expect(res.body).toBe(ORIGINAL);
      }
    });
    it("29 a range past the end but starting inside is clamped → 206", async () => {
      const res = await get({ range: "bytes=10-1000" });
      expect(res.status).toBe(206);
      expect(res.headers["content-range"]).toBe("bytes 10-15/16");
      expect(res.body).toBe(ORIGINAL.slice(10));
      const suffix = await get({ range: "bytes=-100" });
      expect(suffix.status).toBe(206);
      expect(suffix.body).toBe(ORIGINAL);
    });
    it("32 If-None-Match matching / not modified since → 304 without a body; If-Match mismatch → 412", async () => {
      const head = await t.raw({ method: "HEAD", path: KEY });
      const etag = head.headers.etag as string;
      const variants: Record<string, string>[] = [{ "if-none-match": etag }, { "if-none-match": "*" }, { "if-modified-since": new Date(Date.now() + 3600_000).toUTCString() }];
      for (const headers of variants) {
        const res = await get(headers);
        expect(res.status, JSON.stringify(headers)).toBe(304);
        expect(res.body).toBe("");
      }
      const res = await get({ "if-match": '"0000"' });
      expect(res.status).toBe(412);
      expect(errorCode(res.body)).toBe("PreconditionFailed");
    });
  });

  describe("buckets (18, 19)", () => {
    it("19 CreateBucket of an existing repository → 409 BucketAlreadyExists (lakefs mode)", async () => {
      const res = await t.raw({ method: "PUT", path: "/test-repo" });
      expect(res.status).toBe(409);
      expect(errorCode(res.body)).toBe("BucketAlreadyExists");
      await stateIntact();
    });
    it("18/19 in s3 mode: BucketAlreadyOwnedByYou, and DeleteBucket of a non-empty bucket → 409 BucketNotEmpty", async () => {
      const s3 = await startTestServer({ mode: "s3" });
      try {
        expect((await s3.raw({ method: "PUT", path: "/other-bucket" })).status).toBe(200);
        const again = await s3.raw({ method: "PUT", path: "/other-bucket" });
        expect(again.status).toBe(409);
        expect(errorCode(again.body)).toBe("BucketAlreadyOwnedByYou");
        await s3.raw({ method: "PUT", path: "/other-bucket/keep.txt", body: "kept" });
        const del = await s3.raw({ method: "DELETE", path: "/other-bucket" });
        expect(del.status).toBe(409);
        expect(errorCode(del.body)).toBe("BucketNotEmpty");
        expect((await s3.raw({ method: "GET", path: "/other-bucket/keep.txt" })).body).toBe("kept");
      } finally {
        await s3.close();
      }
    });
  });

  describe("20 XML the validator accepts but the parser rejects", () => {
    // fast-xml-parser's parse() throws on bodies its validator accepts (nesting deeper than 100,
    // an unclosed processing instruction); readXml turns that into MalformedXML, not a 500.
    it("deeply nested XML in a DeleteObjects body is MalformedXML, not InternalError", async () => {
      const body = "<Delete>" + "<a>".repeat(200) + "</a>".repeat(200) + "</Delete>";
      const res = await t.raw({ method: "POST", path: "/test-repo?delete", body });
      expect(res.status).toBe(400);
      expect(errorCode(res.body)).toBe("MalformedXML");
    });
    it("an unclosed processing instruction after the root is MalformedXML, not InternalError", async () => {
      const res = await t.raw({ method: "POST", path: "/test-repo?delete", body: "<Delete><Object><Key>main/state.txt</Key></Object></Delete><?pi " });
      expect(res.status).toBe(400);
      expect(errorCode(res.body)).toBe("MalformedXML");
      await stateIntact();
    });
  });

  it("22 DeleteObjects without Content-MD5 or checksum is accepted (lakeFS does not require it; README)", async () => {
    await t.raw({ method: "PUT", path: "/test-repo/main/to-delete.txt", body: "x" });
    const res = await t.raw({ method: "POST", path: "/test-repo?delete", body: deleteXml(["main/to-delete.txt"]) });
    expect(res.status).toBe(200);
    expect(res.body).toContain("<Key>main/to-delete.txt</Key>");
    expect((await t.raw({ method: "GET", path: "/test-repo/main/to-delete.txt" })).status).toBe(404);
    await stateIntact();
  });

  // Row 31 (409 ConditionalRequestConflict) does not arise: conditional writes are checked and
  // published under the key's lock, so racing writers get 412 (test/reliability/concurrency.test.ts).
  // Row 35's "wrong region in scope" is accepted on purpose (any signing region, as lakeFS does).
});
