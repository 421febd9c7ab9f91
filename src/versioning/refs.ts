/**
 * Ref resolution: the only question the S3 operations ask is "read/write/list path P at ref R".
 * Today a ref is a branch name; commit ids, tags and ref expressions arrive with the versioning
 * work behind this same interface. Writes are allowed only on branches, failing as lakeFS fails.
 */
import { BRANCH_NAME } from "../config.js";
import { S3Error } from "../protocol/errors.js";
import type { BranchTarget, MetadataStore } from "../storage/metadata-store.js";

export interface ResolvedRef {
  /** The objects this ref reads. */
  target: BranchTarget;
  /** True when the ref is a branch (writable). */
  writable: boolean;
}

/** Resolve a ref for reading; undefined when nothing by that name exists. */
export async function resolveRef(store: MetadataStore, repo: string, ref: string): Promise<ResolvedRef | undefined> {
  if (!BRANCH_NAME.test(ref)) return undefined;
  const branch = await store.getBranch(repo, ref);
  return branch ? { target: { repo, branch: ref }, writable: true } : undefined;
}

/**
 * Resolve a ref for writing. lakeFS answers 404 NoSuchBucket for a valid branch name that is not a
 * branch (a tag, a commit, a missing branch); for a ref that cannot be a branch name at all
 * (`main~1`, `v1.0`) lakeFS answers 500 — lakes3 answers 400 InvalidArgument instead.
 */
export async function resolveBranch(store: MetadataStore, repo: string, ref: string): Promise<BranchTarget> {
  if (!BRANCH_NAME.test(ref)) {
    throw new S3Error("InvalidArgument", { message: `Writes need a branch; "${ref}" is not a valid branch name.` });
  }
  const resolved = await resolveRef(store, repo, ref);
  if (!resolved?.writable) throw new S3Error("NoSuchBucket", { bucket: repo, resource: repo });
  return resolved.target;
}
