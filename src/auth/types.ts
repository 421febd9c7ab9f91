/** What the authenticator needs from a request, and what it hands back to the gateway. */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A request as auth sees it: nothing parsed or normalised. */
export interface AuthInput {
  method: string;
  /** The path exactly as received on the wire (percent-encoded, no query, no normalisation). */
  rawPath: string;
  /** The raw query string without the leading '?', possibly empty. */
  rawQuery: string;
  /** Lower-case header names to every value received (node's `req.headersDistinct`). */
  headers: Record<string, string[]>;
}

/** How the body must be decoded/verified, decided by `x-amz-content-sha256` and the auth scheme. */
export type PayloadMode =
  | "unsigned" // UNSIGNED-PAYLOAD, SigV2, presigned: raw body, nothing to verify from auth
  | "sha256" // 64-hex: raw body, its SHA-256 must equal `sha256`
  | "streaming-signed" // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
  | "streaming-signed-trailer" // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
  | "streaming-unsigned-trailer"; // STREAMING-UNSIGNED-PAYLOAD-TRAILER

export interface ChunkSigningContext {
  signingKey: Buffer;
  amzDate: string; // YYYYMMDDTHHMMSSZ
  scope: string; // date/region/service/aws4_request
  seedSignature: string; // the request signature, hex
}

export interface AuthResult {
  accessKeyId: string;
  scheme: "sigv4-header" | "sigv4-presigned" | "sigv2-header" | "sigv2-presigned";
  payload: {
    mode: PayloadMode;
    /** Expected body SHA-256 (hex) when mode is "sha256". */
    sha256?: string;
    /** Present for the signed streaming modes. */
    chunkSigning?: ChunkSigningContext;
  };
}
