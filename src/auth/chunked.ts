/**
 * Streaming decoder for `aws-chunked` request bodies in the three SigV4 streaming modes (signed
 * chunks, signed chunks + signed trailer, unsigned chunks + trailer). Chunk data is passed on as
 * slices of the incoming buffers while it is hashed; framing and signature problems surface as
 * stream errors carrying an S3Error, always before the stream ends, so a consumer that commits on
 * end never commits a bad body.
 */
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { S3Error } from "../protocol/errors.js";
import { EMPTY_SHA256, chunkStringToSign, hexBytes, hmacHex, safeEqual, sha256Hex, trailerStringToSign } from "./sigv4.js";
import type { ChunkSigningContext, PayloadMode } from "./types.js";

export type StreamingPayloadMode = Extract<PayloadMode, `streaming-${string}`>;

export interface AwsChunkedDecoderOptions {
  mode: StreamingPayloadMode;
  /** Required for the signed modes. */
  signing?: ChunkSigningContext;
  /** `x-amz-decoded-content-length`, when the client sent it: the decoded size must equal it. */
  decodedContentLength?: number;
}

/** Longest chunk-header or trailer line, CRLF excluded. */
export const MAX_CHUNK_LINE = 4096;
/** Smallest non-final chunk in the signed modes. */
export const MIN_SIGNED_CHUNK_SIZE = 8192;
const MAX_TRAILER_LINES = 64;

const HEADER = 0;
const DATA = 1;
const DATA_CR = 2;
const DATA_LF = 3;
const TRAILER = 4;
const DONE = 5;
const FAILED = 6;

function framing(detail: string): S3Error {
  return new S3Error("InvalidRequest", { message: `Malformed aws-chunked body: ${detail}` });
}

function incomplete(message?: string): S3Error {
  return new S3Error("IncompleteBody", message === undefined ? {} : { message });
}

function printable(text: string): string {
  const cut = text.length > 40 ? text.slice(0, 40) + "…" : text;
  return cut.replace(/[^\x20-\x7e]/g, "?");
}

export class AwsChunkedDecoder extends Transform {
  /** Trailer headers (lower-case names, `x-amz-trailer-signature` excluded), complete before the stream ends. */
  readonly trailers: Record<string, string> = Object.create(null) as Record<string, string>;

  private readonly mode: StreamingPayloadMode;
  private readonly signing: ChunkSigningContext | undefined;
  private readonly expectedLength: number | undefined;
  private state: number = HEADER;
  private lineParts: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;
  private lastDataChunkSize = -1;
  private chunkCount = 0;
  private chunkHash: Hash | undefined;
  private chunkSignature = "";
  private previousSignature = "";
  private decoded = 0;
  private sawTrailerLine = false;
  private skippedBlank = false;
  private trailerSignatureVerified = false;
  private trailerCanonical = "";
  private trailerLines = 0;

  constructor(options: AwsChunkedDecoderOptions) {
    super({ readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 });
    this.mode = options.mode;
    this.signing = options.signing;
    this.expectedLength = options.decodedContentLength;
    if (this.isSigned) {
      if (!this.signing) throw new TypeError(`${options.mode} needs a chunk signing context`);
      this.previousSignature = this.signing.seedSignature.toLowerCase();
    }
  }

  /** Decoded bytes passed on so far. */
  get decodedLength(): number {
    return this.decoded;
  }

  private get isSigned(): boolean {
    return this.mode !== "streaming-unsigned-trailer";
  }

  private get hasTrailer(): boolean {
    return this.mode !== "streaming-signed";
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.state === FAILED) return callback();
    try {
      this.consume(chunk);
      callback();
    } catch (err) {
      this.state = FAILED;
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.state === FAILED) return callback();
    try {
      this.finishAtEof();
      callback();
    } catch (err) {
      this.state = FAILED;
      callback(err as Error);
    }
  }

  private consume(buf: Buffer): void {
    let off = 0;
    const len = buf.length;
    while (off < len) {
      switch (this.state) {
        case DATA: {
          const n = Math.min(this.remaining, len - off);
          const slice = buf.subarray(off, off + n);
          this.chunkHash?.update(slice);
          this.decoded += n;
          off += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            // Verify before passing on the chunk's last bytes: a chunk read in one piece is never emitted unverified.
            if (this.chunkHash) this.verifyChunk(this.chunkHash.digest("hex"));
            this.chunkHash = undefined;
            this.state = DATA_CR;
          }
          this.push(slice);
          break;
        }
        case DATA_CR:
          if (buf[off] !== 0x0d) throw framing("chunk data is not followed by CRLF");
          off++;
          this.state = DATA_LF;
          break;
        case DATA_LF:
          if (buf[off] !== 0x0a) throw framing("chunk data is not followed by CRLF");
          off++;
          this.state = HEADER;
          break;
        case HEADER:
        case TRAILER: {
          const nl = buf.indexOf(0x0a, off);
          if (nl < 0) {
            this.appendLinePart(buf.subarray(off));
            off = len;
            break;
          }
          const line = this.takeLine(buf.subarray(off, nl));
          off = nl + 1;
          if (this.state === HEADER) this.onChunkHeader(line.toString("latin1"));
          else this.onTrailerLine(line.toString("utf8"));
          break;
        }
        case DONE:
          for (; off < len; off++) {
            const b = buf[off];
            if (b !== 0x0d && b !== 0x0a) throw framing("unexpected data after the final chunk");
          }
          break;
        default:
          return;
      }
    }
  }

  private appendLinePart(part: Buffer): void {
    this.lineLength += part.length;
    if (this.lineLength > MAX_CHUNK_LINE + 1) throw framing(`a chunk header or trailer line exceeds ${MAX_CHUNK_LINE} bytes`);
    if (part.length > 0) this.lineParts.push(Buffer.from(part)); // copy: lines are small, input buffers are not ours to keep
  }

  /** The completed line (without CRLF) given its last part (everything before the LF). */
  private takeLine(last: Buffer): Buffer {
    const total = this.lineLength + last.length;
    if (total > MAX_CHUNK_LINE + 1) throw framing(`a chunk header or trailer line exceeds ${MAX_CHUNK_LINE} bytes`);
    const line = this.lineParts.length === 0 ? last : Buffer.concat([...this.lineParts, last], total);
    this.lineParts = [];
    this.lineLength = 0;
    if (line.length === 0 || line[line.length - 1] !== 0x0d) throw framing("line is not terminated by CRLF");
    return line.subarray(0, line.length - 1);
  }

  private onChunkHeader(line: string): void {
    const semi = line.indexOf(";");
    const sizeText = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,13}$/.test(sizeText)) throw framing(`invalid chunk size "${printable(sizeText)}"`);
    const size = parseInt(sizeText, 16);

    if (this.isSigned) {
      let signature: string | undefined;
      if (semi >= 0) {
        for (const ext of line.slice(semi + 1).split(";")) {
          const t = ext.trim();
          if (t.startsWith("chunk-signature=")) signature = t.slice("chunk-signature=".length);
        }
      }
      if (signature === undefined) {
        throw new S3Error("SignatureDoesNotMatch", { message: "A chunk of a signed aws-chunked body has no chunk-signature." });
      }
      if (size > 0 && this.lastDataChunkSize >= 0 && this.lastDataChunkSize < MIN_SIGNED_CHUNK_SIZE) {
        throw new S3Error("InvalidChunkSizeError", {
          extras: { Chunk: String(this.chunkCount), BadChunkSize: String(this.lastDataChunkSize) },
        });
      }
      this.chunkSignature = signature.toLowerCase();
    }

    if (size === 0) {
      if (this.isSigned) this.verifyChunk(EMPTY_SHA256);
      this.state = TRAILER;
      return;
    }
    if (this.expectedLength !== undefined && this.decoded + size > this.expectedLength) {
      throw incomplete("The aws-chunked body is longer than x-amz-decoded-content-length.");
    }
    this.remaining = size;
    this.lastDataChunkSize = size;
    this.chunkCount++;
    this.chunkHash = this.isSigned ? createHash("sha256") : undefined;
    this.state = DATA;
  }

  private verifyChunk(chunkSha256: string): void {
    const s = this.signing!;
    const sts = chunkStringToSign(s.amzDate, s.scope, this.previousSignature, chunkSha256);
    if (!safeEqual(hmacHex(s.signingKey, sts), this.chunkSignature)) {
      throw new S3Error("SignatureDoesNotMatch", {
        extras: { StringToSign: sts, SignatureProvided: this.chunkSignature, StringToSignBytes: hexBytes(sts) },
      });
    }
    this.previousSignature = this.chunkSignature;
  }

  private onTrailerLine(line: string): void {
    if (line === "") {
      // The AWS docs' example puts a blank line between the zero chunk and the trailers; SDKs don't.
      if (this.hasTrailer && !this.sawTrailerLine && !this.skippedBlank) {
        this.skippedBlank = true;
        return;
      }
      this.finish(false);
      return;
    }
    if (!this.hasTrailer) throw framing("trailers are not allowed with STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    if (this.trailerSignatureVerified) throw framing("trailer after x-amz-trailer-signature");
    const colon = line.indexOf(":");
    if (colon <= 0) throw framing(`malformed trailer line "${printable(line)}"`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    this.sawTrailerLine = true;
    if (name === "x-amz-trailer-signature") {
      if (this.mode !== "streaming-signed-trailer") throw framing("x-amz-trailer-signature in an unsigned payload");
      const s = this.signing!;
      const sts = trailerStringToSign(s.amzDate, s.scope, this.previousSignature, sha256Hex(this.trailerCanonical));
      const provided = value.toLowerCase();
      if (!safeEqual(hmacHex(s.signingKey, sts), provided)) {
        throw new S3Error("SignatureDoesNotMatch", {
          extras: { StringToSign: sts, SignatureProvided: provided, StringToSignBytes: hexBytes(sts) },
        });
      }
      this.trailerSignatureVerified = true;
      return;
    }
    if (++this.trailerLines > MAX_TRAILER_LINES) throw framing("too many trailers");
    this.trailers[name] = Object.hasOwn(this.trailers, name) ? `${this.trailers[name]},${value}` : value;
    this.trailerCanonical += `${name}:${value}\n`;
  }

  private finish(atEof: boolean): void {
    if (this.mode === "streaming-signed-trailer" && !this.trailerSignatureVerified) {
      if (atEof) throw incomplete("The request body ended before x-amz-trailer-signature.");
      throw new S3Error("SignatureDoesNotMatch", { message: "The trailer of a signed aws-chunked body has no x-amz-trailer-signature." });
    }
    if (this.expectedLength !== undefined && this.decoded !== this.expectedLength) throw incomplete();
    this.state = DONE;
  }

  private finishAtEof(): void {
    if (this.state === DONE) return;
    if (this.state !== TRAILER) throw incomplete("The request body ended before the final aws-chunked chunk.");
    if (this.lineLength > 0) {
      // Tolerate a last trailer line (or final CRLF) cut short of its CRLF.
      let line = Buffer.concat(this.lineParts, this.lineLength);
      this.lineParts = [];
      this.lineLength = 0;
      if (line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      if (line.length > 0) this.onTrailerLine(line.toString("utf8"));
    }
    this.finish(true);
  }
}
