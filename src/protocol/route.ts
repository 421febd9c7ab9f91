/**
 * route(S3Request) → OperationId: addressing level × method × sub-resource, as lakeFS's gateway
 * chooses (pkg/gateway/handler.go). Sub-resources lakeFS does not support answer
 * 405 ERRLakeFSNotSupported, as lakeFS does with verify_unsupported on.
 *
 * Known gaps vs lakeFS: the `/api/v1` REST API and lakeFS's API-credential (Basic/JWT) access to
 * the gateway are not served here; a repo+ref address with an empty key answers NoSuchKey XML
 * where lakeFS sends an empty-body 404.
 */
import { S3Error } from "./errors.js";
import { requestHeader, type S3Request } from "./request.js";

export const OPERATION_IDS = [
  "ListBuckets",
  "HeadBucket",
  "CreateBucket",
  "DeleteBucket",
  "GetBucketLocation",
  "GetBucketVersioning",
  "ListObjects",
  "ListObjectsV2",
  "DeleteObjects",
  "GetObject",
  "HeadObject",
  "PutObject",
  "CopyObject",
  "DeleteObject",
  "GetObjectTagging",
  "CreateMultipartUpload",
  "UploadPart",
  "UploadPartCopy",
  "CompleteMultipartUpload",
  "AbortMultipartUpload",
  "ListParts",
  "ListMultipartUploads",
] as const;

export type OperationId = (typeof OPERATION_IDS)[number];

/** The addressing level an operation works at; decides which request fields are guaranteed. */
export type Level = "service" | "bucket" | "object";

const UNSUPPORTED = {
  bucketGet: ["inventory", "metrics", "publicAccessBlock", "ownershipControls", "intelligent-tiering", "analytics", "policy", "lifecycle", "encryption", "object-lock", "replication", "notification", "events", "acl", "cors", "website", "accelerate", "requestPayment", "logging", "tagging", "versions", "policyStatus"],
  bucketPut: ["cors", "metrics", "website", "logging", "accelerate", "requestPayment", "acl", "publicAccessBlock", "ownershipControls", "intelligent-tiering", "analytics", "lifecycle", "replication", "encryption", "policy", "object-lock", "tagging", "versioning", "notification", "inventory"],
  bucketDelete: ["cors", "metrics", "website", "lifecycle", "replication", "encryption", "policy", "tagging", "publicAccessBlock", "ownershipControls", "intelligent-tiering", "analytics", "inventory"],
  objectGet: ["torrent", "acl", "retention", "legal-hold", "lambdaArn", "attributes"],
  objectPut: ["torrent", "acl", "tagging", "retention", "legal-hold"],
  objectPost: ["select", "restore"],
  objectDelete: ["tagging", "acl", "torrent"],
};

export interface Route {
  operation: OperationId;
  level: Level;
}

/**
 * A browser form upload (POST Object): its signature travels inside the form, which lakes3 does
 * not read, so its routing error (not supported) is the answer rather than missing credentials.
 */
export function isFormUpload(req: S3Request): boolean {
  return req.method === "POST" && /^multipart\/form-data/i.test(requestHeader(req, "content-type") ?? "");
}

export function route(req: S3Request, mode: "lakefs" | "s3"): Route {
  const q = req.query;
  const m = req.method;
  const notSupported = (list: readonly string[]) => {
    if (list.some((name) => q.has(name))) throw new S3Error("ERRLakeFSNotSupported");
  };

  if (req.bucket === undefined) {
    if (m === "GET") return { operation: "ListBuckets", level: "service" };
    throw new S3Error("MethodNotAllowed");
  }

  const objectLevel = mode === "lakefs" ? req.ref !== undefined : req.path !== undefined;
  if (!objectLevel) {
    const bucket = (operation: OperationId): Route => ({ operation, level: "bucket" });
    switch (m) {
      case "GET":
      case "HEAD":
        if (m === "HEAD") return bucket("HeadBucket");
        notSupported(UNSUPPORTED.bucketGet);
        if (q.has("location")) return bucket("GetBucketLocation");
        if (q.has("uploads")) return bucket("ListMultipartUploads");
        if (q.has("versioning")) return bucket("GetBucketVersioning");
        switch (q.get("list-type")) {
          case null:
          case "1":
            return bucket("ListObjects");
          case "2":
            return bucket("ListObjectsV2");
          default:
            throw new S3Error("InvalidArgument", "Invalid list-type: expected 1 or 2.");
        }
      case "PUT":
        notSupported(UNSUPPORTED.bucketPut);
        return bucket("CreateBucket");
      case "POST":
        if (q.has("delete")) return bucket("DeleteObjects");
        throw new S3Error("ERRLakeFSNotSupported");
      case "DELETE":
        notSupported(UNSUPPORTED.bucketDelete);
        return bucket("DeleteBucket");
      default:
        throw new S3Error("MethodNotAllowed");
    }
  }

  const object = (operation: OperationId): Route => ({ operation, level: "object" });
  switch (m) {
    case "GET":
      notSupported(UNSUPPORTED.objectGet);
      if (q.has("uploadId")) return object("ListParts");
      if (q.has("tagging")) return object("GetObjectTagging");
      return object("GetObject");
    case "HEAD":
      return object("HeadObject");
    case "PUT": {
      notSupported(UNSUPPORTED.objectPut);
      const copy = req.headers["x-amz-copy-source"] !== undefined;
      if (q.has("uploadId") || q.has("partNumber")) return object(copy ? "UploadPartCopy" : "UploadPart");
      return object(copy ? "CopyObject" : "PutObject");
    }
    case "POST":
      notSupported(UNSUPPORTED.objectPost);
      if (q.has("uploads")) return object("CreateMultipartUpload");
      if (q.has("uploadId")) return object("CompleteMultipartUpload");
      throw new S3Error("MethodNotAllowed");
    case "DELETE":
      notSupported(UNSUPPORTED.objectDelete);
      if (q.has("uploadId")) return object("AbortMultipartUpload");
      return object("DeleteObject");
    default:
      throw new S3Error("MethodNotAllowed");
  }
}
