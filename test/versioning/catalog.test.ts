/** The versioning model directly: staging over commits, refs, shared trees, merge, diff, revert. */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { MetadataStore, type ObjectRecord } from "../../src/storage/metadata-store.js";
import { Catalog, type DiffEntry } from "../../src/versioning/catalog.js";
import { BranchWrites } from "../../src/versioning/refs.js";

let dir: string;
let store: MetadataStore;
let catalog: Catalog;
/** A fresh repository per test (see beforeEach): tests run alone and in any order. */
let REPO = "";
let repoCount = 0;

function record(etag: string, blobId = etag.padEnd(32, "0")): ObjectRecord {
  return { size: etag.length, etag, lastModified: new Date().toISOString(), contentType: "text/plain", headers: {}, userMeta: {}, parts: [{ blobId, size: etag.length }] };
}
let main = { repo: REPO, branch: "main" };

async function read(ref: string, p: string): Promise<string | undefined> {
  const view = await catalog.resolve(REPO, ref);
  return view && (await catalog.getObject(view, p))?.etag;
}
async function list(ref: string, prefix = "", delimiter?: string): Promise<string[]> {
  const view = await catalog.resolve(REPO, ref);
  if (!view) return [];
  const page = await catalog.listObjects(view, { prefix, delimiter, limit: 1000 });
  return page.items.map((i) => ("key" in i ? i.key : i.prefix));
}
async function collect(gen: AsyncGenerator<DiffEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const d of gen) out.push(`${d.type} ${d.path}`);
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-catalog-"));
  store = new MetadataStore(path.join(dir, "metadata"));
  await store.open();
  catalog = new Catalog(store);
});
beforeEach(async () => {
  REPO = `model-repo-${++repoCount}`;
  main = { repo: REPO, branch: "main" };
  await catalog.createRepository(REPO);
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe("catalog", () => {
  it("a new repository has main with an initial commit and nothing in it", async () => {
    const branch = await catalog.getBranch(REPO, "main");
    expect(branch?.head).toMatch(/^[0-9a-f]{64}$/);
    const { commits } = await catalog.log(REPO, "main");
    expect(commits.map((c) => c.message)).toEqual(["Repository created"]);
    expect(await list("main")).toEqual([]);
  });

  it("staging shadows the committed state; commit moves staging into a tree", async () => {
    await catalog.putObject(main, "a.txt", record("a1"));
    await catalog.putObject(main, "dir/b.txt", record("b1"));
    expect(await read("main", "a.txt")).toBe("a1");
    expect(await read("main@", "a.txt")).toBeUndefined(); // committed only
    expect(await read("main$", "a.txt")).toBe("a1"); // staging only
    const c1 = await catalog.commit(REPO, "main", { message: "first", metadata: { run: "1" } });
    expect(c1.metadata).toEqual({ run: "1" });
    expect(await read("main@", "a.txt")).toBe("a1");
    expect(await collect(catalog.diffBranch(REPO, "main"))).toEqual([]);
    await expect(catalog.commit(REPO, "main", { message: "nothing" })).rejects.toThrow(/no changes/);

    // overwrite and delete on top of the commit
    const replaced = await catalog.putObject(main, "a.txt", record("a2"));
    expect(replaced.replaced).toBeUndefined(); // a committed record is never handed back for reclaiming
    const removed = await catalog.deleteObjects(main, ["dir/b.txt"]);
    expect(removed).toEqual([]);
    expect(await read("main", "dir/b.txt")).toBeUndefined();
    expect(await read("main@", "dir/b.txt")).toBe("b1");
    expect(await list("main", "", "/")).toEqual(["a.txt"]);
    expect(await collect(catalog.diffBranch(REPO, "main"))).toEqual(["changed a.txt", "removed dir/b.txt"]);
    const c2 = await catalog.commit(REPO, "main", { message: "second" });
    expect(await read(c1.id, "a.txt")).toBe("a1");
    expect(await read(c1.id.slice(0, 10), "dir/b.txt")).toBe("b1");
    expect(await read("main~1", "a.txt")).toBe("a1");
    expect(await read("main^", "a.txt")).toBe("a1");
    expect(await read(c2.id, "a.txt")).toBe("a2");
    expect(await collect(catalog.diffRefs(REPO, c1.id, c2.id, "two_dot"))).toEqual(["changed a.txt", "removed dir/b.txt"]);
  });

  it("a commit carries every staged record whole: as written now, and as an older version staged it (fields in another order)", async () => {
    const now = record("n1");
    await catalog.putObject(main, "now.txt", now);
    const older = { ...record("o1"), userMeta: { note: "kept" } };
    const { stagingToken } = await catalog.getBranch(REPO, "main");
    const olderText = JSON.stringify({ etag: older.etag, parts: older.parts, size: older.size, ...older });
    await store.staging.put(`${REPO}!${stagingToken}!older.txt`, olderText as never, { valueEncoding: "utf8" } as never);
    await catalog.commit(REPO, "main", { message: "both" });
    const view = (await catalog.resolve(REPO, "main@"))!;
    expect(await catalog.getObject(view, "now.txt")).toEqual(now);
    expect(await catalog.getObject(view, "older.txt")).toEqual(older);
    const page = await catalog.listObjects(view, { prefix: "", limit: 10 });
    expect(page.items.map((i) => ("key" in i ? [i.key, i.object.summary()] : []))).toEqual([
      ["now.txt", { size: 2, etag: "n1", lastModified: now.lastModified }],
      ["older.txt", { size: 2, etag: "o1", lastModified: older.lastModified }],
    ]);
  });

  it("a listing shows what was staged after one that found nothing staged", async () => {
    expect(await list("main")).toEqual([]);
    await catalog.putObject(main, "a.txt", record("a1"));
    expect(await list("main")).toEqual(["a.txt"]);
    await catalog.commit(REPO, "main", { message: "first" });
    expect(await list("main")).toEqual(["a.txt"]); // a new staging token, nothing in it
    await catalog.putObject(main, "b.txt", record("b1"));
    await catalog.deleteObjects(main, ["a.txt"]);
    expect(await list("main")).toEqual(["b.txt"]);
    expect(await list("main$")).toEqual(["b.txt"]);
  });

  it("a read shows what was staged after one that found nothing staged (reads skip an empty staging range)", async () => {
    await catalog.putObject(main, "a.txt", record("a1"));
    await catalog.commit(REPO, "main", { message: "first" });
    expect(await read("main", "a.txt")).toBe("a1"); // nothing staged: read from the tree alone
    expect(await read("main", "b.txt")).toBeUndefined();
    await catalog.putObject(main, "a.txt", record("a2"));
    await catalog.putObject(main, "b.txt", record("b1"));
    expect(await read("main", "a.txt")).toBe("a2");
    expect(await read("main", "b.txt")).toBe("b1");
    await catalog.commit(REPO, "main", { message: "second" });
    expect(await read("main", "a.txt")).toBe("a2");
    await catalog.deleteObjects(main, ["a.txt"]); // a tombstone in a range that was empty
    expect(await read("main", "a.txt")).toBeUndefined();
  });

  it("a read after each kind of staged write sees the write (the staged entries the store keeps in memory follow every write)", async () => {
    const steps: [string, () => Promise<unknown>, string, string | undefined][] = [
      ["overwrite", () => catalog.putObject(main, "a.txt", record("a2")), "a.txt", "a2"],
      ["delete a staged object", () => catalog.deleteObjects(main, ["a.txt"]), "a.txt", undefined],
      ["stage again", () => catalog.putObject(main, "a.txt", record("a3")), "a.txt", "a3"],
      ["reset one object", () => catalog.resetBranch(REPO, "main", { type: "object", path: "a.txt" }), "a.txt", undefined],
      ["stage under a prefix", () => catalog.putObject(main, "d/x.txt", record("x1")), "d/x.txt", "x1"],
      ["reset a prefix", () => catalog.resetBranch(REPO, "main", { type: "common_prefix", path: "d/" }), "d/x.txt", undefined],
      ["stage", () => catalog.putObject(main, "e.txt", record("e1")), "e.txt", "e1"],
      ["reset the branch", () => catalog.resetBranch(REPO, "main", { type: "reset" }), "e.txt", undefined],
      ["stage and commit", async () => (await catalog.putObject(main, "c.txt", record("c1")), catalog.commit(REPO, "main", { message: "c1" })), "c.txt", "c1"],
      ["overwrite a committed object", () => catalog.putObject(main, "c.txt", record("c2")), "c.txt", "c2"],
      ["delete it (a tombstone)", () => catalog.deleteObjects(main, ["c.txt"]), "c.txt", undefined],
    ];
    await catalog.putObject(main, "a.txt", record("a1"));
    for (const [name, write, p] of steps) {
      await read("main", p); // kept in memory, if staged
      await read("main", p);
      await write();
      expect(await read("main", p), name).toBe(steps.find((s) => s[0] === name)![3]);
    }
  });

  it("a listing after each kind of staged write shows it (the staging range held in memory follows every write)", async () => {
    const listed = async () => {
      const view = (await catalog.resolve(REPO, "main"))!;
      const page = await catalog.listObjects(view, { prefix: "", limit: 1000 });
      return page.items.map((i) => ("key" in i ? `${i.key}=${i.object.summary().etag}` : i.prefix)).join(" ");
    };
    const steps: [string, () => Promise<unknown>, string][] = [
      ["stage", () => catalog.putObject(main, "b.txt", record("b1")), "a.txt=a1 b.txt=b1"],
      ["stage before", () => catalog.putObject(main, "0.txt", record("01")), "0.txt=01 a.txt=a1 b.txt=b1"],
      ["overwrite", () => catalog.putObject(main, "a.txt", record("a2")), "0.txt=01 a.txt=a2 b.txt=b1"],
      ["delete a staged object", () => catalog.deleteObjects(main, ["0.txt"]), "a.txt=a2 b.txt=b1"],
      ["reset one object", () => catalog.resetBranch(REPO, "main", { type: "object", path: "a.txt" }), "b.txt=b1"],
      ["stage under a prefix", () => catalog.putObject(main, "d/x.txt", record("x1")), "b.txt=b1 d/x.txt=x1"],
      ["reset a prefix", () => catalog.resetBranch(REPO, "main", { type: "common_prefix", path: "d/" }), "b.txt=b1"],
      ["reset the branch", () => catalog.resetBranch(REPO, "main", { type: "reset" }), ""],
      ["stage and commit", async () => (await catalog.putObject(main, "c.txt", record("c1")), catalog.commit(REPO, "main", { message: "c1" })), "c.txt=c1"],
      ["overwrite a committed object", () => catalog.putObject(main, "c.txt", record("c2")), "c.txt=c2"],
      ["delete it (a tombstone)", () => catalog.deleteObjects(main, ["c.txt"]), ""],
      ["stage over the tombstone", () => catalog.putObject(main, "c.txt", record("c3")), "c.txt=c3"],
    ];
    await catalog.putObject(main, "a.txt", record("a1"));
    for (const [name, write, expected] of steps) {
      await listed(); // the range is held from here
      await write();
      expect(await listed(), name).toBe(expected);
    }
  });

  it("a listing shows every write that ended while its staging range was first read into memory", async () => {
    const key = (i: number) => `k${String(i).padStart(4, "0")}`;
    for (let round = 0; round < 3; round++) {
      const branch = `race-${round}`;
      await catalog.createBranch(REPO, branch, "main");
      const target = { repo: REPO, branch };
      for (let i = 0; i < 3000; i += 250) await Promise.all(Array.from({ length: 250 }, (_, j) => catalog.putObject(target, key(i + j), record(`e${i + j}`))));
      let reading = true;
      const first = catalog.listObjects((await catalog.resolve(REPO, branch))!, { prefix: "", limit: 1 }).finally(() => (reading = false));
      let writes = 0; // one at a time while the range is read (3,000 entries, three batches): delete the even keys, rewrite the odd
      for (; reading || writes === 0; writes++) {
        await (writes % 2 ? catalog.putObject(target, key(writes), record(`new${writes}`)) : catalog.deleteObjects(target, [key(writes)]));
      }
      await first;
      const page = await catalog.listObjects((await catalog.resolve(REPO, branch))!, { prefix: "", limit: 1000 });
      const got = page.items.map((i) => ("key" in i ? `${i.key}=${i.object.summary().etag}` : i.prefix));
      const want = Array.from({ length: 2000 }, (_, i) => (i < writes ? (i % 2 ? `${key(i)}=new${i}` : undefined) : `${key(i)}=e${i}`));
      expect(got, `round ${round}, ${writes} writes`).toEqual(want.filter((x) => x !== undefined).slice(0, 1000));
    }
  });

  it("listings of staged entries held in memory equal listings read from LevelDB, page by page, through random writes and commits", async () => {
    const plainDir = await mkdtemp(path.join(os.tmpdir(), "lakes3-catalog-plain-"));
    const plainStore = new MetadataStore(path.join(plainDir, "metadata"), plainDir, 0); // holds no range
    await plainStore.open();
    try {
      const plain = new Catalog(plainStore);
      await plain.createRepository(REPO);
      let seed = 7;
      const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      const paths = Array.from({ length: 120 }, (_, i) => [`a${i % 7}/`, `b/${i % 3}/`, "", "\uFF21/", "\u{1F600}/"][i % 5] + `k${i}`);
      const page = async (c: Catalog, options: { prefix: string; delimiter?: string; startAfter?: string; limit: number }) => {
        const p = await c.listObjects((await c.resolve(REPO, "main"))!, options);
        return [p.isTruncated, ...p.items.map((i) => ("key" in i ? `${i.key}=${i.object.summary().etag}` : i.prefix))];
      };
      for (let step = 0; step < 300; step++) {
        const p = paths[random(paths.length)]!;
        const roll = random(20);
        for (const c of [catalog, plain]) {
          if (roll < 12) await c.putObject(main, p, record(`e${step}`));
          else if (roll < 18) await c.deleteObjects(main, [p]);
          else if (roll === 18 && step % 3 === 0) await c.commit(REPO, "main", { message: `step ${step}` });
        }
        const options = { prefix: ["", "a1/", "b/", "b/1/"][random(4)]!, delimiter: random(2) ? "/" : undefined, startAfter: random(3) ? undefined : paths[random(paths.length)], limit: 1 + random(40) };
        expect(await page(catalog, options), `step ${step} ${JSON.stringify(options)}`).toEqual(await page(plain, options));
      }
    } finally {
      await plainStore.close();
      await rm(plainDir, { recursive: true, force: true });
    }
  });

  it("a listing from a view read before its branch moved reads the new staging range anew", async () => {
    await catalog.putObject(main, "a.txt", record("a1"));
    const before = (await catalog.resolve(REPO, "main"))!;
    await catalog.commit(REPO, "main", { message: "first" });
    await catalog.dropSealedStaging(); // the range `before` names holds nothing now
    await catalog.putObject(main, "b.txt", record("b1"));
    const page = await catalog.listObjects(before, { prefix: "", limit: 1000 });
    expect(page.items.map((i) => ("key" in i ? i.key : i.prefix))).toEqual(["a.txt", "b.txt"]);
  });

  it("a read from a view read before its branch moved finds the object where the branch is now", async () => {
    await catalog.putObject(main, "a.txt", record("a1"));
    const before = (await catalog.resolve(REPO, "main"))!;
    await catalog.commit(REPO, "main", { message: "first" });
    await catalog.dropSealedStaging(); // the staged entry `before` names is gone, and its tree has no a.txt
    expect((await catalog.getObject(before, "a.txt"))?.etag).toBe("a1");
  });

  it("while no branch moves, a read of a committed object asks the store for no branch record (and asks again once one moved)", async () => {
    await catalog.putObject(main, "a.txt", record("a1"));
    await catalog.commit(REPO, "main", { message: "first" });
    await read("main", "a.txt"); // the branch record is cached from here
    const branchReads = vi.spyOn(store.branches, "get");
    try {
      for (let i = 0; i < 10; i++) expect(await read("main", "a.txt")).toBe("a1");
      expect(branchReads).not.toHaveBeenCalled();
      const before = (await catalog.resolve(REPO, "main"))!;
      await catalog.putObject(main, "b.txt", record("b1"));
      await catalog.commit(REPO, "main", { message: "second" });
      expect((await catalog.getObject(before, "a.txt"))?.etag).toBe("a1");
      expect(branchReads).toHaveBeenCalled(); // `before` is no longer vouched for: the store said where main is
    } finally {
      branchReads.mockRestore();
    }
  });

  it("branch writes vouch for views read when none was under way and none began since", () => {
    const writes = new BranchWrites();
    const idle = writes.mark();
    expect(writes.noneSince(idle)).toBe(true);
    writes.begin();
    expect(writes.mark()).toBeUndefined(); // a branch read now may be from before or after the write
    expect(writes.noneSince(idle)).toBe(false);
    writes.end();
    const after = writes.mark();
    expect(writes.noneSince(after)).toBe(true);
    expect(writes.noneSince(undefined)).toBe(false);
  });

  it("overwriting a staged record hands its blobs back", async () => {
    await catalog.putObject(main, "tmp.txt", record("t1"));
    const r = await catalog.putObject(main, "tmp.txt", record("t2"));
    expect(r.replaced?.etag).toBe("t1");
    const removed = await catalog.deleteObjects(main, ["tmp.txt"]);
    expect(removed.map((x) => x.etag)).toEqual(["t2"]);
    expect(await collect(catalog.diffBranch(REPO, "main"))).toEqual([]);
  });

  /** main with a.txt committed as "a2", and branch dev created from it. */
  async function withDev(): Promise<string> {
    await catalog.putObject(main, "a.txt", record("a2"));
    const c = await catalog.commit(REPO, "main", { message: "a2" });
    await catalog.createBranch(REPO, "dev", "main");
    return c.id;
  }

  it("tags and branches are read-only views or zero-copy pointers", async () => {
    await catalog.putObject(main, "a.txt", record("a2"));
    await catalog.commit(REPO, "main", { message: "a2" });
    const tag = await catalog.createTag(REPO, "v1", "main");
    expect(await read("v1", "a.txt")).toBe("a2");
    await expect(catalog.createTag(REPO, "v1", "main")).rejects.toThrow(/exists/);
    expect(await catalog.branchTarget(REPO, "v1")).toBeUndefined();
    const dev = await catalog.createBranch(REPO, "dev", "v1");
    expect(dev.head).toBe(tag.commitId);
    await expect(catalog.createBranch(REPO, "dev", "main")).rejects.toThrow(/exists/);
    await expect(catalog.createBranch(REPO, "nope", "no-such-ref")).rejects.toThrow(/not found/);
  });

  it("merges fast-forward, three-way, and reports conflicts unless a strategy picks a side", async () => {
    await withDev();
    const dev = { repo: REPO, branch: "dev" };
    await catalog.putObject(dev, "dev-only.txt", record("d1"));
    const devWork = await catalog.commit(REPO, "dev", { message: "dev work" });
    const ff = await catalog.merge(REPO, "dev", "main");
    // fast-forward: main now points at dev's own commit (no merge commit was made)
    expect(ff).toBe(devWork.id);
    expect((await catalog.getBranch(REPO, "main"))?.head).toBe(devWork.id);
    expect(await read("main", "dev-only.txt")).toBe("d1");

    await catalog.putObject(dev, "shared.txt", record("from-dev"));
    await catalog.putObject(dev, "dev2.txt", record("dev2"));
    await catalog.commit(REPO, "dev", { message: "dev 2" });
    await catalog.putObject(main, "shared.txt", record("from-main"));
    await catalog.putObject(main, "main2.txt", record("main2"));
    await catalog.commit(REPO, "main", { message: "main 2" });
    await expect(catalog.merge(REPO, "dev", "main")).rejects.toThrow(/conflict/);
    const merged = await catalog.merge(REPO, "dev", "main", { strategy: "dest-wins" });
    const commit = await catalog.getCommit(REPO, merged);
    expect(commit?.parents).toHaveLength(2);
    expect(await read("main", "shared.txt")).toBe("from-main");
    expect(await read("main", "dev2.txt")).toBe("dev2");
    expect(await read("main", "main2.txt")).toBe("main2");

    await catalog.putObject(dev, "shared.txt", record("dev-again"));
    await catalog.commit(REPO, "dev", { message: "dev 3" });
    await catalog.merge(REPO, "dev", "main", { strategy: "source-wins" });
    expect(await read("main", "shared.txt")).toBe("dev-again");
    // three-dot diff shows what dev brought relative to the merge base
    expect(await collect(catalog.diffRefs(REPO, "main", "dev"))).toEqual([]);
  });

  it("refuses to merge into a branch with uncommitted changes", async () => {
    await withDev();
    await catalog.putObject({ repo: REPO, branch: "dev" }, "dev.txt", record("dev"));
    await catalog.commit(REPO, "dev", { message: "dev" });
    await catalog.putObject(main, "dirty.txt", record("x"));
    await expect(catalog.merge(REPO, "dev", "main", { strategy: "source-wins" })).rejects.toThrow(/uncommitted changes/);
    expect(await read("main", "dev.txt")).toBeUndefined();
    const blobs = await catalog.resetBranch(REPO, "main", { type: "reset" });
    expect(blobs.map((b) => b.blobId)).toEqual([record("x").parts[0]!.blobId]);
    expect(await read("main", "dirty.txt")).toBeUndefined();
  });

  it("reverts a commit with a new commit", async () => {
    await catalog.putObject(main, "revert-me.txt", record("r1"));
    const c = await catalog.commit(REPO, "main", { message: "to revert" });
    await catalog.revert(REPO, "main", c.id);
    expect(await read("main", "revert-me.txt")).toBeUndefined();
    expect(await read(c.id, "revert-me.txt")).toBe("r1");
  });

  it("log paginates newest first", async () => {
    for (let i = 0; i < 4; i++) {
      await catalog.putObject(main, "log.txt", record(`log${i}`));
      await catalog.commit(REPO, "main", { message: `log ${i}` });
    }
    const all = (await catalog.log(REPO, "main", { amount: 1000 })).commits;
    const first = await catalog.log(REPO, "main", { amount: 2 });
    expect(first.hasMore).toBe(true);
    const second = await catalog.log(REPO, "main", { amount: 2, after: first.commits[1]!.id });
    expect([...first.commits, ...second.commits].map((c) => c.id)).toEqual(all.slice(0, 4).map((c) => c.id));
    expect(all.at(-1)?.message).toBe("Repository created");
  });

  it("merges cleanly when both sides made the same change (same bytes written, same path deleted)", async () => {
    await catalog.putObject(main, "gone.txt", record("g"));
    await catalog.putObject(main, "keep.txt", record("k"));
    await catalog.commit(REPO, "main", { message: "base" });
    await catalog.createBranch(REPO, "dev", "main");
    const dev = { repo: REPO, branch: "dev" };
    // the same record (same blob) staged on both sides, and the same path deleted on both sides
    const same = record("same", "5".padEnd(32, "0"));
    for (const side of [main, dev]) {
      await catalog.putObject(side, "both.txt", same);
      await catalog.deleteObjects(side, ["gone.txt"]);
      await catalog.commit(REPO, side.branch, { message: `same change on ${side.branch}` });
    }
    await catalog.putObject(dev, "dev-only.txt", record("d"));
    await catalog.commit(REPO, "dev", { message: "dev only" });
    const merged = await catalog.merge(REPO, "dev", "main"); // no strategy: must not conflict
    expect((await catalog.getCommit(REPO, merged))?.parents).toHaveLength(2);
    expect(await list("main")).toEqual(["both.txt", "dev-only.txt", "keep.txt"]);
    expect(await read("main", "both.txt")).toBe("same");
  });

  it("committed and staged keys read, list and seek in UTF-8 byte order where UTF-16 order differs (pairs after U+E000–U+FFFF)", async () => {
    // LevelDB (staging) orders keys by their UTF-8 bytes, as S3 lists them; the committed tree's
    // searches must agree, or a key past a range boundary is never found.
    const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const names = (i: number) => [`d${i}\uE000/x`, `d${i}😀/x`, `d${i}\uFFFF`, `d${i}\u{10000}`, `d${i}a/x`, `d${i}é`];
    const committed = Array.from({ length: 40 }, (_, i) => names(i)).flat();
    for (const [n, k] of committed.entries()) await catalog.putObject(main, k, record(`c${n}`));
    await catalog.commit(REPO, "main", { message: "many ranges" });
    const refs = await catalog.trees.refs(REPO, (await catalog.resolve(REPO, "main"))!.tree);
    expect(refs.length).toBeGreaterThan(4);
    const staged = [`d3\uE000`, `d3😁`, `d7\u{10FFFF}/y`, `e😀`];
    for (const k of staged) await catalog.putObject(main, k, record("s"));
    const all = [...committed, ...staged].sort(utf8);

    const view = (await catalog.resolve(REPO, "main"))!;
    for (const k of all) expect(await catalog.getObject(view, k), k).toBeDefined();
    for (const k of ["d5\uE000", "d5😀", "d5\u{10000}/x"]) expect(await catalog.getObject(view, k), k).toBeUndefined();

    const listed: string[] = [];
    for (let startAfter: string | undefined; ; ) {
      const page = await catalog.listObjects(view, { prefix: "", startAfter, limit: 7 });
      listed.push(...page.items.map((i) => ("key" in i ? i.key : i.prefix)));
      if (!page.isTruncated) break;
      startAfter = page.last;
    }
    expect(listed).toEqual(all);

    const grouped = [...new Set(all.map((k) => (k.includes("/") ? k.slice(0, k.indexOf("/") + 1) : k)))];
    expect(await list("main", "", "/")).toEqual(grouped);
    const from = grouped.indexOf(`d12😀/`);
    const page = await catalog.listObjects(view, { prefix: "", delimiter: "/", startAfter: `d12😀/`, limit: 5 });
    expect(page.items.map((i) => ("key" in i ? i.key : i.prefix))).toEqual(grouped.slice(from + 1, from + 6));
  });

  it("a commit cuts ranges where folders start (a delimiter listing finds the next folder in the tree), and about every 24 keys elsewhere", async () => {
    const repo = "folders";
    await catalog.createRepository(repo);
    const target = { repo, branch: "main" };
    const folders = Array.from({ length: 30 }, (_, i) => `d${String(i).padStart(3, "0")}/`);
    for (const f of folders) for (let j = 0; j < 45; j++) await catalog.putObject(target, `${f}f${String(j).padStart(4, "0")}`, record(`${f}${j}`));
    // keys without folders: ranges keep about RANGE_SPLIT entries
    for (let i = 0; i < 600; i++) await catalog.putObject(target, `z${createHash("md5").update(String(i)).digest("hex")}`, record(`z${i}`));
    const c = await catalog.commit(repo, "main", { message: "folders" });
    const refs = await catalog.trees.refs(repo, c.tree);
    const firsts = new Set(refs.map((r) => r.first));
    expect(folders.filter((f) => !firsts.has(`${f}f0000`))).toEqual([]);
    const sizes = await Promise.all(refs.map(async (r) => (await catalog.trees.range(repo, r.id)).length));
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(8);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(32);
    const plain = sizes.slice(refs.findIndex((r) => r.first.startsWith("z")) + 1, -1);
    expect(plain.reduce((a, b) => a + b, 0) / plain.length).toBeGreaterThanOrEqual(22);
    // and the folder listing is what it was
    const view = (await catalog.resolve(repo, "main"))!;
    const page = await catalog.listObjects(view, { prefix: "", delimiter: "/", limit: 1000 });
    expect(page.items.filter((i) => "prefix" in i).map((i) => ("prefix" in i ? i.prefix : ""))).toEqual(folders);
  });

  it("a commit rewrites only the ranges its changes touch (trees are shared)", async () => {
    const repo = "big-repo";
    await catalog.createRepository(repo);
    const target = { repo, branch: "main" };
    for (let i = 0; i < 5000; i++) await catalog.putObject(target, `k/${String(i).padStart(5, "0")}`, record(`e${i}`, `b${i}`.padEnd(32, "0")));
    const c1 = await catalog.commit(repo, "main", { message: "bulk" });
    const refs1 = await catalog.trees.refs(repo, c1.tree);
    expect(refs1.length).toBeGreaterThan(4);
    await catalog.putObject(target, "k/02500", record("changed", "c".padEnd(32, "0")));
    const c2 = await catalog.commit(repo, "main", { message: "one change" });
    const refs2 = await catalog.trees.refs(repo, c2.tree);
    const before = new Set(refs1.map((r) => r.id));
    expect(refs2.filter((r) => !before.has(r.id))).toHaveLength(1);
    // and reads, listings and diffs agree
    const view = (await catalog.resolve(repo, "main"))!;
    expect((await catalog.getObject(view, "k/02500"))?.etag).toBe("changed");
    const page = await catalog.listObjects(view, { prefix: "k/", startAfter: "k/02498", limit: 3 });
    expect(page.items.map((i) => ("key" in i ? i.key : ""))).toEqual(["k/02499", "k/02500", "k/02501"]);
    expect(await collect(catalog.diffRefs(repo, c1.id, c2.id, "two_dot"))).toEqual(["changed k/02500"]);
  });
});
