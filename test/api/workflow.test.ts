/**
 * A data pipeline as a CI test would run it, through the REST API (plain fetch, HTTP Basic) and
 * the S3 gateway (@aws-sdk/client-s3) of one server: repository → S3 writes → commit → branch →
 * overwrite/delete on the branch → diff → commit → merge → read old data by commit id, tag and
 * ref expressions. Every JSON body is validated against swagger.yml. One test whose steps share state, in order.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3Error, startTestServer, type TestServer } from "../helpers/server.js";
import { apiClient, expectError, expectSchema, type Api } from "./helpers.js";

let t: TestServer;
let api: Api;
const Bucket = "pipeline";

beforeAll(async () => {
  t = await startTestServer();
  api = apiClient(t);
});
afterAll(async () => {
  await t.close();
});

const put = (Key: string, Body: string) => t.client.send(new PutObjectCommand({ Bucket, Key, Body }));
const del = (Key: string) => t.client.send(new DeleteObjectCommand({ Bucket, Key }));
const read = async (Key: string) => (await t.client.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();

async function commit(branch: string, message: string, metadata?: Record<string, string>) {
  const res = await api("POST", `/repositories/${Bucket}/branches/${branch}/commits`, { json: { message, metadata } });
  expect(res.status, res.text).toBe(201);
  expectSchema(res.json, "Commit");
  return res.json as { id: string; parents: string[]; message: string; metadata: Record<string, string> };
}

async function createBranch(name: string, source: string): Promise<string> {
  const res = await api("POST", `/repositories/${Bucket}/branches`, { json: { name, source } });
  expect(res.status, res.text).toBe(201);
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  return res.text;
}

async function diffOf(path: string) {
  const res = await api("GET", `/repositories/${Bucket}${path}`);
  expect(res.status, res.text).toBe(200);
  expectSchema(res.json, "DiffList");
  return res.json as { pagination: { has_more: boolean; next_offset: string; results: number }; results: { type: string; path: string; path_type: string; size_bytes?: number }[] };
}

const state: { c1?: string; c2?: string; mainHead?: string } = {};

/** One step of the scenario; a failure names the step it happened in. */
async function step(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof Error) err.message = `step "${name}": ${err.message}`;
    throw err;
  }
}

// One test, its steps in order: each step builds on the state the previous ones left, so they are
// not separate tests (which could be shuffled or run alone).
describe("a pipeline through the REST API and the S3 gateway", () => {
  it("repository → S3 writes → commit → branch → diff → merge → old data by ref → conflicts → log → reset → revert", async () => {
    await step("creates a repository (201 Repository), which S3 sees as a bucket", async () => {
      const res = await api("POST", "/repositories", { json: { name: Bucket, storage_namespace: `local://${Bucket}`, default_branch: "main" } });
      expect(res.status, res.text).toBe(201);
      expectSchema(res.json, "Repository");
      expect(res.json).toMatchObject({ id: Bucket, default_branch: "main", storage_namespace: `local://${Bucket}` });
      expectError(await api("POST", "/repositories", { json: { name: Bucket, storage_namespace: "local://x" } }), 409);

      const got = await api("GET", `/repositories/${Bucket}`);
      expectSchema(got.json, "Repository");
      const list = await api("GET", "/repositories");
      expectSchema(list.json, "RepositoryList");
      expect(list.json.results.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining([Bucket, "test-repo"]));
    });

    await step("writes through S3, then commits main (201 Commit with metadata)", async () => {
      await put("main/data/a.csv", "a,1\n");
      await put("main/data/b.csv", "b,1\n");
      await put("main/data/c.csv", "c,1\n");
      await put("main/logs/x.txt", "log\n");
      const c1 = await commit("main", "ingest", { source: "s3" });
      expect(c1).toMatchObject({ message: "ingest", metadata: { source: "s3" } });
      expect(c1.parents).toHaveLength(1);
      state.c1 = c1.id;
      expectError(await api("POST", `/repositories/${Bucket}/branches/main/commits`, { json: { message: "again" } }), 400, /no changes/);
    });

    await step("branches from main: 201 with the commit id as a text/html body", async () => {
      expect(await createBranch("etl", "main")).toBe(state.c1);
      const got = await api("GET", `/repositories/${Bucket}/branches/etl`);
      expectSchema(got.json, "Ref");
      expect(got.json).toEqual({ id: "etl", commit_id: state.c1 });
      const list = await api("GET", `/repositories/${Bucket}/branches`);
      expectSchema(list.json, "RefList");
      expect(list.json.results).toEqual([
        { id: "etl", commit_id: state.c1 },
        { id: "main", commit_id: state.c1 },
      ]);
    });

    await step("overwrites and deletes on the branch; diffBranch shows the uncommitted changes", async () => {
      await put("etl/data/a.csv", "a,2\na,3\n");
      await del("etl/data/b.csv");
      await put("etl/data/d.csv", "d,1\n");
      const diff = await diffOf("/branches/etl/diff");
      expect(diff.results).toEqual([
        { type: "changed", path: "data/a.csv", path_type: "object", size_bytes: 8 },
        { type: "removed", path: "data/b.csv", path_type: "object", size_bytes: 4 },
        { type: "added", path: "data/d.csv", path_type: "object", size_bytes: 4 },
      ]);
      expect(diff.pagination).toMatchObject({ has_more: false, results: 3 });
      // main is untouched; the branch reads staged over committed.
      expect(await read("main/data/a.csv")).toBe("a,1\n");
      expect(await read("etl/data/a.csv")).toBe("a,2\na,3\n");
      expect((await s3Error(read("etl/data/b.csv"))).name).toBe("NoSuchKey");
      expect(await read("etl@/data/b.csv")).toBe("b,1\n");
      expect((await diffOf("/refs/main/diff/etl")).results).toEqual([]); // refs diff is committed-only
    });

    await step("commits on the branch; diff between refs (three_dot, two_dot, delimiter, pagination)", async () => {
      const c2 = await commit("etl", "transform");
      expect(c2.parents).toEqual([state.c1]);
      state.c2 = c2.id;
      expect((await diffOf("/branches/etl/diff")).results).toEqual([]);

      const expected = ["changed data/a.csv", "removed data/b.csv", "added data/d.csv"];
      const show = (d: Awaited<ReturnType<typeof diffOf>>) => d.results.map((e) => `${e.type} ${e.path}`);
      expect(show(await diffOf("/refs/main/diff/etl"))).toEqual(expected);
      expect(show(await diffOf("/refs/main/diff/etl?type=two_dot"))).toEqual(expected);
      expect(show(await diffOf(`/refs/${state.c1}/diff/${state.c2}?type=two_dot`))).toEqual(expected);
      expect(show(await diffOf("/refs/etl/diff/main?type=two_dot"))).toEqual(["changed data/a.csv", "added data/b.csv", "removed data/d.csv"]);
      const grouped = await diffOf("/refs/main/diff/etl?delimiter=/");
      expect(grouped.results).toEqual([{ type: "prefix_changed", path: "data/", path_type: "common_prefix" }]);
      expect(show(await diffOf("/refs/main/diff/etl?prefix=data/d"))).toEqual(["added data/d.csv"]);

      const seen: string[] = [];
      let after = "";
      for (;;) {
        const page = await diffOf(`/refs/main/diff/etl?amount=1&after=${encodeURIComponent(after)}`);
        seen.push(...show(page));
        if (!page.pagination.has_more) break;
        after = page.pagination.next_offset;
        expect(after).toBe(page.results[0]!.path);
      }
      expect(seen).toEqual(expected);
    });

    await step("tags main, merges the branch into main (200 MergeResult), and S3 sees the merged tree", async () => {
      const tag = await api("POST", `/repositories/${Bucket}/tags`, { json: { id: "v1", ref: "main" } });
      expect(tag.status, tag.text).toBe(201);
      expectSchema(tag.json, "Ref");
      expect(tag.json).toEqual({ id: "v1", commit_id: state.c1 });

      const merged = await api("POST", `/repositories/${Bucket}/refs/etl/merge/main`, { json: { message: "merge etl" } });
      expect(merged.status, merged.text).toBe(200);
      expectSchema(merged.json, "MergeResult");
      const main = await api("GET", `/repositories/${Bucket}/branches/main`);
      expect(main.json.commit_id).toBe(merged.json.reference);
      state.mainHead = merged.json.reference;

      expect(await read("main/data/a.csv")).toBe("a,2\na,3\n");
      expect(await read("main/data/d.csv")).toBe("d,1\n");
      expect((await s3Error(read("main/data/b.csv"))).name).toBe("NoSuchKey");
      expectError(await api("POST", `/repositories/${Bucket}/refs/etl/merge/main`, { json: {} }), 400, /no changes/);
    });

    await step("reads old data through S3 by commit id, commit-id prefix, tag, main~1 and main@", async () => {
      expect(await read(`${state.c1}/data/a.csv`)).toBe("a,1\n");
      expect(await read(`${state.c1!.slice(0, 12)}/data/b.csv`)).toBe("b,1\n");
      expect(await read("v1/data/a.csv")).toBe("a,1\n");
      expect(await read("v1/data/b.csv")).toBe("b,1\n");
      expect(await read("main~1/data/a.csv")).toBe("a,1\n");
      expect(await read(`${state.c2}/data/a.csv`)).toBe("a,2\na,3\n");

      await put("main/data/a.csv", "staged\n");
      expect(await read("main/data/a.csv")).toBe("staged\n");
      expect(await read("main@/data/a.csv")).toBe("a,2\na,3\n");
      const reset = await api("PUT", `/repositories/${Bucket}/branches/main`, { json: { type: "object", path: "data/a.csv" } });
      expect(reset.status, reset.text).toBe(204);
      expect(await read("main/data/a.csv")).toBe("a,2\na,3\n");
    });

    await step("rejects a write to a tag or a commit through S3 (404 NoSuchBucket)", async () => {
      const toTag = await s3Error(put("v1/data/new.csv", "x"));
      expect(toTag.name).toBe("NoSuchBucket");
      expect(toTag.$metadata.httpStatusCode).toBe(404);
      expect((await s3Error(put(`${state.c1}/data/new.csv`, "x"))).name).toBe("NoSuchBucket");
      // REST uploads to a tag are refused the same way.
      expectError(await api("POST", `/repositories/${Bucket}/branches/v1/objects?path=x`, { body: "x" }), 404);
    });

    await step("lists the tagged tree with ListObjectsV2 prefix v1/", async () => {
      const out = await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "v1/" }));
      expect(out.Contents?.map((c) => c.Key)).toEqual(["v1/data/a.csv", "v1/data/b.csv", "v1/data/c.csv", "v1/logs/x.txt"]);
      const grouped = await t.client.send(new ListObjectsV2Command({ Bucket, Prefix: "v1/", Delimiter: "/" }));
      expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["v1/data/", "v1/logs/"]);
    });

    await step("answers a conflicting merge with 409, and resolves it with dest-wins or source-wins", async () => {
      for (const b of ["left", "right", "third"]) {
        await createBranch(b, "main");
        await put(`${b}/data/c.csv`, `c,${b}\n`);
        await commit(b, `c from ${b}`);
      }
      const left = await api("POST", `/repositories/${Bucket}/refs/left/merge/main`, { json: {} });
      expect(left.status, left.text).toBe(200);

      const conflict = await api("POST", `/repositories/${Bucket}/refs/right/merge/main`, { json: {} });
      expect(conflict.status, conflict.text).toBe(409);
      expectSchema(conflict.json, "MergeResult", { strict: false });
      expectSchema(conflict.json, "Error", { strict: false });
      expect(conflict.json.message).toMatch(/conflict.*data\/c\.csv/);
      expect(await read("main/data/c.csv")).toBe("c,left\n");

      const destWins = await api("POST", `/repositories/${Bucket}/refs/right/merge/main`, { json: { strategy: "dest-wins" } });
      expect(destWins.status, destWins.text).toBe(200);
      expect(await read("main/data/c.csv")).toBe("c,left\n");
      const commitRes = await api("GET", `/repositories/${Bucket}/commits/${destWins.json.reference}`);
      expectSchema(commitRes.json, "Commit");
      expect(commitRes.json.parents).toHaveLength(2);

      const sourceWins = await api("POST", `/repositories/${Bucket}/refs/third/merge/main`, { json: { strategy: "source-wins", metadata: { by: "ci" } } });
      expect(sourceWins.status, sourceWins.text).toBe(200);
      expect(await read("main/data/c.csv")).toBe("c,third\n");
      expectError(await api("POST", `/repositories/${Bucket}/refs/third/merge/main`, { json: { strategy: "theirs" } }), 400);
    });

    await step("pages through the log with after/amount, and follows first parents only when asked", async () => {
      const full = await api("GET", `/repositories/${Bucket}/refs/main/commits?amount=1000`);
      expectSchema(full.json, "CommitList");
      const all = full.json.results.map((c: { id: string }) => c.id) as string[];
      expect(new Set(all).size).toBe(all.length);
      expect(all.at(-1)).toBeDefined();
      expect(full.json.results.at(-1).parents).toEqual([]); // the repository's initial commit
      expect(all).toEqual(expect.arrayContaining([state.c1, state.c2]));

      const paged: string[] = [];
      let after = "";
      for (let pages = 0; ; pages++) {
        expect(pages).toBeLessThan(all.length + 1);
        const res = await api("GET", `/repositories/${Bucket}/refs/main/commits?amount=2${after ? `&after=${after}` : ""}`);
        expectSchema(res.json, "CommitList");
        paged.push(...res.json.results.map((c: { id: string }) => c.id));
        expect(res.json.pagination.max_per_page).toBe(1000);
        if (!res.json.pagination.has_more) break;
        expect(res.json.pagination.next_offset).toBe(res.json.results.at(-1).id);
        after = res.json.pagination.next_offset;
      }
      expect(paged).toEqual(all);

      const firstParent = await api("GET", `/repositories/${Bucket}/refs/main/commits?first_parent=true&amount=1000`);
      expectSchema(firstParent.json, "CommitList");
      const fp = firstParent.json.results as { id: string; parents: string[] }[];
      for (let i = 0; i + 1 < fp.length; i++) expect(fp[i]!.parents[0]).toBe(fp[i + 1]!.id);
      expect(fp.length).toBeLessThan(all.length);
    });

    await step("reset discards uncommitted changes (one object, a prefix, everything) and reclaims them", async () => {
      await put("etl/tmp/one.txt", "1");
      await put("etl/tmp/two.txt", "2");
      await put("etl/keep/three.txt", "3");
      await del("etl/logs/x.txt");
      const changes = async () => (await diffOf("/branches/etl/diff")).results.map((e) => `${e.type} ${e.path}`);
      expect(await changes()).toEqual(["added keep/three.txt", "removed logs/x.txt", "added tmp/one.txt", "added tmp/two.txt"]);

      expect((await api("PUT", `/repositories/${Bucket}/branches/etl`, { json: { type: "object", path: "logs/x.txt" } })).status).toBe(204);
      expect(await read("etl/logs/x.txt")).toBe("log\n");
      expect((await api("PUT", `/repositories/${Bucket}/branches/etl`, { json: { type: "common_prefix", path: "tmp/" } })).status).toBe(204);
      expect(await changes()).toEqual(["added keep/three.txt"]);
      expect((await api("PUT", `/repositories/${Bucket}/branches/etl`, { json: { type: "reset" } })).status).toBe(204);
      expect(await changes()).toEqual([]);
      expect((await s3Error(read("etl/keep/three.txt"))).name).toBe("NoSuchKey");
      expectError(await api("PUT", `/repositories/${Bucket}/branches/etl`, { json: { type: "everything" } }), 400);
      expectError(await api("PUT", `/repositories/${Bucket}/branches/etl`, { json: { type: "object" } }), 400);
    });

    await step("reverts a commit on a branch (204), with lakectl's default parent_number 0", async () => {
      await createBranch("rev", "main");
      await put("rev/data/r.csv", "r\n");
      await put("rev/data/a.csv", "reverted-away\n");
      const bad = await commit("rev", "bad change");
      expect(await read("rev/data/r.csv")).toBe("r\n");

      const res = await api("POST", `/repositories/${Bucket}/branches/rev/revert`, { json: { ref: bad.id, parent_number: 0 } });
      expect(res.status, res.text).toBe(204);
      expect((await s3Error(read("rev/data/r.csv"))).name).toBe("NoSuchKey");
      expect(await read("rev/data/a.csv")).toBe("a,2\na,3\n");
      const log = await api("GET", `/repositories/${Bucket}/refs/rev/commits?amount=2`);
      expect(log.json.results[0].message).toContain(`Revert ${bad.id}`);
      expect(log.json.results[1].id).toBe(bad.id);

      // A merge commit needs a parent number; an out-of-range one is a 400.
      const head = (await api("GET", `/repositories/${Bucket}/branches/main`)).json.commit_id;
      expectError(await api("POST", `/repositories/${Bucket}/branches/rev/revert`, { json: { ref: head, parent_number: 0 } }), 400);
      expectError(await api("POST", `/repositories/${Bucket}/branches/rev/revert`, { json: { ref: bad.id, parent_number: 3 } }), 400);
      expectError(await api("POST", `/repositories/${Bucket}/branches/rev/revert`, { json: { ref: "nope" } }), 400);
    });
  });
});
