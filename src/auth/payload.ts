/**
 * Request-body decoding after authentication: aws-chunked decoding for the streaming payload modes,
 * an incremental SHA-256 check for a literal `x-amz-content-sha256`, the raw body otherwise.
 */
import { Transform, finished, type Readable, type TransformCallback } from "node:stream";
import { BodyHash } from "../protocol/body-hash.js";
import { S3Error } from "../protocol/errors.js";
import { AwsChunkedDecoder, type StreamingPayloadMode } from "./chunked.js";
import type { AuthResult } from "./types.js";

export interface DecodedBody {
  /** The payload bytes (framing removed); errors carry an S3Error and arrive before the end. */
  stream: Readable;
  /** Trailers of an aws-chunked body (lower-case names); complete once `stream` has ended, else {}. */
  trailers(): Record<string, string>;
}

/** Pass-through that hashes the body and fails at the end with 400 XAmzContentSHA256Mismatch. */
export class Sha256VerifyStream extends Transform {
  private readonly hash = new BodyHash("sha256");

  constructor(private readonly expected: string) {
    super({ readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.pass(chunk, callback);
  }

  override _flush(callback: TransformCallback): void {
    this.hash.digest().then((digest) => {
      const actual = digest.toString("hex");
      if (actual !== this.expected.toLowerCase()) {
        callback(
          new S3Error("XAmzContentSHA256Mismatch", {
            extras: { ClientComputedContentSHA256: this.expected, S3ComputedContentSHA256: actual },
          }),
        );
        return;
      }
      callback();
    }, callback);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.hash.discard();
    callback(err);
  }
}

/** `x-amz-decoded-content-length` as a number; absent → undefined; empty → 411; not a number → 400. */
export function decodedContentLength(headers: Record<string, string | string[] | undefined>): number | undefined {
  const value = headers["x-amz-decoded-content-length"];
  const raw = Array.isArray(value) ? value.join(",") : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === "") throw new S3Error("MissingContentLength");
  if (!/^\d{1,15}$/.test(text)) {
    throw new S3Error("InvalidArgument", {
      message: "x-amz-decoded-content-length must be a non-negative integer.",
      extras: { ArgumentName: "x-amz-decoded-content-length", ArgumentValue: raw },
    });
  }
  return Number(text);
}

/**
 * body → target without `pipeline`: a decoding error must not destroy the request (the socket is
 * still needed for the error response); it only unpipes. A body that fails or closes early fails
 * the target with 400 IncompleteBody.
 */
function attach(body: Readable, target: Transform): void {
  // Data flows (and may fail) before the consumer attaches; without a listener of our own,
  // Readable.pipe would re-emit the error unhandled. Consumers still see it: the stream is
  // destroyed with it (`stream.errored`), so pipeline / for-await reject with the S3Error.
  target.on("error", () => {});
  body.pipe(target);
  finished(body, (err) => {
    if (err && !target.destroyed) {
      target.destroy(err instanceof S3Error ? err : new S3Error("IncompleteBody", { message: "The request body ended prematurely." }));
    }
  });
}

const NO_TRAILERS: () => Record<string, string> = () => ({});

function isStreaming(mode: string): mode is StreamingPayloadMode {
  return mode.startsWith("streaming-");
}

/**
 * Wraps a request body according to the authenticated payload mode. Only the payload mode decides
 * (a stray `Content-Encoding: aws-chunked` on an UNSIGNED-PAYLOAD request is left raw). Header
 * problems (bad `x-amz-decoded-content-length`) throw synchronously.
 */
export function decodeBody(body: Readable, auth: AuthResult, headers: Record<string, string | string[] | undefined>): DecodedBody {
  const { mode } = auth.payload;
  if (isStreaming(mode)) {
    const length = decodedContentLength(headers);
    const decoder = new AwsChunkedDecoder({
      mode,
      ...(auth.payload.chunkSigning ? { signing: auth.payload.chunkSigning } : {}),
      ...(length !== undefined ? { decodedContentLength: length } : {}),
    });
    attach(body, decoder);
    return { stream: decoder, trailers: () => ({ ...decoder.trailers }) };
  }
  if (mode === "sha256" && auth.payload.sha256 !== undefined) {
    const verify = new Sha256VerifyStream(auth.payload.sha256);
    attach(body, verify);
    return { stream: verify, trailers: NO_TRAILERS };
  }
  return { stream: body, trailers: NO_TRAILERS };
}
