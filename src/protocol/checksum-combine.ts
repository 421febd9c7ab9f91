/**
 * CRC combination for S3's FULL_OBJECT multipart checksums.
 *
 * A multipart upload with checksum type FULL_OBJECT (allowed for CRC32, CRC32C and CRC64NVME only)
 * reports the checksum of the whole object, yet the server only ever sees each part's CRC and
 * length. Re-reading gigabytes of parts to hash them again would be wasteful, so we derive the
 * whole-object CRC from the parts' CRCs, as zlib's crc32_combine does.
 *
 * Why it works: a CRC whose init and xorout are equal (all ones here) satisfies
 *     crc(A ‖ B) = crc(A) · x^(8·|B|) mod P  ⊕  crc(B)
 * in GF(2)[x] — appending |B| bytes shifts A's contribution by 8·|B| bits, and the all-ones
 * init/xorout terms cancel out. So we fold over the parts: crc = crc · x^(8·len) ⊕ crc_part.
 * x^(8·len) mod P is built by square-and-multiply from cached powers of x, so each part costs
 * O(log len) polynomial multiplications, never O(len).
 *
 * Representation: all three CRCs are reflected, so a register value is a polynomial with the
 * coefficient of x^0 in its most significant bit (bit width-1) and of x^(width-1) in bit 0.
 * Polynomials are held as two uint32 halves (hi, lo) so that CRC64 avoids slow BigInt arithmetic;
 * for the 32-bit CRCs hi is always 0 and the same code applies.
 */

import type { ChecksumAlgorithm } from "./checksums.js";

export type CombinableAlgorithm = "CRC32" | "CRC32C" | "CRC64NVME";

/** A polynomial over GF(2) of degree < width, reflected, as two uint32 halves. */
interface Poly {
  readonly hi: number;
  readonly lo: number;
}

interface CrcSpec {
  /** Register width in bits (the digest is width/8 big-endian bytes). */
  readonly width: 32 | 64;
  /** The reflected generator polynomial (without its x^width term). */
  readonly poly: Poly;
  /** powers[k] = x^(2^k) mod P, filled lazily. */
  powers?: Poly[];
  /** digitPowers[256·j + d] = x^(8·d·256^j) mod P, filled lazily (see xPow8n). */
  digitPowers?: (Poly | undefined)[];
}

const SPECS: Record<CombinableAlgorithm, CrcSpec> = {
  CRC32: { width: 32, poly: { hi: 0, lo: 0xedb88320 } },
  CRC32C: { width: 32, poly: { hi: 0, lo: 0x82f63b78 } },
  CRC64NVME: { width: 64, poly: { hi: 0x9a6c9329, lo: 0xac4bc9b5 } },
};

const ZERO: Poly = { hi: 0, lo: 0 };

/** True for CRC32, CRC32C, CRC64NVME (the algorithms S3 allows as FULL_OBJECT multipart checksums). */
export function isCombinable(alg: ChecksumAlgorithm): alg is CombinableAlgorithm {
  return alg === "CRC32" || alg === "CRC32C" || alg === "CRC64NVME";
}

/**
 * The CRC of the concatenation of parts, from each part's CRC digest (big-endian bytes, as S3
 * sends them: 4 bytes for CRC32/CRC32C, 8 for CRC64NVME) and its length in bytes — without
 * reading the bytes (zlib's crc32_combine technique: GF(2) matrix squaring / or x^(8*len) mod P
 * multiplication). Returns the big-endian digest bytes of the whole.
 */
export function combineCrcs(alg: CombinableAlgorithm, parts: readonly { digest: Buffer; length: number }[]): Buffer {
  const spec = SPECS[alg];
  if (!spec) throw new TypeError(`combineCrcs: ${String(alg)} is not a combinable CRC`);
  const bytes = spec.width / 8;
  // Multipart uploads usually have equal-sized parts: compute each distinct x^(8·len) once.
  const shifts = new Map<number, Poly>();
  let crc = ZERO; // the CRC of empty input
  for (const [i, part] of parts.entries()) {
    if (part.digest.length !== bytes) {
      throw new RangeError(`combineCrcs: part ${i + 1} ${alg} digest is ${part.digest.length} bytes, expected ${bytes}`);
    }
    if (!Number.isSafeInteger(part.length) || part.length < 0) {
      throw new RangeError(`combineCrcs: part ${i + 1} has invalid length ${part.length}`);
    }
    let shift = shifts.get(part.length);
    if (!shift) {
      shift = xPow8n(spec, part.length);
      shifts.set(part.length, shift);
    }
    const partCrc = bytes === 8 ? { hi: part.digest.readUInt32BE(0), lo: part.digest.readUInt32BE(4) } : { hi: 0, lo: part.digest.readUInt32BE(0) };
    const shifted = mulMod(spec, crc, shift);
    crc = { hi: (shifted.hi ^ partCrc.hi) >>> 0, lo: (shifted.lo ^ partCrc.lo) >>> 0 };
  }
  const out = Buffer.alloc(bytes);
  if (bytes === 8) {
    out.writeUInt32BE(crc.hi, 0);
    out.writeUInt32BE(crc.lo, 4);
  } else {
    out.writeUInt32BE(crc.lo, 0);
  }
  return out;
}

/** The polynomial x^k (k < width) in reflected form: bit width-1-k set. */
function monomial(spec: CrcSpec, k: number): Poly {
  const bit = spec.width - 1 - k;
  return bit >= 32 ? { hi: 2 ** (bit - 32), lo: 0 } : { hi: 0, lo: 2 ** bit };
}

/** a · b mod P (zlib's multmodp): walks a's coefficients from x^0 upward while b is multiplied by x. */
function mulMod(spec: CrcSpec, a: Poly, b: Poly): Poly {
  const { hi: polyHi, lo: polyLo } = spec.poly;
  let pHi = 0;
  let pLo = 0;
  let bHi = b.hi;
  let bLo = b.lo;
  // Bit index i (within the width) holds the coefficient of x^(width-1-i); start at x^0.
  for (let i = spec.width - 1; i >= 0; i--) {
    const bit = i >= 32 ? (a.hi >>> (i - 32)) & 1 : (a.lo >>> i) & 1;
    if (bit) {
      pHi ^= bHi;
      pLo ^= bLo;
    }
    // b ← b · x mod P: one right shift across both halves, reducing when x^width falls out.
    const carry = bLo & 1;
    bLo = (bLo >>> 1) | (bHi << 31);
    bHi >>>= 1;
    if (carry) {
      bHi ^= polyHi;
      bLo ^= polyLo;
    }
  }
  return { hi: pHi >>> 0, lo: pLo >>> 0 };
}

/**
 * x^(8·n) mod P for a byte count n (a safe integer, so it may exceed 2^32: no bitwise ops on n).
 * Square-and-multiply, eight bits of n at a time: for n = Σ d_j·256^j, x^(8·n) = Π x^(8·d_j·256^j),
 * each factor computed once and cached. A 5 GiB length then costs at most 5 multiplications instead
 * of one per set bit, which keeps 10000 parts of distinct lengths comfortably fast.
 */
function xPow8n(spec: CrcSpec, n: number): Poly {
  let result = monomial(spec, 0);
  for (let j = 0; n > 0; j++) {
    const d = n % 256;
    if (d !== 0) result = mulMod(spec, digitPower(spec, j, d), result);
    n = Math.floor(n / 256);
  }
  return result;
}

/** x^(8·d·256^j) mod P = Π over set bits b of d of x^(2^(3 + 8j + b)), cached. */
function digitPower(spec: CrcSpec, j: number, d: number): Poly {
  const cache = (spec.digitPowers ??= []);
  let value = cache[256 * j + d];
  if (!value) {
    const powers = (spec.powers ??= powerTable(spec));
    value = monomial(spec, 0);
    for (let b = 0; b < 8; b++) if ((d >>> b) & 1) value = mulMod(spec, powers[3 + 8 * j + b]!, value);
    cache[256 * j + d] = value;
  }
  return value;
}

/** powers[k] = x^(2^k) mod P for k = 0..63, enough for any safe-integer byte count (< 2^53 · 8 bits). */
function powerTable(spec: CrcSpec): Poly[] {
  const powers = [monomial(spec, 1)];
  for (let k = 1; k < 64; k++) powers.push(mulMod(spec, powers[k - 1]!, powers[k - 1]!));
  return powers;
}
