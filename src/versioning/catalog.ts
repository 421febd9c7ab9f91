/**
 * The catalog: lakeFS's model over the metadata store. Repositories with a default branch and an
 * initial commit; branches = head commit + staging area; commits with committed trees shared
 * between them (tree.ts); tags; reads at any ref (staging over committed); writes to a branch's
 * staging; commit, reset, diff, merge, revert. The S3 operations and the REST API only ever ask
 * the catalog "read/write/list path P at ref R" and the like.
 *
 * This class is a thin facade over the parts, split as lakeFS's graveler splits them:
 *
 *   refs.ts       repositories, branches, tags, ref resolution, the record caches, the branch lock
 *   staging.ts    the branch view: reads (staged over committed), staged writes, uncommitted changes
 *   commits.ts    commit, log, revert, cherry-pick
 *   compare.ts    diff between refs, merge base, merge
 *   tree.ts       committed trees (ranges shared between commits)
 *
 * and keeps the housekeeping that spans them (liveBlobIds). Blob ownership: see staging.ts.
 */
import { BlobIdSet } from "../storage/blob-id-set.js";
import type { StorageError } from "../storage/errors.js";
import { isTombstone, type MetadataStore, type ObjectRecord, type PartRecord, type UploadRecord } from "../storage/metadata-store.js";
import { dropAllSealed } from "./staging-keys.js";
import { CommitManager, type CommitInput, type CommitOverrides, type LogOptions } from "./commits.js";
import { RefComparer, type MergeOptions } from "./compare.js";
import { RefManager, type RefView } from "./refs.js";
import { BranchStaging, type BranchTarget, type ListOptions, type WriteCondition } from "./staging.js";
import { TreeStore } from "./tree.js";

export type { CommitInput, CommitOverrides, LogOptions } from "./commits.js";
export type { DiffEntry, MergeOptions, MergeStrategy } from "./compare.js";
export type { BranchTarget, ListItem, ListOptions, ListPage, WriteCondition } from "./staging.js";

export class Catalog {
  readonly trees: TreeStore;
  readonly refs: RefManager;
  readonly staging: BranchStaging;
  readonly commits: CommitManager;
  readonly compare: RefComparer;

  constructor(readonly store: MetadataStore) {
    this.trees = new TreeStore(store);
    this.refs = new RefManager(store, this.trees);
    this.staging = new BranchStaging(store, this.trees, this.refs);
    this.commits = new CommitManager(store, this.trees, this.refs);
    this.compare = new RefComparer(store, this.trees, this.refs, this.commits);
  }

  /** Forget cached records (after the store was cleared underneath). */
  forgetCaches(): void {
    this.refs.forgetCaches();
  }

  // ---- repositories, branches, tags (refs.ts) -----------------------------------------------

  getRepository(name: string) {
    return this.refs.getRepository(name);
  }

  listRepositories(options?: { prefix?: string; after?: string; limit?: number }) {
    return this.refs.listRepositories(options);
  }

  createRepository(name: string, options?: { defaultBranch?: string; storageNamespace?: string }) {
    return this.refs.createRepository(name, options);
  }

  deleteRepository(name: string) {
    return this.refs.deleteRepository(name);
  }

  resolve(repo: string, ref: string) {
    return this.refs.resolve(repo, ref);
  }

  getBranch(repo: string, branch: string) {
    return this.refs.getBranch(repo, branch);
  }

  listBranches(repo: string, options?: { prefix?: string; after?: string; limit?: number }) {
    return this.refs.listBranches(repo, options);
  }

  createBranch(repo: string, name: string, source: string) {
    return this.refs.createBranch(repo, name, source);
  }

  deleteBranch(repo: string, name: string) {
    return this.refs.deleteBranch(repo, name);
  }

  createTag(repo: string, id: string, ref: string) {
    return this.refs.createTag(repo, id, ref);
  }

  getTag(repo: string, id: string) {
    return this.refs.getTag(repo, id);
  }

  listTags(repo: string, options?: { prefix?: string; after?: string; limit?: number }) {
    return this.refs.listTags(repo, options);
  }

  deleteTag(repo: string, id: string) {
    return this.refs.deleteTag(repo, id);
  }

  // ---- reads and staged writes (staging.ts) -------------------------------------------------

  getObject(view: RefView, path: string) {
    return this.staging.getObject(view, path);
  }

  objects(view: RefView) {
    return this.staging.objects(view);
  }

  listObjects(view: RefView, options: ListOptions) {
    return this.staging.listObjects(view, options);
  }

  branchTarget(repo: string, ref: string) {
    return this.staging.branchTarget(repo, ref);
  }

  putObject(target: BranchTarget, path: string, record: ObjectRecord, condition?: WriteCondition) {
    return this.staging.putObject(target, path, record, condition);
  }

  deleteObjects(target: BranchTarget, paths: readonly string[]) {
    return this.staging.deleteObjects(target, paths);
  }

  completeUpload(upload: UploadRecord, target: BranchTarget, build: (parts: PartRecord[]) => ObjectRecord, condition: WriteCondition | undefined, partList: string) {
    return this.staging.completeUpload(upload, target, build, condition, partList);
  }

  diffBranch(repo: string, branchName: string, prefix?: string) {
    return this.staging.diffBranch(repo, branchName, prefix);
  }

  resetBranch(repo: string, name: string, scope: { type: "reset" } | { type: "object" | "common_prefix"; path: string }) {
    return this.staging.resetBranch(repo, name, scope);
  }

  // ---- commits (commits.ts) -----------------------------------------------------------------

  commit(repo: string, branchName: string, input: CommitInput) {
    return this.commits.commit(repo, branchName, input);
  }

  getCommit(repo: string, id: string) {
    return this.commits.getCommit(repo, id);
  }

  log(repo: string, ref: string, options?: LogOptions) {
    return this.commits.log(repo, ref, options);
  }

  revert(repo: string, branchName: string, ref: string, parentNumber?: number, overrides?: CommitOverrides) {
    return this.commits.revert(repo, branchName, ref, parentNumber, overrides);
  }

  cherryPick(repo: string, branchName: string, ref: string, parentNumber?: number, overrides?: CommitOverrides) {
    return this.commits.cherryPick(repo, branchName, ref, parentNumber, overrides);
  }

  // ---- diff and merge (compare.ts) ----------------------------------------------------------

  diffRefs(repo: string, left: string, right: string, type?: "two_dot" | "three_dot") {
    return this.compare.diffRefs(repo, left, right, type);
  }

  mergeBase(repo: string, a: string, b: string) {
    return this.compare.mergeBase(repo, a, b);
  }

  merge(repo: string, source: string, destName: string, options?: MergeOptions) {
    return this.compare.merge(repo, source, destName, options);
  }

  // ---- housekeeping -------------------------------------------------------------------------

  /** Drop the staging ranges that commits sealed but a stop kept from dropping (at start). */
  dropSealedStaging(): Promise<void> {
    return dropAllSealed(this.store);
  }

  /** Wait for work that runs after a commit answered (before the store closes or is cleared). */
  idle(): Promise<void> {
    return this.commits.idle();
  }

  /**
   * Every blob id some record references: staged, committed, or an upload's part. A committed
   * range that cannot be read is thrown, or handed to `onDamage` when given: its blobs are then
   * missing from the set, so a caller must not delete on the strength of it.
   */
  async liveBlobIds(onDamage?: (err: StorageError) => void): Promise<BlobIdSet> {
    const live = new BlobIdSet();
    for await (const entry of this.store.staging.values()) if (!isTombstone(entry)) for (const p of entry.parts) live.add(p.blobId);
    for await (const [, range] of this.trees.committedRanges({ onDamage })) for (const [, r] of range.entries()) for (const p of r.parts) live.add(p.blobId);
    for await (const part of this.store.parts.values()) live.add(part.blob.blobId);
    return live;
  }
}
