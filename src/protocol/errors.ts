/**
 * One error type for the whole gateway. Anything thrown while serving a request is either an
 * S3Error (rendered as S3 XML with the status and message from the table below) or becomes
 * InternalError without leaking its text. Codes follow lakeFS's gateway (pkg/gateway/errors) where
 * lakeFS emits them, and S3 where lakeFS is lax (see README "Compatibility").
 */
import { StorageError } from "../storage/errors.js";

interface ErrorSpec {
  status: number;
  message: string;
}

const TABLE = {
  AccessDenied: { status: 403, message: "Access Denied." },
  AccessForbidden: { status: 403, message: "CORSResponse: This CORS request is not allowed: lakes3 answers browsers on loopback origins only (start it with --cors-origin to allow another origin)." },
  AuthorizationHeaderMalformed: { status: 400, message: "The authorization header is malformed." },
  AuthorizationQueryParametersError: { status: 400, message: "Error parsing the query parameters." },
  BadDigest: { status: 400, message: "The Content-MD5 or checksum value that you specified did not match what the server received." },
  BadRequest: { status: 400, message: "400 BadRequest" },
  BucketAlreadyExists: { status: 409, message: "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again." },
  BucketAlreadyOwnedByYou: { status: 409, message: "Your previous request to create the named bucket succeeded and you already own it." },
  BucketNotEmpty: { status: 409, message: "The bucket you tried to delete is not empty." },
  ConditionalRequestConflict: { status: 409, message: "A conflicting operation occurred. If using PutObject you can retry the request." },
  EntityTooLarge: { status: 400, message: "Your proposed upload exceeds the maximum allowed object size." },
  EntityTooSmall: { status: 400, message: "Your proposed upload is smaller than the minimum allowed object size." },
  ERRLakeFSNotSupported: { status: 405, message: "This operation is not supported in LakeFS" },
  ErrNoSuchBucketPossibleAPIEndpoint: { status: 404, message: 'Repository "api" not found; this can happen if your endpoint URL mistakenly ends in "/api/v1".' },
  ErrReadOnlyRepository: { status: 403, message: "Attempted to write to a read-only repository" },
  ErrWriteToProtectedBranch: { status: 403, message: "Attempted to write to a protected branch" },
  ErrDeletingKey: { status: 400, message: "error deleting object" },
  IncompleteBody: { status: 400, message: "You did not provide the number of bytes specified by the Content-Length HTTP header." },
  InternalError: { status: 500, message: "We encountered an internal error, please try again." },
  InvalidAccessKeyId: { status: 403, message: "The AWS Access Key Id you provided does not exist in our records." },
  InvalidArgument: { status: 400, message: "Invalid Argument" },
  InvalidBucketName: { status: 400, message: "The specified bucket is not valid." },
  InvalidChunkSizeError: { status: 403, message: "Only the last chunk is allowed to have a size less than 8192 bytes" },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  InvalidDigest: { status: 400, message: "The Content-MD5 you specified is not valid." },
  InvalidPart: { status: 400, message: "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag." },
  InvalidPartOrder: { status: 400, message: "The list of parts was not in ascending order. Parts must be ordered by part number." },
  InvalidRange: { status: 416, message: "The requested range is not satisfiable" },
  InvalidPartNumber: { status: 416, message: "The requested partnumber is not satisfiable" },
  InvalidRequest: { status: 400, message: "Invalid Request" },
  KeyTooLongError: { status: 400, message: "Your key is too long" },
  MalformedDate: { status: 400, message: "Invalid date format header, expected to be in ISO8601, RFC1123 or RFC1123Z time format." },
  MalformedXML: { status: 400, message: "The XML you provided was not well-formed or did not validate against our published schema." },
  MetadataTooLarge: { status: 400, message: "Your metadata headers exceed the maximum allowed metadata size" },
  MethodNotAllowed: { status: 405, message: "The specified method is not allowed against this resource." },
  MissingContentLength: { status: 411, message: "You must provide the Content-Length HTTP header." },
  MissingFields: { status: 400, message: "Missing fields in request." },
  NoSuchBucket: { status: 404, message: "The specified bucket does not exist" },
  NoSuchKey: { status: 404, message: "The specified key does not exist." },
  NoSuchUpload: { status: 404, message: "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed." },
  NotImplemented: { status: 501, message: "A header you provided implies functionality that is not implemented" },
  NotModified: { status: 304, message: "Not Modified" },
  PreconditionFailed: { status: 412, message: "At least one of the pre-conditions you specified did not hold" },
  RequestTimeout: { status: 400, message: "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed." },
  RequestTimeTooSkewed: { status: 403, message: "The difference between the request time and the server's time is too large." },
  RequestHeaderSectionTooLarge: { status: 400, message: "Your request header section exceeds the maximum allowed size." },
  SignatureDoesNotMatch: { status: 403, message: "The request signature we calculated does not match the signature you provided. Check your key and signing method." },
  ServiceUnavailable: { status: 503, message: "Service is unable to handle request." },
  SlowDown: { status: 503, message: "Please reduce your request rate." },
  XAmzContentSHA256Mismatch: { status: 400, message: "The provided 'x-amz-content-sha256' header does not match what was computed." },
} satisfies Record<string, ErrorSpec>;

export type S3ErrorCode = keyof typeof TABLE;

/** Extra fields some errors carry in their XML body (AWS adds them, e.g. StringToSign). */
export type ErrorExtras = Record<string, string>;

export interface S3ErrorOptions {
  /** Replaces the table's message. */
  message?: string;
  /** Object path (without ref) for object-level errors. */
  key?: string;
  bucket?: string;
  /** lakeFS convention: `ref@repo` for object level, `repo` for bucket level. */
  resource?: string;
  /** Additional XML elements, rendered after HostId (e.g. StringToSign, CanonicalRequest). */
  extras?: ErrorExtras;
  /** Extra response headers (e.g. Content-Range on 416). */
  headers?: Record<string, string>;
}

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly options: S3ErrorOptions;

  constructor(code: S3ErrorCode, options: S3ErrorOptions | string = {}) {
    const opts = typeof options === "string" ? { message: options } : options;
    const spec: ErrorSpec = TABLE[code];
    super(opts.message ?? spec.message);
    this.name = "S3Error";
    this.code = code;
    this.status = spec.status;
    this.options = opts;
  }

  /** A copy of this error with the object/bucket context filled in where it is still empty. */
  withContext(ctx: Pick<S3ErrorOptions, "key" | "bucket" | "resource">): S3Error {
    const merged: S3ErrorOptions = { ...ctx, ...stripUndefined(this.options) };
    const copy = new S3Error(this.code, merged);
    copy.stack = this.stack;
    return copy;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Any thrown value as an S3Error. A storage failure keeps its message, which names the cause and
 * what to do (disk full, read-only, a missing data file); a store that is reopening after a failed
 * write is 503 (clients retry); unknown errors become InternalError (their text never leaks).
 */
export function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  if (err instanceof StorageError) {
    if (err.problem === "too-large") return new S3Error("EntityTooLarge");
    return new S3Error(err.problem === "unavailable" ? "ServiceUnavailable" : "InternalError", err.message);
  }
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause instanceof S3Error) return cause;
  return new S3Error("InternalError");
}

export function isS3Error(err: unknown, code?: S3ErrorCode): err is S3Error {
  return err instanceof S3Error && (code === undefined || err.code === code);
}

/** Whether `code` is in the error table (e.g. a code a fault rule names). */
export function isS3ErrorCode(code: string): code is S3ErrorCode {
  return Object.hasOwn(TABLE, code);
}
