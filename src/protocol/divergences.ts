/**
 * The catalogue of every place where lakes3 answers differently from lakeFS (lakefs mode), with
 * what lakeFS answers and the lakeFS source it comes from (treeverse/lakeFS at 71a45eeb). It drives
 * three things, so they cannot drift apart:
 *
 * - portability warnings: a request whose answer relies on a `permissive` entry (lakes3 accepts,
 *   honours or answers something lakeFS refuses or ignores) carries `divergence: { id, lakefs }`;
 * - `--strict`: the same request gets lakeFS's answer (the entry's `strict` error, or, for what
 *   lakeFS ignores, the handler's lakeFS behaviour);
 * - the README table "Where lakes3 differs from lakeFS", checked row by row against `readmeTable()`.
 *
 * Entries of the other kinds (lakes3 stricter, lakeFS answering a client mistake with a 500 or a
 * non-S3 code, lakeFS returning wrong data, differences only in `--mode s3`) are listed for the
 * README and answered as S3 in both modes: no warning, nothing to strip.
 *
 * A handler names the entry it relies on: `if (ctx.diverge("part-number-get")) … else …`.
 */
import { S3Error } from "./errors.js";

export type DivergenceKind =
  /** lakes3 accepts, honours or answers what lakeFS refuses or ignores: warns; `--strict` answers as lakeFS. */
  | "permissive"
  /** lakes3 verifies or refuses what lakeFS lets through. */
  | "stricter"
  /** lakeFS answers a client mistake with a 500 or a non-S3 answer; lakes3 with S3's. */
  | "client-mistake"
  /** lakeFS answers a valid request with wrong data or shape; lakes3 with S3's. */
  | "lakefs-fault"
  /** The same as lakeFS in lakefs mode; only `--mode s3` answers as S3. */
  | "s3-mode";

export interface Divergence {
  id: string;
  kind: DivergenceKind;
  /** The README's "case" column (markdown). */
  case: string;
  /** What lakeFS answers (markdown). */
  lakefs: string;
  /** What lakes3 answers by default (markdown). */
  lakes3: string;
  /** Where lakeFS decides it (a path in treeverse/lakeFS, or the library before it). */
  source: string;
  /**
   * `permissive` entries that lakeFS refuses: the refusal `--strict` answers with. Without it,
   * lakeFS ignores the thing and the handler does what lakeFS does.
   */
  strict?: () => S3Error;
}

const notImplemented = () => new S3Error("NotImplemented", "A header you provided implies functionality that is not implemented");

export const DIVERGENCES = [
  {
    id: "create-bucket",
    kind: "permissive",
    case: "CreateBucket of a new repository",
    lakefs: "501 NotImplemented",
    lakes3: "creates it (default branch `main`)",
    source: "pkg/gateway/middleware.go",
    strict: notImplemented,
  },
  {
    id: "checksum-verified",
    kind: "stricter",
    case: "Content-MD5 / checksum / payload hash mismatch",
    lakefs: "ignored or 500",
    lakes3: "`BadDigest` / `XAmzContentSHA256Mismatch` (400)",
    source: "pkg/gateway/sig/sha_256_reader.go",
  },
  {
    id: "signed-trailer",
    kind: "permissive",
    case: "`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`",
    lakefs: "403 AccessDenied",
    lakes3: "accepted",
    source: "pkg/gateway/sig/v4.go",
    strict: () => new S3Error("AccessDenied", "lakeFS does not accept STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER (it reads it as a hex payload hash)"),
  },
  {
    id: "conditional-get",
    kind: "permissive",
    case: "conditional GET/HEAD headers",
    lakefs: "ignored",
    lakes3: "304 / 412 as S3",
    source: "pkg/gateway/operations/getobject.go",
  },
  {
    id: "stored-headers",
    kind: "permissive",
    case: "Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires",
    lakefs: "dropped",
    lakes3: "stored and returned",
    source: "pkg/gateway/operations/putobject.go",
  },
  {
    id: "if-match-write",
    kind: "permissive",
    case: "`If-Match` on PutObject (also CompleteMultipartUpload, REST upload)",
    lakefs: "501 NotImplemented",
    lakes3: "honoured",
    source: "pkg/api/apiutil/conditions.go",
    strict: notImplemented,
  },
  {
    id: "copy-conditions",
    kind: "permissive",
    case: "conditional CopyObject (`If-Match`, `If-None-Match: *`, `x-amz-copy-source-if-*`)",
    lakefs: "ignored: always copies",
    lakes3: "412 PreconditionFailed as S3",
    source: "pkg/gateway/operations/putobject.go",
  },
  {
    id: "complete-part-list",
    kind: "stricter",
    case: "Complete with a bad part list",
    lakefs: "object built from all part files",
    lakes3: "`InvalidPart`, `InvalidPartOrder`, `EntityTooSmall`",
    source: "pkg/block/local/adapter.go",
  },
  {
    id: "multipart-etag",
    kind: "lakefs-fault",
    case: "multipart ETag on HEAD/GET/List",
    lakefs: "`-N` suffix dropped",
    lakes3: "`-N` kept",
    source: "pkg/gateway/operations/postobject.go",
  },
  {
    id: "list-parts-local",
    kind: "permissive",
    case: "ListParts (local blockstore)",
    lakefs: "500 InternalError",
    lakes3: "implemented",
    source: "pkg/block/local/adapter.go",
    strict: () => new S3Error("InternalError", "lakeFS's local blockstore does not support ListParts (block.ErrOperationNotSupported, answered as 500)"),
  },
  {
    id: "list-uploads-local",
    kind: "permissive",
    case: "ListMultipartUploads (local blockstore)",
    lakefs: "501 NotImplemented",
    lakes3: "implemented; upload keys include the ref",
    source: "pkg/block/local/adapter.go",
    strict: notImplemented,
  },
  {
    id: "unknown-access-key",
    kind: "client-mistake",
    case: "unknown access key",
    lakefs: "403 AccessDenied",
    lakes3: "403 InvalidAccessKeyId",
    source: "pkg/gateway/middleware.go",
  },
  {
    id: "no-credentials",
    kind: "client-mistake",
    case: "request without credentials",
    lakefs: "400 MissingFields",
    lakes3: "403 AccessDenied",
    source: "pkg/gateway/sig/sig.go",
  },
  {
    id: "invalid-branch-write",
    kind: "client-mistake",
    case: "write to an invalid branch name (`main~1`)",
    lakefs: "500",
    lakes3: "400 InvalidArgument",
    source: "pkg/gateway/operations/putobject.go",
  },
  {
    id: "max-keys",
    kind: "stricter",
    case: "`max-keys` invalid / above 1000",
    lakefs: "silently 1000 / up to 10000",
    lakes3: "`InvalidArgument` / capped at 1000",
    source: "pkg/gateway/operations/listobjects.go",
  },
  {
    id: "encoding-type-url",
    kind: "permissive",
    case: "`encoding-type=url` on ListObjects",
    lakefs: "ignored",
    lakes3: "keys URL-encoded, as S3",
    source: "pkg/gateway/operations/listobjects.go",
  },
  {
    id: "key-too-long",
    kind: "client-mistake",
    case: "key longer than 1024 bytes",
    lakefs: "500",
    lakes3: "`KeyTooLongError`",
    source: "pkg/catalog/validate.go",
  },
  {
    id: "empty-key",
    kind: "client-mistake",
    case: "GET of `repo/ref/` (empty key)",
    lakefs: "empty-body 404",
    lakes3: "`NoSuchKey` XML 404",
    source: "pkg/gateway/handler.go",
  },
  {
    id: "upload-part-copy-root",
    kind: "lakefs-fault",
    case: "UploadPartCopy response root",
    lakefs: "`CopyObjectResult`",
    lakes3: "`CopyPartResult` (S3)",
    source: "pkg/gateway/operations/putobject.go",
  },
  {
    id: "part-number-get",
    kind: "permissive",
    case: "GET/HEAD with `?partNumber=N`",
    lakefs: "whole object",
    lakes3: "part N as a 206, `x-amz-mp-parts-count` (S3)",
    source: "pkg/gateway/operations/getobject.go",
  },
  {
    id: "merge-fast-forward",
    kind: "permissive",
    case: "merge when the destination head is an ancestor of the source",
    lakefs: "always a merge commit",
    lakes3: "fast-forward (the returned reference is the source commit)",
    source: "pkg/graveler/graveler.go",
  },
  {
    id: "metadata-namespace",
    kind: "permissive",
    case: "user metadata through S3 (`x-amz-meta-*`) and the REST API (`X-Lakefs-Meta-*`)",
    lakefs: "two namespaces (#9089): S3 sees only its own keys, REST shows them as `X-Amz-Meta-<name>`",
    lakes3: "one namespace: both see the same keys",
    source: "pkg/gateway/operations/operation_utils.go",
  },
  {
    id: "rest-amount",
    kind: "stricter",
    case: "REST `amount` above 1000",
    lakefs: "accepted",
    lakes3: "400",
    source: "pkg/api/controller.go",
  },
  {
    id: "list-uploads-filters",
    kind: "permissive",
    case: "ListMultipartUploads with `prefix`, `delimiter` or `encoding-type`",
    lakefs: "501 NotImplemented (every blockstore)",
    lakes3: "filtered and encoded as S3",
    source: "pkg/gateway/operations/listobjects.go",
    strict: notImplemented,
  },
  {
    id: "list-buckets-paging",
    kind: "s3-mode",
    case: "ListBuckets `max-buckets`, `continuation-token`",
    lakefs: "ignored: every repository in one answer",
    lakes3: "the same; `--mode s3`: pages as S3 (`ContinuationToken`, `Prefix` echoed)",
    source: "pkg/gateway/operations/listbuckets.go",
  },
  {
    id: "sigv4-http-date",
    kind: "s3-mode",
    case: "SigV4 dated only by an RFC 1123 `Date` header (no `x-amz-date`)",
    lakefs: "400 MalformedDate",
    lakes3: "the same; `--mode s3`: accepted, as AWS",
    source: "pkg/gateway/sig/v4.go",
  },
  {
    id: "sigv2-no-date",
    kind: "client-mistake",
    case: "SigV2 without `Date` or `x-amz-date`",
    lakefs: "400 MissingFields",
    lakes3: "403 AccessDenied (S3)",
    source: "pkg/gateway/sig/v2.go",
  },
  {
    id: "sigv2-date-forms",
    kind: "permissive",
    case: "SigV2 `Date` in RFC 850 or asctime form",
    lakefs: "400 MalformedDate (RFC 1123, RFC 1123Z, ISO 8601 basic only)",
    lakes3: "accepted, as any HTTP date",
    source: "pkg/gateway/sig/v2.go",
    strict: () => new S3Error("MalformedDate"),
  },
  {
    id: "sigv2-check-order",
    kind: "client-mistake",
    case: "SigV2 request both too old and wrongly signed",
    lakefs: "403 RequestTimeTooSkewed (the date is checked first)",
    lakes3: "403 SignatureDoesNotMatch (the signature first, as S3)",
    source: "pkg/gateway/sig/v2.go",
  },
  {
    id: "undecodable-path",
    kind: "client-mistake",
    case: "a path that does not percent-decode (`/repo/main/%zz`)",
    lakefs: "400 from Go's HTTP server, before the gateway (no S3 XML)",
    lakes3: "400 `InvalidURI` (S3)",
    source: "net/http (Go), before pkg/gateway/handler.go",
  },
] as const satisfies readonly Divergence[];

export type DivergenceId = (typeof DIVERGENCES)[number]["id"];
/** The entries a handler may rely on (and `--strict` takes away). */
export type PermissiveId = Extract<(typeof DIVERGENCES)[number], { kind: "permissive" }>["id"];

const BY_ID = new Map<string, Divergence>(DIVERGENCES.map((d) => [d.id, d]));

function divergence(id: DivergenceId): Divergence {
  return BY_ID.get(id)!;
}

/** What a request event records about the divergence its answer relied on. */
export interface DivergenceMark {
  id: string;
  lakefs: string;
}

/**
 * Called by a handler about to answer in a way that relies on a permissive divergence. Returns
 * true when it may (default: the request is marked); under `--strict` it throws the entry's lakeFS
 * refusal, or returns false so the handler does what lakeFS does (ignore the header, make the
 * merge commit, …).
 */
export type Diverge = (id: PermissiveId) => boolean;

/**
 * The `diverge` of one request; it marks `event.divergence` (the first one relied on). Under
 * `strict` it answers as lakeFS; in mode s3 (plain S3, where lakeFS is no reference) it neither
 * marks nor takes anything away.
 */
export function divergeFor(config: { mode: string; strict: boolean }, event: { divergence?: DivergenceMark }): Diverge {
  return (id) => {
    if (config.mode !== "lakefs") return true;
    const entry = divergence(id);
    if (config.strict) {
      if (entry.strict) throw entry.strict();
      return false;
    }
    event.divergence ??= { id, lakefs: plain(entry.lakefs) };
    return true;
  };
}

/**
 * Run a check lakeFS does not make (it ignores the headers): when it fails, lakes3's refusal is
 * the answer (marked as relying on `id`), or under --strict the failure is ignored, as in lakeFS.
 */
export function unlessLakefsIgnores(diverge: Diverge, id: PermissiveId, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (diverge(id)) throw err;
  }
}

/** A README cell as plain text (for log lines and the viewer). */
function plain(markdown: string): string {
  return markdown.replace(/`/g, "");
}

/** The README table "Where lakes3 differs from lakeFS (on purpose)", one row per entry. */
export function readmeTable(): string {
  const rows = DIVERGENCES.map((d: Divergence) => `| ${d.case} | ${d.lakefs} | ${d.lakes3} | ${d.kind === "permissive" ? "as lakeFS" : "as lakes3"} | \`${d.id}\` |`);
  return ["| case | lakeFS | lakes3 | `--strict` | id |", "| --- | --- | --- | --- | --- |", ...rows].join("\n");
}
