/**
 * AWS Signature Version 4 (AWS4-HMAC-SHA256) for the S3 gateway: S3-flavoured canonicalisation
 * (path decoded once and re-encoded, never normalised), signing-key derivation, and verification of
 * the Authorization-header and presigned-query forms. Errors are S3Errors with the codes S3/lakeFS use.
 */
import { createHmac, hash } from "node:crypto";
import { S3Error } from "../protocol/errors.js";
import { headerText } from "../protocol/headers.js";
import type { AuthInput, AuthResult, ChunkSigningContext, Credentials, PayloadMode } from "./types.js";

export const ALGORITHM = "AWS4-HMAC-SHA256";
export const ALGORITHM_V4A = "AWS4-ECDSA-P256-SHA256";
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
export const STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
export const STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
export const STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
export const STREAMING_V4A = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD";
export const STREAMING_V4A_TRAILER = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER";
/** S3's MaxAllowedSkewMilliseconds. */
export const MAX_SKEW_MS = 15 * 60 * 1000;
/** Longest presigned-URL lifetime S3 accepts, in seconds (7 days). */
export const MAX_PRESIGN_EXPIRES = 604800;

export type CredentialLookup = (accessKeyId: string) => Credentials | undefined;

// ---------------------------------------------------------------------------------------------
// Encoding

const HEX_UPPER = "0123456789ABCDEF";
const ENCODED_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  isUnreservedByte(b) ? String.fromCharCode(b) : "%" + HEX_UPPER[b >> 4] + HEX_UPPER[b & 15],
);
const PLAIN_PATH = /^[A-Za-z0-9\-._~/]*$/;
const PLAIN_COMPONENT = /^[A-Za-z0-9\-._~]*$/;

function isUnreservedByte(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x30 && b <= 0x39) || // 0-9
    b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e // - . _ ~
  );
}

/** RFC 3986 encoding of raw bytes as SigV4 wants it: unreserved kept, everything else `%XX` (upper case). */
export function uriEncodeBytes(bytes: Uint8Array, encodeSlash: boolean): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += b === 0x2f && !encodeSlash ? "/" : ENCODED_BYTE[b]!;
  }
  return out;
}

/** SigV4 URI encoding of a string's UTF-8 bytes; `/` is kept unless `encodeSlash`. Space is `%20`. */
export function uriEncode(str: string, encodeSlash: boolean): string {
  if ((encodeSlash ? PLAIN_COMPONENT : PLAIN_PATH).test(str)) return str;
  return uriEncodeBytes(Buffer.from(str, "utf8"), encodeSlash);
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Decodes `%XX` escapes to bytes; everything else is taken as UTF-8 text. `+` stays `+`. A `%` that
 * does not start a valid escape is kept literally, so this never throws.
 */
export function percentDecode(str: string): Buffer {
  if (!str.includes("%")) return Buffer.from(str, "utf8");
  const parts: Buffer[] = [];
  let textStart = 0;
  const bytes: number[] = [];
  const flushBytes = (): void => {
    if (bytes.length > 0) {
      parts.push(Buffer.from(bytes));
      bytes.length = 0;
    }
  };
  for (let i = 0; i < str.length; i++) {
    if (
      str.charCodeAt(i) === 0x25 &&
      i + 2 < str.length &&
      isHexDigit(str.charCodeAt(i + 1)) &&
      isHexDigit(str.charCodeAt(i + 2))
    ) {
      if (i > textStart) {
        flushBytes();
        parts.push(Buffer.from(str.slice(textStart, i), "utf8"));
      }
      bytes.push(parseInt(str.slice(i + 1, i + 3), 16));
      i += 2;
      textStart = i + 1;
    }
  }
  flushBytes();
  if (textStart < str.length) parts.push(Buffer.from(str.slice(textStart), "utf8"));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** `percentDecode` as a string (invalid UTF-8 becomes U+FFFD). */
export function percentDecodeString(str: string): string {
  return str.includes("%") ? percentDecode(str).toString("utf8") : str;
}

// ---------------------------------------------------------------------------------------------
// Canonical request

/** S3 canonical URI: the raw path decoded once and re-encoded, `/` kept, no dot-segment or `//` normalisation. */
export function canonicalUri(rawPath: string): string {
  if (rawPath === "") return "/";
  if (PLAIN_PATH.test(rawPath)) return rawPath;
  return uriEncodeBytes(percentDecode(rawPath), false);
}

/** Raw query pairs, in order, decoded (`%XX` only). A pair without `=` has the value "". */
export function parseQueryPairs(rawQuery: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (rawQuery === "") return pairs;
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? "" : part.slice(eq + 1);
    pairs.push([percentDecodeString(k), percentDecodeString(v)]);
  }
  return pairs;
}

/** The first value of each query parameter (decoded). */
export function parseQuery(rawQuery: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const [k, v] of parseQueryPairs(rawQuery)) if (!map.has(k)) map.set(k, v);
  return map;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Canonical query string: every pair (duplicates included), keys and values decoded and re-encoded
 * with `/` encoded, sorted by key then value; `X-Amz-Signature` left out when `presigned`.
 */
export function canonicalQuery(rawQuery: string, presigned = false): string {
  if (rawQuery === "") return "";
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? "" : part.slice(eq + 1);
    const key = PLAIN_COMPONENT.test(rawKey) ? rawKey : uriEncodeBytes(percentDecode(rawKey), true);
    if (presigned && key === "X-Amz-Signature") continue;
    const value = PLAIN_COMPONENT.test(rawValue) ? rawValue : uriEncodeBytes(percentDecode(rawValue), true);
    pairs.push([key, value]);
  }
  pairs.sort((a, b) => compareStrings(a[0], b[0]) || compareStrings(a[1], b[1]));
  let out = "";
  for (const [k, v] of pairs) out += (out === "" ? "" : "&") + k + "=" + v;
  return out;
}

/** All values of a header as text, trimmed, inner whitespace runs collapsed, joined with `,`. */
export function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((v) => headerText(v).trim().replace(/\s+/g, " ")).join(",");
}

/** Values of a lower-case header name (own properties only, so `__proto__` & co. are safe). */
export function headerValues(headers: Record<string, string[]>, name: string): string[] | undefined {
  return Object.hasOwn(headers, name) ? headers[name] : undefined;
}

/** The first value of a header, or undefined. */
export function firstHeader(headers: Record<string, string[]>, name: string): string | undefined {
  return headerValues(headers, name)?.[0];
}

/** `name:value\n` for each signed header, in the order given (signers send them sorted). */
export function canonicalHeaders(headers: Record<string, string[]>, signedHeaders: readonly string[]): string {
  let out = "";
  for (const name of signedHeaders) out += name + ":" + canonicalHeaderValue(headerValues(headers, name) ?? []) + "\n";
  return out;
}

export interface CanonicalRequestParts {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string[]>;
  /** Lower-case names, in the order of the signature's SignedHeaders. */
  signedHeaders: readonly string[];
  payloadHash: string;
  /** Leaves `X-Amz-Signature` out of the canonical query. */
  presigned?: boolean;
}

export function canonicalRequest(p: CanonicalRequestParts): string {
  return (
    p.method + "\n" +
    canonicalUri(p.rawPath) + "\n" +
    canonicalQuery(p.rawQuery, p.presigned ?? false) + "\n" +
    canonicalHeaders(p.headers, p.signedHeaders) + "\n" +
    p.signedHeaders.join(";") + "\n" +
    p.payloadHash
  );
}

// ---------------------------------------------------------------------------------------------
// Hashing and signing

/** One-shot (no Hash object): half the cost of createHash().update().digest() for a canonical request. */
export function sha256Hex(data: string | Uint8Array): string {
  return hash("sha256", data, "hex");
}

export function hmacHex(key: Uint8Array | string, data: string): string {
  return createHmac("sha256", key).update(data, "utf8").digest("hex");
}

function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`;
}

export function stringToSign(amzDate: string, scope: string, canonicalRequestText: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequestText)}`;
}

/** String to sign of one aws-chunked chunk (sigv4-streaming). */
export function chunkStringToSign(amzDate: string, scope: string, previousSignature: string, chunkSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256Hex}`;
}

/** String to sign of the trailer chunk (sigv4-streaming-trailers); the hash covers each trailer as `name:value\n`. */
export function trailerStringToSign(amzDate: string, scope: string, previousSignature: string, trailerSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previousSignature}\n${trailerSha256Hex}`;
}

const keyCache = new Map<string, Buffer>();
const KEY_CACHE_MAX = 256;

/** kSigning = HMAC chain over "AWS4"+secret, date, region, service, "aws4_request" (memoised). */
export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const cacheKey = `${date}\n${region}\n${service}\n${secretAccessKey}`;
  const cached = keyCache.get(cacheKey);
  if (cached) return cached;
  const kDate = hmac("AWS4" + secretAccessKey, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  const kSigning = hmac(kService, "aws4_request");
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(cacheKey, kSigning);
  return kSigning;
}

/** Constant-time comparison of two signature strings (hex is compared case-insensitively by the callers). */
export function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** AWS's `StringToSignBytes` rendering: space-separated two-digit lower-case hex of the UTF-8 bytes. */
export function hexBytes(text: string): string {
  const hex = Buffer.from(text, "utf8").toString("hex");
  let out = "";
  for (let i = 0; i < hex.length; i += 2) out += (i === 0 ? "" : " ") + hex.slice(i, i + 2);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Dates

const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses `YYYYMMDDTHHMMSSZ` to epoch milliseconds; undefined if malformed or not a real instant. */
export function parseAmzDate(value: string): number | undefined {
  if (value === lastAmzDate.text) return lastAmzDate.ms; // requests of one second share it
  const ms = parseAmzDateUncached(value);
  lastAmzDate = { text: value, ms };
  return ms;
}

let lastAmzDate: { text: string; ms: number | undefined } = { text: "", ms: undefined };

function parseAmzDateUncached(value: string): number | undefined {
  const m = ISO_BASIC.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (
    back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d ||
    back.getUTCHours() !== h || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  return ms;
}

/** `YYYYMMDDTHHMMSSZ` for an instant. */
export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function skewError(requestTime: string, nowMs: number): S3Error {
  return new S3Error("RequestTimeTooSkewed", {
    extras: { RequestTime: requestTime, ServerTime: isoSeconds(nowMs), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) },
  });
}

// ---------------------------------------------------------------------------------------------
// Parsing the signature parameters

export interface ParsedCredential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  scope: string;
}

/** `AKID/YYYYMMDD/region/service/aws4_request`, or undefined. */
export function parseCredential(value: string): ParsedCredential | undefined {
  const parts = value.split("/");
  if (parts.length !== 5) return undefined;
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (accessKeyId === "" || !/^\d{8}$/.test(date) || region === "" || service === "" || terminator !== "aws4_request") {
    return undefined;
  }
  return { accessKeyId, date, region, service, scope: credentialScope(date, region, service) };
}

/** `a;b;c` to lower-case names; undefined if empty or containing empty or non-token names. */
export function parseSignedHeaders(value: string): string[] | undefined {
  const lower = value.toLowerCase();
  return SIGNED_HEADERS.test(lower) ? lower.split(";") : undefined;
}

/** Token names separated by single `;`. */
const SIGNED_HEADERS = /^[!#$%&'*+\-.^_`|~0-9a-z]+(?:;[!#$%&'*+\-.^_`|~0-9a-z]+)*$/;

export interface ParsedAuthorizationV4 extends ParsedCredential {
  signedHeaders: string[];
  /** Lower-cased. */
  signature: string;
}

const CREDENTIAL_FORMAT = 'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"';

function malformedHeader(detail: string): S3Error {
  return new S3Error("AuthorizationHeaderMalformed", { message: `The authorization header is malformed; ${detail}` });
}

/**
 * Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. Components may be separated
 * by commas and/or whitespace, in any order. Throws 400 AuthorizationHeaderMalformed.
 */
export function parseAuthorizationV4(value: string): ParsedAuthorizationV4 {
  const trimmed = value.trim();
  const usual = USUAL_AUTHORIZATION.exec(trimmed);
  if (usual) {
    const signing = signingParts(usual[1]!, usual[2]!);
    if (signing) {
      const { accessKeyId, date, region, service, scope } = signing.credential;
      return { accessKeyId, date, region, service, scope, signedHeaders: signing.signedHeaders, signature: usual[3]!.toLowerCase() };
    }
  }
  if (!trimmed.startsWith(ALGORITHM) || !isSpace(trimmed.charCodeAt(ALGORITHM.length))) {
    throw malformedHeader(`the authorization header requires the ${ALGORITHM} algorithm followed by its components.`);
  }
  const fields: Partial<Record<Component, string>> = {};
  for (const token of components(trimmed, ALGORITHM.length)) {
    const eq = token.indexOf("=");
    if (eq <= 0) throw malformedHeader(`the authorization component "${token}" is malformed.`);
    const name = COMPONENTS.get(token.slice(0, eq).toLowerCase());
    if (!name) continue; // unknown components are ignored
    if (fields[name] !== undefined) throw malformedHeader(`the ${name} component appears more than once.`);
    fields[name] = token.slice(eq + 1);
  }
  const { Credential: credentialValue, SignedHeaders: signedHeadersValue, Signature: signature } = fields;
  const missing = [...COMPONENTS.values()].filter((n) => fields[n] === undefined);
  if (missing.length > 0) throw malformedHeader(`missing ${missing.join(", ")}.`);
  const credential = parseCredential(credentialValue!);
  if (!credential) throw malformedHeader(`the Credential is mal-formed; ${CREDENTIAL_FORMAT}.`);
  const signedHeaders = parseSignedHeaders(signedHeadersValue!);
  if (!signedHeaders) throw malformedHeader("the SignedHeaders component is mal-formed.");
  if (!signature) throw malformedHeader("the Signature component is empty.");
  return Object.assign(credential, { signedHeaders, signature: signature.toLowerCase() });
}

/**
 * The form every SDK sends (`Credential=…, SignedHeaders=…, Signature=…`, in that order), read with
 * one expression; anything else, well-formed or not, goes through the general parser above.
 */
const USUAL_AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^\s,]+), ?SignedHeaders=([^\s,]+), ?Signature=([^\s,]+)$/;

/**
 * A client signs every request with the same Credential and SignedHeaders (until the date
 * changes), so the last pair parsed is kept; undefined when either is malformed. Callers copy the
 * credential and do not change the names.
 */
let lastSigning: { credential: string; names: string; parsed?: { credential: ParsedCredential; signedHeaders: string[] } } = { credential: "", names: "" };
function signingParts(credential: string, names: string): { credential: ParsedCredential; signedHeaders: string[] } | undefined {
  if (credential !== lastSigning.credential || names !== lastSigning.names) {
    const parsedCredential = parseCredential(credential);
    const signedHeaders = parseSignedHeaders(names);
    lastSigning = { credential, names, parsed: parsedCredential && signedHeaders ? { credential: parsedCredential, signedHeaders } : undefined };
  }
  return lastSigning.parsed;
}

/** The non-empty runs of `text` from `start` between commas and white space. */
function components(text: string, start: number): string[] {
  const out: string[] = [];
  let from = -1;
  for (let i = start; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2c;
    if (c === 0x2c || isSpace(c)) {
      if (from >= 0) out.push(text.slice(from, i));
      from = -1;
    } else if (from < 0) from = i;
  }
  return out;
}

/** What `\s` matches in a JavaScript regular expression. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c > 0x7f && (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff));
}

/** The Authorization components, by their lower-case names (matched case-insensitively). */
type Component = "Credential" | "SignedHeaders" | "Signature";
const COMPONENTS = new Map<string, Component>([
  ["credential", "Credential"],
  ["signedheaders", "SignedHeaders"],
  ["signature", "Signature"],
]);

// ---------------------------------------------------------------------------------------------
// Payload modes

const PAYLOAD_MODES: Readonly<Record<string, PayloadMode>> = {
  [UNSIGNED_PAYLOAD]: "unsigned",
  [STREAMING_SIGNED]: "streaming-signed",
  [STREAMING_SIGNED_TRAILER]: "streaming-signed-trailer",
  [STREAMING_UNSIGNED_TRAILER]: "streaming-unsigned-trailer",
};

/** Maps an `x-amz-content-sha256` value to a payload mode; 400 InvalidArgument / 501 NotImplemented otherwise. */
export function payloadModeOf(value: string): { mode: PayloadMode; sha256?: string } {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { mode: "sha256", sha256: value.toLowerCase() };
  const mode = Object.hasOwn(PAYLOAD_MODES, value) ? PAYLOAD_MODES[value] : undefined;
  if (mode) return { mode };
  if (value === STREAMING_V4A || value === STREAMING_V4A_TRAILER) {
    throw new S3Error("NotImplemented", { message: `SigV4a streaming payloads (${value}) are not supported.` });
  }
  throw new S3Error("InvalidArgument", {
    message:
      `x-amz-content-sha256 must be ${UNSIGNED_PAYLOAD}, ${STREAMING_UNSIGNED_TRAILER}, ${STREAMING_SIGNED}, ` +
      `${STREAMING_SIGNED_TRAILER}, ${STREAMING_V4A}, ${STREAMING_V4A_TRAILER} or a valid sha256 value.`,
    extras: { ArgumentName: "x-amz-content-sha256", ArgumentValue: value },
  });
}

function payloadResult(
  modeInfo: { mode: PayloadMode; sha256?: string },
  signing: ChunkSigningContext,
): AuthResult["payload"] {
  const payload: AuthResult["payload"] = { mode: modeInfo.mode };
  if (modeInfo.sha256 !== undefined) payload.sha256 = modeInfo.sha256;
  if (modeInfo.mode === "streaming-signed" || modeInfo.mode === "streaming-signed-trailer") payload.chunkSigning = signing;
  return payload;
}

// ---------------------------------------------------------------------------------------------
// Verification

interface Computed {
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
  signingKey: Buffer;
}

function compute(
  input: AuthInput,
  secret: string,
  cred: ParsedCredential,
  amzDate: string,
  signedHeaders: readonly string[],
  payloadHash: string,
  presigned: boolean,
): Computed {
  const creq = canonicalRequest({
    method: input.method,
    rawPath: input.rawPath,
    rawQuery: input.rawQuery,
    headers: input.headers,
    signedHeaders,
    payloadHash,
    presigned,
  });
  const sts = stringToSign(amzDate, cred.scope, creq);
  const signingKey = deriveSigningKey(secret, cred.date, cred.region, cred.service);
  return { canonicalRequest: creq, stringToSign: sts, signature: hmacHex(signingKey, sts), signingKey };
}

/** 403 SignatureDoesNotMatch with AWS's diagnostic elements, in AWS's order. */
export function signatureMismatch(accessKeyId: string, computed: { stringToSign: string; canonicalRequest?: string }, provided: string): S3Error {
  const extras: Record<string, string> = {
    AWSAccessKeyId: accessKeyId,
    StringToSign: computed.stringToSign,
    SignatureProvided: provided,
    StringToSignBytes: hexBytes(computed.stringToSign),
  };
  if (computed.canonicalRequest !== undefined) {
    extras.CanonicalRequest = computed.canonicalRequest;
    extras.CanonicalRequestBytes = hexBytes(computed.canonicalRequest);
  }
  return new S3Error("SignatureDoesNotMatch", { extras });
}

function lookupOrThrow(lookup: CredentialLookup, accessKeyId: string): Credentials {
  const creds = lookup(accessKeyId);
  if (!creds) throw new S3Error("InvalidAccessKeyId", { extras: { AWSAccessKeyId: accessKeyId } });
  return creds;
}

/** SigV4 with the Authorization header. */
export function verifySigV4Header(input: AuthInput, lookup: CredentialLookup, now: Date = new Date(), httpDate = false): AuthResult {
  const auth = parseAuthorizationV4(firstHeader(input.headers, "authorization") ?? "");

  const contentSha = firstHeader(input.headers, "x-amz-content-sha256")?.trim();
  if (contentSha === undefined) {
    throw new S3Error("InvalidRequest", { message: "Missing required header for this request: x-amz-content-sha256" });
  }
  const modeInfo = payloadModeOf(contentSha);

  const creds = lookupOrThrow(lookup, auth.accessKeyId);

  const xAmzDate = firstHeader(input.headers, "x-amz-date")?.trim();
  let amzDate = xAmzDate ?? firstHeader(input.headers, "date")?.trim();
  if (amzDate === undefined || amzDate === "") {
    throw new S3Error("AccessDenied", { message: "AWS authentication requires a valid Date or x-amz-date header" });
  }
  // A `Date` header in RFC 1123 form dates the request; the string to sign has it in ISO basic.
  if (httpDate && xAmzDate === undefined && parseAmzDate(amzDate) === undefined) {
    const ms = /GMT$/.test(amzDate) ? Date.parse(amzDate) : NaN;
    if (!Number.isNaN(ms)) amzDate = formatAmzDate(new Date(ms));
  }
  const dateMs = parseAmzDate(amzDate);
  if (dateMs === undefined) throw new S3Error("MalformedDate");
  if (amzDate.slice(0, 8) !== auth.date) {
    throw malformedHeader(`Invalid credential date "${auth.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }

  const computed = compute(input, creds.secretAccessKey, auth, amzDate, auth.signedHeaders, contentSha, false);
  if (!safeEqual(computed.signature, auth.signature)) throw signatureMismatch(auth.accessKeyId, computed, auth.signature);

  const nowMs = now.getTime();
  if (Math.abs(nowMs - dateMs) > MAX_SKEW_MS) throw skewError(amzDate, nowMs);

  return {
    accessKeyId: auth.accessKeyId,
    scheme: "sigv4-header",
    payload: payloadResult(modeInfo, { signingKey: computed.signingKey, amzDate, scope: auth.scope, seedSignature: computed.signature }),
  };
}

const PRESIGN_PARAMS = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"] as const;

function queryError(message: string): S3Error {
  return new S3Error("AuthorizationQueryParametersError", { message });
}

/** SigV4 with the presigned query parameters (`X-Amz-Algorithm` present). */
export function verifySigV4Presigned(input: AuthInput, lookup: CredentialLookup, now: Date = new Date()): AuthResult {
  const q = parseQuery(input.rawQuery);

  const algorithm = q.get("X-Amz-Algorithm") ?? "";
  if (algorithm.toUpperCase() === ALGORITHM_V4A) {
    throw new S3Error("NotImplemented", { message: `${ALGORITHM_V4A} (SigV4a) is not supported.` });
  }
  if (algorithm.toUpperCase() !== ALGORITHM) throw queryError(`X-Amz-Algorithm only supports "${ALGORITHM}"`);

  const missing = PRESIGN_PARAMS.filter((p) => !q.has(p));
  if (missing.length > 0) {
    throw queryError(
      "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, " +
        `X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters. Missing: ${missing.join(", ")}.`,
    );
  }
  const cred = parseCredential(q.get("X-Amz-Credential")!);
  if (!cred) throw queryError(`Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; ${CREDENTIAL_FORMAT}.`);

  const amzDate = q.get("X-Amz-Date")!;
  const dateMs = parseAmzDate(amzDate);
  if (dateMs === undefined) throw queryError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  if (amzDate.slice(0, 8) !== cred.date) {
    throw queryError(`Error parsing the X-Amz-Credential parameter; Invalid credential date "${cred.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }

  const expiresText = q.get("X-Amz-Expires")!;
  if (!/^[+-]?\d+$/.test(expiresText)) throw queryError("X-Amz-Expires should be a number");
  const expires = Number(expiresText);
  if (expires < 0) throw queryError("X-Amz-Expires must be non-negative");
  if (expires > MAX_PRESIGN_EXPIRES) throw queryError(`X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGN_EXPIRES}`);

  const signedHeaders = parseSignedHeaders(q.get("X-Amz-SignedHeaders")!);
  if (!signedHeaders) throw queryError("Error parsing the X-Amz-SignedHeaders parameter.");
  const signature = q.get("X-Amz-Signature")!.toLowerCase();
  if (signature === "") throw queryError("Error parsing the X-Amz-Signature parameter.");

  const signedSet = new Set(signedHeaders);
  const notSigned = Object.keys(input.headers).filter((h) => h.startsWith("x-amz-") && !signedSet.has(h)).sort();
  if (notSigned.length > 0) {
    throw new S3Error("AccessDenied", {
      message: "There were headers present in the request which were not signed",
      extras: { HeadersNotSigned: notSigned.join(", ") },
    });
  }

  const contentSha = firstHeader(input.headers, "x-amz-content-sha256")?.trim() ?? UNSIGNED_PAYLOAD;
  const modeInfo = payloadModeOf(contentSha);

  const creds = lookupOrThrow(lookup, cred.accessKeyId);
  const computed = compute(input, creds.secretAccessKey, cred, amzDate, signedHeaders, contentSha, true);
  if (!safeEqual(computed.signature, signature)) throw signatureMismatch(cred.accessKeyId, computed, signature);

  const nowMs = now.getTime();
  if (dateMs - nowMs > MAX_SKEW_MS) throw new S3Error("AccessDenied", { message: "Request is not valid yet" });
  const expiresAt = dateMs + expires * 1000;
  if (nowMs > expiresAt) {
    throw new S3Error("AccessDenied", {
      message: "Request has expired",
      extras: { "X-Amz-Expires": expiresText, Expires: isoSeconds(expiresAt), ServerTime: isoSeconds(nowMs) },
    });
  }

  return {
    accessKeyId: cred.accessKeyId,
    scheme: "sigv4-presigned",
    payload: payloadResult(modeInfo, { signingKey: computed.signingKey, amzDate, scope: cred.scope, seedSignature: computed.signature }),
  };
}
