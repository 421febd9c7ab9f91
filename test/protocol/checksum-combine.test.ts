// Tests for src/protocol/checksum-combine.ts: combining part CRCs (FULL_OBJECT multipart checksums)
// must equal the CRC of the concatenated bytes, as computed by computeChecksum.
import { randomBytes, randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { combineCrcs, isCombinable } from "../../src/protocol/checksum-combine.js";
import { CHECKSUM_ALGORITHMS, computeChecksum } from "../../src/protocol/checksums.js";

const ALGS = ["CRC32", "CRC32C", "CRC64NVME"] as const;
type Alg = (typeof ALGS)[number];
const DIGEST_BYTES: Record<Alg, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8 };

/** Splits `buf` at `count - 1` random cut points (duplicates allowed, so pieces may be empty). */
function randomSplit(buf: Buffer, count: number): Buffer[] {
  const cuts = Array.from({ length: count - 1 }, () => randomInt(buf.length + 1)).sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, buf.length]) {
    pieces.push(buf.subarray(start, cut));
    start = cut;
  }
  return pieces;
}

function combinePieces(alg: Alg, pieces: readonly Buffer[]): Buffer {
  return combineCrcs(
    alg,
    pieces.map((p) => ({ digest: computeChecksum(alg, p), length: p.length })),
  );
}

describe("isCombinable", () => {
  it("is true exactly for the CRCs", () => {
    const combinable = CHECKSUM_ALGORITHMS.filter(isCombinable);
    expect(combinable).toEqual(["CRC32", "CRC32C", "CRC64NVME"]);
  });
});

describe.each(ALGS)("combineCrcs %s", (alg) => {
  const reference = (buf: Buffer): string => computeChecksum(alg, buf).toString("hex");

  it("zero parts give the CRC of empty input (all zeros)", () => {
    const out = combineCrcs(alg, []);
    expect(out.toString("hex")).toBe("00".repeat(DIGEST_BYTES[alg]));
    expect(out.toString("hex")).toBe(reference(Buffer.alloc(0)));
  });

  it("a single part is returned unchanged", () => {
    const buf = randomBytes(1000);
    expect(combinePieces(alg, [buf]).toString("hex")).toBe(reference(buf));
  });

  it("empty parts anywhere change nothing", () => {
    const a = randomBytes(37);
    const b = randomBytes(5);
    const e = Buffer.alloc(0);
    const expected = reference(Buffer.concat([a, b]));
    expect(combinePieces(alg, [e, a, e, e, b, e]).toString("hex")).toBe(expected);
    expect(combinePieces(alg, [e, e, e]).toString("hex")).toBe(reference(e));
  });

  it("single-byte pieces", () => {
    const buf = randomBytes(64);
    const pieces = [...buf].map((byte) => Buffer.from([byte]));
    expect(combinePieces(alg, pieces).toString("hex")).toBe(reference(buf));
  });

  it.each([1, 2, 3, 50])("random buffers split into %i parts at random points", (count) => {
    for (let trial = 0; trial < 40; trial++) {
      // Mostly small buffers (many empty / tiny pieces), sometimes larger ones.
      const size = trial % 4 === 0 ? randomInt(10_000, 200_000) : randomInt(0, 300);
      const buf = randomBytes(size);
      const pieces = randomSplit(buf, count);
      expect(pieces).toHaveLength(count);
      expect(Buffer.concat(pieces).equals(buf)).toBe(true);
      expect(combinePieces(alg, pieces).toString("hex"), `size ${size}, cuts ${pieces.map((p) => p.length)}`).toBe(
        reference(buf),
      );
    }
  });

  it("parts of equal size (the usual multipart shape) with a short last part", () => {
    const buf = randomBytes(10 * 4096 + 123);
    const pieces: Buffer[] = [];
    for (let i = 0; i < buf.length; i += 4096) pieces.push(buf.subarray(i, i + 4096));
    expect(combinePieces(alg, pieces).toString("hex")).toBe(reference(buf));
  });

  it("lengths beyond 2^32 bits and bytes: combining is associative", () => {
    // Reference CRCs of multi-GiB inputs are too slow for a unit test, but x^(8·len) must compose:
    // A·x^(8(m+n)) ⊕ B·x^(8n) ⊕ C = (A·x^(8m) ⊕ B)·x^(8n) ⊕ C. Together with the byte-exact tests
    // above, this catches arithmetic on lengths that only breaks above 2^29 or 2^32 bytes.
    const digest = (): Buffer => computeChecksum(alg, randomBytes(16));
    for (let trial = 0; trial < 20; trial++) {
      const [a, b, c] = [digest(), digest(), digest()];
      const [la, lb, lc] = [randomInt(2 ** 40), randomInt(2 ** 33, 2 ** 40), randomInt(2 ** 29, 2 ** 34)];
      const all = combineCrcs(alg, [
        { digest: a, length: la },
        { digest: b, length: lb },
        { digest: c, length: lc },
      ]);
      const ab = combineCrcs(alg, [
        { digest: a, length: la },
        { digest: b, length: lb },
      ]);
      const bc = combineCrcs(alg, [
        { digest: b, length: lb },
        { digest: c, length: lc },
      ]);
      expect(combineCrcs(alg, [{ digest: ab, length: la + lb }, { digest: c, length: lc }])).toEqual(all);
      expect(combineCrcs(alg, [{ digest: a, length: la }, { digest: bc, length: lb + lc }])).toEqual(all);
    }
  });

  it("the catalogue check value for '123456789' from pieces", () => {
    const check = { CRC32: "cbf43926", CRC32C: "e3069283", CRC64NVME: "ae8b14860a799888" }[alg];
    const text = Buffer.from("123456789");
    expect(combinePieces(alg, [text.subarray(0, 4), text.subarray(4)]).toString("hex")).toBe(check);
    expect(combinePieces(alg, [text.subarray(0, 1), text.subarray(1, 9)]).toString("hex")).toBe(check);
    expect(combinePieces(alg, randomSplit(text, 5)).toString("hex")).toBe(check);
  });

  it("10000 parts claiming 5 GiB each return a digest of the right length", () => {
    const fiveGiB = 5 * 1024 ** 3;
    const parts = Array.from({ length: 10_000 }, (_, i) => ({
      digest: computeChecksum(alg, Buffer.from(`part ${i}`)),
      // Mostly the maximum size, with some distinct lengths so the x^(8·len) cache is not all hits.
      length: i % 10 === 0 ? fiveGiB - i : fiveGiB,
    }));
    const out = combineCrcs(alg, parts);
    expect(out).toBeInstanceOf(Buffer);
    expect(out).toHaveLength(DIGEST_BYTES[alg]);
  });

  it("rejects a digest of the wrong size and a bad length", () => {
    expect(() => combineCrcs(alg, [{ digest: Buffer.alloc(DIGEST_BYTES[alg] + 1), length: 1 }])).toThrow(RangeError);
    expect(() => combineCrcs(alg, [{ digest: Buffer.alloc(DIGEST_BYTES[alg]), length: -1 }])).toThrow(RangeError);
    expect(() => combineCrcs(alg, [{ digest: Buffer.alloc(DIGEST_BYTES[alg]), length: 1.5 }])).toThrow(RangeError);
  });
});

describe("AWS example", () => {
  it("CRC32 of 'Hello world' (i9aeUg==, AWS docs) from the parts 'Hello ' and 'world'", () => {
    const out = combinePieces("CRC32", [Buffer.from("Hello "), Buffer.from("world")]);
    expect(out.toString("base64")).toBe("i9aeUg==");
  });
});
