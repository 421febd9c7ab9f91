/**
 * The gateway's single authentication entry point: picks SigV4 header, SigV4 presigned, SigV2
 * header or SigV2 presigned from what the request carries and verifies it. Anonymous requests are
 * refused (lakeFS has no anonymous S3 access).
 */
import { S3Error, isS3Error } from "../protocol/errors.js";
import { verifySigV2Header, verifySigV2Presigned } from "./sigv2.js";
import { ALGORITHM, ALGORITHM_V4A, firstHeader, parseQueryPairs, verifySigV4Header, verifySigV4Presigned, type CredentialLookup } from "./sigv4.js";
import type { AuthInput, AuthResult } from "./types.js";
import type { Diverge } from "../protocol/divergences.js";

export type { CredentialLookup } from "./sigv4.js";

export interface AuthenticateOptions {
  /** Server time for skew/expiry checks (default: now). */
  now?: Date;
  /** Bucket taken from a virtual-host `Host`; SigV2 puts `/bucket` in front of the resource. */
  bucketFromHost?: string;
  /**
   * Take an RFC 1123 `Date` (no x-amz-date) as a SigV4 request's date, as AWS does (mode s3);
   * lakeFS, and lakefs mode, read every SigV4 date as ISO 8601 basic.
   */
  httpDate?: boolean;
  /** Relies on a divergence from lakeFS (a SigV2 date form lakeFS refuses); see protocol/divergences.ts. */
  diverge?: Diverge;
}

export type AuthScheme = AuthResult["scheme"];

/** What the request log may show about a failed signature check (taken from the error's extras). */
export interface SignatureDetails {
  accessKeyId?: string;
  canonicalRequest?: string;
  stringToSign?: string;
  signatureProvided?: string;
}

/** The diagnostic details of a SignatureDoesNotMatch error, or undefined for any other error. */
export function signatureDetails(err: unknown): SignatureDetails | undefined {
  if (!isS3Error(err, "SignatureDoesNotMatch")) return undefined;
  const x = err.options.extras ?? {};
  const details: SignatureDetails = {};
  if (x.AWSAccessKeyId !== undefined) details.accessKeyId = x.AWSAccessKeyId;
  if (x.CanonicalRequest !== undefined) details.canonicalRequest = x.CanonicalRequest;
  if (x.StringToSign !== undefined) details.stringToSign = x.StringToSign;
  if (x.SignatureProvided !== undefined) details.signatureProvided = x.SignatureProvided;
  return details;
}

/**
 * Which scheme the request claims, without verifying anything; "anonymous" when it carries none.
 * Throws 400 InvalidArgument when it mixes mechanisms or uses an unknown Authorization type, and
 * 501 NotImplemented for SigV4a.
 */
export function detectScheme(input: AuthInput): AuthScheme | "anonymous" {
  const authorization = firstHeader(input.headers, "authorization");
  const keys = new Set(parseQueryPairs(input.rawQuery).map(([k]) => k));
  const presignV4 = keys.has("X-Amz-Algorithm");
  const presignV2 = keys.has("AWSAccessKeyId") || keys.has("Signature");
  if (authorization !== undefined && authorization.trim() !== "") {
    if (presignV4 || presignV2) {
      throw new S3Error("InvalidArgument", {
        message:
          "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        extras: { ArgumentName: "Authorization" },
      });
    }
    const value = authorization.trim();
    if (value.startsWith(ALGORITHM)) return "sigv4-header"; // malformed variants get AuthorizationHeaderMalformed
    if (value.startsWith(ALGORITHM_V4A)) throw new S3Error("NotImplemented", { message: `${ALGORITHM_V4A} (SigV4a) is not supported.` });
    if (value.split(/\s/, 1)[0] === "AWS") return "sigv2-header";
    throw new S3Error("InvalidArgument", { message: "Unsupported Authorization Type", extras: { ArgumentName: "Authorization" } });
  }
  if (presignV4) return "sigv4-presigned";
  if (presignV2) return "sigv2-presigned";
  return "anonymous";
}

/**
 * Whether a request carries an AWS signature of any kind, as lakeFS decides which requests go to
 * its S3 gateway whatever their path (pkg/gateway/sig/sig.go IsAWSSignedRequest): an
 * X-Amz-Signature header, an Authorization header starting `AWS4` or `AWS `, or an
 * AWSAccessKeyId or X-Amz-Credential query parameter.
 */
export function isAwsSigned(headers: Record<string, string | string[] | undefined>, rawQuery: string): boolean {
  const first = (name: string) => {
    const v = headers[name];
    return (Array.isArray(v) ? v[0] : v) ?? "";
  };
  const authorization = first("authorization");
  if (first("x-amz-signature") !== "" || authorization.startsWith("AWS4") || authorization.startsWith("AWS ")) return true;
  return parseQueryPairs(rawQuery).some(([k, v]) => (k === "AWSAccessKeyId" || k === "X-Amz-Credential") && v !== "");
}

/** Authenticates a request or throws the S3Error to send back. */
export function authenticate(input: AuthInput, lookup: CredentialLookup, options: AuthenticateOptions = {}): AuthResult {
  const now = options.now ?? new Date();
  switch (detectScheme(input)) {
    case "sigv4-header":
      return verifySigV4Header(input, lookup, now, options.httpDate);
    case "sigv4-presigned":
      return verifySigV4Presigned(input, lookup, now);
    case "sigv2-header":
      return verifySigV2Header(input, lookup, now, options.bucketFromHost, options.diverge);
    case "sigv2-presigned":
      return verifySigV2Presigned(input, lookup, now, options.bucketFromHost);
    case "anonymous":
      throw new S3Error("AccessDenied", { message: "Anonymous access is not allowed; sign the request with an access key." });
  }
}
