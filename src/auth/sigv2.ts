/**
 * AWS Signature Version 2 for S3 (HMAC-SHA1): the `Authorization: AWS AKID:sig` header form and the
 * `AWSAccessKeyId`/`Expires`/`Signature` presigned query form, string to sign per the S3 SigV2 docs.
 */
import { createHmac } from "node:crypto";
import { S3Error } from "../protocol/errors.js";
import { headerText } from "../protocol/headers.js";
import {
  MAX_SKEW_MS,
  firstHeader,
  headerValues,
  hexBytes,
  parseAmzDate,
  parseQuery,
  percentDecodeString,
  safeEqual,
  skewError,
  type CredentialLookup,
} from "./sigv4.js";
import type { AuthInput, AuthResult } from "./types.js";
import type { Diverge } from "../protocol/divergences.js";

/** Query parameters that belong to the canonicalized resource (names matched case-sensitively). */
export const SIGV2_SUBRESOURCES: ReadonlySet<string> = new Set([
  "accelerate", "acl", "analytics", "cors", "delete", "encryption", "intelligent-tiering", "inventory",
  "legal-hold", "lifecycle", "location", "logging", "metrics", "notification", "object-lock",
  "ownershipControls", "partNumber", "policy", "publicAccessBlock", "replication", "requestPayment",
  "response-cache-control", "response-content-disposition", "response-content-encoding",
  "response-content-language", "response-content-type", "response-expires", "restore", "retention",
  "select", "select-type", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
  "versions", "website",
]);

/**
 * CanonicalizedResource: `/bucket` (virtual-host style only) + the raw path as sent, then `?` and the
 * sub-resources present, sorted by name, as `k` or `k=v` (values decoded).
 */
export function canonicalResourceV2(rawPath: string, rawQuery: string, bucketFromHost?: string): string {
  let resource = (bucketFromHost ? "/" + bucketFromHost : "") + (rawPath === "" ? "/" : rawPath);
  const subs: Array<[string, string]> = [];
  if (rawQuery !== "") {
    for (const part of rawQuery.split("&")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      const name = eq < 0 ? part : part.slice(0, eq);
      if (!SIGV2_SUBRESOURCES.has(name)) continue;
      subs.push([name, eq < 0 ? name : `${name}=${percentDecodeString(part.slice(eq + 1))}`]);
    }
  }
  if (subs.length > 0) {
    subs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    resource += "?" + subs.map((s) => s[1]).join("&");
  }
  return resource;
}

/** `x-amz-*` headers (minus `omit`), lower-case, sorted, each `name:v1,v2\n`. */
export function canonicalAmzHeadersV2(headers: Record<string, string[]>, omit?: string): string {
  let out = "";
  for (const name of Object.keys(headers).filter((h) => h.startsWith("x-amz-") && h !== omit).sort()) {
    out += name + ":" + (headerValues(headers, name) ?? []).map((v) => headerText(v).trim()).join(",") + "\n";
  }
  return out;
}

function joined(headers: Record<string, string[]>, name: string): string {
  return (headerValues(headers, name) ?? []).map(headerText).join(",");
}

export interface StringToSignV2Options {
  bucketFromHost?: string;
  /** Replaces the Date line (the `Expires` value of a presigned request). */
  dateValue?: string;
  /** Leaves one header out of the canonicalized amz headers. */
  omitAmzHeader?: string;
}

/**
 * The SigV2 string to sign: method, Content-MD5, Content-Type, Date (empty when `x-amz-date` is
 * present, as the S3 docs require), the canonicalized amz headers, the canonicalized resource.
 */
export function stringToSignV2(input: AuthInput, options: StringToSignV2Options = {}): string {
  const h = input.headers;
  const date = options.dateValue ?? (headerValues(h, "x-amz-date") ? "" : joined(h, "date"));
  return (
    input.method.toUpperCase() + "\n" +
    joined(h, "content-md5") + "\n" +
    joined(h, "content-type") + "\n" +
    date + "\n" +
    canonicalAmzHeadersV2(h, options.omitAmzHeader) +
    canonicalResourceV2(input.rawPath, input.rawQuery, options.bucketFromHost)
  );
}

/**
 * Strings to sign a header-signed request may have used. The first is the documented rule; with
 * `x-amz-date` two variants real signers produce are also accepted: the S3 docs' own DELETE example
 * (x-amz-date's value on the Date line, not repeated as an amz header) and MinIO/lakeFS's form (the
 * Date header's value on the Date line, x-amz-date kept as an amz header).
 */
export function stringToSignV2Candidates(input: AuthInput, bucketFromHost?: string): string[] {
  const base: StringToSignV2Options = bucketFromHost === undefined ? {} : { bucketFromHost };
  const candidates = [stringToSignV2(input, base)];
  const amzDate = headerValues(input.headers, "x-amz-date");
  if (amzDate) {
    candidates.push(stringToSignV2(input, { ...base, dateValue: amzDate.join(","), omitAmzHeader: "x-amz-date" }));
    const date = headerValues(input.headers, "date");
    if (date) candidates.push(stringToSignV2(input, { ...base, dateValue: date.join(",") }));
  }
  return candidates;
}

/** Base64 HMAC-SHA1 of the string to sign. */
export function signV2(secretAccessKey: string, text: string): string {
  return createHmac("sha1", secretAccessKey).update(text, "utf8").digest("base64");
}

/**
 * The SigV2 dates lakeFS parses (pkg/gateway/sig/v2.go parseRequestTime): Go's RFC1123
 * (`Mon, 02 Jan 2006 15:04:05 MST`), RFC1123Z (`… -0700`) and ISO 8601 basic.
 */
const LAKEFS_V2_DATE = /^(?:[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} (?:[A-Z]{3,4}|[+-]\d{4})|\d{8}T\d{6}Z)$/;

/** RFC 1123 / RFC 850 / asctime (via Date.parse) or ISO basic; undefined if unparsable. */
export function parseHttpDate(value: string): number | undefined {
  const iso = parseAmzDate(value);
  if (iso !== undefined) return iso;
  if (!/[A-Za-z]/.test(value)) return undefined; // Date.parse would accept bare numbers
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function mismatchV2(accessKeyId: string, text: string, provided: string): S3Error {
  return new S3Error("SignatureDoesNotMatch", {
    extras: { AWSAccessKeyId: accessKeyId, StringToSign: text, SignatureProvided: provided, StringToSignBytes: hexBytes(text) },
  });
}

function lookupOrThrow(lookup: CredentialLookup, accessKeyId: string) {
  const creds = lookup(accessKeyId);
  if (!creds) throw new S3Error("InvalidAccessKeyId", { extras: { AWSAccessKeyId: accessKeyId } });
  return creds;
}

/** SigV2 with `Authorization: AWS AKID:signature`. */
export function verifySigV2Header(
  input: AuthInput,
  lookup: CredentialLookup,
  now: Date = new Date(),
  bucketFromHost?: string,
  diverge?: Diverge,
): AuthResult {
  const header = (firstHeader(input.headers, "authorization") ?? "").trim();
  const m = /^AWS\s+([^:\s]+):(\S+)$/.exec(header);
  if (!m) {
    throw new S3Error("InvalidArgument", {
      message: "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
      extras: { ArgumentName: "Authorization" },
    });
  }
  const [, accessKeyId, provided] = m as unknown as [string, string, string];
  const creds = lookupOrThrow(lookup, accessKeyId);

  const dateText = (firstHeader(input.headers, "x-amz-date") ?? firstHeader(input.headers, "date"))?.trim();
  if (dateText === undefined || dateText === "") {
    throw new S3Error("AccessDenied", { message: "AWS authentication requires a valid Date or x-amz-date header" });
  }
  const dateMs = parseHttpDate(dateText);
  if (dateMs === undefined) throw new S3Error("MalformedDate");
  if (!LAKEFS_V2_DATE.test(dateText)) diverge?.("sigv2-date-forms");

  const candidates = stringToSignV2Candidates(input, bucketFromHost);
  if (!candidates.some((text) => safeEqual(signV2(creds.secretAccessKey, text), provided))) {
    throw mismatchV2(accessKeyId, candidates[0]!, provided);
  }

  const nowMs = now.getTime();
  if (Math.abs(nowMs - dateMs) > MAX_SKEW_MS) throw skewError(dateText, nowMs);
  return { accessKeyId, scheme: "sigv2-header", payload: { mode: "unsigned" } };
}

/** SigV2 presigned query: `AWSAccessKeyId`, `Expires` (epoch seconds), `Signature`. */
export function verifySigV2Presigned(
  input: AuthInput,
  lookup: CredentialLookup,
  now: Date = new Date(),
  bucketFromHost?: string,
): AuthResult {
  const q = parseQuery(input.rawQuery);
  const accessKeyId = q.get("AWSAccessKeyId");
  const provided = q.get("Signature");
  const expires = q.get("Expires");
  if (!accessKeyId || !provided || expires === undefined) {
    throw new S3Error("AccessDenied", {
      message: "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
    });
  }
  if (!/^\d+$/.test(expires)) {
    throw new S3Error("AccessDenied", { message: `Invalid date (should be seconds since epoch): ${expires}` });
  }
  const creds = lookupOrThrow(lookup, accessKeyId);

  const text = stringToSignV2(input, bucketFromHost === undefined ? { dateValue: expires } : { bucketFromHost, dateValue: expires });
  if (!safeEqual(signV2(creds.secretAccessKey, text), provided)) throw mismatchV2(accessKeyId, text, provided);

  const nowMs = now.getTime();
  if (nowMs > Number(expires) * 1000) {
    throw new S3Error("AccessDenied", {
      message: "Request has expired",
      extras: { Expires: new Date(Number(expires) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"), ServerTime: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, "Z") },
    });
  }
  return { accessKeyId, scheme: "sigv2-presigned", payload: { mode: "unsigned" } };
}
