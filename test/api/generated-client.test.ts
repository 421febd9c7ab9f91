/**
 * The REST API driven by a lakeFS client generated from lakeFS's own swagger.yml (with
 * openapi-typescript-codegen, at test time, into a temp dir): the way a lakectl-style tool or an
 * SDK built from the spec talks to lakeFS — its query defaults (`bare=false`, `force=false`,
 * `amount=100`), multipart/form-data uploads, Basic auth, and its error handling (ApiError with
 * the status). A pipeline-test workflow: repo → upload → commit → branch → overwrite and delete →
 * diff → merge → tag → read old data by commit id and tag, through the API and through S3.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { generate } from "openapi-typescript-codegen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let t: TestServer;
let dir: string;
// The generated module's shape is the spec's; typed loosely here, as it is generated at test time.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let lakefs: any;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-generated-client-"));
  await generate({ input: path.join(import.meta.dirname, "swagger.yml"), output: path.join(dir, "client"), httpClient: "fetch" });
  lakefs = await import(path.join(dir, "client", "index.ts"));
  t = await startTestServer({ repos: [] });
  Object.assign(lakefs.OpenAPI, { BASE: `${t.url}/api/v1`, USERNAME: t.server.accessKeyId, PASSWORD: t.server.secretAccessKey });
});
afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

/** An object's content as the generated fetch client returns it (text, for a non-JSON body). */
const text = async (body: Promise<unknown>) => {
  const value = await body;
  expect(typeof value).toBe("string");
  return value as string;
};
/** The status of a failed call (the client throws ApiError), or 0 when it succeeded. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 0;
  } catch (err) {
    if (err instanceof lakefs.ApiError) return (err as { status: number }).status;
    throw err;
  }
}

describe("a client generated from swagger.yml", () => {
  it("starts the way lakectl-style clients do: health, setup state, config, version", async () => {
    await lakefs.HealthCheckService.healthCheck();
    expect((await lakefs.InternalService.getSetupState()).state).toBe("initialized");
    expect((await lakefs.ConfigService.getConfig()).version_config.version).toEqual(expect.any(String));
    expect((await lakefs.InternalService.getLakeFsVersion()).version).toEqual(expect.any(String));
  });

  it("runs a pipeline test's workflow end to end", async () => {
    const { RepositoriesService: repos, BranchesService: branches, ObjectsService: objects, CommitsService: commits, RefsService: refs, TagsService: tags } = lakefs;
    const repo = await repos.createRepository({ name: "gen-repo", storage_namespace: "local://gen-repo", default_branch: "main" });
    expect([repo.id, repo.default_branch]).toEqual(["gen-repo", "main"]);
    expect(await statusOf(repos.createRepository({ name: "gen-repo", storage_namespace: "local://x" }))).toBe(409);

    const upload = (branch: string, p: string, content: string) => objects.uploadObject("gen-repo", branch, p, undefined, undefined, undefined, false, { content: new Blob([content]) });
    const stats = await upload("main", "raw/a.csv", "id,v\n1,a\n");
    expect([stats.path, stats.size_bytes]).toEqual(["raw/a.csv", 9]);
    await upload("main", "raw/b.csv", "id,v\n2,b\n");
    const first = await commits.commit("gen-repo", "main", { message: "load raw", metadata: { run: "1" } });
    expect(first.metadata).toEqual({ run: "1" });
    expect((await commits.getCommit("gen-repo", first.id)).message).toBe("load raw");

    expect(await branches.createBranch("gen-repo", { name: "dev", source: "main" })).toBe(first.id);
    await upload("dev", "raw/a.csv", "id,v\n1,A\n");
    await objects.deleteObject("gen-repo", "dev", "raw/b.csv");
    const staged = await branches.diffBranch("gen-repo", "dev");
    expect(staged.results.map((d: { path: string; type: string }) => [d.path, d.type])).toEqual([
      ["raw/a.csv", "changed"],
      ["raw/b.csv", "removed"],
    ]);
    const second = await commits.commit("gen-repo", "dev", { message: "fix a, drop b" });
    const diff = await refs.diffRefs("gen-repo", "main", "dev");
    expect(diff.results.map((d: { path: string }) => d.path)).toEqual(["raw/a.csv", "raw/b.csv"]);

    const base = await refs.findMergeBase("gen-repo", "dev", "main");
    expect(base).toEqual({ source_commit_id: second.id, destination_commit_id: first.id, base_commit_id: first.id });
    expect(await repos.getRepositoryMetadata("gen-repo")).toEqual({});
    const merged = await refs.mergeIntoBranch("gen-repo", "dev", "main", { message: "merge dev" });
    expect(merged.reference).toEqual(expect.any(String));
    expect(await text(objects.getObject("gen-repo", "main", "raw/a.csv"))).toBe("id,v\n1,A\n");
    expect(await statusOf(objects.statObject("gen-repo", "main", "raw/b.csv"))).toBe(404);

    const tag = await tags.createTag("gen-repo", { id: "v1", ref: first.id });
    expect(tag.commit_id).toBe(first.id);
    expect(await text(objects.getObject("gen-repo", "v1", "raw/a.csv"))).toBe("id,v\n1,a\n");
    const listed = await objects.listObjects("gen-repo", first.id, true, undefined, undefined, 1, undefined, "raw/");
    expect([listed.results.map((o: { path: string }) => o.path), listed.pagination.has_more]).toEqual([["raw/a.csv"], true]);

    const log = await refs.logCommits("gen-repo", "main", undefined, 2);
    expect(log.results.length).toBe(2);
    expect(log.pagination.has_more).toBe(true);
    const rest = await refs.logCommits("gen-repo", "main", log.pagination.next_offset);
    expect(rest.pagination.has_more).toBe(false);
    // main fast-forwarded to dev: its commit, the load, and the repository's first commit
    expect([...log.results, ...rest.results].map((c: { id: string }) => c.id)).toEqual([second.id, first.id, expect.any(String)]);

    // lakectl's log filters: objects, prefixes, stop_at, since, limit
    const ids = (list: { results: { id: string }[] }) => list.results.map((c) => c.id);
    expect(ids(await refs.logCommits("gen-repo", "main", undefined, 100, ["raw/b.csv"]))).toEqual([second.id, first.id]);
    expect(ids(await refs.logCommits("gen-repo", "main", undefined, 100, ["raw/a.csv", "nothing"]))).toEqual([second.id, first.id]);
    expect(ids(await refs.logCommits("gen-repo", "main", undefined, 100, ["nothing"]))).toEqual([]);
    expect(ids(await refs.logCommits("gen-repo", "main", undefined, 100, undefined, ["raw/"]))).toEqual([second.id, first.id]);
    expect(ids(await refs.logCommits("gen-repo", "main", undefined, 100, undefined, undefined, undefined, undefined, undefined, first.id))).toEqual([second.id, first.id]);
    expect(ids(await refs.logCommits("gen-repo", "main", undefined, 100, undefined, undefined, undefined, undefined, "2999-01-01T00:00:00Z"))).toEqual([]);
    const limited = await refs.logCommits("gen-repo", "main", undefined, 1, undefined, undefined, true);
    expect([ids(limited), limited.pagination.has_more]).toEqual([[second.id], false]);

    // the same history through S3: old data by commit id and by tag
    for (const ref of [first.id, "v1"]) {
      const got = await t.client.send(new GetObjectCommand({ Bucket: "gen-repo", Key: `${ref}/raw/b.csv` }));
      expect(await got.Body!.transformToString()).toBe("id,v\n2,b\n");
    }

    expect((await branches.listBranches("gen-repo")).results.map((b: { id: string }) => b.id)).toEqual(["dev", "main"]);
    expect((await tags.listTags("gen-repo")).results.map((r: { id: string }) => r.id)).toEqual(["v1"]);
    await tags.deleteTag("gen-repo", "v1");
    await branches.deleteBranch("gen-repo", "dev");
    await repos.deleteRepository("gen-repo");
    expect(await statusOf(repos.getRepository("gen-repo"))).toBe(404);
  });

  it("gets lakeFS's statuses for conflicts and bad credentials", async () => {
    const { RepositoriesService: repos, ObjectsService: objects, CommitsService: commits, BranchesService: branches, RefsService: refs } = lakefs;
    await repos.createRepository({ name: "gen-conflict", storage_namespace: "local://gen-conflict" });
    const put = (branch: string, content: string) => objects.uploadObject("gen-conflict", branch, "f.txt", undefined, undefined, undefined, false, { content: new Blob([content]) });
    await put("main", "base");
    await commits.commit("gen-conflict", "main", { message: "base" });
    await branches.createBranch("gen-conflict", { name: "side", source: "main" });
    await put("main", "main's");
    await commits.commit("gen-conflict", "main", { message: "on main" });
    await put("side", "side's");
    await commits.commit("gen-conflict", "side", { message: "on side" });
    expect(await statusOf(refs.mergeIntoBranch("gen-conflict", "side", "main", {}))).toBe(409);
    await refs.mergeIntoBranch("gen-conflict", "side", "main", { strategy: "source-wins" });
    expect(await text(objects.getObject("gen-conflict", "main", "f.txt"))).toBe("side's");

    // a squash merge: one new commit on main, whose only parent is main's head (even where a
    // fast-forward was possible)
    await branches.createBranch("gen-conflict", { name: "feat", source: "main" });
    await objects.uploadObject("gen-conflict", "feat", "new.txt", undefined, undefined, undefined, false, { content: new Blob(["new"]) });
    await commits.commit("gen-conflict", "feat", { message: "feat 1" });
    await objects.uploadObject("gen-conflict", "feat", "new2.txt", undefined, undefined, undefined, false, { content: new Blob(["new2"]) });
    await commits.commit("gen-conflict", "feat", { message: "feat 2" });
    const mainHead = (await branches.getBranch("gen-conflict", "main")).commit_id;
    const squashed = await refs.mergeIntoBranch("gen-conflict", "feat", "main", { message: "squash feat", squash_merge: true });
    const squashCommit = await commits.getCommit("gen-conflict", squashed.reference);
    expect([squashCommit.parents, squashCommit.message]).toEqual([[mainHead], "squash feat"]);
    expect(await text(objects.getObject("gen-conflict", "main", "new2.txt"))).toBe("new2");

    // cherry-pick a commit onto another branch (same message and metadata, new parent); again → 409;
    // then revert it with a message of our own
    await branches.createBranch("gen-conflict", { name: "rel", source: "main" });
    await branches.createBranch("gen-conflict", { name: "hot", source: "main" });
    await objects.uploadObject("gen-conflict", "hot", "hot.txt", undefined, undefined, undefined, false, { content: new Blob(["fix"]) });
    const fix = await commits.commit("gen-conflict", "hot", { message: "hotfix", metadata: { ticket: "7" } });
    const relHead = (await branches.getBranch("gen-conflict", "rel")).commit_id;
    const picked = await branches.cherryPick("gen-conflict", "rel", { ref: fix.id });
    expect([picked.message, picked.metadata, picked.parents]).toEqual(["hotfix", { ticket: "7" }, [relHead]]);
    expect(picked.id).not.toBe(fix.id);
    expect(await text(objects.getObject("gen-conflict", "rel", "hot.txt"))).toBe("fix");
    expect(await statusOf(branches.cherryPick("gen-conflict", "rel", { ref: fix.id }))).toBe(409);
    await branches.revertBranch("gen-conflict", "rel", { ref: "rel", parent_number: 1, commit_overrides: { message: "undo the hotfix" } });
    expect((await refs.logCommits("gen-conflict", "rel", undefined, 1)).results[0].message).toBe("undo the hotfix");
    expect(await statusOf(objects.statObject("gen-conflict", "rel", "hot.txt"))).toBe(404);

    // user metadata rewritten on a branch; the committed object keeps its own
    await objects.updateObjectUserMetadata("gen-conflict", "main", "f.txt", { set: { owner: "data-team" } });
    expect((await objects.statObject("gen-conflict", "main", "f.txt")).metadata).toEqual({ owner: "data-team" });
    expect(await text(objects.getObject("gen-conflict", "main", "f.txt"))).toBe("side's");
    expect((await objects.statObject("gen-conflict", "main@", "f.txt")).metadata ?? {}).toEqual({});

    const saved = lakefs.OpenAPI.PASSWORD;
    lakefs.OpenAPI.PASSWORD = "wrong";
    try {
      expect(await statusOf(repos.listRepositories())).toBe(401);
    } finally {
      lakefs.OpenAPI.PASSWORD = saved;
    }
  });
});
