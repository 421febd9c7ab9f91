// Tests for src/protocol/checksums.ts: check values, streaming equivalence, header rules, Digester.
import { createHash, randomBytes } from "node:crypto";
import { PassThrough, Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  compositeChecksum,
  computeChecksum,
  createChecksum,
  createTableCrc32,
  Digester,
  type IntegrityRequest,
  parseIntegrityHeaders,
} from "../../src/protocol/checksums.js";
import { S3Error } from "../../src/protocol/errors.js";
import { waitFor } from "../helpers/wait.js";

const CHECK = Buffer.from("123456789");
const b64 = (alg: ChecksumAlgorithm, data: Buffer | string): string =>
  computeChecksum(alg, Buffer.from(data)).toString("base64");

function expectS3(fn: () => unknown, code: string, message?: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(S3Error);
  const e = caught as S3Error;
  expect(e.code).toBe(code);
  if (message !== undefined) expect(e.message).toMatch(message);
}

describe("check values", () => {
  it("matches the catalogue check values for '123456789'", () => {
    expect(computeChecksum("CRC32", CHECK).toString("hex")).toBe("cbf43926");
    expect(computeChecksum("CRC32C", CHECK).toString("hex")).toBe("e3069283");
    expect(computeChecksum("CRC64NVME", CHECK).toString("hex")).toBe("ae8b14860a799888");
    expect(computeChecksum("SHA1", CHECK).toString("hex")).toBe("f7c3bc1d808e04732adf679965ccc34ca7ae3441");
    expect(computeChecksum("SHA256", CHECK).toString("hex")).toBe(
      "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
    );
    expect(createTableCrc32Digest(CHECK).toString("hex")).toBe("cbf43926");
  });

  it("CRC32 of 'Hello world' is i9aeUg== (AWS docs example)", () => {
    expect(b64("CRC32", "Hello world")).toBe("i9aeUg==");
  });

  it("empty input", () => {
    expect(computeChecksum("CRC32", Buffer.alloc(0)).toString("hex")).toBe("00000000");
    expect(computeChecksum("CRC32C", Buffer.alloc(0)).toString("hex")).toBe("00000000");
    expect(computeChecksum("CRC64NVME", Buffer.alloc(0)).toString("hex")).toBe("0000000000000000");
  });

  it("CRC32C / CRC64NVME of 32 zero bytes (RFC 3720 B.4 and bit-wise reference)", () => {
    expect(computeChecksum("CRC32C", Buffer.alloc(32)).toString("hex")).toBe("8a9136aa");
    expect(computeChecksum("CRC32C", Buffer.alloc(32, 0xff)).toString("hex")).toBe("62a8ab43");
    expect(computeChecksum("CRC64NVME", Buffer.alloc(32)).toString("hex")).toBe(bitwiseCrc64(Buffer.alloc(32)));
  });

  it("table CRCs equal bit-wise references on random data of many lengths and offsets", () => {
    const data = randomBytes(4096);
    for (let len = 0; len < 300; len += 7) {
      for (const off of [0, 1, 2, 3, 5]) {
        const slice = data.subarray(off, off + len);
        expect(computeChecksum("CRC32C", slice).toString("hex")).toBe(bitwiseCrc32(slice, 0x82f63b78));
        expect(computeChecksum("CRC64NVME", slice).toString("hex")).toBe(bitwiseCrc64(slice));
        expect(createTableCrc32Digest(slice).toString("hex")).toBe(bitwiseCrc32(slice, 0xedb88320));
      }
    }
  });
});

function createTableCrc32Digest(buf: Buffer): Buffer {
  const c = createTableCrc32();
  c.update(buf);
  return c.digest();
}

function bitwiseCrc32(buf: Buffer, poly: number): string {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
  }
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}

function bitwiseCrc64(buf: Buffer): string {
  const poly = 0x9a6c9329ac4bc9b5n;
  let c = 0xffffffffffffffffn;
  for (const b of buf) {
    c ^= BigInt(b);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
  }
  return (c ^ 0xffffffffffffffffn).toString(16).padStart(16, "0");
}

describe("streaming", () => {
  it("random split points give the one-shot digest for every algorithm", () => {
    const data = randomBytes(200_000);
    for (const alg of CHECKSUM_ALGORITHMS) {
      const oneShot = computeChecksum(alg, data).toString("hex");
      for (let trial = 0; trial < 5; trial++) {
        const c = createChecksum(alg);
        let pos = 0;
        while (pos < data.length) {
          const n = Math.min(data.length - pos, Math.floor(Math.random() * (trial % 2 ? 100 : 20_000)));
          c.update(data.subarray(pos, pos + n));
          pos += n;
        }
        expect(c.digest().toString("hex"), alg).toBe(oneShot);
      }
    }
  });

  it("compositeChecksum is checksum-of-part-checksums with -N", () => {
    const parts = [randomBytes(1000), randomBytes(10), randomBytes(0)];
    const digests = parts.map((p) => computeChecksum("CRC32C", p));
    const expected = computeChecksum("CRC32C", Buffer.concat(digests)).toString("base64");
    expect(compositeChecksum("CRC32C", digests)).toBe(`${expected}-3`);
    expect(compositeChecksum("SHA256", [computeChecksum("SHA256", parts[0]!)])).toMatch(/^[A-Za-z0-9+/]{43}=-1$/);
  });

  it("64 MiB in 64 KiB chunks gives the one-shot digest for every algorithm and the JS CRC32 fallback (prints throughput)", () => {
    const buf = randomBytes(64 << 20);
    const lines: string[] = [];
    for (const alg of CHECKSUM_ALGORITHMS) {
      const oneShot = computeChecksum(alg, buf).toString("hex");
      let best = Infinity;
      for (let r = 0; r < 2; r++) {
        const c = createChecksum(alg);
        const t0 = performance.now();
        for (let o = 0; o < buf.length; o += 64 << 10) c.update(buf.subarray(o, o + (64 << 10)));
        expect(c.digest().toString("hex"), alg).toBe(oneShot);
        best = Math.min(best, performance.now() - t0);
      }
      lines.push(`${alg}: ${(buf.length / 1e6 / (best / 1000)).toFixed(0)} MB/s`);
    }
    const t = createTableCrc32();
    const t0 = performance.now();
    for (let o = 0; o < buf.length; o += 64 << 10) t.update(buf.subarray(o, o + (64 << 10)));
    expect(t.digest().toString("hex"), "JS table CRC32").toBe(computeChecksum("CRC32", buf).toString("hex"));
    lines.push(`CRC32 (JS table fallback): ${(buf.length / 1e6 / ((performance.now() - t0) / 1000)).toFixed(0)} MB/s`);
    console.log(`checksum throughput, 64 MiB in 64 KiB chunks:\n  ${lines.join("\n  ")}`);
  }, 60_000);
});

describe("parseIntegrityHeaders", () => {
  const md5 = createHash("md5").update("x").digest("base64");

  it("accepts no headers", () => {
    expect(parseIntegrityHeaders({})).toEqual({});
  });

  it("parses Content-MD5, a checksum header, and ignores mode/type/algorithm", () => {
    const crc = b64("CRC32", "x");
    const r = parseIntegrityHeaders({
      "Content-MD5": md5,
      "x-amz-checksum-crc32": crc,
      "x-amz-checksum-mode": "ENABLED",
      "x-amz-checksum-type": "FULL_OBJECT",
      "x-amz-checksum-algorithm": "CRC32",
      "x-amz-sdk-checksum-algorithm": "crc32",
      "x-amz-meta-foo": undefined,
    });
    expect(r).toEqual({ contentMd5: md5, checksum: { algorithm: "CRC32", value: crc } });
  });

  it("parses every algorithm's header", () => {
    for (const alg of CHECKSUM_ALGORITHMS) {
      const v = b64(alg, "abc");
      expect(parseIntegrityHeaders({ [`x-amz-checksum-${alg.toLowerCase()}`]: v }).checksum).toEqual({ algorithm: alg, value: v });
    }
  });

  it("parses a trailer", () => {
    const r = parseIntegrityHeaders({ "x-amz-trailer": "X-Amz-Checksum-CRC64NVME", "x-amz-sdk-checksum-algorithm": "CRC64NVME" });
    expect(r).toEqual({ checksum: { algorithm: "CRC64NVME" }, trailerName: "x-amz-checksum-crc64nvme" });
  });

  it("Content-MD5 not base64 of 16 bytes → InvalidDigest", () => {
    for (const bad of ["", "nope", "AAAA", Buffer.alloc(15).toString("base64"), Buffer.alloc(17).toString("base64"), md5.replace("=", "")]) {
      expectS3(() => parseIntegrityHeaders({ "content-md5": bad }), "InvalidDigest");
    }
  });

  it("malformed checksum value → InvalidRequest naming the header", () => {
    for (const bad of ["", "!!!!!!==", "AAAAAAAA", "AAAA", b64("SHA1", "x")]) {
      expectS3(
        () => parseIntegrityHeaders({ "x-amz-checksum-crc32": bad }),
        "InvalidRequest",
        "Value for x-amz-checksum-crc32 header is invalid.",
      );
    }
    expectS3(
      () => parseIntegrityHeaders({ "x-amz-checksum-crc64nvme": b64("CRC32", "x") }),
      "InvalidRequest",
      "Value for x-amz-checksum-crc64nvme header is invalid.",
    );
  });

  it("two checksum headers → InvalidRequest", () => {
    expectS3(
      () => parseIntegrityHeaders({ "x-amz-checksum-crc32": b64("CRC32", "x"), "x-amz-checksum-sha256": b64("SHA256", "x") }),
      "InvalidRequest",
    );
  });

  it("header plus trailer → InvalidRequest", () => {
    expectS3(
      () => parseIntegrityHeaders({ "x-amz-checksum-crc32": b64("CRC32", "x"), "x-amz-trailer": "x-amz-checksum-crc32" }),
      "InvalidRequest",
    );
  });

  it("unknown trailer → InvalidRequest", () => {
    expectS3(() => parseIntegrityHeaders({ "x-amz-trailer": "x-amz-checksum-md5" }), "InvalidRequest");
    expectS3(() => parseIntegrityHeaders({ "x-amz-trailer": "x-foo" }), "InvalidRequest");
    expectS3(() => parseIntegrityHeaders({ "x-amz-trailer": "x-amz-checksum-crc32, x-amz-checksum-crc32c" }), "InvalidRequest");
  });

  it("sdk-checksum-algorithm without header/trailer, or mismatched → InvalidRequest", () => {
    expectS3(() => parseIntegrityHeaders({ "x-amz-sdk-checksum-algorithm": "CRC32" }), "InvalidRequest");
    expectS3(
      () => parseIntegrityHeaders({ "x-amz-sdk-checksum-algorithm": "CRC32C", "x-amz-checksum-crc32": b64("CRC32", "x") }),
      "InvalidRequest",
    );
    expectS3(
      () => parseIntegrityHeaders({ "x-amz-sdk-checksum-algorithm": "SHA1", "x-amz-trailer": "x-amz-checksum-sha256" }),
      "InvalidRequest",
    );
  });

  it("unknown algorithm names → InvalidRequest", () => {
    expectS3(() => parseIntegrityHeaders({ "x-amz-checksum-md5": md5 }), "InvalidRequest", /unsupported/);
    expectS3(
      () => parseIntegrityHeaders({ "x-amz-sdk-checksum-algorithm": "XXH3", "x-amz-checksum-crc32": b64("CRC32", "x") }),
      "InvalidRequest",
      /unsupported/,
    );
  });
});

async function runDigester(d: Digester, data: Buffer, chunk = 1000): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) parts.push(data.subarray(i, i + chunk));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(parts),
    d,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

async function expectReject(p: Promise<unknown>, code: string, message?: string | RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(S3Error);
  expect((err as S3Error).code).toBe(code);
  if (message !== undefined) expect((err as S3Error).message).toMatch(message);
}

describe("Digester", () => {
  const data = randomBytes(10_000);
  const md5b64 = createHash("md5").update(data).digest("base64");

  it("passes bytes through and reports size, md5, checksum", async () => {
    const req: IntegrityRequest = { contentMd5: md5b64, checksum: { algorithm: "CRC32C", value: b64("CRC32C", data) } };
    const d = new Digester(req);
    const out = await runDigester(d, data, 777);
    expect(out.equals(data)).toBe(true);
    expect(d.size).toBe(data.length);
    expect(d.md5Hex).toBe(createHash("md5").update(data).digest("hex"));
    expect(d.checksum).toEqual({ algorithm: "CRC32C", value: b64("CRC32C", data) });
  });

  it("no algorithm → checksum undefined; defaultAlgorithm → computed", async () => {
    const d = new Digester({});
    await runDigester(d, data);
    expect(d.checksum).toBeUndefined();
    const d2 = new Digester({}, undefined, { defaultAlgorithm: "CRC64NVME" });
    await runDigester(d2, data);
    expect(d2.checksum).toEqual({ algorithm: "CRC64NVME", value: b64("CRC64NVME", data) });
  });

  it("accessors throw before the body is finished", () => {
    const d = new Digester({});
    expect(() => d.md5Hex).toThrow();
  });

  it("Content-MD5 mismatch → BadDigest", async () => {
    const wrong = createHash("md5").update("other").digest("base64");
    await expectReject(runDigester(new Digester({ contentMd5: wrong }), data), "BadDigest", "The Content-MD5 you specified did not match what was received.");
  });

  it("checksum header mismatch → BadDigest naming the algorithm", async () => {
    for (const alg of CHECKSUM_ALGORITHMS) {
      const req = parseIntegrityHeaders({ [`x-amz-checksum-${alg.toLowerCase()}`]: b64(alg, "other") });
      await expectReject(runDigester(new Digester(req), data), "BadDigest", `The ${alg} you specified did not match the calculated checksum.`);
    }
  });

  it("trailer checksum: match, mismatch, absent, malformed", async () => {
    const req = parseIntegrityHeaders({ "x-amz-trailer": "x-amz-checksum-crc32" });
    const good = b64("CRC32", data);

    const ok = new Digester(req, () => ({ "X-Amz-Checksum-Crc32": good }));
    await runDigester(ok, data);
    expect(ok.checksum).toEqual({ algorithm: "CRC32", value: good });

    await expectReject(runDigester(new Digester(req, () => ({ "x-amz-checksum-crc32": b64("CRC32", "x") })), data), "BadDigest", /CRC32/);
    await expectReject(runDigester(new Digester(req, () => ({})), data), "InvalidRequest");
    await expectReject(runDigester(new Digester(req), data), "InvalidRequest");
    await expectReject(runDigester(new Digester(req, () => ({ "x-amz-checksum-crc32": "garbage" })), data), "InvalidRequest", /invalid/);
  });

  it("trailers are read at flush time, not construction time", async () => {
    const req = parseIntegrityHeaders({ "x-amz-trailer": "x-amz-checksum-sha256" });
    const trailers: Record<string, string> = {};
    const src = new PassThrough();
    const d = new Digester(req, () => trailers);
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const done = pipeline(src, d, sink);
    src.write(data);
    trailers["x-amz-checksum-sha256"] = b64("SHA256", data);
    src.end();
    await done;
    expect(d.checksum?.value).toBe(trailers["x-amz-checksum-sha256"]);
  });

  it("hands a body's chunks on as they came: a reader that falls behind gets the same buffers, not copies merged into larger ones", async () => {
    const chunks = Array.from({ length: 32 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const source = Readable.from(chunks, { objectMode: false });
    const d = new Digester({});
    source.pipe(d);
    // the reader starts late: the source has filled what the digester buffers and waits for it
    await waitFor(() => d.readableLength > 0 && (source.isPaused() || source.readableEnded), { message: "the digester's buffer to fill" });
    const seen: Buffer[] = [];
    for await (const c of d) seen.push(c as Buffer);
    expect(seen.length).toBe(chunks.length);
    seen.forEach((c, i) => expect(c.buffer === chunks[i]!.buffer && c.byteOffset === chunks[i]!.byteOffset && c.length === chunks[i]!.length).toBe(true));
    expect(d.md5Hex).toBe(createHash("md5").update(Buffer.concat(chunks)).digest("hex"));
  });

  it("empty body", async () => {
    const d = new Digester({ checksum: { algorithm: "CRC32", value: "AAAAAA==" } });
    await runDigester(d, Buffer.alloc(0));
    expect(d.size).toBe(0);
    expect(d.md5Hex).toBe("d41d8cd98f00b204e9800998ecf8427e");
  });
});
