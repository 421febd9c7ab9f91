/**
 * Comparing refs, as graveler's diff and merge iterators over two committed trees and their
 * base: the committed difference between two refs, their merge base, and merging one into a
 * branch (a fast-forward, or a three-way merge commit).
 */
import { SEP, type CommitRecord, type MetadataStore, type ObjectRecord } from "../storage/metadata-store.js";
import { encodeRecord } from "../storage/range-data.js";
import { COMMITTER, type CommitManager } from "./commits.js";
import { badRequest, conflict, notFound } from "./errors.js";
import type { RefManager } from "./refs.js";
import { hasStaged } from "./staging-keys.js";
import { EMPTY_TREE, sameObject, type Change, type TreeStore } from "./tree.js";

export interface DiffEntry {
  type: "added" | "removed" | "changed" | "conflict";
  path: string;
  /** The record on the right side (added/changed) or the left (removed). */
  record?: ObjectRecord;
}

export type MergeStrategy = "dest-wins" | "source-wins";

/** The metadata key of a merge commit that records its strategy ("default" without one), as lakeFS's. */
const MERGE_STRATEGY_KEY = ".lakefs.merge.strategy";

export interface MergeOptions {
  strategy?: MergeStrategy;
  message?: string;
  metadata?: Record<string, string>;
  committer?: string;
  squash?: boolean;
  /**
   * Asked when the destination head is an ancestor of the source: true (the default) moves the
   * branch to the source commit; false makes a merge commit, as lakeFS always does.
   */
  fastForward?: () => boolean;
}

export class RefComparer {
  constructor(
    private readonly store: MetadataStore,
    private readonly trees: TreeStore,
    private readonly refs: RefManager,
    private readonly commits: CommitManager,
  ) {}

  /**
   * Committed differences between two refs. `two_dot`: left's tree against right's (graveler
   * Diff). `three_dot` (the default), as graveler's Compare (pkg/graveler/committed/
   * compare_iterator.go): what merging right into left would do to left, judged through their
   * merge base: a path changed only on the left, or identically on both sides, is not listed; a
   * path changed differently on both sides is a `conflict`.
   */
  async *diffRefs(repo: string, left: string, right: string, type: "two_dot" | "three_dot" = "three_dot"): AsyncGenerator<DiffEntry> {
    const l = await this.refs.resolve(repo, left);
    const r = await this.refs.resolve(repo, right);
    if (!l?.commitId) throw notFound(`ref ${left}`);
    if (!r?.commitId) throw notFound(`ref ${right}`);
    const baseTree = type === "three_dot" ? ((await this.mergeBase(repo, l.commitId, r.commitId))?.tree ?? EMPTY_TREE) : undefined;
    for await (const [path, a, b] of this.trees.diff(repo, l.tree, r.tree)) {
      const type = !a ? "added" : !b ? "removed" : "changed";
      if (baseTree === undefined) {
        yield { type, path, record: b ?? a };
        continue;
      }
      const base = await this.trees.get(repo, baseTree, path);
      if (sameObject(base, b)) continue; // changed (added, removed) only on the left
      yield { type: sameObject(base, a) ? type : "conflict", path, record: b ?? a };
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
      stack.push(...((await this.refs.resolver.commit(repo, id))?.parents ?? []));
    }
    let best: CommitRecord | undefined;
    const seen = new Set<string>();
    const queue = [b];
    for (let next = 0; next < queue.length; next++) {
      const id = queue[next]!;
      if (seen.has(id)) continue;
      seen.add(id);
      const c = await this.refs.resolver.commit(repo, id);
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
    options: MergeOptions = {},
  ): Promise<string> {
    const src = await this.refs.resolve(repo, source);
    if (!src?.commitId) throw notFound(`source ref ${source}`);
    return this.refs.withBranch(repo, destName, "exclusive", async (dest) => {
      // lakeFS's words (graveler.go Merge: ErrDirtyBranch, ErrNoChanges inside "update branch <dest>").
      if (await hasStaged(this.store, repo, dest.stagingToken)) throw badRequest(`update branch ${destName}: ${destName}: uncommitted changes (dirty branch)`);
      const destHead = (await this.refs.resolver.commit(repo, dest.head))!;
      const srcCommit = (await this.refs.resolver.commit(repo, src.commitId!))!;
      const base = await this.mergeBase(repo, destHead.id, srcCommit.id);
      if (base?.id === srcCommit.id) throw badRequest(`update branch ${destName}: no changes`);
      if (base?.id === destHead.id && !options.squash && (options.fastForward?.() ?? true)) {
        const batch = this.store.batch();
        this.refs.putBranch(batch, repo, { ...dest, head: srcCommit.id }, dest.stagingToken);
        await this.refs.write(batch, { branches: [repo + SEP + destName] });
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
        changes.push([path, after ? encodeRecord(after) : null]);
      }
      if (conflicts.length > 0) throw conflict(`conflict found: ${conflicts.slice(0, 10).join(", ")}${conflicts.length > 10 ? ", …" : ""}`);
      const batch = this.store.batch();
      const tree = await this.trees.apply(repo, destHead.tree, changes);
      const commit = await this.commits.advance(repo, dest, batch, {
        parents: options.squash ? [destHead.id] : [destHead.id, srcCommit.id],
        message: options.message || `Merge '${source}' into '${destName}'`,
        committer: options.committer ?? COMMITTER,
        // Every lakeFS merge commit names its strategy (graveler.go Merge, MergeStrategyMetadataKey).
        metadata: { ...options.metadata, [MERGE_STRATEGY_KEY]: options.strategy ?? "default" },
        tree,
        generation: (options.squash ? destHead.generation : Math.max(destHead.generation, srcCommit.generation)) + 1,
      });
      return commit.id;
    });
  }
}
