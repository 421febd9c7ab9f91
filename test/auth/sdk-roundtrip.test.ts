/**
 * Cross-checks against the AWS SDK's own signer (@smithy/signature-v4) and a real S3Client talking
 * to a tiny HTTP server that runs authenticate() + decodeBody().
 */
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import * as zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SignatureV4 } from "@smithy/signature-v4";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { authenticate } from "../../src/auth/authenticate.js";
import { decodeBody } from "../../src/auth/payload.js";
import { S3Error, toS3Error } from "../../src/protocol/errors.js";
import type { AuthInput, Credentials } from "../../src/auth/types.js";

const KEY = "AKIALAKES3TESTKEY0001";
const SECRET = "lakes3/secret+key with spaces";
const lookup = (id: string): Credentials | undefined => (id === KEY ? { accessKeyId: KEY, secretAccessKey: SECRET } : undefined);

/** The SDK's hash interface over node:crypto. */
class NodeSha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    if (secret === undefined) this.h = createHash("sha256");
    else if (typeof secret === "string") this.h = createHmac("sha256", secret);
    else if (ArrayBuffer.isView(secret)) this.h = createHmac("sha256", Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength));
    else this.h = createHmac("sha256", Buffer.from(secret));
  }
  update(data: Uint8Array | string): void {
    this.h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {}
}

function sdkSigner(region = "us-east-1", secret = SECRET): SignatureV4 {
  return new SignatureV4({ credentials: { accessKeyId: KEY, secretAccessKey: secret }, region, service: "s3", sha256: NodeSha256, uriEscapePath: false });
}

/** What the SDK puts on the wire: encodeURIComponent plus !'()*. */
function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}
function keyPath(bucket: string, key: string): string {
  return "/" + bucket + "/" + key.split("/").map(escapeUri).join("/");
}

type Query = Record<string, string | string[]>;
function rawQueryOf(query: Query): string {
  return Object.entries(query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${escapeUri(k)}=${escapeUri(x)}`))
    .join("&");
}
function toInput(method: string, path: string, query: Query, headers: Record<string, string>): AuthInput {
  const h: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = [v];
  return { method, rawPath: path, rawQuery: rawQueryOf(query), headers: h };
}

const KEYS = ["plain.txt", "with space.txt", "a+b=c&d", "ünïcødé/ключ/日本語", "dir//double/../dots/./x/", "~!*'()$@,;:", "100%", "emoji 😀.bin", "trailing/"];
const QUERIES: Query[] = [
  {},
  { prefix: "a b+c/d", delimiter: "/" },
  { "list-type": "2", "continuation-token": "abc==/+", "start-after": "ü" },
  { tagging: "" },
  { "response-content-disposition": 'attachment; filename="x y.txt"', versionId: "v1" },
  { dup: ["b", "a", "a b"] },
];

describe("round trips against @smithy/signature-v4", () => {
  const signingDate = new Date("2024-03-01T12:00:00Z");
  const now = new Date("2024-03-01T12:05:00Z");

  test.each(KEYS)("header-signed GET of key %j with assorted queries", async (key) => {
    for (const query of QUERIES) {
      const path = keyPath("bucket", key);
      const req = { method: "GET", protocol: "http:", hostname: "127.0.0.1", port: 9000, path, query, headers: { host: "127.0.0.1:9000", "x-amz-meta-note": "  a   b  " } };
      const signed = await sdkSigner("eu-west-1").sign(req, { signingDate });
      const result = authenticate(toInput("GET", path, query, signed.headers), lookup, { now });
      expect(result).toMatchObject({ accessKeyId: KEY, scheme: "sigv4-header" });
    }
  });

  test("header-signed PUT with a body hash and unsigned streaming modes", async () => {
    const body = Buffer.from("hello world");
    const path = keyPath("bucket", "some key+x");
    const signed = await sdkSigner().sign(
      { method: "PUT", protocol: "http:", hostname: "localhost", path, query: {}, headers: { host: "localhost", "content-type": "text/plain" }, body },
      { signingDate },
    );
    const result = authenticate(toInput("PUT", path, {}, signed.headers), lookup, { now });
    expect(result.payload).toEqual({ mode: "sha256", sha256: createHash("sha256").update(body).digest("hex") });

    const streaming = await sdkSigner().sign(
      {
        method: "PUT", protocol: "http:", hostname: "localhost", path, query: {},
        headers: { host: "localhost", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-trailer": "x-amz-checksum-crc32" },
      },
      { signingDate },
    );
    expect(authenticate(toInput("PUT", path, {}, streaming.headers), lookup, { now }).payload.mode).toBe("streaming-unsigned-trailer");
  });

  test.each(KEYS)("presigned GET of key %j", async (key) => {
    for (const query of QUERIES) {
      const path = keyPath("bucket", key);
      const req = {
        method: "GET", protocol: "http:", hostname: "127.0.0.1", port: 9000, path, query,
        headers: { host: "127.0.0.1:9000", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
      };
      const presigned = await sdkSigner("ap-south-1").presign(req, { signingDate, expiresIn: 600 });
      const input = toInput("GET", path, presigned.query as Query, presigned.headers);
      expect(input.rawQuery).toContain("X-Amz-Signature=");
      expect(authenticate(input, lookup, { now })).toMatchObject({ accessKeyId: KEY, scheme: "sigv4-presigned", payload: { mode: "unsigned" } });
      const late = new Date(signingDate.getTime() + 601_000);
      expect(() => authenticate(input, lookup, { now: late })).toThrow("Request has expired");
    }
  });

  test("an SDK signature with another secret is refused", async () => {
    const path = "/bucket/k";
    const signed = await sdkSigner("us-east-1", "other").sign({ method: "GET", protocol: "http:", hostname: "h", path, query: {}, headers: { host: "h" } }, { signingDate });
    expect(() => authenticate(toInput("GET", path, {}, signed.headers), lookup, { now })).toThrow(S3Error);
  });
});

// ---------------------------------------------------------------------------------------------
// A real S3Client against authenticate() + decodeBody()

interface Stored {
  body: Buffer;
  trailers: Record<string, string>;
  mode: string;
}

describe("S3Client end to end", () => {
  const objects = new Map<string, Stored>();
  let server: http.Server;
  let endpoint: string;

  function sendError(res: http.ServerResponse, err: S3Error): void {
    const extras = Object.entries(err.options.extras ?? {}).map(([k, v]) => `<${k}>${v.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</${k}>`).join("");
    res.writeHead(err.status, { "content-type": "application/xml" });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${err.code}</Code><Message>${err.message}</Message>${extras}</Error>`);
  }

  beforeAll(async () => {
    server = http.createServer(async (req, res) => {
      try {
        const url = req.url ?? "/";
        const q = url.indexOf("?");
        const input: AuthInput = {
          method: req.method ?? "GET",
          rawPath: q < 0 ? url : url.slice(0, q),
          rawQuery: q < 0 ? "" : url.slice(q + 1),
          headers: req.headersDistinct as Record<string, string[]>,
        };
        const auth = authenticate(input, lookup);
        const path = decodeURIComponent(input.rawPath);
        if (req.method === "PUT") {
          const decoded = decodeBody(req, auth, req.headers as Record<string, string | undefined>);
          const chunks: Buffer[] = [];
          for await (const c of decoded.stream) chunks.push(c as Buffer);
          objects.set(path, { body: Buffer.concat(chunks), trailers: decoded.trailers(), mode: auth.payload.mode });
          res.writeHead(200, { etag: '"x"' });
          res.end();
        } else if (req.method === "GET" || req.method === "HEAD") {
          const o = objects.get(path);
          if (!o) throw new S3Error("NoSuchKey");
          res.writeHead(200, { "content-length": o.body.length, etag: '"x"', "last-modified": new Date().toUTCString() });
          res.end(req.method === "GET" ? o.body : undefined);
        } else if (req.method === "DELETE") {
          objects.delete(path);
          res.writeHead(204);
          res.end();
        } else {
          throw new S3Error("MethodNotAllowed");
        }
      } catch (err) {
        sendError(res, toS3Error(err));
      }
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function client(secret = SECRET, extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {}): S3Client {
    return new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: KEY, secretAccessKey: secret }, maxAttempts: 1, ...extra });
  }

  test("PutObject from a Buffer (sha256 payload) and GetObject back", async () => {
    const s3 = client();
    const key = "dir/with space/ünï+code.txt";
    const body = Buffer.from("buffer body ".repeat(1000));
    await s3.send(new PutObjectCommand({ Bucket: "repo", Key: key, Body: body }));
    const stored = objects.get(`/repo/${key}`)!;
    expect(stored.body.equals(body)).toBe(true);
    const got = await s3.send(new GetObjectCommand({ Bucket: "repo", Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    await s3.send(new HeadObjectCommand({ Bucket: "repo", Key: key }));
    await s3.send(new DeleteObjectCommand({ Bucket: "repo", Key: key }));
    expect(objects.has(`/repo/${key}`)).toBe(false);
  });

  test("PutObject from a stream: aws-chunked with an unsigned CRC32 trailer", async () => {
    const s3 = client();
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    for (let i = 0; i < data.length; i += 4099) data[i] = i & 0xff;
    const key = "streamed/ob ject";
    await s3.send(new PutObjectCommand({ Bucket: "repo", Key: key, Body: Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), ContentLength: data.length }));
    const stored = objects.get(`/repo/${key}`)!;
    expect(stored.mode).toBe("streaming-unsigned-trailer");
    expect(stored.body.equals(data)).toBe(true);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(data) >>> 0);
    expect(stored.trailers).toEqual({ "x-amz-checksum-crc32": crc.toString("base64") });
  });

  test("a wrong secret gets SignatureDoesNotMatch from the server", async () => {
    const s3 = client("wrong secret");
    const err = await s3.send(new PutObjectCommand({ Bucket: "repo", Key: "k", Body: "x" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3ServiceException);
    expect((err as S3ServiceException).name).toBe("SignatureDoesNotMatch");
    expect((err as S3ServiceException).$metadata.httpStatusCode).toBe(403);
  });

  test("an unknown access key gets InvalidAccessKeyId", async () => {
    const s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "AKIANOBODY", secretAccessKey: SECRET }, maxAttempts: 1 });
    // GET, not HEAD: a HEAD error has no body, so the SDK could not tell the code
    const err = await s3.send(new GetObjectCommand({ Bucket: "repo", Key: "k" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3ServiceException);
    expect((err as S3ServiceException).name).toBe("InvalidAccessKeyId");
    expect((err as S3ServiceException).$metadata.httpStatusCode).toBe(403);
    s3.destroy();
  });

  test("a presigned URL (smithy presign) works with plain fetch; tampering fails", async () => {
    const body = Buffer.from("presigned content");
    objects.set("/repo/pre signed", { body, trailers: {}, mode: "unsigned" });
    const url = new URL(endpoint);
    const path = keyPath("repo", "pre signed");
    const presigned = await sdkSigner("us-west-2").presign(
      { method: "GET", protocol: "http:", hostname: url.hostname, port: Number(url.port), path, query: {}, headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } },
      { expiresIn: 300 },
    );
    const target = `${endpoint}${path}?${rawQueryOf(presigned.query as Query)}`;
    const ok = await fetch(target);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(body)).toBe(true);
    const bad = await fetch(target.replace("X-Amz-Expires=300", "X-Amz-Expires=301"));
    expect(bad.status).toBe(403);
    expect(await bad.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
    const unsigned = await fetch(target, { headers: { "x-amz-meta-x": "1" } });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain("not signed");
  });

  test("anonymous requests are refused", async () => {
    const res = await fetch(`${endpoint}/repo/anything`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("<Code>AccessDenied</Code>");
  });
});
