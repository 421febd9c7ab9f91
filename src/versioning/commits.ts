/**
 * Commits, as graveler makes them: commit a branch's staged changes, read a commit and the log,
 * and revert or cherry-pick a commit by replaying a tree change on a branch. Every new commit goes
 * through advance(), which moves the branch to it in the same batch (merges too, compare.ts).
 */
import { SEP, type Batch, type BranchRecord, type CommitRecord, type MetadataStore } from "../storage/metadata-store.js";
import { encodeRecord } from "../storage/range-data.js";
import { committedBytes } from "../storage/stored-record.js";
import { badRequest, conflict, notFound } from "./errors.js";
import { newCommit, type RefManager } from "./refs.js";
import { dropSealed, hasStaged, newToken, sealStaging, stagingKey } from "./staging-keys.js";
import { EMPTY_TREE, sameObject, type Change, type TreeStore } from "./tree.js";

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

export interface CommitInput {
  message: string;
  metadata?: Record<string, string>;
  committer?: string;
  allowEmpty?: boolean;
  /** The creation date to record instead of now (lakeFS's commit `date`, Unix seconds). */
  date?: Date;
}

export const COMMITTER = "lakes3";
/** Staged entries a commit reads from its scan at a time (a batch also stops at 1 MB, see scanStaged). */
const SCAN_BATCH = 1000;

export class CommitManager {
  constructor(
    private readonly store: MetadataStore,
    private readonly trees: TreeStore,
    private readonly refs: RefManager,
  ) {}

  /** Commit a branch's staged changes: cost in proportion to the changes, not the repository. */
  async commit(repo: string, branchName: string, input: CommitInput): Promise<CommitRecord> {
    return this.refs.withBranch(repo, branchName, "exclusive", async (branch) => {
      const head = (await this.refs.resolver.commit(repo, branch.head))!;
      const batch = this.store.batch();
      const base = stagingKey(repo, branch.stagingToken, "");
      const store = this.store;
      // The staged changes stream from the staging range into the new tree, never all in memory,
      // their records moved as the stored text they are (committedBytes).
      async function* changes(): AsyncGenerator<Change> {
        const scan = store.scanStaged(base);
        try {
          for (let batch = await scan.nextv(SCAN_BATCH); batch.length > 0; batch = await scan.nextv(SCAN_BATCH)) {
            for (const [key, text] of batch) yield [key.slice(base.length), committedBytes(text) ?? null];
          }
        } finally {
          await scan.close();
        }
      }
      const tree = await this.trees.apply(repo, head.tree, changes());
      if (tree === head.tree && !input.allowEmpty) throw badRequest("commit: no changes");
      const fields = { parents: [head.id], message: input.message, committer: input.committer ?? COMMITTER, metadata: input.metadata ?? {}, tree, generation: head.generation + 1, createdAt: input.date?.toISOString() };
      // The staged entries are not deleted in the commit's batch: the range is sealed with it and
      // dropped after (see sealStaging), so a commit writes only what it adds.
      sealStaging(this.store, batch, repo, branch.stagingToken);
      const commit = await this.advance(repo, branch, batch, fields, newToken());
      this.background(dropSealed(this.store, repo, branch.stagingToken));
      return commit;
    });
  }

  private readonly pending = new Set<Promise<void>>();

  /** Run a drop after a commit; a failure leaves its sealed record for the next start. */
  private background(work: Promise<void>): void {
    const p = work.catch(() => undefined).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Wait for the drops in progress (before the store closes). */
  async idle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async getCommit(repo: string, id: string): Promise<CommitRecord | undefined> {
    return this.refs.resolver.commitByPrefix(repo, id);
  }

  /**
   * Commits reachable from a ref, newest first (by date, then generation), paginated by id, as
   * lakeFS's log: only those that changed one of `objects` or something under one of `prefixes`
   * (against their first parent) when given; ending before the first commit older than `since`,
   * or with the `stopAt` commit.
   */
  async log(repo: string, ref: string, options: LogOptions = {}): Promise<{ commits: CommitRecord[]; hasMore: boolean }> {
    const view = await this.refs.resolve(repo, ref);
    if (!view?.commitId) throw notFound(`ref ${ref}`);
    let stopAt: string | undefined;
    if (options.stopAt) {
      stopAt = (await this.refs.resolve(repo, options.stopAt))?.commitId;
      if (!stopAt) throw notFound(`ref ${options.stopAt}`);
    }
    const amount = options.amount ?? 100;
    const out: CommitRecord[] = [];
    let passed = options.after === undefined;
    // Commits to visit, the next one last (see enqueue); every id queued so far, visited or not.
    const queue: CommitRecord[] = [];
    const queued = new Set<string>([view.commitId]);
    enqueue(queue, (await this.refs.resolver.commit(repo, view.commitId))!);
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
        enqueue(queue, (await this.refs.resolver.commit(repo, p))!);
      }
    }
    return { commits: out, hasMore: false };
  }

  /** Whether a commit changed one of the log filter's objects or prefixes (true without a filter). */
  private async touches(repo: string, c: CommitRecord, filter: Pick<LogOptions, "objects" | "prefixes">): Promise<boolean> {
    const objects = filter.objects ?? [];
    const prefixes = filter.prefixes ?? [];
    if (objects.length === 0 && prefixes.length === 0) return true;
    const parentTree = c.parents[0] ? (await this.refs.resolver.commit(repo, c.parents[0]))!.tree : EMPTY_TREE;
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

  // ---- revert and cherry-pick --------------------------------------------------------------

  /** Undo a commit's changes on a branch with a new commit (parentNumber picks the parent of a merge). */
  async revert(repo: string, branchName: string, ref: string, parentNumber = 1, overrides: CommitOverrides = {}): Promise<CommitRecord> {
    const { commit, parent } = await this.commitWithParent(repo, ref, parentNumber, "revert");
    const info = { message: overrides.message || `Revert ${commit.id}`, metadata: overrides.metadata ?? {} };
    return this.replay(repo, branchName, commit.tree, parent.tree, info);
  }

  /** Apply a commit's changes (against the chosen parent) to a branch as a new commit with its message. */
  async cherryPick(repo: string, branchName: string, ref: string, parentNumber = 1, overrides: CommitOverrides = {}): Promise<CommitRecord> {
    const { commit, parent } = await this.commitWithParent(repo, ref, parentNumber, "cherry-pick");
    const info = { message: overrides.message || commit.message, metadata: overrides.metadata ?? commit.metadata };
    return this.replay(repo, branchName, parent.tree, commit.tree, info);
  }

  private async commitWithParent(repo: string, ref: string, parentNumber: number, what: string): Promise<{ commit: CommitRecord; parent: CommitRecord }> {
    const view = await this.refs.resolve(repo, ref);
    if (!view?.commitId) throw notFound(`ref ${ref}`);
    const commit = (await this.refs.resolver.commit(repo, view.commitId))!;
    if (commit.parents.length === 0) throw badRequest(`cannot ${what} the initial commit`);
    if (commit.parents.length > 1 && parentNumber < 1) throw badRequest(`parent number required to ${what} a merge commit`);
    // As lakeFS: 0 (lakectl's default) and 1 both mean the first parent of a single-parent commit.
    const parent = await this.refs.resolver.commit(repo, commit.parents[Math.max(parentNumber, 1) - 1] ?? "");
    if (!parent) throw badRequest(`commit ${commit.id} has no parent ${parentNumber}`);
    return { commit, parent };
  }

  /**
   * Commit on a branch the changes that lead from tree `from` to tree `to`; each changed path must
   * still be as it was in `from` on the branch (else 409).
   */
  private replay(repo: string, branchName: string, from: string, to: string, info: { message: string; metadata: Record<string, string> }): Promise<CommitRecord> {
    return this.refs.withBranch(repo, branchName, "exclusive", async (branch) => {
      if (await hasStaged(this.store, repo, branch.stagingToken)) throw badRequest(`update branch: ${branchName}: uncommitted changes (dirty branch)`); // lakeFS Revert / CherryPick
      const head = (await this.refs.resolver.commit(repo, branch.head))!;
      const changes: Change[] = [];
      for await (const [path, before, after] of this.trees.diff(repo, from, to)) {
        if (!sameObject(await this.trees.get(repo, head.tree, path), before)) throw conflict("update branch: conflict found"); // lakeFS Revert / CherryPick
        changes.push([path, after ? encodeRecord(after) : null]);
      }
      const batch = this.store.batch();
      const tree = await this.trees.apply(repo, head.tree, changes);
      return this.advance(repo, branch, batch, { parents: [head.id], message: info.message, committer: COMMITTER, metadata: info.metadata, tree, generation: head.generation + 1 });
    });
  }

  /**
   * Finish a commit, merge or replay: a new commit (created now, unless `fields` dates it) with `fields`, put into `batch`
   * with the branch moved to it (and to `stagingToken`, when a new one is given); write it.
   */
  async advance(
    repo: string,
    branch: BranchRecord,
    batch: Batch,
    fields: Omit<CommitRecord, "id" | "createdAt"> & { createdAt?: string | undefined },
    stagingToken = branch.stagingToken,
  ): Promise<CommitRecord> {
    const { parents, message, committer, metadata, tree, generation, createdAt } = fields;
    const commit = newCommit({ parents, message, committer, metadata, tree, generation, createdAt: createdAt ?? new Date().toISOString() });
    batch.put(repo + SEP + commit.id, commit, { sublevel: this.store.commits });
    this.refs.putBranch(batch, repo, { ...branch, head: commit.id, stagingToken }, branch.stagingToken);
    await this.refs.write(batch, { branches: [repo + SEP + branch.name] });
    return commit;
  }
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
