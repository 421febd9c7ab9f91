/**
 * Listings and bucket-level reads: ListBuckets (repositories), HeadBucket, GetBucketLocation,
 * GetBucketVersioning, ListObjects v1 and v2. In lakefs mode the first segment of `prefix` is the
 * ref, every key, prefix and token carries it, and a listing at the repository root lists
 * branches as CommonPrefixes — as lakeFS does.
 */
import { S3Error } from "../protocol/errors.js";
import { pageLimit } from "../protocol/request.js";
import { xmlDate } from "../protocol/headers.js";
import { element, escapeXml, urlEncodeKey, XmlText } from "../protocol/xml.js";
import type { S3Result } from "../protocol/respond.js";
import type { RepositoryRecord } from "../storage/metadata-store.js";
import type { ObjectSummary } from "../storage/stored-record.js";
import type { ListItem } from "../versioning/catalog.js";
import { isLakefs, OWNER } from "./address.js";
import type { Operation, OperationContext } from "./types.js";

const MAX_KEYS = 1000;

const MAX_BUCKETS = 10_000;

/**
 * ListBuckets. lakefs mode, as lakeFS (listbuckets.go): `prefix` filters, every repository in one
 * answer. s3 mode, as S3: `max-buckets` (1–10000) pages, `continuation-token` resumes, and the
 * answer echoes `Prefix` and carries a `ContinuationToken` while more remain.
 */
const ListBuckets: Operation = {
  level: "service",
  async handle(ctx) {
    const q = ctx.req.query;
    const prefix = q.get("prefix") ?? "";
    const s3 = !isLakefs(ctx);
    let limit = MAX_BUCKETS;
    let after: string | undefined;
    if (s3) {
      const raw = q.get("max-buckets");
      if (raw !== null) {
        limit = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
        if (!(limit >= 1 && limit <= MAX_BUCKETS)) throw new S3Error("InvalidArgument", "Argument max-buckets must be an integer between 1 and 10000");
      }
      const token = q.get("continuation-token");
      if (token) after = Buffer.from(token, "base64url").toString("utf8");
    }
    const { repos, hasMore } = await ctx.services.catalog.listRepositories({ prefix, after, limit });
    const last = repos.at(-1);
    return {
      xml: {
        root: "ListAllMyBucketsResult",
        content: {
          Buckets: { Bucket: repos.map((r) => ({ CreationDate: xmlDate(r.createdAt), Name: r.name })) },
          Owner: OWNER,
          ...(s3 && hasMore && last ? { ContinuationToken: encodeToken(ctx, last.name) } : {}),
          ...(s3 && q.has("prefix") ? { Prefix: prefix } : {}),
        },
      },
    };
  },
};

const HeadBucket: Operation = {
  level: "bucket",
  handle: async (ctx) => ({ headers: { "x-amz-bucket-region": ctx.services.config.region } }),
};

const GetBucketLocation: Operation = {
  level: "bucket",
  async handle(ctx) {
    const region = ctx.services.config.region;
    return { xml: { root: "LocationConstraint", namespace: true, content: region === "us-east-1" ? "" : region } };
  },
};

const GetBucketVersioning: Operation = {
  level: "bucket",
  handle: async () => ({ xml: { root: "VersioningConfiguration", namespace: true, content: "" } }),
};

interface ListParams {
  version: 1 | 2;
  prefix: string;
  delimiter: string;
  maxKeys: number;
  encode: (s: string) => string;
  /** `encoding-type=url` applied (lakeFS ignores it: --strict lists keys as they are). */
  encoded: boolean;
  /** v1 marker, v2 continuation token (decoded) or start-after: list strictly after this client key. */
  after?: string;
}

function readParams(ctx: OperationContext, version: 1 | 2): ListParams {
  const q = ctx.req.query;
  const encodingType = q.get("encoding-type");
  if (encodingType !== null && encodingType !== "url") throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request");
  const encoded = encodingType === "url" && ctx.diverge("encoding-type-url");
  const maxKeys = pageLimit(q, "max-keys", MAX_KEYS);
  let after: string | undefined;
  if (version === 1) after = q.get("marker") ?? undefined;
  else {
    const token = q.get("continuation-token");
    // an empty token is no token (lakeFS and S3 both list from the start, echoing it)
    after = token ? decodeToken(ctx, token) : (q.get("start-after") ?? undefined);
  }
  return {
    version,
    prefix: q.get("prefix") ?? "",
    delimiter: q.get("delimiter") ?? "",
    maxKeys,
    encode: encoded ? urlEncodeKey : (s) => s,
    encoded,
    after: after === "" ? undefined : after,
  };
}

/** lakeFS's tokens are the plain `ref/lastKey`; in s3 mode the token is opaque (base64url). */
function encodeToken(ctx: OperationContext, last: string): string {
  return isLakefs(ctx) ? last : Buffer.from(last, "utf8").toString("base64url");
}

function decodeToken(ctx: OperationContext, token: string): string {
  if (token === "") throw new S3Error("InvalidArgument", "The continuation token provided is incorrect");
  if (isLakefs(ctx)) return token;
  const decoded = Buffer.from(token, "base64url").toString("utf8");
  if (decoded === "" || Buffer.from(decoded, "utf8").toString("base64url") !== token) {
    throw new S3Error("InvalidArgument", "The continuation token provided is incorrect");
  }
  return decoded;
}

/**
 * One page for the request: in lakefs mode either the branches (prefix without '/') or the objects
 * of the ref named by the prefix; in s3 mode the objects of the default branch. Keys are returned
 * as the client sees them: `keyPrefix` (the ref and a slash, in lakefs mode) before each.
 */
async function listPage(ctx: OperationContext, repo: RepositoryRecord, p: ListParams): Promise<ClientPage> {
  const catalog = ctx.services.catalog;
  if (p.maxKeys === 0) return { items: [], isTruncated: false }; // as S3 answers max-keys=0
  if (!isLakefs(ctx)) {
    const view = await catalog.resolve(repo.name, repo.defaultBranch);
    if (!view) return { items: [], isTruncated: false };
    return catalog.listObjects(view, { prefix: p.prefix, delimiter: p.delimiter || undefined, startAfter: p.after, limit: p.maxKeys });
  }
  const prefix = p.prefix.replace(/^\//, "");
  const slash = prefix.indexOf("/");
  if (slash < 0) {
    const after = p.after?.replace(/\/$/, "");
    const { branches, hasMore: isTruncated } = await catalog.listBranches(repo.name, { prefix, after, limit: p.maxKeys });
    const items = branches.map((b) => ({ prefix: `${b.name}/` }));
    return { items, isTruncated, last: branches.at(-1)?.name };
  }
  const ref = prefix.slice(0, slash);
  let startAfter: string | undefined;
  if (p.after !== undefined) {
    if (!p.after.toLowerCase().startsWith(ref.toLowerCase() + "/")) {
      throw new S3Error("InvalidArgument", `The marker or token must start with the ref of the prefix ("${ref}/").`);
    }
    startAfter = p.after.slice(ref.length + 1);
  }
  const view = await catalog.resolve(repo.name, ref);
  if (!view) return { items: [], isTruncated: false };
  const page = await catalog.listObjects(view, {
    prefix: prefix.slice(slash + 1),
    delimiter: p.delimiter || undefined,
    startAfter,
    limit: p.maxKeys,
  });
  const keyPrefix = `${ref}/`;
  return { items: page.items, isTruncated: page.isTruncated, last: page.last === undefined ? undefined : keyPrefix + page.last, keyPrefix };
}

interface ClientPage {
  items: ListItem[];
  isTruncated: boolean;
  /** The last key or common prefix, as the client sees it. */
  last?: string;
  /** What the client sees before each item's key or prefix. */
  keyPrefix?: string;
}

/**
 * ListBucketResult, written directly (a page is a thousand entries): Name, Prefix, the version's
 * markers, MaxKeys, Delimiter, EncodingType, IsTruncated, every Contents, every CommonPrefixes.
 */
async function listObjects(ctx: OperationContext, version: 1 | 2): Promise<S3Result> {
  const repo = ctx.repo!;
  const q = ctx.req.query;
  const p = readParams(ctx, version);
  const page = await listPage(ctx, repo, p);
  const enc = p.encode;
  let xml = element("Name", repo.name) + element("Prefix", enc(p.prefix));
  if (version === 1) {
    xml += element("Marker", enc(q.get("marker") ?? ""));
    if (page.isTruncated && p.delimiter && page.last !== undefined) xml += element("NextMarker", enc(page.last));
  } else {
    const startAfter = q.get("start-after");
    const token = q.get("continuation-token");
    if (startAfter !== null) xml += element("StartAfter", enc(startAfter));
    if (token !== null) xml += element("ContinuationToken", token);
    if (page.isTruncated && page.last !== undefined) xml += element("NextContinuationToken", encodeToken(ctx, page.last));
    xml += element("KeyCount", page.items.length);
  }
  xml += element("MaxKeys", p.maxKeys);
  if (p.delimiter) xml += element("Delimiter", enc(p.delimiter));
  if (p.encoded) xml += element("EncodingType", "url");
  xml += element("IsTruncated", page.isTruncated);
  const owner = version === 1 || q.get("fetch-owner") === "true" ? `<Owner>${element("ID", OWNER.ID)}${element("DisplayName", OWNER.DisplayName)}</Owner>` : "";
  const keyPrefix = page.keyPrefix ?? "";
  // An entry a piece (see xmlBytes): not one string of the whole page.
  const pieces = [xml];
  for (const i of page.items) if ("key" in i) pieces.push(contents(enc(keyPrefix + i.key), i.object.summary(), owner));
  for (const i of page.items) if ("prefix" in i) pieces.push(`<CommonPrefixes>${element("Prefix", enc(keyPrefix + i.prefix))}</CommonPrefixes>`);
  return { xml: { root: "ListBucketResult", namespace: true, content: new XmlText(pieces) } };
}

function contents(key: string, object: ObjectSummary, owner: string): string {
  const checksum = object.checksum ? element("ChecksumAlgorithm", object.checksum.algorithm) + element("ChecksumType", object.checksum.type) : "";
  return (
    `<Contents><Key>${escapeXml(key)}</Key><LastModified>${xmlDate(object.lastModified)}</LastModified><ETag>&quot;${escapeXml(object.etag)}&quot;</ETag>` +
    `${checksum}<Size>${object.size}</Size><StorageClass>STANDARD</StorageClass>${owner}</Contents>`
  );
}

const ListObjects: Operation = { level: "bucket", handle: (ctx) => listObjects(ctx, 1) };
const ListObjectsV2: Operation = { level: "bucket", handle: (ctx) => listObjects(ctx, 2) };

export const listingOperations = { ListBuckets, HeadBucket, GetBucketLocation, GetBucketVersioning, ListObjects, ListObjectsV2 };
