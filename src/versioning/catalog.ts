/**
 * The catalog: lakeFS's model over the metadata store. Repositories with a default branch and an
 * initial commit; branches = head commit + staging area; commits with committed trees shared
 * between them (tree.ts); tags; reads at any ref (staging over committed); writes to a branch's
 * staging; commit, reset, diff, merge, revert. The S3 operations and the REST API only ever ask
 * the catalog "read/write/list path P at ref R" and the like.
 *
 * Blob ownership: a staged record owns its blobs until it is committed; committed blobs are never
 * reclaimed. So overwriting or deleting a *staged* record hands its blobs back to the caller
 * (to reclaim), while replacing a committed one only stages a change.
 */
import { createHash, randomBytes } from "node:crypto";
import { BRANCH_NAME } from "../config.js";
import type { BlobRef } from "../storage/blob-store.js";
import { compareKeys, rangeFor, skipPast } from "../storage/keys.js";
import {
  isTombstone,
  NoSuchUploadError,
  SEP,
  type Batch,
  type BranchRecord,
  type CommitRecord,
  type CompletedUpload,
  type MetadataStore,
  type ObjectRecord,
  type PartRecord,
  type RepositoryRecord,
  type StagedEntry,
  type TagRecord,
  type UploadRecord,
} from "../storage/metadata-store.js";
import { badRequest, conflict, notFound } from "./errors.js";
import { RecordCache } from "./record-cache.js";
import { RefResolver, type RefView } from "./refs.js";
import { EMPTY_TREE, sameObject, TreeStore, type Change } from "./tree.js";

/** A revert's or cherry-pick's own message and metadata, instead of the defaults. */
export interface CommitOverrides {
  message?: string;
  metadata?: Record<string, string>;
}

export interface LogOptions {
  after?: string;
  amount?: number;
  firstParent?: boolean;
  /** Only commits that changed one of these paths… */
  objects?: readonly string[];
  /** …or a path under one of these prefixes. */
  prefixes?: readonly string[];
  /** Newer than this date only. */
  since?: Date;
  /** A ref whose commit ends the log (included). */
  stopAt?: string;
}

export interface BranchTarget {
  repo: string;
  branch: string;
}

export interface ListOptions {
  prefix: string;
  delimiter?: string;
  /** List strictly after this key. */
  startAfter?: string;
  limit: number;
}

export type ListItem = { key: string; record: ObjectRecord } | { prefix: string };

export interface ListPage {
  items: ListItem[];
  isTruncated: boolean;
  /** The last key or common prefix returned (the next page starts after it). */
  last?: string;
}

/** A write precondition checked atomically with the write (under the key's lock). */
export type WriteCondition = (current: ObjectRecord | undefined) => void;

export interface DiffEntry {
  type: "added" | "removed" | "changed" | "conflict";
  path: string;
  /** The record on the right side (added/changed) or the left (removed). */
  record?: ObjectRecord;
}

export interface CommitInput {
  message: string;
  metadata?: Record<string, string>;
  committer?: string;
  allowEmpty?: boolean;
}

/**
 * A key's state on a branch while a write holds it. The staged entry is read up front; the
 * committed record (a tree lookup) only when asked for, once.
 */
interface KeyState {
  /** The staged record (undefined when nothing, or a tombstone, is staged). */
  staged?: ObjectRecord;
  /** The record at the branch head. */
  committed(): Promise<ObjectRecord | undefined>;
  /** What reads see: the staged entry over the committed record. */
  visible(): Promise<ObjectRecord | undefined>;
}

export type MergeStrategy = "dest-wins" | "source-wins";

const COMMITTER = "lakes3";

export class Catalog {
  readonly trees: TreeStore;
  readonly refs: RefResolver;
  private readonly repoCache = new RecordCache<RepositoryRecord>();
  private readonly branchCache = new RecordCache<BranchRecord>();

  constructor(readonly store: MetadataStore) {
    this.trees = new TreeStore(store);
    this.refs = new RefResolver(store, (repo, name) => this.getBranch(repo, name));
  }

  /** Forget cached records (after the store was cleared underneath). */
  forgetCaches(): void {
    this.repoCache.clear();
    this.branchCache.clear();
  }

  /** Write a batch, invalidating the cached repository and branch records it changes. */
  private async write(batch: Batch, changed: { repos?: string[]; branches?: string[] }): Promise<void> {
    const invalidate = () => {
      for (const r of changed.repos ?? []) this.repoCache.invalidate(r);
      for (const b of changed.branches ?? []) this.branchCache.invalidate(b);
    };
    invalidate();
    try {
      await batch.write({ sync: true });
    } finally {
      invalidate();
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
      for await (const [key, entries] of this.store.ranges.iterator(within)) {
        for (const [, record] of entries) blobs.push(...record.parts);
        batch.del(key, { sublevel: this.store.ranges });
      }
      for await (const uploadId of this.store.uploadIndex.values(within)) {
        const upload = await this.store.uploads.get(uploadId);
        if (!upload) continue;
        const { parts } = await this.store.listParts(uploadId);
        blobs.push(...parts.map((p) => p.blob));
        this.store.dropUpload(batch, upload, parts);
      }
      await this.write(batch, { repos: [name], branches });
      return uniqueBlobs(blobs);
    });
  }

  // ---- refs and branches ---------------------------------------------------------------------

  resolve(repo: string, ref: string): Promise<RefView | undefined> {
    return this.refs.resolve(repo, ref);
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
      if (await this.store.branches.get(repo + SEP + name)) throw conflict(`branch ${name} already exists`);
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
      const blobs = await this.dropStaging(repo, branch.stagingToken, "", batch);
      await this.write(batch, { branches: [repo + SEP + name] });
      return blobs;
    });
  }

  /**
   * Discard uncommitted changes: all of them (`reset`), one object, or everything under a prefix.
   * Returns the staged blobs to reclaim.
   */
  async resetBranch(repo: string, name: string, scope: { type: "reset" } | { type: "object" | "common_prefix"; path: string }): Promise<BlobRef[]> {
    return this.withBranch(repo, name, "exclusive", async (branch) => {
      const batch = this.store.batch();
      let blobs: BlobRef[];
      if (scope.type === "object") {
        const key = stagingKey(repo, branch.stagingToken, scope.path);
        const entry = await this.store.staging.get(key);
        blobs = entry && !isTombstone(entry) ? entry.parts : [];
        if (entry) batch.del(key, { sublevel: this.store.staging });
      } else if (scope.type === "common_prefix") {
        blobs = await this.dropStaging(repo, branch.stagingToken, scope.path, batch);
      } else {
        // A full reset starts a fresh staging range, as a commit does: scans of the branch never
        // walk the deleted keys of the old one.
        blobs = await this.dropStaging(repo, branch.stagingToken, "", batch);
        this.putBranch(batch, repo, { ...branch, stagingToken: newToken() }, branch.stagingToken);
      }
      await this.write(batch, { branches: [repo + SEP + name] });
      return blobs;
    });
  }

  // ---- reading objects -----------------------------------------------------------------------

  /**
   * A branch read races the writes that move the branch: a commit, merge, revert, cherry-pick or
   * full reset moves it to a new tree and staging token and drops the old staging entries in one
   * batch, so a view resolved before that batch and read after it sees neither the dropped staged
   * entry nor the new tree. lakeFS never shows that gap (graveler reads a branch's staging and
   * commit as one state), and neither do we: a read that reached the committed tree, and every
   * listing page, checks in the store itself (never the cache) that the branch is still where the
   * view says, and reads again from where it is now if it moved.
   */
  private async moved(view: RefView): Promise<RefView | undefined> {
    if (view.branchName === undefined) return undefined;
    const branch = await this.store.branches.get(view.repo + SEP + view.branchName);
    if (!branch || (branch.head === view.commitId && branch.stagingToken === view.staging)) return undefined;
    return this.refs.rebase(view, branch);
  }

  async getObject(view: RefView, path: string): Promise<ObjectRecord | undefined> {
    for (let current: RefView | undefined = view; ; ) {
      if (current.staging !== undefined) {
        const staged = await this.store.staging.get(stagingKey(current.repo, current.staging, path));
        if (staged) return isTombstone(staged) ? undefined : staged;
      }
      const record = await this.trees.get(current.repo, current.tree, path);
      const next = await this.moved(current);
      if (!next) return record;
      current = next;
    }
  }

  /** Visible objects of a view from `from` on, in key order: staged changes over the tree. */
  async *objects(view: RefView, from = "", exclusive = false): AsyncGenerator<[string, ObjectRecord]> {
    const committed = this.trees.entries(view.repo, view.tree, from, exclusive);
    if (view.staging === undefined) {
      yield* committed;
      return;
    }
    const base = stagingKey(view.repo, view.staging, "");
    const staged = this.store.staging.iterator({ [exclusive ? "gt" : "gte"]: base + from, lt: rangeFor(base).lt });
    try {
      let s = await staged.next();
      let c = await committed.next();
      while (s !== undefined || !c.done) {
        const cmp = s === undefined ? 1 : c.done ? -1 : compareKeys(s[0].slice(base.length), c.value[0]);
        if (cmp <= 0) {
          if (!isTombstone(s![1])) yield [s![0].slice(base.length), s![1]];
          if (cmp === 0) c = await committed.next();
          s = await staged.next();
        } else {
          yield c.value!;
          c = await committed.next();
        }
      }
    } finally {
      await staged.close();
      await committed.return(undefined);
    }
  }

  /** One page of a listing, grouped into common prefixes at `delimiter` (skipping past each). */
  async listObjects(view: RefView, options: ListOptions): Promise<ListPage> {
    for (let current: RefView | undefined = view; ; ) {
      const page = await this.listPage(current, options);
      const next = await this.moved(current);
      if (!next) return page;
      current = next;
    }
  }

  private async listPage(view: RefView, options: ListOptions): Promise<ListPage> {
    const { prefix, delimiter, limit } = options;
    let from = prefix;
    let exclusive = false;
    if (options.startAfter !== undefined && compareKeys(options.startAfter, prefix) >= 0) {
      from = options.startAfter;
      exclusive = true;
      // A start-after that is itself a common prefix skips everything under it.
      if (delimiter && options.startAfter.startsWith(prefix) && options.startAfter.endsWith(delimiter)) {
        const rest = options.startAfter.slice(prefix.length);
        if (rest.indexOf(delimiter) === rest.length - delimiter.length) {
          from = skipPast(options.startAfter);
          exclusive = false;
        }
      }
    }
    const items: ListItem[] = [];
    let isTruncated = false;
    let it = this.objects(view, from, exclusive);
    try {
      for (;;) {
        const next = await it.next();
        if (next.done || !next.value[0].startsWith(prefix)) break;
        if (items.length >= limit) {
          isTruncated = true;
          break;
        }
        const [key, record] = next.value;
        const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
        if (at < 0) {
          items.push({ key, record });
          continue;
        }
        const common = key.slice(0, at + delimiter!.length);
        items.push({ prefix: common });
        await it.return(undefined);
        it = this.objects(view, skipPast(common));
      }
    } finally {
      await it.return(undefined);
    }
    const lastItem = items.at(-1);
    const last = lastItem === undefined ? undefined : "key" in lastItem ? lastItem.key : lastItem.prefix;
    return { items, isTruncated, last };
  }

  // ---- writing objects (branch staging) ------------------------------------------------------

  /** The branch behind a write; lakeFS-style errors are the caller's (S3 or REST) to render. */
  async branchTarget(repo: string, ref: string): Promise<BranchTarget | undefined> {
    return (await this.getBranch(repo, ref)) ? { repo, branch: ref } : undefined;
  }

  /**
   * Stage an object. The condition sees the visible object (staged over committed) and runs under
   * the key's lock. Returns the replaced *staged* record, whose blobs the caller reclaims.
   */
  putObject(target: BranchTarget, path: string, record: ObjectRecord, condition?: WriteCondition): Promise<{ replaced?: ObjectRecord }> {
    return this.stage(target, [path], async (branch, current, batch) => {
      if (condition) condition(await current.get(path)!.visible());
      batch.put(stagingKey(target.repo, branch.stagingToken, path), record, { sublevel: this.store.staging });
    }).then(([replaced]) => ({ replaced }));
  }

  /**
   * Delete objects from a branch: a staged record is dropped, a committed one gets a tombstone.
   * Returns the staged records removed (their blobs are the caller's to reclaim).
   */
  async deleteObjects(target: BranchTarget, paths: readonly string[]): Promise<ObjectRecord[]> {
    return this.stage(target, paths, async (branch, current, batch) => {
      for (const [path, state] of current) {
        const key = stagingKey(target.repo, branch.stagingToken, path);
        if (await state.committed()) batch.put(key, { tombstone: true }, { sublevel: this.store.staging });
        else if (state.staged) batch.del(key, { sublevel: this.store.staging });
      }
    });
  }

  /**
   * Complete a multipart upload atomically: `build` validates the stored parts and returns the
   * record; then ONE synced batch stages the object and drops the upload and its parts. Returns
   * the record, the replaced staged record and the part blobs the object does not use.
   */
  async completeUpload(
    upload: UploadRecord,
    target: BranchTarget,
    build: (parts: PartRecord[]) => ObjectRecord,
    condition: WriteCondition | undefined,
    partList: string,
  ): Promise<{ record: ObjectRecord; replaced?: ObjectRecord; unused: BlobRef[] }> {
    return this.store.locks.run(`upload:${upload.uploadId}`, async () => {
      if (!(await this.store.uploads.get(upload.uploadId))) throw new NoSuchUploadError(upload.uploadId);
      const { parts } = await this.store.listParts(upload.uploadId);
      const record = build(parts);
      const [replaced] = await this.stage(target, [upload.path], async (branch, current, batch) => {
        if (condition) condition(await current.get(upload.path)!.visible());
        batch.put(stagingKey(target.repo, branch.stagingToken, upload.path), record, { sublevel: this.store.staging });
        this.store.dropUpload(batch, upload, parts);
        const done: CompletedUpload = { repo: upload.repo, ref: upload.ref, path: upload.path, partList, etag: record.etag, checksum: record.checksum, completedAt: record.lastModified };
        batch.put(upload.uploadId, done, { sublevel: this.store.completedUploads });
      });
      const used = new Set(record.parts.map((p) => p.blobId));
      return { record, replaced, unused: parts.map((p) => p.blob).filter((b) => !used.has(b.blobId)) };
    });
  }

  /**
   * The shared write path: hold the branch (shared) and the keys, read each key's staged state
   * (its committed state on demand), let `apply` fill one batch, write it synced. Returns the
   * staged records the batch replaced or removed.
   */
  private stage(
    target: BranchTarget,
    paths: readonly string[],
    apply: (branch: BranchRecord, current: Map<string, KeyState>, batch: Batch) => Promise<void>,
  ): Promise<ObjectRecord[]> {
    return this.withBranch(target.repo, target.branch, "shared", async (branch) => {
      const unique = [...new Set(paths)];
      const keys = unique.map((p) => stagingKey(target.repo, branch.stagingToken, p));
      return this.store.locks.runAll(keys, async () => {
        let headTree: Promise<string> | undefined;
        const tree = () => (headTree ??= this.refs.commit(target.repo, branch.head).then((head) => head?.tree ?? EMPTY_TREE));
        const entries = await this.store.staging.getMany(keys);
        const current = new Map<string, KeyState>();
        for (const [i, path] of unique.entries()) {
          const entry = entries[i];
          const staged = entry && !isTombstone(entry) ? entry : undefined;
          let committed: Promise<ObjectRecord | undefined> | undefined;
          const state: KeyState = {
            staged,
            committed: () => (committed ??= tree().then((t) => this.trees.get(target.repo, t, path))),
            visible: () => (entry ? Promise.resolve(staged) : state.committed()),
          };
          current.set(path, state);
        }
        const batch = this.store.batch();
        await apply(branch, current, batch);
        await batch.write({ sync: true });
        return [...current.values()].flatMap((c) => (c.staged ? [c.staged] : []));
      });
    });
  }

  // ---- commits ------------------------------------------------------------------------------

  /** Commit a branch's staged changes: cost in proportion to the changes, not the repository. */
  async commit(repo: string, branchName: string, input: CommitInput): Promise<CommitRecord> {
    return this.withBranch(repo, branchName, "exclusive", async (branch) => {
      const head = (await this.refs.commit(repo, branch.head))!;
      const changes: Change[] = [];
      const batch = this.store.batch();
      const base = stagingKey(repo, branch.stagingToken, "");
      for await (const [key, entry] of this.store.staging.iterator(rangeFor(base))) {
        changes.push([key.slice(base.length), isTombstone(entry) ? null : entry]);
        batch.del(key, { sublevel: this.store.staging });
      }
      const tree = await this.trees.apply(repo, head.tree, changes, batch);
      if (tree === head.tree && !input.allowEmpty) throw badRequest("commit: no changes");
      const fields = { parents: [head.id], message: input.message, committer: input.committer ?? COMMITTER, metadata: input.metadata ?? {}, tree, generation: head.generation + 1 };
      return this.advance(repo, branch, batch, fields, newToken());
    });
  }

  async getCommit(repo: string, id: string): Promise<CommitRecord | undefined> {
    return this.refs.commitByPrefix(repo, id);
  }

  /**
   * Commits reachable from a ref, newest first (by date, then generation), paginated by id, as
   * lakeFS's log: only those that changed one of `objects` or something under one of `prefixes`
   * (against their first parent) when given; ending before the first commit older than `since`,
   * or with the `stopAt` commit.
   */
  async log(repo: string, ref: string, options: LogOptions = {}): Promise<{ commits: CommitRecord[]; hasMore: boolean }> {
    const view = await this.resolve(repo, ref);
    if (!view?.commitId) throw notFound(`ref ${ref}`);
    let stopAt: string | undefined;
    if (options.stopAt) {
      stopAt = (await this.resolve(repo, options.stopAt))?.commitId;
      if (!stopAt) throw notFound(`ref ${options.stopAt}`);
    }
    const amount = options.amount ?? 100;
    const out: CommitRecord[] = [];
    let passed = options.after === undefined;
    // Commits to visit, the next one last (see enqueue); every id queued so far, visited or not.
    const queue: CommitRecord[] = [];
    const queued = new Set<string>([view.commitId]);
    enqueue(queue, (await this.refs.commit(repo, view.commitId))!);
    while (queue.length > 0) {
      const c = queue.pop()!;
      if (options.since && Date.parse(c.createdAt) < options.since.getTime()) break;
      if (passed) {
        if (await this.touches(repo, c, options)) {
          if (out.length === amount) return { commits: out, hasMore: true };
          out.push(c);
        }
      } else if (c.id === options.after) passed = true;
      if (c.id === stopAt) break;
      for (const p of options.firstParent ? c.parents.slice(0, 1) : c.parents) {
        if (queued.has(p)) continue;
        queued.add(p);
        enqueue(queue, (await this.refs.commit(repo, p))!);
      }
    }
    return { commits: out, hasMore: false };
  }

  /** Whether a commit changed one of the log filter's objects or prefixes (true without a filter). */
  private async touches(repo: string, c: CommitRecord, filter: Pick<LogOptions, "objects" | "prefixes">): Promise<boolean> {
    const objects = filter.objects ?? [];
    const prefixes = filter.prefixes ?? [];
    if (objects.length === 0 && prefixes.length === 0) return true;
    const parentTree = c.parents[0] ? (await this.refs.commit(repo, c.parents[0]))!.tree : EMPTY_TREE;
    for (const path of objects) {
      if (!sameObject(await this.trees.get(repo, parentTree, path), await this.trees.get(repo, c.tree, path))) return true;
    }
    if (prefixes.length > 0) {
      for await (const [path] of this.trees.diff(repo, parentTree, c.tree)) {
        if (prefixes.some((prefix) => path.startsWith(prefix))) return true;
      }
    }
    return false;
  }

  // ---- tags ---------------------------------------------------------------------------------

  async createTag(repo: string, id: string, ref: string): Promise<TagRecord> {
    if (!/^[^\s~^@$:]+$/.test(id)) throw badRequest(`invalid tag id "${id}"`);
    const view = await this.resolve(repo, ref);
    if (!view?.commitId) throw notFound(`ref ${ref}`);
    return this.store.locks.run(`tag:${repo}${SEP}${id}`, async () => {
      if (await this.store.tags.get(repo + SEP + id)) throw conflict(`tag ${id} already exists`);
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

  // ---- diff, merge, revert ------------------------------------------------------------------

  /** A branch's uncommitted changes against its head commit. */
  async *diffBranch(repo: string, branchName: string, prefix = ""): AsyncGenerator<DiffEntry> {
    const branch = await this.getBranch(repo, branchName);
    if (!branch) throw notFound(`branch ${branchName}`);
    const head = (await this.refs.commit(repo, branch.head))!;
    const base = stagingKey(repo, branch.stagingToken, "");
    for await (const [key, entry] of this.store.staging.iterator(rangeFor(base + prefix))) {
      const path = key.slice(base.length);
      const committed = await this.trees.get(repo, head.tree, path);
      if (isTombstone(entry)) {
        if (committed) yield { type: "removed", path, record: committed };
      } else yield { type: committed ? "changed" : "added", path, record: entry };
    }
  }

  /** Committed differences between two refs; `three_dot` diffs from their merge base. */
  async *diffRefs(repo: string, left: string, right: string, type: "two_dot" | "three_dot" = "three_dot"): AsyncGenerator<DiffEntry> {
    const l = await this.resolve(repo, left);
    const r = await this.resolve(repo, right);
    if (!l?.commitId) throw notFound(`ref ${left}`);
    if (!r?.commitId) throw notFound(`ref ${right}`);
    let leftTree = l.tree;
    if (type === "three_dot") {
      const base = await this.mergeBase(repo, l.commitId, r.commitId);
      leftTree = base ? base.tree : EMPTY_TREE;
    }
    for await (const [path, a, b] of this.trees.diff(repo, leftTree, r.tree)) {
      yield { type: !a ? "added" : !b ? "removed" : "changed", path, record: b ?? a };
    }
  }

  /** The best common ancestor of two commits (the newest one reachable from both). */
  async mergeBase(repo: string, a: string, b: string): Promise<CommitRecord | undefined> {
    const ancestorsOfA = new Set<string>();
    const stack = [a];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (ancestorsOfA.has(id)) continue;
      ancestorsOfA.add(id);
      stack.push(...((await this.refs.commit(repo, id))?.parents ?? []));
    }
    let best: CommitRecord | undefined;
    const seen = new Set<string>();
    const queue = [b];
    for (let next = 0; next < queue.length; next++) {
      const id = queue[next]!;
      if (seen.has(id)) continue;
      seen.add(id);
      const c = await this.refs.commit(repo, id);
      if (!c) continue;
      if (ancestorsOfA.has(id)) {
        if (!best || c.generation > best.generation) best = c;
        continue;
      }
      queue.push(...c.parents);
    }
    return best;
  }

  /**
   * Merge a ref into a branch: a fast-forward when the branch head is an ancestor of the source,
   * else a three-way merge commit (conflicts fail unless a strategy picks a side). `squash`: always
   * a new commit whose only parent is the branch head, so the source's history stays out of it.
   */
  async merge(
    repo: string,
    source: string,
    destName: string,
    options: { strategy?: MergeStrategy; message?: string; metadata?: Record<string, string>; committer?: string; squash?: boolean } = {},
  ): Promise<string> {
    const src = await this.resolve(repo, source);
    if (!src?.commitId) throw notFound(`source ref ${source}`);
    return this.withBranch(repo, destName, "exclusive", async (dest) => {
      if (await this.hasStaged(repo, dest.stagingToken)) throw badRequest(`branch ${destName} has uncommitted changes`);
      const destHead = (await this.refs.commit(repo, dest.head))!;
      const srcCommit = (await this.refs.commit(repo, src.commitId!))!;
      const base = await this.mergeBase(repo, destHead.id, srcCommit.id);
      if (base?.id === srcCommit.id) throw badRequest("no changes to merge");
      if (base?.id === destHead.id && !options.squash) {
        const batch = this.store.batch();
        this.putBranch(batch, repo, { ...dest, head: srcCommit.id }, dest.stagingToken);
        await this.write(batch, { branches: [repo + SEP + destName] });
        return srcCommit.id;
      }
      const baseTree = base?.tree ?? EMPTY_TREE;
      const destChanges = new Map<string, ObjectRecord | undefined>();
      for await (const [path, , after] of this.trees.diff(repo, baseTree, destHead.tree)) destChanges.set(path, after);
      const changes: Change[] = [];
      const conflicts: string[] = [];
      for await (const [path, , after] of this.trees.diff(repo, baseTree, srcCommit.tree)) {
        if (destChanges.has(path)) {
          const destAfter = destChanges.get(path);
          if (sameObject(destAfter, after)) continue;
          if (options.strategy === "dest-wins") continue;
          if (options.strategy !== "source-wins") {
            conflicts.push(path);
            continue;
          }
        }
        changes.push([path, after ?? null]);
      }
      if (conflicts.length > 0) throw conflict(`conflict found: ${conflicts.slice(0, 10).join(", ")}${conflicts.length > 10 ? ", …" : ""}`);
      const batch = this.store.batch();
      const tree = await this.trees.apply(repo, destHead.tree, changes, batch);
      const commit = await this.advance(repo, dest, batch, {
        parents: options.squash ? [destHead.id] : [destHead.id, srcCommit.id],
        message: options.message || `Merge '${source}' into '${destName}'`,
        committer: options.committer ?? COMMITTER,
        metadata: options.metadata ?? {},
        tree,
        generation: (options.squash ? destHead.generation : Math.max(destHead.generation, srcCommit.generation)) + 1,
      });
      return commit.id;
    });
  }

  /** Undo a commit's changes on a branch with a new commit (parentNumber picks the parent of a merge). */
  async revert(repo: string, branchName: string, ref: string, parentNumber = 1, overrides: CommitOverrides = {}): Promise<CommitRecord> {
    const { commit, parent } = await this.commitWithParent(repo, ref, parentNumber, "revert");
    const info = { message: overrides.message || `Revert ${commit.id}`, metadata: overrides.metadata ?? {} };
    return this.replay(repo, branchName, commit.tree, parent.tree, info, "reverting");
  }

  /** Apply a commit's changes (against the chosen parent) to a branch as a new commit with its message. */
  async cherryPick(repo: string, branchName: string, ref: string, parentNumber = 1, overrides: CommitOverrides = {}): Promise<CommitRecord> {
    const { commit, parent } = await this.commitWithParent(repo, ref, parentNumber, "cherry-pick");
    const info = { message: overrides.message || commit.message, metadata: overrides.metadata ?? commit.metadata };
    return this.replay(repo, branchName, parent.tree, commit.tree, info, "cherry-picking");
  }

  private async commitWithParent(repo: string, ref: string, parentNumber: number, what: string): Promise<{ commit: CommitRecord; parent: CommitRecord }> {
    const view = await this.resolve(repo, ref);
    if (!view?.commitId) throw notFound(`ref ${ref}`);
    const commit = (await this.refs.commit(repo, view.commitId))!;
    if (commit.parents.length === 0) throw badRequest(`cannot ${what} the initial commit`);
    if (commit.parents.length > 1 && parentNumber < 1) throw badRequest(`parent number required to ${what} a merge commit`);
    // As lakeFS: 0 (lakectl's default) and 1 both mean the first parent of a single-parent commit.
    const parent = await this.refs.commit(repo, commit.parents[Math.max(parentNumber, 1) - 1] ?? "");
    if (!parent) throw badRequest(`commit ${commit.id} has no parent ${parentNumber}`);
    return { commit, parent };
  }

  /**
   * Commit on a branch the changes that lead from tree `from` to tree `to`; each changed path must
   * still be as it was in `from` on the branch (else 409).
   */
  private replay(repo: string, branchName: string, from: string, to: string, info: { message: string; metadata: Record<string, string> }, doing: string): Promise<CommitRecord> {
    return this.withBranch(repo, branchName, "exclusive", async (branch) => {
      if (await this.hasStaged(repo, branch.stagingToken)) throw badRequest(`branch ${branchName} has uncommitted changes`);
      const head = (await this.refs.commit(repo, branch.head))!;
      const changes: Change[] = [];
      for await (const [path, before, after] of this.trees.diff(repo, from, to)) {
        if (!sameObject(await this.trees.get(repo, head.tree, path), before)) throw conflict(`conflict ${doing} ${path}: it changed since`);
        changes.push([path, after ?? null]);
      }
      const batch = this.store.batch();
      const tree = await this.trees.apply(repo, head.tree, changes, batch);
      return this.advance(repo, branch, batch, { parents: [head.id], message: info.message, committer: COMMITTER, metadata: info.metadata, tree, generation: head.generation + 1 });
    });
  }

  /**
   * Finish a commit, merge or replay: a new commit (created now) with `fields`, put into `batch`
   * with the branch moved to it (and to `stagingToken`, when a new one is given); write it.
   */
  private async advance(
    repo: string,
    branch: BranchRecord,
    batch: Batch,
    fields: Omit<CommitRecord, "id" | "createdAt">,
    stagingToken = branch.stagingToken,
  ): Promise<CommitRecord> {
    const { parents, message, committer, metadata, tree, generation } = fields;
    const commit = newCommit({ parents, message, committer, metadata, tree, generation, createdAt: new Date().toISOString() });
    batch.put(repo + SEP + commit.id, commit, { sublevel: this.store.commits });
    this.putBranch(batch, repo, { ...branch, head: commit.id, stagingToken }, branch.stagingToken);
    await this.write(batch, { branches: [repo + SEP + branch.name] });
    return commit;
  }

  // ---- housekeeping -------------------------------------------------------------------------

  /** Every blob id some record references: staged, committed, or an upload's part. */
  async liveBlobIds(): Promise<Set<string>> {
    const live = new Set<string>();
    for await (const entry of this.store.staging.values()) if (!isTombstone(entry)) for (const p of entry.parts) live.add(p.blobId);
    for await (const entries of this.store.ranges.values()) for (const [, r] of entries) for (const p of r.parts) live.add(p.blobId);
    for await (const part of this.store.parts.values()) live.add(part.blob.blobId);
    return live;
  }

  private async requireRepo(repo: string): Promise<RepositoryRecord> {
    const r = await this.getRepository(repo);
    if (!r) throw notFound(`repository ${repo}`);
    return r;
  }

  /**
   * Write a branch record, keeping a live end marker right after its staging range (moved along
   * when the token changes). LevelDB skips deleted keys one at a time, so without the marker a scan
   * that reaches the end of this range would crawl through every tombstone a big commit left in
   * the next range (another branch's retired token) before it could stop.
   */
  private putBranch(batch: Batch, repo: string, branch: BranchRecord, previousToken?: string): void {
    batch.put(repo + SEP + branch.name, branch, { sublevel: this.store.branches });
    if (branch.stagingToken === previousToken) return;
    batch.put(endMarker(repo, branch.stagingToken), END_MARKER, { sublevel: this.store.staging });
    if (previousToken !== undefined) batch.del(endMarker(repo, previousToken), { sublevel: this.store.staging });
  }

  /** Run `fn` holding the branch lock, with the branch record read under it. */
  private withBranch<T>(repo: string, name: string, mode: "shared" | "exclusive", fn: (branch: BranchRecord) => Promise<T>): Promise<T> {
    return this.store.branchLocks[mode](repo + SEP + name, async () => {
      const branch = await this.getBranch(repo, name);
      if (!branch) throw notFound(`branch ${name}`);
      return fn(branch);
    });
  }

  private async hasStaged(repo: string, token: string): Promise<boolean> {
    for await (const _ of this.store.staging.keys({ ...rangeFor(stagingKey(repo, token, "")), limit: 1 })) return true;
    return false;
  }

  /** Queue deletion of staged entries under a prefix; returns their blobs. */
  private async dropStaging(repo: string, token: string, prefix: string, batch: Batch): Promise<BlobRef[]> {
    const blobs: BlobRef[] = [];
    for await (const [key, entry] of this.store.staging.iterator(rangeFor(stagingKey(repo, token, prefix)))) {
      if (!isTombstone(entry)) blobs.push(...entry.parts);
      batch.del(key, { sublevel: this.store.staging });
    }
    return blobs;
  }
}

function stagingKey(repo: string, token: string, path: string): string {
  return repo + SEP + token + SEP + path;
}

/** Sorts right after every key of the token's range (it is rangeFor(base).lt, so scans exclude it). */
function endMarker(repo: string, token: string): string {
  return stagingKey(repo, token, "\u{10FFFF}");
}

/** A tombstone value: whole-store scans (liveBlobIds, deleteRepository) treat it as nothing staged. */
const END_MARKER: StagedEntry = { tombstone: true };

function newToken(): string {
  return randomBytes(8).toString("hex");
}

function newBranch(name: string, head: string): BranchRecord {
  return { name, head, stagingToken: newToken(), createdAt: new Date().toISOString() };
}

function newCommit(fields: Omit<CommitRecord, "id">): CommitRecord {
  const id = createHash("sha256").update(JSON.stringify(fields)).update(randomBytes(8)).digest("hex");
  return { id, ...fields };
}

/** Whether the log shows `a` before `b`: newer first, then the higher generation. */
function showsBefore(a: CommitRecord, b: CommitRecord): boolean {
  return a.createdAt === b.createdAt ? a.generation > b.generation : a.createdAt > b.createdAt;
}

/**
 * Insert into the log's queue, kept so that the next commit to show is last: after every commit
 * that shows after it, before every commit that shows before it or ties with it (a tie goes to
 * the one queued first).
 */
function enqueue(queue: CommitRecord[], c: CommitRecord): void {
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (showsBefore(c, queue[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  queue.splice(lo, 0, c);
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
