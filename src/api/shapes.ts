/**
 * Records → the JSON shapes of lakeFS's swagger.yml (Repository, Ref, Commit, ObjectStats, Diff,
 * Pagination). Timestamps are Unix seconds.
 */
import type { CommitRecord, ObjectRecord, RepositoryRecord } from "../storage/metadata-store.js";
import type { DiffEntry } from "../versioning/catalog.js";
import { MAX_AMOUNT } from "./router.js";

export const unixSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export function repository(r: RepositoryRecord) {
  return { id: r.name, creation_date: unixSeconds(r.createdAt), default_branch: r.defaultBranch, storage_namespace: r.storageNamespace, read_only: false };
}

export function ref(id: string, commitId: string) {
  return { id, commit_id: commitId };
}

export function commit(c: CommitRecord) {
  return {
    id: c.id,
    parents: c.parents,
    committer: c.committer,
    message: c.message,
    creation_date: unixSeconds(c.createdAt),
    meta_range_id: c.tree,
    metadata: c.metadata,
    generation: c.generation,
    version: 1,
  };
}

/**
 * Where lakeFS's local blockstore would keep the bytes: under the repository's storage namespace,
 * as lakeFS resolves it (informational: lakes3 has no presign).
 */
function physicalAddress(repo: RepositoryRecord, record: ObjectRecord): string {
  return `${repo.storageNamespace.replace(/\/+$/, "")}/data/${record.parts[0]?.blobId ?? ""}`;
}

/** `metadata`: the user metadata to show (api/objects.ts restUserMetadata), none when undefined. */
export function objectStats(repo: RepositoryRecord, path: string, record: ObjectRecord, metadata?: Record<string, string>) {
  return {
    path,
    path_type: "object" as const,
    physical_address: physicalAddress(repo, record),
    checksum: record.etag,
    size_bytes: record.size,
    mtime: unixSeconds(record.lastModified),
    content_type: record.contentType,
    ...(metadata ? { metadata } : {}),
  };
}

/** A common prefix in a listing: lakeFS fills the required ObjectStats fields with zero values. */
export function commonPrefix(path: string) {
  return { path, path_type: "common_prefix" as const, physical_address: "", checksum: "", mtime: 0 };
}

export type Diff =
  | { type: DiffEntry["type"]; path: string; path_type: "object"; size_bytes?: number }
  | { type: "prefix_changed"; path: string; path_type: "common_prefix" };

export function diff(e: DiffEntry): Diff {
  return { type: e.type, path: e.path, path_type: "object", ...(e.record ? { size_bytes: e.record.size } : {}) };
}

/** A paginated list: `next_offset` is the last result's key when there is more. */
export function list<T>(results: T[], hasMore: boolean, keyOf: (item: T) => string) {
  const last = results.at(-1);
  return {
    pagination: { has_more: hasMore, next_offset: hasMore && last !== undefined ? keyOf(last) : "", results: results.length, max_per_page: MAX_AMOUNT },
    results,
  };
}
