/**
 * Ref expressions as lakeFS resolves them: a full commit id, then a branch, then a tag, then a
 * unique commit-id prefix; followed by modifiers `~N` (N-th first parent), `^N` (N-th parent),
 * `@` (a branch's committed state only) and `$` (a branch's staging only).
 */
import { BRANCH_NAME } from "../config.js";
import { rangeFor } from "../storage/keys.js";
import { SEP, type BranchRecord, type CommitRecord, type MetadataStore } from "../storage/metadata-store.js";
import { EMPTY_TREE, remember } from "./tree.js";

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
}

const FULL_COMMIT = /^[0-9a-f]{64}$/;
const HEX = /^[0-9a-f]{1,64}$/;
const COMMIT_CACHE_SIZE = 10_000;

export class RefResolver {
  private readonly commitCache = new Map<string, CommitRecord>();

  constructor(
    private readonly store: MetadataStore,
    private readonly getBranch: (repo: string, name: string) => Promise<BranchRecord | undefined>,
  ) {}

  async commit(repo: string, id: string): Promise<CommitRecord | undefined> {
    const key = repo + SEP + id;
    let c = this.commitCache.get(key);
    if (!c) {
      c = await this.store.commits.get(key);
      if (c) remember(this.commitCache, key, c, COMMIT_CACHE_SIZE);
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
   * branch moved under it (see Catalog.getObject). Undefined when the view reads no staging.
   */
  async rebase(view: RefView, branch: BranchRecord): Promise<RefView | undefined> {
    if (view.branchName === undefined) return undefined;
    const commit = await this.commit(view.repo, branch.head);
    return commit && this.branchView(view.repo, branch, commit, view.tree === EMPTY_TREE && view.branch === undefined);
  }

  private branchView(repo: string, branch: BranchRecord, commit: CommitRecord, stagingOnly: boolean): RefView {
    if (stagingOnly) return { repo, staging: branch.stagingToken, tree: EMPTY_TREE, commitId: commit.id, branchName: branch.name };
    return { repo, branch, staging: branch.stagingToken, tree: commit.tree, commitId: commit.id, branchName: branch.name };
  }

  async resolve(repo: string, ref: string): Promise<RefView | undefined> {
    const at = ref.search(/[~^@$]/);
    const base = at < 0 ? ref : ref.slice(0, at);
    const modifiers = at < 0 ? "" : ref.slice(at);
    if (base === "") return undefined;

    let branch: BranchRecord | undefined;
    let commit: CommitRecord | undefined;
    if (FULL_COMMIT.test(base)) commit = await this.commit(repo, base);
    if (!commit && BRANCH_NAME.test(base)) branch = await this.getBranch(repo, base);
    if (branch) commit = await this.commit(repo, branch.head);
    else if (!commit) {
      const tag = await this.store.tags.get(repo + SEP + base);
      commit = tag ? await this.commit(repo, tag.commitId) : await this.commitByPrefix(repo, base);
    }
    if (!commit) return undefined;

    if (modifiers === "") return branch ? this.branchView(repo, branch, commit, false) : { repo, tree: commit.tree, commitId: commit.id };
    if (modifiers === "@") return branch ? { repo, tree: commit.tree, commitId: commit.id } : undefined;
    if (modifiers === "$") return branch ? this.branchView(repo, branch, commit, true) : undefined;

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
