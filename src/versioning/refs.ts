/**
 * Refs, as graveler's RefManager keeps them: repositories (with a default branch and an initial
 * commit), branches (a head commit and a staging token), tags, and commit records; the cached
 * repository and branch records, the batch write that invalidates them, and the branch lock.
 *
 * Ref expressions as lakeFS resolves them (RefResolver): a full commit id, then a branch, then a
 * tag, then a unique commit-id prefix; followed by modifiers `~N` (N-th first parent), `^N` (N-th
 * parent), `@` (a branch's committed state only) and `$` (a branch's staging only).
 */
import { createHash } from "node:crypto";
import { BRANCH_NAME } from "./names.js";
import type { BlobRef } from "../storage/blob-store.js";
import { rangeFor } from "../storage/keys.js";
import { randomString } from "../storage/random.js";
import { isTombstone, SEP, type Batch, type BranchRecord, type CommitRecord, type MetadataStore, type RepositoryRecord, type TagRecord } from "../storage/metadata-store.js";
import { badRequest, conflict, notFound } from "./errors.js";
import { RecordCache } from "./record-cache.js";
import { dropStaging, END_MARKER, endMarker, newToken } from "./staging-keys.js";
import { EMPTY_TREE, type TreeStore } from "./tree.js";
import { approxBytes, ByteCache } from "../storage/byte-cache.js";

/** What a ref reads: staged changes (a branch) over a committed tree. */
export interface RefView {
  repo: string;
  /** Set when the ref is a plain branch name: writable. */
  branch?: BranchRecord;
  /** The staging token whose changes overlay the tree (branches, and `branch$`). */
  staging?: string;
  /** The committed tree read ("" = empty; ignored for `branch$`). */
  tree: string;
  /** The commit the view is based on. */
  commitId?: string;
  /** The branch whose staging the view reads (a plain branch name, or `branch$`). */
  branchName?: string;
  /**
   * BranchWrites.mark() taken before the view's branch record was read: while no branch write
   * begins after it, the branch is where the view says (see BranchStaging.moved).
   */
  writesMark?: number;
}

/**
 * Branch record writes begun and ended, counted. Every branch record is written by this process
 * (LevelDB's lock keeps others out), through RefManager.write(), and the cached records are
 * invalidated around each write; so a branch read when no write was under way, with none begun
 * since, is still as it was read: a read can know its branch did not move without asking the store.
 */
export class BranchWrites {
  private begun = 0;
  private ended = 0;

  /** Taken before a branch record is read; undefined while a write is under way (it vouches for nothing). */
  mark(): number | undefined {
    return this.begun === this.ended ? this.begun : undefined;
  }

  /** Whether no branch write began since `mark` was taken. */
  noneSince(mark: number | undefined): boolean {
    return mark !== undefined && mark === this.begun;
  }

  begin(): void {
    this.begun++;
  }

  end(): void {
    this.ended++;
  }
}

const FULL_COMMIT = /^[0-9a-f]{64}$/;
const HEX = /^[0-9a-f]{1,64}$/;
/** Bytes of commit records kept in memory (their metadata is the client's to size). */
const COMMIT_CACHE_BYTES = 8 << 20;

export class RefResolver {
  private readonly commitCache = new ByteCache<CommitRecord>(COMMIT_CACHE_BYTES, approxBytes);

  constructor(
    private readonly store: MetadataStore,
    private readonly getBranch: (repo: string, name: string) => Promise<BranchRecord | undefined>,
    private readonly writes: BranchWrites,
  ) {}

  async commit(repo: string, id: string): Promise<CommitRecord | undefined> {
    const key = repo + SEP + id;
    let c = this.commitCache.get(key);
    if (!c) {
      c = await this.store.commits.get(key);
      if (c) this.commitCache.set(key, c);
    }
    return c;
  }

  /** A commit by full id or unique prefix. */
  async commitByPrefix(repo: string, prefix: string): Promise<CommitRecord | undefined> {
    if (FULL_COMMIT.test(prefix)) return this.commit(repo, prefix);
    if (!HEX.test(prefix)) return undefined;
    const found: CommitRecord[] = [];
    for await (const c of this.store.commits.values({ ...rangeFor(repo + SEP + prefix), limit: 2 })) found.push(c);
    return found.length === 1 ? found[0] : undefined;
  }

  /**
   * The same view of a branch at another state of it: what a read re-reads from once it found the
   * branch moved under it (see BranchStaging.getObject). Undefined when the view reads no staging.
   */
  async rebase(view: RefView, branch: BranchRecord, writesMark: number | undefined): Promise<RefView | undefined> {
    if (view.branchName === undefined) return undefined;
    const commit = await this.commit(view.repo, branch.head);
    return commit && this.branchView(view.repo, branch, commit, view.tree === EMPTY_TREE && view.branch === undefined, writesMark);
  }

  private branchView(repo: string, branch: BranchRecord, commit: CommitRecord, stagingOnly: boolean, writesMark: number | undefined): RefView {
    if (stagingOnly) return { repo, staging: branch.stagingToken, tree: EMPTY_TREE, commitId: commit.id, branchName: branch.name, writesMark };
    return { repo, branch, staging: branch.stagingToken, tree: commit.tree, commitId: commit.id, branchName: branch.name, writesMark };
  }

  async resolve(repo: string, ref: string): Promise<RefView | undefined> {
    const at = ref.search(/[~^@$]/);
    const base = at < 0 ? ref : ref.slice(0, at);
    const modifiers = at < 0 ? "" : ref.slice(at);
    if (base === "") return undefined;

    let branch: BranchRecord | undefined;
    let commit: CommitRecord | undefined;
    if (FULL_COMMIT.test(base)) commit = await this.commit(repo, base);
    const writesMark = this.writes.mark();
    if (!commit && BRANCH_NAME.test(base)) branch = await this.getBranch(repo, base);
    if (branch) commit = await this.commit(repo, branch.head);
    else if (!commit) {
      const tag = await this.store.tags.get(repo + SEP + base);
      commit = tag ? await this.commit(repo, tag.commitId) : await this.commitByPrefix(repo, base);
    }
    if (!commit) return undefined;

    if (modifiers === "") return branch ? this.branchView(repo, branch, commit, false, writesMark) : { repo, tree: commit.tree, commitId: commit.id };
    if (modifiers === "@") return branch ? { repo, tree: commit.tree, commitId: commit.id } : undefined;
    if (modifiers === "$") return branch ? this.branchView(repo, branch, commit, true, writesMark) : undefined;

    for (const m of modifiers.matchAll(/([~^])(\d*)|(.)/g)) {
      if (m[3] !== undefined) return undefined;
      const n = m[2] === "" ? 1 : Number(m[2]);
      if (m[1] === "~") {
        for (let i = 0; i < n && commit; i++) commit = commit.parents[0] ? await this.commit(repo, commit.parents[0]) : undefined;
      } else if (n > 0) {
        const parent: string | undefined = commit!.parents[n - 1];
        commit = parent ? await this.commit(repo, parent) : undefined;
      }
      if (!commit) return undefined;
    }
    return { repo, tree: commit!.tree, commitId: commit!.id };
  }
}

export class RefManager {
  readonly resolver: RefResolver;
  readonly branchWrites = new BranchWrites();
  private readonly repoCache = new RecordCache<RepositoryRecord>();
  private readonly branchCache = new RecordCache<BranchRecord>();

  constructor(
    private readonly store: MetadataStore,
    private readonly trees: TreeStore,
  ) {
    this.resolver = new RefResolver(store, (repo, name) => this.getBranch(repo, name), this.branchWrites);
  }

  /** Forget cached records (after the store was cleared underneath). */
  forgetCaches(): void {
    this.repoCache.clear();
    this.branchCache.clear();
    this.branchWrites.begin(); // views read before are not vouched for
    this.branchWrites.end();
  }

  /** Write a batch, invalidating the cached repository and branch records it changes. */
  async write(batch: Batch, changed: { repos?: string[]; branches?: string[] }): Promise<void> {
    const invalidate = () => {
      for (const r of changed.repos ?? []) this.repoCache.invalidate(r);
      for (const b of changed.branches ?? []) this.branchCache.invalidate(b);
    };
    this.branchWrites.begin();
    invalidate();
    try {
      await batch.write({ sync: true });
    } finally {
      invalidate();
      this.branchWrites.end();
    }
  }

  // ---- repositories --------------------------------------------------------------------------

  getRepository(name: string): Promise<RepositoryRecord | undefined> {
    return this.repoCache.get(name, () => this.store.repos.get(name));
  }

  async listRepositories(options: { prefix?: string; after?: string; limit?: number } = {}): Promise<{ repos: RepositoryRecord[]; hasMore: boolean }> {
    const { items: repos, hasMore } = await page(this.store.repos.values(startAfter(options.prefix ?? "", options.after)), options.limit);
    return { repos, hasMore };
  }

  /** Create a repository with its default branch and an initial commit; false if it exists. */
  async createRepository(name: string, options: { defaultBranch?: string; storageNamespace?: string } = {}): Promise<boolean> {
    const defaultBranch = options.defaultBranch ?? "main";
    if (!BRANCH_NAME.test(defaultBranch)) throw badRequest(`invalid branch name "${defaultBranch}"`);
    return this.store.locks.run(`repo:${name}`, async () => {
      if (await this.store.repos.get(name)) return false;
      const now = new Date().toISOString();
      const commit = newCommit({ parents: [], message: "Repository created", committer: "", metadata: {}, tree: EMPTY_TREE, generation: 1, createdAt: now });
      const repo: RepositoryRecord = { name, defaultBranch, createdAt: now, storageNamespace: options.storageNamespace ?? `local://${name}` };
      const batch = this.store.batch().put(name, repo, { sublevel: this.store.repos }).put(name + SEP + commit.id, commit, { sublevel: this.store.commits });
      this.putBranch(batch, name, newBranch(defaultBranch, commit.id));
      await this.write(batch, { repos: [name], branches: [name + SEP + defaultBranch] });
      return true;
    });
  }

  /** Delete a repository and everything in it; returns every blob it referenced. */
  async deleteRepository(name: string): Promise<BlobRef[]> {
    return this.store.locks.run(`repo:${name}`, async () => {
      if (!(await this.store.repos.get(name))) throw notFound(`repository ${name}`);
      const blobs: BlobRef[] = [];
      const batch = this.store.batch();
      batch.del(name, { sublevel: this.store.repos });
      const within = rangeFor(name + SEP);
      const branches: string[] = []; // their cached records are invalidated with the write
      for await (const key of this.store.branches.keys(within)) {
        batch.del(key, { sublevel: this.store.branches });
        branches.push(key);
      }
      for (const sub of [this.store.tags, this.store.commits, this.store.trees] as unknown as (typeof this.store.tags)[]) {
        for await (const key of sub.keys(within)) batch.del(key, { sublevel: sub });
      }
      for await (const [key, entry] of this.store.staging.iterator(within)) {
        if (!isTombstone(entry)) blobs.push(...entry.parts);
        batch.del(key, { sublevel: this.store.staging });
      }
      // A range that cannot be read is skipped: its blobs stay, for the startup sweep to find.
      for await (const [, range] of this.trees.committedRanges({ repo: name, onDamage: () => undefined })) {
        for (const [, record] of range.entries()) blobs.push(...record.parts);
      }
      for await (const key of this.store.ranges.keys(within)) batch.del(key, { sublevel: this.store.ranges });
      for await (const uploadId of this.store.uploadIndex.values(within)) {
        const upload = await this.store.uploads.get(uploadId);
        if (!upload) continue;
        const { parts } = await this.store.listParts(uploadId);
        blobs.push(...parts.map((p) => p.blob));
        this.store.dropUpload(batch, upload, parts);
      }
      await this.write(batch, { repos: [name], branches });
      // Best effort: the repository's packs are named by nothing now, so they are only garbage.
      await this.store.rangeFiles.removeRepository(name).catch(() => undefined);
      return uniqueBlobs(blobs);
    });
  }

  private async requireRepo(repo: string): Promise<RepositoryRecord> {
    const r = await this.getRepository(repo);
    if (!r) throw notFound(`repository ${repo}`);
    return r;
  }

  // ---- refs and branches ---------------------------------------------------------------------

  resolve(repo: string, ref: string): Promise<RefView | undefined> {
    return this.resolver.resolve(repo, ref);
  }

  getBranch(repo: string, branch: string): Promise<BranchRecord | undefined> {
    if (!BRANCH_NAME.test(branch)) return Promise.resolve(undefined);
    const key = repo + SEP + branch;
    return this.branchCache.get(key, () => this.store.branches.get(key));
  }

  async listBranches(repo: string, options: { prefix?: string; after?: string; limit?: number } = {}): Promise<{ branches: BranchRecord[]; hasMore: boolean }> {
    const { items: branches, hasMore } = await page(this.store.branches.values(startAfter(repo + SEP + (options.prefix ?? ""), options.after && repo + SEP + options.after)), options.limit);
    return { branches, hasMore };
  }

  /** Create a branch at the commit `source` resolves to (O(1): a pointer and a staging token). */
  async createBranch(repo: string, name: string, source: string): Promise<BranchRecord> {
    if (!BRANCH_NAME.test(name)) throw badRequest(`invalid branch name "${name}"`);
    const view = await this.resolve(repo, source);
    if (!view?.commitId) throw notFound(`source ref ${source}`);
    return this.store.locks.run(`branch:${repo}${SEP}${name}`, async () => {
      if (await this.store.branches.get(repo + SEP + name)) throw conflict("branch already exists: not unique"); // lakeFS ErrBranchExists
      const branch = newBranch(name, view.commitId!);
      const batch = this.store.batch();
      this.putBranch(batch, repo, branch);
      await this.write(batch, { branches: [repo + SEP + name] });
      return branch;
    });
  }

  /** Delete a branch and its uncommitted changes; returns the staged blobs to reclaim. */
  async deleteBranch(repo: string, name: string): Promise<BlobRef[]> {
    const r = await this.requireRepo(repo);
    if (r.defaultBranch === name) throw badRequest(`cannot delete the default branch ${name}`);
    return this.withBranch(repo, name, "exclusive", async (branch) => {
      const batch = this.store.batch().del(repo + SEP + name, { sublevel: this.store.branches });
      batch.del(endMarker(repo, branch.stagingToken), { sublevel: this.store.staging });
      const blobs = await dropStaging(this.store, repo, branch.stagingToken, "", batch);
      await this.write(batch, { branches: [repo + SEP + name] });
      return blobs;
    });
  }

  /**
   * Write a branch record, keeping a live end marker right after its staging range (moved along
   * when the token changes). LevelDB skips deleted keys one at a time, so without the marker a scan
   * that reaches the end of this range would crawl through every tombstone a big commit left in
   * the next range (another branch's retired token) before it could stop.
   */
  putBranch(batch: Batch, repo: string, branch: BranchRecord, previousToken?: string): void {
    batch.put(repo + SEP + branch.name, branch, { sublevel: this.store.branches });
    if (branch.stagingToken === previousToken) return;
    batch.put(endMarker(repo, branch.stagingToken), END_MARKER, { sublevel: this.store.staging });
    if (previousToken !== undefined) batch.del(endMarker(repo, previousToken), { sublevel: this.store.staging });
  }

  /** Run `fn` holding the branch lock, with the branch record read under it. */
  withBranch<T>(repo: string, name: string, mode: "shared" | "exclusive", fn: (branch: BranchRecord) => Promise<T>): Promise<T> {
    return this.store.branchLocks[mode](repo + SEP + name, async () => {
      const branch = await this.getBranch(repo, name);
      if (!branch) throw notFound(`branch ${name}`);
      return fn(branch);
    });
  }

  // ---- tags ---------------------------------------------------------------------------------

  async createTag(repo: string, id: string, ref: string): Promise<TagRecord> {
    if (!/^[^\s~^@$:]+$/.test(id)) throw badRequest(`invalid tag id "${id}"`);
    const view = await this.resolve(repo, ref);
    if (!view?.commitId) throw notFound(`ref ${ref}`);
    return this.store.locks.run(`tag:${repo}${SEP}${id}`, async () => {
      if (await this.store.tags.get(repo + SEP + id)) throw conflict("tag already exists: not unique"); // lakeFS ErrTagAlreadyExists
      const tag: TagRecord = { id, commitId: view.commitId!, createdAt: new Date().toISOString() };
      await this.store.batch().put(repo + SEP + id, tag, { sublevel: this.store.tags }).write({ sync: true });
      return tag;
    });
  }

  getTag(repo: string, id: string): Promise<TagRecord | undefined> {
    return this.store.tags.get(repo + SEP + id);
  }

  async listTags(repo: string, options: { prefix?: string; after?: string; limit?: number } = {}): Promise<{ tags: TagRecord[]; hasMore: boolean }> {
    const { items: tags, hasMore } = await page(this.store.tags.values(startAfter(repo + SEP + (options.prefix ?? ""), options.after && repo + SEP + options.after)), options.limit);
    return { tags, hasMore };
  }

  async deleteTag(repo: string, id: string): Promise<void> {
    if (!(await this.getTag(repo, id))) throw notFound(`tag ${id}`);
    await this.store.batch().del(repo + SEP + id, { sublevel: this.store.tags }).write({ sync: true });
  }
}

function newBranch(name: string, head: string): BranchRecord {
  return { name, head, stagingToken: newToken(), createdAt: new Date().toISOString() };
}

export function newCommit(fields: Omit<CommitRecord, "id">): CommitRecord {
  const id = createHash("sha256").update(JSON.stringify(fields)).update(randomString(8, "hex")).digest("hex");
  return { id, ...fields };
}

function uniqueBlobs(blobs: BlobRef[]): BlobRef[] {
  const seen = new Map<string, BlobRef>();
  for (const b of blobs) seen.set(b.blobId, b);
  return [...seen.values()];
}

/** Iterator options for keys under `prefix`, strictly after `after` when given. */
function startAfter(prefix: string, after?: string): { gt?: string; gte?: string; lt: string } {
  const range = rangeFor(prefix);
  return after !== undefined && after >= range.gte ? { gt: after, lt: range.lt } : range;
}

async function page<T>(values: AsyncIterable<T>, limit = 1000): Promise<{ items: T[]; hasMore: boolean }> {
  const items: T[] = [];
  for await (const v of values) {
    if (items.length === limit) return { items, hasMore: true };
    items.push(v);
  }
  return { items, hasMore: false };
}
