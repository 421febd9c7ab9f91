/**
 * Where committed ranges and trees live (src/storage/range-files.ts): packs written before the
 * commit record that names them, ranges and trees kept in LevelDB by older versions still read,
 * and a range or tree that cannot be read reported as damage rather than read as empty.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cachedBufferBytes } from "../../src/storage/byte-cache.js";
import { StorageError } from "../../src/storage/errors.js";
import { MetadataStore, SEP, type ObjectRecord, type RangeRef } from "../../src/storage/metadata-store.js";
import { Catalog } from "../../src/versioning/catalog.js";
import { TreeStore } from "../../src/versioning/tree.js";
import { COMPACT_AFTER, dropSealed, hasStaged, stagingKey } from "../../src/versioning/staging-keys.js";
import { rangeFor } from "../../src/storage/keys.js";

const REPO = "ranges-repo";
let dir: string;
let store: MetadataStore;
let catalog: Catalog;

const record = (n: number): ObjectRecord => ({ size: 1, etag: `e${n}`, lastModified: "2026-01-01T00:00:00.000Z", contentType: "text/plain", headers: {}, userMeta: {}, parts: [{ blobId: `b${n}`.padStart(32, "0"), size: 1 }] });
const key = (i: number) => `k/${String(i).padStart(4, "0")}`;
const target = { repo: REPO, branch: "main" };

async function reopen(): Promise<void> {
  await store.close();
  store = new MetadataStore(path.join(dir, "metadata"));
  await store.open();
  catalog = new Catalog(store);
}

async function commitObjects(from: number, n: number, message: string) {
  for (let i = from; i < from + n; i++) await catalog.putObject(target, key(i), record(i));
  return catalog.commit(REPO, "main", { message });
}

const listAll = async () => {
  const view = (await catalog.resolve(REPO, "main"))!;
  return (await catalog.listObjects(view, { prefix: "", limit: 1000 })).items.map((i) => ("key" in i ? i.key : i.prefix));
};
const get = async (p: string) => catalog.getObject((await catalog.resolve(REPO, "main"))!, p);
const packsDir = () => path.join(dir, "metadata", "ranges", REPO);

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-range-storage-"));
  store = new MetadataStore(path.join(dir, "metadata"));
  await store.open();
  catalog = new Catalog(store);
  await catalog.createRepository(REPO);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe("committed ranges on disk", () => {
  it("a commit's ranges and tree are one pack, synced into place before the commit record is written", async () => {
    for (let i = 0; i < 200; i++) await catalog.putObject(target, key(i), record(i));
    const write = catalog.refs.write.bind(catalog.refs);
    let seen: { packs: string[]; tmp: string[] } | undefined;
    catalog.refs.write = async (...args) => {
      seen = { packs: await readdir(packsDir()), tmp: await readdir(path.join(dir, "metadata", "ranges", ".tmp")) };
      return write(...args);
    };
    const c = await catalog.commit(REPO, "main", { message: "200" });
    expect(seen).toEqual({ packs: [expect.stringMatching(/^[0-9a-f]{24}$/)], tmp: [] });
    const refs = await catalog.trees.refs(REPO, c.tree);
    expect(refs.length).toBeGreaterThan(5);
    expect(new Set([c.tree, ...refs.map((r) => r.id)].map((id) => id.split("-")[0]))).toEqual(new Set(seen!.packs));
  });

  // The heap tuning (cli/heap.ts) leaves cached ranges' bytes out of the read buffers it collects.
  it("a range read from its pack is cached in a buffer of its own, and counted as cached", async () => {
    await commitObjects(0, 40, "c1"); // two ranges of ~3 KiB
    await reopen();
    const before = cachedBufferBytes();
    expect(await listAll()).toHaveLength(40);
    expect(await listAll()).toHaveLength(40); // the range walked onto is cached the second time
    const read = cachedBufferBytes() - before;
    const [pack] = await readdir(packsDir());
    const packBytes = (await stat(path.join(packsDir(), pack!))).size;
    // The pack holds the ranges read, and little more (the tree, a header per entry). A range read
    // into a slice of Node's 8 KiB pool (what Buffer.allocUnsafe gives under 4 KiB) would hold,
    // and count, the whole pool.
    expect(read).toBeGreaterThan(0.9 * packBytes);
    expect(read).toBeLessThanOrEqual(packBytes);
  });

  it("a listing caches a range it walks onto when it walks onto it again, not the first time", async () => {
    // At a million objects a page from a random start-after walks through ~50 ranges that the next
    // page seldom reads again: caching each pushed out others and made work for V8's collector.
    await commitObjects(0, 200, "c1");
    await reopen();
    const view = (await catalog.resolve(REPO, "main"))!;
    const ranges = (await catalog.trees.refs(REPO, view.tree)).length;
    expect(ranges).toBeGreaterThan(4);
    const read = store.rangeFiles.read.bind(store.rangeFiles);
    let reads = 0;
    store.rangeFiles.read = (repo: string, id: string) => ((reads += id === view.tree ? 0 : 1), read(repo, id));
    const readsOf = async (list: () => Promise<unknown>) => {
      reads = 0;
      await list();
      return reads;
    };
    expect(await readsOf(listAll)).toBe(ranges);
    expect(await readsOf(listAll)).toBe(ranges - 1); // the first, sought, was cached; the walked ones now are
    expect(await readsOf(listAll)).toBe(0);
    // A read of one object caches its range at once (HEAD and GET).
    await reopen();
    const again = store.rangeFiles.read.bind(store.rangeFiles);
    store.rangeFiles.read = (repo: string, id: string) => ((reads += id === view.tree ? 0 : 1), again(repo, id));
    expect(await readsOf(() => get(key(155)))).toBe(1);
    expect(await readsOf(() => get(key(156)))).toBe(0);
  });

  it("a tree larger than the tree cache's budget is still held: read from its pack once, not at every read through it", async () => {
    // At a million objects with keys of 20 characters or more, the tree's estimate passes the
    // budget (16 MB), and every HEAD read and decoded it again: ~100x slower. A budget of one byte
    // makes this small tree such a tree.
    await commitObjects(0, 40, "c1");
    const view = (await catalog.resolve(REPO, "main"))!;
    const trees = new TreeStore(store, 1);
    const read = store.rangeFiles.read.bind(store.rangeFiles);
    let treeReads = 0;
    store.rangeFiles.read = (repo: string, id: string) => ((treeReads += id === view.tree ? 1 : 0), read(repo, id));
    for (let i = 0; i < 5; i++) expect((await trees.get(REPO, view.tree, key(i)))?.etag).toBe(`e${i}`);
    expect(treeReads).toBe(1);
  });

  it("dropping a large sealed staging range compacts its tables; a small one does not", async () => {
    // LevelDB compacts by what is added: a store that staged a million objects, committed them and
    // is read from then on kept their deleted entries in its tables (7 MB resident from its start).
    const compacted: { gte: string; lt: string }[] = [];
    store.compactStaging = async (range) => void compacted.push(range);
    const seal = async (token: string, n: number) => {
      const batch = store.batch();
      for (let i = 0; i < n; i++) batch.put(stagingKey(REPO, token, key(i)), record(i), { sublevel: store.staging });
      await batch.write();
      await store.sealedStaging.put(REPO + SEP + token, "sealed");
    };
    await seal("small", COMPACT_AFTER - 1);
    await dropSealed(store, REPO, "small");
    expect(compacted).toEqual([]);
    await seal("large", COMPACT_AFTER);
    await dropSealed(store, REPO, "large");
    expect(compacted).toEqual([rangeFor(stagingKey(REPO, "large", ""))]);
    for (const token of ["small", "large"]) expect(await hasStaged(store, REPO, token)).toBe(false);
  });

  it("a crash after the pack and before the commit record loses nothing: the changes are still staged", async () => {
    await commitObjects(0, 50, "first");
    for (let i = 50; i < 100; i++) await catalog.putObject(target, key(i), record(i));
    catalog.refs.write = async () => {
      throw new Error("killed before the record");
    };
    await expect(catalog.commit(REPO, "main", { message: "lost" })).rejects.toThrow("killed");
    expect(await readdir(packsDir())).toHaveLength(2); // the second names nothing
    await reopen();
    expect((await catalog.log(REPO, "main")).commits.map((c) => c.message)).toEqual(["first", "Repository created"]);
    expect(await listAll()).toHaveLength(100);
    let staged = 0;
    for await (const _ of catalog.diffBranch(REPO, "main")) staged++;
    expect(staged).toBe(50);
    await catalog.commit(REPO, "main", { message: "again" });
    expect(await listAll()).toHaveLength(100);
    expect((await catalog.liveBlobIds()).size).toBe(100);
  });

  it("reads, lists, diffs, commits, sweeps and deletes ranges and trees an older version kept in LevelDB", async () => {
    const c1 = await commitObjects(0, 300, "old");
    // Make it the store an older version wrote: the commit's tree and its ranges as LevelDB records.
    const refs = await catalog.trees.refs(REPO, c1.tree);
    const batch = store.batch();
    const legacy: RangeRef[] = [];
    for (const [i, ref] of refs.entries()) {
      const id = String(i).padStart(24, "0");
      batch.put(REPO + SEP + id, await catalog.trees.range(REPO, ref.id), { sublevel: store.ranges });
      legacy.push({ ...ref, id });
    }
    const tree = "7".repeat(24);
    batch.put(REPO + SEP + tree, legacy, { sublevel: store.trees });
    batch.put(REPO + SEP + c1.id, { ...c1, tree }, { sublevel: store.commits });
    await batch.write({ sync: true });
    await store.rangeFiles.removeRepository(REPO);
    await reopen();

    expect(await listAll()).toEqual(Array.from({ length: 300 }, (_, i) => key(i)));
    expect((await get(key(123)))?.etag).toBe("e123");
    await catalog.putObject(target, key(150), { ...record(150), etag: "changed" });
    const c2 = await catalog.commit(REPO, "main", { message: "new" });
    const mixed = await catalog.trees.refs(REPO, c2.tree);
    expect(mixed.some((r) => r.id.includes("-")) && mixed.some((r) => !r.id.includes("-"))).toBe(true);
    expect((await get(key(150)))?.etag).toBe("changed");
    const diff: string[] = [];
    for await (const d of catalog.diffRefs(REPO, c1.id, c2.id, "two_dot")) diff.push(`${d.type} ${d.path}`);
    expect(diff).toEqual([`changed ${key(150)}`]);
    expect((await catalog.liveBlobIds()).size).toBe(300);
    const blobs = await catalog.deleteRepository(REPO);
    expect(blobs).toHaveLength(300);
    for await (const _ of store.ranges.keys()) throw new Error("a LevelDB range outlived its repository");
    for await (const _ of store.trees.keys()) throw new Error("a LevelDB tree outlived its repository");
    expect(existsSync(packsDir())).toBe(false);
  });

  it("reads and commits on a tree an older version wrote into its pack as JSON", async () => {
    const c1 = await commitObjects(0, 300, "old");
    const pack = store.rangeFiles.writer(REPO);
    const tree = await pack.add(Buffer.from(JSON.stringify(await catalog.trees.refs(REPO, c1.tree))));
    await pack.seal();
    const batch = store.batch();
    batch.put(REPO + SEP + c1.id, { ...c1, tree }, { sublevel: store.commits });
    await batch.write({ sync: true });
    await reopen();

    expect(await listAll()).toEqual(Array.from({ length: 300 }, (_, i) => key(i)));
    await catalog.putObject(target, key(150), { ...record(150), etag: "changed" });
    const c2 = await catalog.commit(REPO, "main", { message: "new" });
    await reopen();
    expect(await listAll()).toEqual(Array.from({ length: 300 }, (_, i) => key(i)));
    expect((await get(key(150)))?.etag).toBe("changed");
    const diff: string[] = [];
    for await (const d of catalog.diffRefs(REPO, c1.id, c2.id, "two_dot")) diff.push(`${d.type} ${d.path}`);
    expect(diff).toEqual([`changed ${key(150)}`]);
  });

  it("a range that cannot be read is damage: reads fail naming it, liveBlobIds reports it, never an empty range", async () => {
    await commitObjects(0, 100, "packed");
    const [pack] = await readdir(packsDir());
    await rm(path.join(packsDir(), pack!));
    await reopen();
    const damaged = (err: unknown) => err instanceof StorageError && err.problem === "metadata-damaged" && err.message.includes(pack!);
    expect(await get(key(5)).then(() => "read", (err: unknown) => damaged(err))).toBe(true);
    expect(await listAll().then(() => "listed", (err: unknown) => damaged(err))).toBe(true);
    expect(await catalog.liveBlobIds().then(() => "swept", (err: unknown) => damaged(err))).toBe(true);
    const reported: StorageError[] = [];
    await catalog.liveBlobIds((err) => reported.push(err));
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.every(damaged)).toBe(true);
    // A commit that must rewrite a range it cannot read fails; it does not drop the range's objects.
    await catalog.putObject(target, key(5), { ...record(5), etag: "changed" });
    expect(await catalog.commit(REPO, "main", { message: "on a damaged tree" }).then(() => "committed", (err: unknown) => damaged(err))).toBe(true);
  });

  it("a LevelDB range or tree gone missing (older versions) is damage too", async () => {
    const c1 = await commitObjects(0, 40, "old");
    const refs = await catalog.trees.refs(REPO, c1.tree);
    const legacy = refs.map((r, i) => ({ ...r, id: String(i).padStart(24, "0") }));
    const tree = "7".repeat(24);
    await store.batch().put(REPO + SEP + tree, legacy, { sublevel: store.trees }).put(REPO + SEP + c1.id, { ...c1, tree }, { sublevel: store.commits }).write({ sync: true });
    await reopen();
    const err = await get(key(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toMatch(/repository ranges-repo is damaged: its range 0{24} is missing from the metadata store/);
    await store.batch().del(REPO + SEP + tree, { sublevel: store.trees }).write({ sync: true });
    await reopen();
    expect(((await get(key(1)).catch((e: unknown) => e)) as Error).message).toMatch(/repository ranges-repo is damaged: its tree 7{24} is missing from the metadata store/);
  });
});
