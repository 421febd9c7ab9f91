/**
 * The two catalog fixes made for the REST API: revert with parent_number 0 (lakectl's default)
 * on a single-parent commit, and the staging end markers (one live key right after each active
 * staging range, so a scan never crawls through a retired range's tombstones): one per branch,
 * moved on commit, removed with the branch or repository, invisible to reads and diffs.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rangeFor } from "../../src/storage/keys.js";
import { MetadataStore, SEP, type ObjectRecord } from "../../src/storage/metadata-store.js";
import { Catalog } from "../../src/versioning/catalog.js";

let dir: string;
let store: MetadataStore;
let catalog: Catalog;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-catalog-"));
  store = new MetadataStore(path.join(dir, "metadata"), dir);
  await store.open();
  catalog = new Catalog(store);
  await catalog.createRepository("repo");
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const record = (etag: string): ObjectRecord => ({ size: 1, etag, lastModified: new Date().toISOString(), contentType: "text/plain", headers: {}, userMeta: {}, parts: [{ blobId: etag.padEnd(32, "0"), size: 1 }] });
const put = (branch: string, p: string, etag: string) => catalog.putObject({ repo: "repo", branch }, p, record(etag));

async function rawStagingKeys(prefix = "repo" + SEP): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of store.staging.keys(rangeFor(prefix))) keys.push(k);
  return keys;
}

describe("revert", () => {
  it("takes parent number 0 or 1 as the first parent of a single-parent commit", async () => {
    await put("main", "a", "aa");
    const c = await catalog.commit("repo", "main", { message: "add a" });
    for (const n of [0, 1]) {
      const reverted = await catalog.revert("repo", "main", c.id, n);
      expect(await catalog.getObject((await catalog.resolve("repo", "main"))!, "a")).toBeUndefined();
      await catalog.revert("repo", "main", reverted.id, n); // revert the revert: a is back
      expect(await catalog.getObject((await catalog.resolve("repo", "main"))!, "a")).toMatchObject({ etag: "aa" });
    }
    await expect(catalog.revert("repo", "main", c.id, 2)).rejects.toThrow(/no parent 2/);
  });
});

describe("staging end markers", () => {
  it("keeps exactly one marker per branch, moved by commits and dropped with the branch", async () => {
    await catalog.createBranch("repo", "dev", "main");
    expect(await rawStagingKeys()).toHaveLength(2);
    await put("dev", "x", "11");
    await put("dev", "y", "22");
    await catalog.commit("repo", "dev", { message: "dev" });
    await put("main", "z", "33");
    await catalog.commit("repo", "main", { message: "main" });
    await catalog.idle(); // a commit drops its sealed staging range after it answers
    const keys = await rawStagingKeys();
    expect(keys).toHaveLength(2);
    for (const b of ["main", "dev"]) expect(keys).toContain(`repo${SEP}${(await catalog.getBranch("repo", b))!.stagingToken}${SEP}\u{10FFFF}`);

    await put("dev", "w", "44");
    await catalog.deleteBranch("repo", "dev");
    expect(await rawStagingKeys()).toHaveLength(1);
    await catalog.deleteRepository("repo");
    expect(await rawStagingKeys()).toEqual([]);
    expect((await catalog.liveBlobIds()).size).toBe(0);
  });

  it("a commit seals its staging range and drops it after answering; a drop cut short by a stop is finished at the next start", async () => {
    await put("main", "a", "aa");
    const token = (await catalog.getBranch("repo", "main"))!.stagingToken;
    await catalog.commit("repo", "main", { message: "seal" });
    await catalog.idle();
    expect((await rawStagingKeys(`repo${SEP}${token}${SEP}`)).filter((k) => !k.endsWith("\u{10FFFF}"))).toEqual([]);
    const sealed: string[] = [];
    for await (const k of store.sealedStaging.keys()) sealed.push(k);
    expect(sealed).toEqual([]);
    // As a stop between the commit and its drop leaves it: entries under a sealed, retired token.
    await store.staging.put(`repo${SEP}deadbeefdeadbeef${SEP}left-over`, record("ll"));
    await store.sealedStaging.put(`repo${SEP}deadbeefdeadbeef`, new Date().toISOString());
    await catalog.dropSealedStaging();
    expect(await rawStagingKeys(`repo${SEP}deadbeefdeadbeef${SEP}`)).toEqual([]);
    for await (const k of store.sealedStaging.keys()) expect.fail(`sealed record left: ${k}`);
    expect(await catalog.getObject((await catalog.resolve("repo", "main"))!, "a")).toMatchObject({ etag: "aa" });
  });

  it("never shows up in reads, listings, diffs or the has-changes checks", async () => {
    await put("main", "a", "aa");
    const view = (await catalog.resolve("repo", "main"))!;
    const listed = await catalog.listObjects(view, { prefix: "", limit: 100 });
    expect(listed.items.map((i) => ("key" in i ? i.key : i.prefix))).toEqual(["a"]);
    const diff = [];
    for await (const d of catalog.diffBranch("repo", "main")) diff.push(d.path);
    expect(diff).toEqual(["a"]);
    await catalog.commit("repo", "main", { message: "m" });
    await expect(catalog.commit("repo", "main", { message: "empty" })).rejects.toThrow(/no changes/);
    await catalog.createBranch("repo", "feature", "main");
    await put("feature", "b", "bb");
    await catalog.commit("repo", "feature", { message: "f" });
    expect(await catalog.merge("repo", "feature", "main")).toBeTruthy(); // main has no staged changes
  });
});
