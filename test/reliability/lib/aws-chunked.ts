/**
 * Signed and unsigned aws-chunked request bodies built independently of the server's code
 * (sigv4-streaming as AWS documents it): the request is signed with @smithy/signature-v4, then
 * each chunk is signed over the previous signature. Frames can be reordered, duplicated or
 * tampered with before encoding, to test what the server refuses.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../../helpers/sha256.js";
import { hmac, sha256, signingKey, type Endpoint } from "./s3raw.js";

export const STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
export const STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
export const STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
const EMPTY_SHA256 = sha256("");
const SIG_LEN = 64;

export interface Frame {
  data: Buffer;
  /** Hex chunk signature (signed modes). */
  signature?: string;
}

export type ChunkedMode = "signed" | "signed-trailer" | "unsigned-trailer";

export interface ChunkedRequest {
  headers: Record<string, string>;
  /** Data frames in signing order, the final empty frame last. */
  frames: Frame[];
  /** Trailer lines (without the trailer signature) and, for signed-trailer, its signature. */
  trailers: Record<string, string>;
  trailerSignature?: string;
}

function trailerBlock(mode: ChunkedMode, trailers: Record<string, string>, trailerSignature?: string): string {
  if (mode === "signed") return "";
  let text = Object.entries(trailers).map(([k, v]) => `${k}:${v}\r\n`).join("");
  if (mode === "signed-trailer") text += `x-amz-trailer-signature:${trailerSignature ?? "0".repeat(SIG_LEN)}\r\n`;
  return text;
}

/**
 * Sign a request whose body is the given chunks in aws-chunked framing. `options.headers` are
 * signed too; Content-Length is left out of the signature (the sender sets it from the body it
 * actually sends, so a test can re-arrange frames).
 */
export async function chunkedRequest(
  ep: Endpoint,
  method: string,
  path: string,
  chunks: Buffer[],
  options: { mode?: ChunkedMode; trailers?: Record<string, string>; headers?: Record<string, string>; decodedLength?: number; secret?: string } = {},
): Promise<ChunkedRequest> {
  const mode = options.mode ?? "signed";
  const trailers = options.trailers ?? {};
  const contentSha = mode === "signed" ? STREAMING_SIGNED : mode === "signed-trailer" ? STREAMING_SIGNED_TRAILER : STREAMING_UNSIGNED_TRAILER;
  const decoded = chunks.reduce((n, c) => n + c.length, 0);
  const host = `127.0.0.1:${ep.port}`;
  const headers: Record<string, string> = {
    host,
    "x-amz-content-sha256": contentSha,
    "content-encoding": "aws-chunked",
    "x-amz-decoded-content-length": String(options.decodedLength ?? decoded),
    ...(Object.keys(trailers).length > 0 ? { "x-amz-trailer": Object.keys(trailers).join(",") } : {}),
    ...options.headers,
  };
  const url = new URL(`http://${host}${path}`);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signer = new SignatureV4({
    service: "s3",
    region: ep.region,
    credentials: { accessKeyId: ep.accessKeyId, secretAccessKey: options.secret ?? ep.secretAccessKey },
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign({ method, protocol: "http:", hostname: "127.0.0.1", port: ep.port, path: url.pathname, query, headers });
  const out = signed.headers as Record<string, string>;
  const amzDate = out["x-amz-date"]!;
  const seedSignature = /Signature=([0-9a-f]{64})/.exec(out["authorization"]!)![1]!;
  const scope = `${amzDate.slice(0, 8)}/${ep.region}/s3/aws4_request`;
  const key = signingKey(options.secret ?? ep.secretAccessKey, amzDate.slice(0, 8), ep.region);

  const chainFrom = (frames: Frame[]): { frames: Frame[]; last: string } => {
    let previous = seedSignature;
    const signedFrames = frames.map((f) => {
      const sts = `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previous}\n${EMPTY_SHA256}\n${f.data.length === 0 ? EMPTY_SHA256 : sha256(f.data)}`;
      previous = hmac(key, sts).toString("hex");
      return { data: f.data, signature: previous };
    });
    return { frames: signedFrames, last: previous };
  };
  const unsigned = [...chunks, Buffer.alloc(0)].map((data) => ({ data }));
  const chain = mode === "unsigned-trailer" ? { frames: unsigned, last: "" } : chainFrom(unsigned);
  let trailerSignature: string | undefined;
  if (mode === "signed-trailer") {
    const canonical = Object.entries(trailers).map(([k, v]) => `${k.toLowerCase()}:${v.trim()}\n`).join("");
    const sts = `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${chain.last}\n${sha256(canonical)}`;
    trailerSignature = hmac(key, sts).toString("hex");
  }
  return { headers: out, frames: chain.frames, trailers, trailerSignature };
}

/** The wire body: frames in the given order, then the trailer block and the final CRLF. */
export function encodeChunked(mode: ChunkedMode, frames: Frame[], trailers: Record<string, string> = {}, trailerSignature?: string): Buffer {
  const parts: Buffer[] = [];
  for (const f of frames) {
    const ext = mode === "unsigned-trailer" ? "" : `;chunk-signature=${f.signature}`;
    parts.push(Buffer.from(`${f.data.length.toString(16)}${ext}\r\n`));
    if (f.data.length > 0) parts.push(f.data, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from(trailerBlock(mode, trailers, trailerSignature) + "\r\n"));
  return Buffer.concat(parts);
}

/** Encode a request as built (the honest body). */
export function honestBody(mode: ChunkedMode, req: ChunkedRequest): Buffer {
  return encodeChunked(mode, req.frames, req.trailers, req.trailerSignature);
}
