/**
 * S3 flexible checksums and Content-MD5: incremental CRC32 / CRC32C / CRC64NVME / SHA1 / SHA256
 * (CRCs in table-driven JS, slicing-by-8, no BigInt on the hot path), validation of the integrity
 * headers a request carries (S3-COMPAT §3.4, §4.6 rows 1-6), and a pass-through `Digester`
 * Transform that hashes a body while it streams and fails its flush with the S3 error on mismatch.
 * Digests are big-endian bytes; the wire form is their base64.
 */

import { createHash, type Hash } from "node:crypto";
import { endianness } from "node:os";
import { Transform, type TransformCallback } from "node:stream";
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from "../storage/checksum-algorithms.js";
import { crc32 } from "../storage/crc32.js";
import { BodyHash } from "./body-hash.js";
import { S3Error } from "./errors.js";

export { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm };

/** Digest length in bytes of each algorithm. */
export const CHECKSUM_LENGTHS: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

export interface Checksum {
  update(buf: Buffer): void;
  digest(): Buffer;
}

/** A computed or stored checksum: algorithm and base64 digest. */
export interface ChecksumValue {
  algorithm: ChecksumAlgorithm;
  value: string;
}

export interface IntegrityRequest {
  /** Base64 of the 16-byte MD5 the client sent in Content-MD5. */
  contentMd5?: string;
  /** Requested checksum; `value` (base64) is undefined when it arrives in a trailer. */
  checksum?: { algorithm: ChecksumAlgorithm; value?: string };
  /** Lower-case trailer name (e.g. `x-amz-checksum-crc32`) when the checksum comes in a trailer. */
  trailerName?: string;
}

/** Case-insensitive lookup of an algorithm name ("crc32", "CRC64NVME"…). */
export function toChecksumAlgorithm(name: string): ChecksumAlgorithm | undefined {
  const upper = name.trim().toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper) ? (upper as ChecksumAlgorithm) : undefined;
}

/** `x-amz-checksum-<alg>` header/trailer name for an algorithm. */
export function checksumHeaderName(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

// ---------------------------------------------------------------------------------------------
// CRC engines

const LITTLE_ENDIAN = endianness() === "LE";
/** Below this many bytes, byte-at-a-time is cheaper than building a word view. */
const WORD_THRESHOLD = 64;

/** Slicing-by-8 tables (8 × 256 entries) for a reflected 32-bit CRC. */
function crc32Tables(poly: number): Uint32Array {
  const t = new Uint32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const p = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (p >>> 8) ^ t[p & 0xff]!;
    }
  }
  return t;
}

/** Advances a reflected CRC-32 register (pre-inverted state, as int32) over `b`. */
function crc32Update(t: Uint32Array, crc: number, b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  if (n >= WORD_THRESHOLD && LITTLE_ENDIAN) {
    while ((b.byteOffset + i) & 3) crc = t[(crc ^ b[i++]!) & 0xff]! ^ (crc >>> 8);
    const words = ((n - i) >>> 3) * 2;
    const w = new Int32Array(b.buffer, b.byteOffset + i, words);
    for (let j = 0; j < words; j += 2) {
      const a = crc ^ w[j]!;
      const c = w[j + 1]!;
      crc =
        t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]! ^
        t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
    }
    i += words * 4;
  } else {
    const end = n - (n & 7);
    for (; i < end; i += 8) {
      const a = crc ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
      const c = b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24);
      crc =
        t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]! ^
        t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
    }
  }
  for (; i < n; i++) crc = t[(crc ^ b[i]!) & 0xff]! ^ (crc >>> 8);
  return crc;
}

let crc32cTable: Uint32Array | undefined;
let crc32Table: Uint32Array | undefined;

class TableCrc32 implements Checksum {
  private crc = -1;
  constructor(private readonly table: Uint32Array) {}
  update(buf: Buffer): void {
    this.crc = crc32Update(this.table, this.crc, buf);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE((this.crc ^ -1) >>> 0);
    return out;
  }
}

/** CRC32 by zlib's. */
class NativeCrc32 implements Checksum {
  private crc = 0;
  update(buf: Buffer): void {
    this.crc = crc32(buf, this.crc);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(this.crc >>> 0);
    return out;
  }
}

/** CRC-64/NVME: reflected, poly 0xad93d23594c93659 (reversed 0x9a6c9329ac4bc9b5), init/xorout all ones. */
const CRC64_POLY_HI = 0x9a6c9329;
const CRC64_POLY_LO = 0xac4bc9b5;
let crc64Tables: { hi: Uint32Array; lo: Uint32Array } | undefined;

function getCrc64Tables(): { hi: Uint32Array; lo: Uint32Array } {
  if (crc64Tables) return crc64Tables;
  const hi = new Uint32Array(256 * 8);
  const lo = new Uint32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let h = 0;
    let l = n;
    for (let k = 0; k < 8; k++) {
      const bit = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (bit) {
        h = (h ^ CRC64_POLY_HI) >>> 0;
        l = (l ^ CRC64_POLY_LO) >>> 0;
      }
    }
    hi[n] = h;
    lo[n] = l;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const ph = hi[(k - 1) * 256 + n]!;
      const pl = lo[(k - 1) * 256 + n]!;
      const idx = pl & 0xff;
      hi[k * 256 + n] = (ph >>> 8) ^ hi[idx]!;
      lo[k * 256 + n] = ((pl >>> 8) | (ph << 24)) ^ lo[idx]!;
    }
  }
  crc64Tables = { hi, lo };
  return crc64Tables;
}

class Crc64Nvme implements Checksum {
  private hi = -1;
  private lo = -1;
  private readonly th: Uint32Array;
  private readonly tl: Uint32Array;
  constructor() {
    const t = getCrc64Tables();
    this.th = t.hi;
    this.tl = t.lo;
  }

  update(b: Buffer): void {
    const th = this.th;
    const tl = this.tl;
    let hi = this.hi;
    let lo = this.lo;
    const n = b.length;
    let i = 0;
    const step = (byte: number): void => {
      const idx = (lo ^ byte) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ tl[idx]!;
      hi = (hi >>> 8) ^ th[idx]!;
    };
    if (n >= WORD_THRESHOLD && LITTLE_ENDIAN) {
      while ((b.byteOffset + i) & 3) step(b[i++]!);
      const words = ((n - i) >>> 3) * 2;
      const w = new Int32Array(b.buffer, b.byteOffset + i, words);
      for (let j = 0; j < words; j += 2) {
        const a = lo ^ w[j]!;
        const c = hi ^ w[j + 1]!;
        const i7 = 1792 + (a & 0xff), i6 = 1536 + ((a >>> 8) & 0xff), i5 = 1280 + ((a >>> 16) & 0xff), i4 = 1024 + (a >>> 24);
        const i3 = 768 + (c & 0xff), i2 = 512 + ((c >>> 8) & 0xff), i1 = 256 + ((c >>> 16) & 0xff), i0 = c >>> 24;
        lo = tl[i7]! ^ tl[i6]! ^ tl[i5]! ^ tl[i4]! ^ tl[i3]! ^ tl[i2]! ^ tl[i1]! ^ tl[i0]!;
        hi = th[i7]! ^ th[i6]! ^ th[i5]! ^ th[i4]! ^ th[i3]! ^ th[i2]! ^ th[i1]! ^ th[i0]!;
      }
      i += words * 4;
    } else {
      const end = n - (n & 7);
      for (; i < end; i += 8) {
        const a = lo ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
        const c = hi ^ (b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24));
        const i7 = 1792 + (a & 0xff), i6 = 1536 + ((a >>> 8) & 0xff), i5 = 1280 + ((a >>> 16) & 0xff), i4 = 1024 + (a >>> 24);
        const i3 = 768 + (c & 0xff), i2 = 512 + ((c >>> 8) & 0xff), i1 = 256 + ((c >>> 16) & 0xff), i0 = c >>> 24;
        lo = tl[i7]! ^ tl[i6]! ^ tl[i5]! ^ tl[i4]! ^ tl[i3]! ^ tl[i2]! ^ tl[i1]! ^ tl[i0]!;
        hi = th[i7]! ^ th[i6]! ^ th[i5]! ^ th[i4]! ^ th[i3]! ^ th[i2]! ^ th[i1]! ^ th[i0]!;
      }
    }
    for (; i < n; i++) step(b[i]!);
    this.hi = hi;
    this.lo = lo;
  }

  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE((this.hi ^ -1) >>> 0, 0);
    out.writeUInt32BE((this.lo ^ -1) >>> 0, 4);
    return out;
  }
}

class HashChecksum implements Checksum {
  private readonly hash: Hash;
  constructor(name: "sha1" | "sha256") {
    this.hash = createHash(name);
  }
  update(buf: Buffer): void {
    this.hash.update(buf);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

/** A fresh incremental checksum. `digest()` may be called once. */
export function createChecksum(alg: ChecksumAlgorithm): Checksum {
  switch (alg) {
    case "CRC32":
      return new NativeCrc32();
    case "CRC32C":
      return new TableCrc32((crc32cTable ??= crc32Tables(0x82f63b78)));
    case "CRC64NVME":
      return new Crc64Nvme();
    case "SHA1":
      return new HashChecksum("sha1");
    case "SHA256":
      return new HashChecksum("sha256");
  }
}

/** The table-driven CRC32 (CRC32C's engine with CRC32's polynomial), for tests. */
export function createTableCrc32(): Checksum {
  return new TableCrc32((crc32Table ??= crc32Tables(0xedb88320)));
}

/** One-shot digest (big-endian bytes). */
export function computeChecksum(alg: ChecksumAlgorithm, buf: Buffer): Buffer {
  const c = createChecksum(alg);
  c.update(buf);
  return c.digest();
}

/**
 * S3 COMPOSITE multipart checksum: checksum of the concatenated raw part digests, base64, with a
 * `-<part count>` suffix.
 */
export function compositeChecksum(alg: ChecksumAlgorithm, partDigests: readonly Buffer[]): string {
  const c = createChecksum(alg);
  for (const d of partDigests) c.update(d);
  return `${c.digest().toString("base64")}-${partDigests.length}`;
}

// ---------------------------------------------------------------------------------------------
// Header validation

/** Base64 decoding of `value` iff it is canonical padded base64 of exactly `bytes` bytes. */
function decodeBase64Exact(value: string, bytes: number): Buffer | undefined {
  if (value.length !== Math.ceil(bytes / 3) * 4) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return undefined;
  const buf = Buffer.from(value, "base64");
  if (buf.length !== bytes || buf.toString("base64") !== value) return undefined;
  return buf;
}

const CHECKSUM_PREFIX = "x-amz-checksum-";
/** `x-amz-checksum-*` headers that carry settings, not checksum values. */
const NON_VALUE_CHECKSUM_HEADERS = new Set(["x-amz-checksum-mode", "x-amz-checksum-type", "x-amz-checksum-algorithm"]);

export function unsupportedAlgorithm(): S3Error {
  return new S3Error("InvalidRequest", {
    message: `Checksum algorithm provided is unsupported. Please try again with any of the valid types: [${CHECKSUM_ALGORITHMS.join(", ")}]`,
  });
}

function multipleChecksums(): S3Error {
  return new S3Error("InvalidRequest", {
    message: "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
  });
}

/**
 * Validates the integrity headers of a request with a body (PutObject, UploadPart, …). Header names
 * are matched case-insensitively; empty-string values count as present.
 */
export function parseIntegrityHeaders(headers: Record<string, string | string[] | undefined>): IntegrityRequest {
  const h = new Map<string, string>();
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) h.set(k.toLowerCase(), Array.isArray(v) ? v.join(",") : v);

  const result: IntegrityRequest = {};

  const md5 = h.get("content-md5");
  if (md5 !== undefined) {
    if (!decodeBase64Exact(md5.trim(), 16)) throw new S3Error("InvalidDigest");
    result.contentMd5 = md5.trim();
  }

  let checksum: { algorithm: ChecksumAlgorithm; value?: string } | undefined;
  for (const [name, raw] of h) {
    if (!name.startsWith(CHECKSUM_PREFIX) || NON_VALUE_CHECKSUM_HEADERS.has(name)) continue;
    const alg = toChecksumAlgorithm(name.slice(CHECKSUM_PREFIX.length));
    if (!alg) throw unsupportedAlgorithm();
    if (checksum) throw multipleChecksums();
    const value = raw.trim();
    if (!decodeBase64Exact(value, CHECKSUM_LENGTHS[alg])) {
      throw new S3Error("InvalidRequest", { message: `Value for ${name} header is invalid.` });
    }
    checksum = { algorithm: alg, value };
  }

  const trailer = h.get("x-amz-trailer");
  if (trailer !== undefined) {
    const names = trailer.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
    if (names.length !== 1) {
      throw new S3Error("InvalidRequest", {
        message: names.length === 0 ? "The value specified in the x-amz-trailer header is not supported" : "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
      });
    }
    const name = names[0]!;
    const alg = name.startsWith(CHECKSUM_PREFIX) ? toChecksumAlgorithm(name.slice(CHECKSUM_PREFIX.length)) : undefined;
    if (!alg) {
      throw new S3Error("InvalidRequest", { message: "The value specified in the x-amz-trailer header is not supported" });
    }
    if (checksum) throw multipleChecksums();
    checksum = { algorithm: alg };
    result.trailerName = name;
  }

  const sdk = h.get("x-amz-sdk-checksum-algorithm");
  if (sdk !== undefined) {
    const alg = toChecksumAlgorithm(sdk);
    if (!alg) throw unsupportedAlgorithm();
    if (!checksum) {
      throw new S3Error("InvalidRequest", {
        message: "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
      });
    }
    if (checksum.algorithm !== alg) {
      throw new S3Error("InvalidRequest", {
        message: `Value for x-amz-sdk-checksum-algorithm header is invalid: expected ${checksum.algorithm}, got ${alg}.`,
      });
    }
  }

  if (checksum) result.checksum = checksum;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Streaming verification

export interface DigesterOptions {
  /**
   * Algorithm to compute when the request names none (S3 stores CRC64NVME for such uploads).
   * Only computed, never verified. Default: none.
   */
  defaultAlgorithm?: ChecksumAlgorithm;
}

/**
 * Pass-through Transform that computes MD5 (always) and the requested checksum, then verifies the
 * client's values in `_flush`; a mismatch fails the stream (so `pipeline` rejects) with the S3Error.
 */
export class Digester extends Transform {
  private readonly request: IntegrityRequest;
  private readonly trailers: (() => Record<string, string>) | undefined;
  private readonly md5 = new BodyHash("md5");
  private readonly algorithm: ChecksumAlgorithm | undefined;
  private readonly crc: Checksum | undefined;
  private bytes = 0;
  private result: { md5Hex: string; checksum: ChecksumValue | undefined } | undefined;

  constructor(request: IntegrityRequest, trailers?: () => Record<string, string>, options: DigesterOptions = {}) {
    super();
    this.request = request;
    this.trailers = trailers;
    this.algorithm = request.checksum?.algorithm ?? options.defaultAlgorithm;
    this.crc = this.algorithm ? createChecksum(this.algorithm) : undefined;
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const buf = typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk;
    this.bytes += buf.length;
    this.crc?.update(buf);
    this.md5.pass(buf, callback);
  }

  override _flush(callback: TransformCallback): void {
    this.md5.digest().then(
      (md5) => this.verify(md5, callback),
      (err: Error) => callback(err),
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.md5.discard();
    callback(err);
  }

  private verify(md5: Buffer, callback: TransformCallback): void {
    try {
      const actual = this.crc?.digest().toString("base64");
      const { contentMd5, checksum, trailerName } = this.request;
      if (contentMd5 !== undefined && md5.toString("base64") !== contentMd5) {
        throw new S3Error("BadDigest", { message: "The Content-MD5 you specified did not match what was received." });
      }
      if (checksum && this.algorithm) {
        let expected = checksum.value;
        if (expected === undefined && trailerName !== undefined) expected = this.readTrailer(trailerName, checksum.algorithm);
        if (expected !== undefined && expected !== actual) {
          throw new S3Error("BadDigest", {
            message: `The ${checksum.algorithm} you specified did not match the calculated checksum.`,
          });
        }
      }
      this.result = {
        md5Hex: md5.toString("hex"),
        checksum: this.algorithm && actual !== undefined ? { algorithm: this.algorithm, value: actual } : undefined,
      };
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private readTrailer(name: string, alg: ChecksumAlgorithm): string {
    const all = this.trailers?.() ?? {};
    let value: string | undefined;
    for (const [k, v] of Object.entries(all)) if (k.toLowerCase() === name) value = v;
    if (value === undefined) {
      throw new S3Error("InvalidRequest", { message: `The ${name} trailer was announced in x-amz-trailer but not received.` });
    }
    const trimmed = value.trim();
    if (!decodeBase64Exact(trimmed, CHECKSUM_LENGTHS[alg])) {
      throw new S3Error("InvalidRequest", { message: `Value for ${name} trailing header is invalid.` });
    }
    return trimmed;
  }

  private done(): NonNullable<Digester["result"]> {
    if (!this.result) throw new Error("Digester: body not fully processed yet");
    return this.result;
  }

  /** Bytes seen so far (final once the stream has finished). */
  get size(): number {
    return this.bytes;
  }

  /** Hex MD5 of the body (the ETag of a single PUT). Throws before flush. */
  get md5Hex(): string {
    return this.done().md5Hex;
  }

  /** Computed checksum (base64) when an algorithm was requested or defaulted. Throws before flush. */
  get checksum(): ChecksumValue | undefined {
    return this.done().checksum;
  }
}
