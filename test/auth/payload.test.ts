/** decodeBody: mode selection, SHA-256 verification, decoded length, and error behaviour on the request stream. */
import { createHash, randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, test } from "vitest";
import { waitFor } from "../helpers/wait.js";
import { AwsChunkedDecoder } from "../../src/auth/chunked.js";
import { Sha256VerifyStream, decodeBody, decodedContentLength } from "../../src/auth/payload.js";
import { chunkStringToSign, deriveSigningKey, EMPTY_SHA256, hmacHex, sha256Hex } from "../../src/auth/sigv4.js";
import type { AuthResult } from "../../src/auth/types.js";
import { startHashThread } from "../../src/protocol/body-hash.js";
import { S3Error } from "../../src/protocol/errors.js";

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

async function failure(stream: Readable): Promise<S3Error> {
  try {
    await collect(stream);
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
  throw new Error("expected the stream to fail");
}

function auth(payload: AuthResult["payload"]): AuthResult {
  return { accessKeyId: "AK", scheme: "sigv4-header", payload };
}

describe("decodeBody", () => {
  test("unsigned and SigV2 payloads are the raw body itself", async () => {
    const body = Readable.from([Buffer.from("raw")]);
    const decoded = decodeBody(body, auth({ mode: "unsigned" }), { "content-encoding": "aws-chunked" });
    expect(decoded.stream).toBe(body);
    expect(decoded.trailers()).toEqual({});
    expect((await collect(decoded.stream)).toString()).toBe("raw");
  });

  test("sha256 mode passes the body through and verifies it at the end (large bodies hashed on the hashing thread)", async () => {
    expect(await startHashThread()).toBe(true);
    for (const size of [200_000, (3 << 20) + 1]) {
      const data = randomBytes(size);
      const hash = sha256Hex(data);
      const pieces = () => Array.from({ length: Math.ceil(size / 65536) }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
      const ok = decodeBody(Readable.from(pieces()), auth({ mode: "sha256", sha256: hash }), {});
      expect((await collect(ok.stream)).equals(data), `${size} bytes`).toBe(true);

      const bad = decodeBody(Readable.from(pieces()), auth({ mode: "sha256", sha256: EMPTY_SHA256 }), {});
      const err = await failure(bad.stream);
      expect([err.code, err.status]).toEqual(["XAmzContentSHA256Mismatch", 400]);
      expect(err.options.extras).toEqual({ ClientComputedContentSHA256: EMPTY_SHA256, S3ComputedContentSHA256: hash });
    }
  });

  test("Sha256VerifyStream accepts an upper-case expected hash", async () => {
    const s = new Sha256VerifyStream(sha256Hex("abc").toUpperCase());
    s.end("abc");
    expect((await collect(s)).toString()).toBe("abc");
  });

  test("streaming modes use the aws-chunked decoder and expose trailers after the end", async () => {
    const body = Readable.from([Buffer.from("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n")]);
    const decoded = decodeBody(body, auth({ mode: "streaming-unsigned-trailer" }), { "x-amz-decoded-content-length": "5" });
    expect(decoded.stream).toBeInstanceOf(AwsChunkedDecoder);
    expect((await collect(decoded.stream)).toString()).toBe("hello");
    expect(decoded.trailers()).toEqual({ "x-amz-checksum-crc32": "NhCmhg==" });
  });

  test("signed streaming uses the chunk signing context", async () => {
    const signingKey = deriveSigningKey("s", "20240101", "r", "s3");
    const seed = "a".repeat(64);
    const scope = "20240101/r/s3/aws4_request";
    const s1 = hmacHex(signingKey, chunkStringToSign("20240101T000000Z", scope, seed, sha256Hex("hi")));
    const s2 = hmacHex(signingKey, chunkStringToSign("20240101T000000Z", scope, s1, EMPTY_SHA256));
    const wire = `2;chunk-signature=${s1}\r\nhi\r\n0;chunk-signature=${s2}\r\n\r\n`;
    const payload: AuthResult["payload"] = { mode: "streaming-signed", chunkSigning: { signingKey, amzDate: "20240101T000000Z", scope, seedSignature: seed } };
    expect((await collect(decodeBody(Readable.from([Buffer.from(wire)]), auth(payload), {}).stream)).toString()).toBe("hi");
    const tampered = wire.replace("hi", "ho");
    expect((await failure(decodeBody(Readable.from([Buffer.from(tampered)]), auth(payload), {}).stream)).code).toBe("SignatureDoesNotMatch");
  });

  test("x-amz-decoded-content-length: enforced, empty → 411, junk → 400", async () => {
    const wire = () => Readable.from([Buffer.from("5\r\nhello\r\n0\r\n\r\n")]);
    const mode = auth({ mode: "streaming-unsigned-trailer" });
    expect((await failure(decodeBody(wire(), mode, { "x-amz-decoded-content-length": "6" }).stream)).code).toBe("IncompleteBody");
    expect(() => decodeBody(wire(), mode, { "x-amz-decoded-content-length": "" })).toThrow(expect.objectContaining({ code: "MissingContentLength", status: 411 }));
    expect(() => decodeBody(wire(), mode, { "x-amz-decoded-content-length": "-1" })).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
    expect(decodedContentLength({})).toBeUndefined();
    expect(decodedContentLength({ "x-amz-decoded-content-length": " 42 " })).toBe(42);
  });

  test("a decoding error leaves the request stream alive (the response still needs the socket)", async () => {
    const body = new PassThrough();
    const decoded = decodeBody(body, auth({ mode: "streaming-unsigned-trailer" }), {});
    body.write("zz\r\n");
    const err = await failure(decoded.stream);
    expect(err.code).toBe("InvalidRequest");
    expect(body.destroyed).toBe(false);
    body.end("more ignored bytes");
  });

  test("an error before anyone reads is not an uncaught exception and reaches the late consumer", async () => {
    const body = new PassThrough();
    const decoded = decodeBody(body, auth({ mode: "streaming-unsigned-trailer" }), {});
    body.write("5\r\nhelloXX");
    await waitFor(() => decoded.stream.destroyed, { timeoutMs: 2000, message: "the decoded stream to fail on its own" });
    const sink = new PassThrough();
    await expect(pipeline(decoded.stream, sink)).rejects.toMatchObject({ code: "InvalidRequest" });
    expect((await failure(decoded.stream)).code).toBe("InvalidRequest");
  });

  test("a request stream that errors or closes early fails the decoded stream with 400 IncompleteBody", async () => {
    const aborted = new PassThrough();
    const d1 = decodeBody(aborted, auth({ mode: "streaming-unsigned-trailer" }), {});
    aborted.write("5\r\nhel");
    setImmediate(() => aborted.destroy(new Error("aborted")));
    expect((await failure(d1.stream)).code).toBe("IncompleteBody");

    const closed = new PassThrough();
    const d2 = decodeBody(closed, auth({ mode: "sha256", sha256: EMPTY_SHA256 }), {});
    closed.write("abc");
    setImmediate(() => closed.destroy());
    expect((await failure(d2.stream)).code).toBe("IncompleteBody");
  });

  test("sha256 verification streams (does not wait for the whole body)", async () => {
    const data = Buffer.alloc(64 * 1024, 1);
    const total = 64;
    const hash = createHash("sha256");
    for (let i = 0; i < total; i++) hash.update(data);
    const body = new PassThrough();
    const decoded = decodeBody(body, auth({ mode: "sha256", sha256: hash.digest("hex") }), {});
    let seen = 0;
    const reading = (async () => {
      for await (const p of decoded.stream) seen += (p as Buffer).length;
    })();
    for (let i = 0; i < total; i++) {
      if (!body.write(data)) await new Promise((r) => body.once("drain", r));
      if (i === total / 2) {
        await new Promise((r) => setImmediate(r));
        expect(seen).toBeGreaterThan(0);
      }
    }
    body.end();
    await reading;
    expect(seen).toBe(total * data.length);
  });
});
