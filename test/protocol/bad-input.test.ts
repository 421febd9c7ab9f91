/**
 * The bad-input table (S3-COMPAT.md §4.6) as raw requests: each row asserts the exact S3 code and
 * status, and that the object written before is unchanged afterwards.
 */
import net from "node:net";
import { createHash } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, startTestServer, type RawRequest, type TestServer } from "../helpers/server.js";
import { Sha256 } from "../helpers/sha256.js";

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

const rows: [string, RawRequest, number, string][] = [
  ["1 Content-MD5 not base64 of 16 bytes", { method: "PUT", path: KEY, body: "x", headers: { "content-md5": "not-md5" } }, 400, "InvalidDigest"],
  ["2 Content-MD5 mismatch", { method: "PUT", path: KEY, body: "x", headers: { "content-md5": b64md5("y") } }, 400, "BadDigest"],
  ["3 checksum header mismatch", { method: "PUT", path: KEY, body: "x", headers: { "x-amz-checksum-crc32": "AAAAAA==" } }, 400, "BadDigest"],
  ["4 checksum value malformed", { method: "PUT", path: KEY, body: "x", headers: { "x-amz-checksum-crc32": "###" } }, 400, "InvalidRequest"],
  ["5 sdk algorithm without a checksum", { method: "PUT", path: KEY, body: "x", headers: { "x-amz-sdk-checksum-algorithm": "CRC32" } }, 400, "InvalidRequest"],
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
    it("a garbage request line gets a 400 and the server keeps serving", async () => {
      const out = await rawSocket("NOT HTTP AT ALL\r\n\r\n", 500);
      expect(out).toMatch(/^HTTP\/1.1 400/);
      await stateIntact();
    });
  });
});
