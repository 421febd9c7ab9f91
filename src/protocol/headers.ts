/**
 * Header semantics shared by the object operations: Range, conditional requests (with S3's
 * precedence), user metadata (x-amz-meta-*), the stored standard headers and Content-Type.
 */
import { createRequire } from "node:module";
import { S3Error } from "./errors.js";
import { decodeRfc2047, encodeRfc2047 } from "./rfc2047.js";
import type { ObjectRecord, StoredHeaders } from "../storage/metadata-store.js";
import type { Diverge } from "./divergences.js";
import type { ByteRange } from "../storage/blob-store.js";

type Headers = Record<string, string | string[] | undefined>;

/** Request headers with repeated values joined by "," (what checksum and body parsing want). */
export function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

// ---- Range --------------------------------------------------------------------------------------

/**
 * Parse a single `bytes=` range against an object size (S3 rules): a valid range gives the
 * inclusive byte range, an unsatisfiable one throws InvalidRange (416), and a malformed one
 * (or several ranges) is ignored — undefined means "the whole object".
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!m) return undefined;
  const [, first, last] = m as unknown as [string, string, string];
  const unsatisfiable = () => new S3Error("InvalidRange", { headers: { "Content-Range": `bytes */${size}` } });
  if (first === "") {
    if (last === "") return undefined;
    const n = Number(last);
    if (n === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Number(last);
  if (last !== "" && end < start) return undefined;
  if (start >= size) throw unsatisfiable();
  return { start, end: Math.min(end, size - 1) };
}

// ---- Conditionals -------------------------------------------------------------------------------

export interface Conditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

function etagList(value: string): string[] {
  return value.split(",").map((t) => t.trim().replace(/^W\//, "").replace(/^"|"$/g, ""));
}

export function etagMatches(value: string, etag: string): boolean {
  return etagList(value).some((t) => t === "*" || t === etag);
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
}

/**
 * Evaluate conditionals against an object, with S3's precedence: If-Match beats
 * If-Unmodified-Since (→ 412), If-None-Match beats If-Modified-Since (→ 304 on reads).
 * `failStatus` 412 is used for copy-source conditionals, where S3 never answers 304.
 */
export function checkConditions(c: Conditions, record: ObjectRecord, notModified: "304" | "412"): void {
  const etag = record.etag;
  const modified = () => Math.floor(Date.parse(record.lastModified) / 1000); // a date is parsed only when asked about
  const failed = () => new S3Error("PreconditionFailed");
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, etag)) throw failed();
  } else {
    const since = parseHttpDate(c.ifUnmodifiedSince);
    if (since !== undefined && modified() > since) throw failed();
  }
  const nm = () =>
    notModified === "412"
      ? failed()
      : new S3Error("NotModified", { headers: { ETag: `"${etag}"`, "Last-Modified": new Date(record.lastModified).toUTCString() } });
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, etag)) throw nm();
  } else {
    const since = parseHttpDate(c.ifModifiedSince);
    if (since !== undefined && modified() <= since) throw nm();
  }
}

export function readConditions(headers: Headers, prefix = ""): Conditions {
  return {
    ifMatch: header(headers, `${prefix}if-match`),
    ifNoneMatch: header(headers, `${prefix}if-none-match`),
    ifModifiedSince: header(headers, `${prefix}if-modified-since`),
    ifUnmodifiedSince: header(headers, `${prefix}if-unmodified-since`),
  };
}

/**
 * Conditional writes (PutObject, CopyObject, CompleteMultipartUpload): `If-None-Match: *` and
 * `If-Match: <etag>`. Returns a check to run atomically against the current record. `diverge`
 * marks (or under --strict refuses) `If-Match`, which lakeFS does not implement.
 */
export function writeCondition(headers: Headers, diverge?: Diverge): ((current: ObjectRecord | undefined) => void) | undefined {
  // An empty header is no condition, as lakeFS reads it (Go's Header.Get; putobject.go
  // ifNoneMatchHeader): SDK middlewares send `If-None-Match:` empty.
  const ifNoneMatch = header(headers, "if-none-match") || undefined;
  const ifMatch = header(headers, "if-match") || undefined;
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  // lakeFS implements only `If-None-Match: *` (pkg/api/apiutil/conditions.go)
  if (ifMatch !== undefined) diverge?.("if-match-write");
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== "*") {
    throw new S3Error("NotImplemented", "If-None-Match only supports the value '*' on writes.");
  }
  return (current) => {
    if (ifNoneMatch !== undefined && current) throw new S3Error("PreconditionFailed");
    if (ifMatch !== undefined) {
      if (!current) throw new S3Error("NoSuchKey");
      if (!etagMatches(ifMatch, current.etag)) throw new S3Error("PreconditionFailed");
    }
  };
}

// ---- Metadata -----------------------------------------------------------------------------------

const META_PREFIX = "x-amz-meta-";
const MAX_METADATA = 2048;

/**
 * User metadata from a request (x-amz-meta-* on S3, x-lakefs-meta-* on the REST API): names
 * lower-cased without the prefix; more than 2 KB in all → MetadataTooLarge.
 */
export function readUserMetadata(headers: Headers, prefix = META_PREFIX): Record<string, string> {
  const meta: Record<string, string> = {};
  let total = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(prefix) || value === undefined) continue;
    const key = name.slice(prefix.length);
    const v = decodeRfc2047(headerText(Array.isArray(value) ? value.join(",") : value));
    // As lakeFS's PutObject answers a value Go's decoder refuses (ErrInvalidHeaderValue).
    if (v === undefined) throw new S3Error("InvalidArgument", "Invalid header value.");
    total += key.length + Buffer.byteLength(v);
    meta[key] = v;
  }
  if (total > MAX_METADATA) throw new S3Error("MetadataTooLarge");
  return meta;
}

/** Response headers for stored user metadata; non-ASCII values are RFC 2047 Q-encoded, as lakeFS (Go's mime.QEncoding) returns them. */
export function userMetadataHeaders(meta: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) out[META_PREFIX + k] = encodeRfc2047(v);
  return out;
}

/**
 * Node reads header bytes as Latin-1; raw UTF-8 values are turned back into the text they encode
 * (what botocore sends and signs). Anything else is kept as read: the JS SDK signs the UTF-8 of
 * its text but Node's client sends Latin-1 bytes, and those read back as that same text.
 */
export function headerText(value: string): string {
  if (/^[\x00-\x7f]*$/.test(value)) return value;
  const bytes = Buffer.from(value, "latin1");
  const utf8 = bytes.toString("utf8");
  return Buffer.from(utf8, "utf8").equals(bytes) ? utf8 : value;
}

// ---- Standard headers -----------------------------------------------------------------------------

/**
 * Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires, kept verbatim
 * as S3 does; only the `aws-chunked` token (the request's framing) leaves Content-Encoding.
 */
export function readStoredHeaders(headers: Headers): StoredHeaders {
  const encoding = header(headers, "content-encoding")
    ?.split(",")
    .filter((t) => t.trim().toLowerCase() !== "aws-chunked")
    .join(",")
    .trim();
  return stripEmpty({
    cacheControl: header(headers, "cache-control"),
    contentDisposition: header(headers, "content-disposition"),
    contentEncoding: encoding,
    contentLanguage: header(headers, "content-language"),
    expires: header(headers, "expires"),
  });
}

export function storedHeaderValues(h: StoredHeaders): Record<string, string | undefined> {
  return {
    "Cache-Control": h.cacheControl,
    "Content-Disposition": h.contentDisposition,
    "Content-Encoding": h.contentEncoding,
    "Content-Language": h.contentLanguage,
    Expires: h.expires,
  };
}

/** The response-* query overrides of GetObject. */
export function responseOverrides(query: URLSearchParams): Record<string, string | undefined> {
  if (query.size === 0) return {};
  const get = (name: string) => query.get(name) ?? undefined;
  return stripEmpty({
    "Content-Type": get("response-content-type"),
    "Content-Language": get("response-content-language"),
    Expires: get("response-expires"),
    "Cache-Control": get("response-cache-control"),
    "Content-Disposition": get("response-content-disposition"),
    "Content-Encoding": get("response-content-encoding"),
  });
}

/** The request's Content-Type, else one inferred from the key's extension, else octet-stream. */
export function contentTypeFor(headers: Headers, key: string): string {
  return header(headers, "content-type") || contentTypeOfKey(key);
}

/**
 * mime-types, loaded on first use: parsing its database is a good part of a server's start-up, and
 * only a write without a Content-Type needs it.
 */
let mimeTypes: typeof import("mime-types") | undefined;

/** The media type of a key's extension, else octet-stream. */
export function contentTypeOfKey(key: string): string {
  mimeTypes ??= createRequire(import.meta.url)("mime-types") as typeof import("mime-types");
  return mimeTypes.lookup(key) || "application/octet-stream";
}

function stripEmpty<T extends Record<string, string | undefined>>(o: T): T {
  const out: Record<string, string> = {};
  for (const k in o) {
    const v = o[k];
    if (v !== undefined && v !== "") out[k] = v;
  }
  return out as T;
}

/** An HTTP date (Last-Modified) of a stored ISO timestamp; remembered, as the same objects are read again and again. */
export function httpDate(iso: string): string {
  let text = httpDates.get(iso);
  if (text === undefined) {
    if (httpDates.size >= HTTP_DATES_KEPT) httpDates.clear();
    text = new Date(iso).toUTCString();
    httpDates.set(iso, text);
  }
  return text;
}
const httpDates = new Map<string, string>();
const HTTP_DATES_KEPT = 10_000;
/** S3 XML timestamps: 2006-01-02T15:04:05.000Z (what records keep: those are returned as they are). */
export const xmlDate = (iso: string) => (XML_DATE.test(iso) ? iso : new Date(iso).toISOString());
const XML_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
