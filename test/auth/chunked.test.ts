/** aws-chunked decoding: AWS vectors, all three modes, random splits, bad signatures and framing, a large body. */
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, test } from "vitest";
import { AwsChunkedDecoder, type AwsChunkedDecoderOptions } from "../../src/auth/chunked.js";
import { chunkStringToSign, deriveSigningKey, EMPTY_SHA256, hmacHex, sha256Hex, trailerStringToSign } from "../../src/auth/sigv4.js";
import type { ChunkSigningContext } from "../../src/auth/types.js";
import { S3Error } from "../../src/protocol/errors.js";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const SCOPE = "20130524/us-east-1/s3/aws4_request";
const CRLF = Buffer.from("\r\n");
const DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const DOC_TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";

function ctx(seedSignature = DOC_SEED): ChunkSigningContext {
  return { signingKey: deriveSigningKey(SECRET, "20130524", "us-east-1", "s3"), amzDate: "20130524T000000Z", scope: SCOPE, seedSignature };
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(n: number, seed = 1): Buffer {
  const r = rng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

interface EncodeOptions {
  trailers?: Array<[string, string]>;
  /** Sign the trailer (signed-trailer mode). */
  signTrailer?: boolean;
  /** The AWS docs' framing: a blank line between the zero chunk and the trailers. */
  blankBeforeTrailers?: boolean;
}

function encodeSigned(data: Buffer, sizes: number[] | number, c: ChunkSigningContext, opts: EncodeOptions = {}): Buffer {
  const parts: Buffer[] = [];
  let prev = c.seedSignature;
  const sign = (chunk: Buffer) => (prev = hmacHex(c.signingKey, chunkStringToSign(c.amzDate, c.scope, prev, sha256Hex(chunk))));
  let off = 0;
  let i = 0;
  while (off < data.length) {
    const size = typeof sizes === "number" ? sizes : sizes[i++]!;
    const chunk = data.subarray(off, off + size);
    off += chunk.length;
    parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${sign(chunk)}\r\n`), chunk, CRLF);
  }
  parts.push(Buffer.from(`0;chunk-signature=${sign(Buffer.alloc(0))}\r\n`));
  if (opts.trailers) {
    if (opts.blankBeforeTrailers) parts.push(CRLF);
    let canonical = "";
    for (const [n, v] of opts.trailers) {
      parts.push(Buffer.from(`${n}:${v}\r\n`));
      canonical += `${n}:${v}\n`;
    }
    if (opts.signTrailer) {
      const sig = hmacHex(c.signingKey, trailerStringToSign(c.amzDate, c.scope, prev, sha256Hex(canonical)));
      parts.push(Buffer.from(`x-amz-trailer-signature:${sig}\r\n`));
    }
  }
  parts.push(CRLF);
  return Buffer.concat(parts);
}

function encodeUnsigned(data: Buffer, chunkSize: number, trailers: Array<[string, string]> = [], ext = ""): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += chunkSize) {
    const chunk = data.subarray(off, off + chunkSize);
    parts.push(Buffer.from(`${chunk.length.toString(16)}${ext}\r\n`), chunk, CRLF);
  }
  parts.push(Buffer.from(`0${ext}\r\n`));
  for (const [n, v] of trailers) parts.push(Buffer.from(`${n}:${v}\r\n`));
  parts.push(CRLF);
  return Buffer.concat(parts);
}

function splitEvery(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, i + n));
  return out;
}

function splitRandom(buf: Buffer, seed: number, max = 300): Buffer[] {
  const r = rng(seed);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = 1 + Math.floor(r() * max);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

async function run(pieces: Buffer[], options: AwsChunkedDecoderOptions): Promise<{ data: Buffer; trailers: Record<string, string> }> {
  const decoder = new AwsChunkedDecoder(options);
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    decoder,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return { data: Buffer.concat(out), trailers: { ...decoder.trailers } };
}

async function runErr(pieces: Buffer[], options: AwsChunkedDecoderOptions): Promise<{ err: S3Error; emitted: number }> {
  let emitted = 0;
  try {
    await pipeline(
      Readable.from(pieces),
      new AwsChunkedDecoder(options),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          emitted += chunk.length;
          cb();
        },
      }),
    );
  } catch (err) {
    if (err instanceof S3Error) return { err, emitted };
    throw err;
  }
  throw new Error("expected the pipeline to reject");
}

const DOC_DATA = Buffer.alloc(66560, "a");
const DOC_SIGNED_BODY = Buffer.concat([
  Buffer.from("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"),
  DOC_DATA.subarray(0, 65536),
  Buffer.from("\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n"),
  DOC_DATA.subarray(65536),
  Buffer.from("\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n"),
]);
const DOC_TRAILER_BODY_SDK = Buffer.concat([
  Buffer.from("10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n"),
  DOC_DATA.subarray(0, 65536),
  Buffer.from("\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n"),
  DOC_DATA.subarray(65536),
  Buffer.from(
    "\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n" +
      "x-amz-checksum-crc32c:sOO8/Q==\r\n" +
      "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n",
  ),
]);

const SIGNED: AwsChunkedDecoderOptions = { mode: "streaming-signed", signing: ctx(), decodedContentLength: 66560 };
const SIGNED_TRAILER: AwsChunkedDecoderOptions = { mode: "streaming-signed-trailer", signing: ctx(DOC_TRAILER_SEED), decodedContentLength: 66560 };
const UNSIGNED: AwsChunkedDecoderOptions = { mode: "streaming-unsigned-trailer" };

describe("AWS documentation vectors", () => {
  test("first chunk signature of the streaming example", () => {
    const c = ctx();
    const sts = chunkStringToSign(c.amzDate, c.scope, DOC_SEED, sha256Hex(Buffer.alloc(65536, "a")));
    expect(hmacHex(c.signingKey, sts)).toBe("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
    expect(encodeSigned(DOC_DATA, 65536, c).equals(DOC_SIGNED_BODY)).toBe(true);
    expect(DOC_SIGNED_BODY.length).toBe(66824);
  });

  test.each([
    ["whole", (b: Buffer) => [b]],
    ["1 byte at a time", (b: Buffer) => splitEvery(b, 1)],
    ["random slices", (b: Buffer) => splitRandom(b, 7)],
    ["7-byte slices", (b: Buffer) => splitEvery(b, 7)],
  ])("signed chunks decode (%s)", async (_name, split) => {
    const { data, trailers } = await run(split(DOC_SIGNED_BODY), SIGNED);
    expect(data.equals(DOC_DATA)).toBe(true);
    expect(trailers).toEqual({});
  });

  test.each([
    ["SDK framing", DOC_TRAILER_BODY_SDK],
    [
      "the docs' framing (blank line before the trailers)",
      Buffer.from(
        DOC_TRAILER_BODY_SDK.toString("latin1").replace("f992\r\nx-amz-checksum", "f992\r\n\r\nx-amz-checksum"),
        "latin1",
      ),
    ],
    ["no final CRLF", DOC_TRAILER_BODY_SDK.subarray(0, DOC_TRAILER_BODY_SDK.length - 2)],
  ])("signed chunks with a signed trailer decode (%s)", async (_name, body) => {
    for (const pieces of [[body], splitEvery(body, 1), splitRandom(body, 3)]) {
      const { data, trailers } = await run(pieces, SIGNED_TRAILER);
      expect(data.equals(DOC_DATA)).toBe(true);
      expect(trailers).toEqual({ "x-amz-checksum-crc32c": "sOO8/Q==" });
    }
  });

  test("a tampered trailer value or trailer signature → 403 SignatureDoesNotMatch", async () => {
    const text = DOC_TRAILER_BODY_SDK.toString("latin1");
    for (const bad of [text.replace("sOO8/Q==", "sOO8/A=="), text.replace("e435\r\n", "e436\r\n"), text.replace("x-amz-checksum-crc32c", "x-amz-checksum-crc32")]) {
      const { err } = await runErr([Buffer.from(bad, "latin1")], SIGNED_TRAILER);
      expect([err.code, err.status]).toEqual(["SignatureDoesNotMatch", 403]);
    }
  });
});

describe("signed chunks", () => {
  const data = randomBytes(100_000, 5);
  const c = ctx("f".repeat(64));
  const opts = { mode: "streaming-signed" as const, signing: c };

  test("round trip with chunk sizes 8192 … and a short last chunk, any split", async () => {
    const body = encodeSigned(data, 8192, c);
    for (const pieces of [[body], splitEvery(body, 1), splitRandom(body, 11, 20_000), splitRandom(body, 12, 5)]) {
      expect((await run(pieces, { ...opts, decodedContentLength: data.length })).data.equals(data)).toBe(true);
    }
  });

  test("an empty body is just the zero chunk", async () => {
    const body = encodeSigned(Buffer.alloc(0), 8192, c);
    expect((await run([body], { ...opts, decodedContentLength: 0 })).data.length).toBe(0);
  });

  test("a flipped data byte → 403 SignatureDoesNotMatch; the bad chunk is not emitted when read whole", async () => {
    const body = encodeSigned(data, 16_384, c);
    const bad = Buffer.from(body);
    const secondChunkData = body.indexOf("\r\n", body.indexOf("\r\n") + 2 + 16_384) + 2;
    const pos = body.indexOf("\r\n", secondChunkData) + 2 + 100;
    bad[pos] = bad[pos]! ^ 1;
    const { err, emitted } = await runErr([bad], opts);
    expect([err.code, err.status]).toEqual(["SignatureDoesNotMatch", 403]);
    expect(err.options.extras!.StringToSign!.startsWith("AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n")).toBe(true);
    expect(emitted).toBe(16_384);
    expect((await runErr(splitEvery(bad, 1), opts)).err.code).toBe("SignatureDoesNotMatch");
  });

  test("wrong seed, swapped chunks, bad final-chunk signature, missing chunk-signature", async () => {
    const body = encodeSigned(data, 50_000, c);
    expect((await runErr([body], { ...opts, signing: ctx("e".repeat(64)) })).err.code).toBe("SignatureDoesNotMatch");
    const text = body.toString("latin1");
    const finalSig = /0;chunk-signature=([0-9a-f]{64})\r\n\r\n$/.exec(text)![1]!;
    expect((await runErr([Buffer.from(text.replace(finalSig, "0".repeat(64)), "latin1")], opts)).err.code).toBe("SignatureDoesNotMatch");
    const noSig = text.replace(/^c350;chunk-signature=[0-9a-f]{64}/, "c350");
    expect((await runErr([Buffer.from(noSig, "latin1")], opts)).err.code).toBe("SignatureDoesNotMatch");
    const equalChunks = Buffer.alloc(20_000, 1);
    const eb = encodeSigned(equalChunks, 10_000, c).toString("latin1");
    const [h1, h2] = [...eb.matchAll(/2710;chunk-signature=[0-9a-f]{64}/g)].map((m) => m[0]);
    const swapped = eb.replace(h1!, "X").replace(h2!, h1!).replace("X", h2!);
    expect((await runErr([Buffer.from(swapped, "latin1")], opts)).err.code).toBe("SignatureDoesNotMatch");
  });

  test("a non-final chunk under 8192 bytes → 403 InvalidChunkSizeError; the last may be small", async () => {
    const body = encodeSigned(data.subarray(0, 20_000), [8191, 8192, 3617], c);
    const { err } = await runErr([body], opts);
    expect([err.code, err.status]).toEqual(["InvalidChunkSizeError", 403]);
    expect(err.options.extras).toEqual({ Chunk: "1", BadChunkSize: "8191" });
    expect((await run([encodeSigned(data.subarray(0, 100), 8192, c)], opts)).data.length).toBe(100);
  });

  test("trailers are refused in plain STREAMING-AWS4-HMAC-SHA256-PAYLOAD", async () => {
    const body = encodeSigned(data, 65536, c, { trailers: [["x-amz-checksum-crc32", "AAAAAA=="]] });
    const { err } = await runErr([body], opts);
    expect(err.code).toBe("InvalidRequest");
  });

  test("extra CRLFs after the end are tolerated, a missing final CRLF too, other data is not", async () => {
    const body = encodeSigned(data, 65536, c);
    expect((await run([body, Buffer.from("\r\n\r\n")], opts)).data.equals(data)).toBe(true);
    expect((await run([body.subarray(0, body.length - 2)], opts)).data.equals(data)).toBe(true);
    expect((await runErr([body, Buffer.from("x")], opts)).err.code).toBe("InvalidRequest");
  });
});

describe("signed chunks with signed trailer", () => {
  const data = randomBytes(40_000, 9);
  const c = ctx("1".repeat(64));
  const opts = { mode: "streaming-signed-trailer" as const, signing: c, decodedContentLength: data.length };
  const trailers: Array<[string, string]> = [["x-amz-checksum-crc32", "abcd=="], ["x-amz-checksum-sha256", "zzz="]];

  test("round trip with two trailers, any split", async () => {
    const body = encodeSigned(data, 9000, c, { trailers, signTrailer: true });
    for (const pieces of [[body], splitEvery(body, 1), splitRandom(body, 2, 50)]) {
      const out = await run(pieces, opts);
      expect(out.data.equals(data)).toBe(true);
      expect(out.trailers).toEqual({ "x-amz-checksum-crc32": "abcd==", "x-amz-checksum-sha256": "zzz=" });
    }
  });

  test("missing trailer signature: at a blank line → 403, at EOF → 400 IncompleteBody", async () => {
    const body = encodeSigned(data, 9000, c, { trailers });
    expect((await runErr([body], opts)).err.code).toBe("SignatureDoesNotMatch");
    expect((await runErr([body.subarray(0, body.length - 2)], opts)).err.code).toBe("IncompleteBody");
  });

  test("a trailer after the signature is refused", async () => {
    const body = encodeSigned(data, 9000, c, { trailers, signTrailer: true });
    const extra = Buffer.concat([body.subarray(0, body.length - 2), Buffer.from("x-late:1\r\n\r\n")]);
    expect((await runErr([extra], opts)).err.code).toBe("InvalidRequest");
  });
});

describe("unsigned chunks with trailer", () => {
  const data = randomBytes(30_000, 4);
  const trailers: Array<[string, string]> = [["x-amz-checksum-crc32", "DUoRhQ=="]];

  test("round trip; small chunks are fine; any split", async () => {
    const body = encodeUnsigned(data, 1000, trailers);
    for (const pieces of [[body], splitEvery(body, 1), splitRandom(body, 8, 40)]) {
      const out = await run(pieces, { ...UNSIGNED, decodedContentLength: data.length });
      expect(out.data.equals(data)).toBe(true);
      expect(out.trailers).toEqual({ "x-amz-checksum-crc32": "DUoRhQ==" });
    }
  });

  test("the captured boto3/JS wire format", async () => {
    const out = await run([Buffer.from("b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n")], UNSIGNED);
    expect(out.data.toString()).toBe("hello world");
    expect(out.trailers).toEqual({ "x-amz-checksum-crc32": "DUoRhQ==" });
  });

  test("chunk extensions are ignored, upper-case hex accepted, names lower-cased, values trimmed", async () => {
    const body = encodeUnsigned(data, 0x2000, [["X-Amz-Checksum-CRC32", "  DUoRhQ== "]], ";foo=bar;chunk-signature=zz");
    const out = await run([body], UNSIGNED);
    expect(out.data.equals(data)).toBe(true);
    expect(out.trailers).toEqual({ "x-amz-checksum-crc32": "DUoRhQ==" });
    expect((await run([Buffer.from("A\r\n0123456789\r\n0\r\n\r\n")], UNSIGNED)).data.toString()).toBe("0123456789");
  });

  test("tolerates a missing final CRLF, even a cut trailer CRLF, and no trailers at all", async () => {
    for (const text of [
      "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n",
      "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r",
      "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==",
    ]) {
      const out = await run(splitEvery(Buffer.from(text), 1), UNSIGNED);
      expect([out.data.toString(), out.trailers["x-amz-checksum-crc32"]]).toEqual(["hello", "AAAAAA=="]);
    }
    for (const text of ["5\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n0\r\n", "0\r\n\r\n"]) {
      const out = await run([Buffer.from(text)], UNSIGNED);
      expect(out.trailers).toEqual({});
    }
  });

  test("x-amz-trailer-signature in an unsigned body is refused", async () => {
    const { err } = await runErr([Buffer.from("0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:" + "0".repeat(64) + "\r\n\r\n")], UNSIGNED);
    expect(err.code).toBe("InvalidRequest");
  });

  test("trailer names like __proto__ are stored as plain data", async () => {
    const out = await run([Buffer.from("0\r\n__proto__:x\r\nconstructor:y\r\n\r\n")], UNSIGNED);
    expect(Object.keys(out.trailers).sort()).toEqual(["__proto__", "constructor"]);
    expect(out.trailers.constructor).toBe("y");
  });
});

describe("framing errors", () => {
  test.each([
    ["non-hex size", "zz\r\nhello\r\n0\r\n\r\n", "InvalidRequest"],
    ["empty size line", "\r\n", "InvalidRequest"],
    ["negative size", "-5\r\nhello\r\n0\r\n\r\n", "InvalidRequest"],
    ["size too large", "fffffffffffffff\r\n", "InvalidRequest"],
    ["missing CRLF after data", "5\r\nhelloX\r\n0\r\n\r\n", "InvalidRequest"],
    ["CR only after data", "5\r\nhello\rX0\r\n\r\n", "InvalidRequest"],
    ["bare LF line ending", "5\nhello\r\n0\r\n\r\n", "InvalidRequest"],
    ["trailer without a colon", "0\r\nbogus\r\n\r\n", "InvalidRequest"],
    ["trailer with an empty name", "0\r\n:v\r\n\r\n", "InvalidRequest"],
    ["premature EOF in data", "5\r\nhel", "IncompleteBody"],
    ["premature EOF after data", "5\r\nhello", "IncompleteBody"],
    ["premature EOF in a size line", "5\r\nhello\r\n1", "IncompleteBody"],
    ["no zero chunk", "5\r\nhello\r\n", "IncompleteBody"],
    ["empty body", "", "IncompleteBody"],
  ])("%s → %s", async (_name, text, code) => {
    for (const pieces of [[Buffer.from(text)], splitEvery(Buffer.from(text), 1)]) {
      const { err } = await runErr(pieces, UNSIGNED);
      expect(err.code).toBe(code);
      expect(err.status).toBe(400);
    }
  });

  test("header and trailer lines are limited to 4 KiB", async () => {
    const long = "1;" + "x".repeat(5000) + "\r\nA\r\n0\r\n\r\n";
    expect((await runErr(splitRandom(Buffer.from(long), 1, 100), UNSIGNED)).err.code).toBe("InvalidRequest");
    const longTrailer = "0\r\nx-amz-meta:" + "v".repeat(5000) + "\r\n\r\n";
    expect((await runErr([Buffer.from(longTrailer)], UNSIGNED)).err.code).toBe("InvalidRequest");
    const endless = [Buffer.from("1;"), ...Array.from({ length: 100 }, () => Buffer.alloc(1000, 0x61))];
    expect((await runErr(endless, UNSIGNED)).err.code).toBe("InvalidRequest");
    const okLine = "1;" + "x".repeat(4000) + "\r\nA\r\n0\r\n\r\n";
    expect((await run([Buffer.from(okLine)], UNSIGNED)).data.toString()).toBe("A");
  });

  test("x-amz-decoded-content-length must match: short → IncompleteBody at the end, long → as soon as known", async () => {
    const body = Buffer.from("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n");
    expect((await run([body], { ...UNSIGNED, decodedContentLength: 10 })).data.toString()).toBe("helloworld");
    const short = await runErr([body], { ...UNSIGNED, decodedContentLength: 11 });
    expect([short.err.code, short.err.status]).toEqual(["IncompleteBody", 400]);
    const long = await runErr([body], { ...UNSIGNED, decodedContentLength: 7 });
    expect(long.err.code).toBe("IncompleteBody");
    expect(long.emitted).toBe(5);
  });

  test("signed modes need a signing context", () => {
    expect(() => new AwsChunkedDecoder({ mode: "streaming-signed" })).toThrow(TypeError);
  });
});

describe("large bodies stay streaming", () => {
  async function stream(
    mode: "signed" | "unsigned",
    totalBytes: number,
    chunkSize: number,
  ): Promise<{ bytes: number; maxLag: number; ms: number }> {
    const data = Buffer.alloc(chunkSize, 0x5a);
    const dataHash = sha256Hex(data);
    const c = ctx("2".repeat(64));
    let produced = 0;
    let consumed = 0;
    let maxLag = 0;
    function* source(): Generator<Buffer> {
      let prev = c.seedSignature;
      const header = (hash: string, size: number) => {
        if (mode === "unsigned") return Buffer.from(`${size.toString(16)}\r\n`);
        prev = hmacHex(c.signingKey, chunkStringToSign(c.amzDate, c.scope, prev, hash));
        return Buffer.from(`${size.toString(16)};chunk-signature=${prev}\r\n`);
      };
      for (let sent = 0; sent < totalBytes; sent += chunkSize) {
        maxLag = Math.max(maxLag, produced - consumed);
        yield header(dataHash, chunkSize);
        yield data;
        produced += chunkSize;
        yield CRLF;
      }
      yield header(EMPTY_SHA256, 0);
      yield mode === "unsigned" ? Buffer.from("x-amz-checksum-crc32:AAAAAA==\r\n\r\n") : CRLF;
    }
    const start = performance.now();
    await pipeline(
      Readable.from(source(), { objectMode: false, highWaterMark: 64 * 1024 }),
      new AwsChunkedDecoder(
        mode === "signed"
          ? { mode: "streaming-signed", signing: c, decodedContentLength: totalBytes }
          : { mode: "streaming-unsigned-trailer", decodedContentLength: totalBytes },
      ),
      new Writable({
        highWaterMark: 64 * 1024,
        write(chunk: Buffer, _enc, cb) {
          consumed += chunk.length;
          cb();
        },
      }),
    );
    return { bytes: consumed, maxLag, ms: performance.now() - start };
  }

  // Throughput here is dominated by SHA-256 in the signed mode; unsigned data is passed on as slices.
  test("1 GiB unsigned-trailer body in 64 KiB chunks", { timeout: 120_000 }, async () => {
    const r = await stream("unsigned", 1024 * 1024 * 1024, 64 * 1024);
    expect(r.bytes).toBe(1024 * 1024 * 1024);
    expect(r.maxLag).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  test("1 GiB signed body in 64 KiB chunks", { timeout: 120_000 }, async () => {
    const r = await stream("signed", 1024 * 1024 * 1024, 64 * 1024);
    expect(r.bytes).toBe(1024 * 1024 * 1024);
    expect(r.maxLag).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});
