/**
 * The REST API endpoint by endpoint: auth, system endpoints, errors and their statuses,
 * repositories, branches, tags, and objects (upload raw and multipart, stat, list, get with Range
 * and If-None-Match, head, delete, delete-many, copy). JSON bodies validated against swagger.yml.
 */
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { apiClient, basicAuth, expectError, expectSchema, type Api } from "./helpers.js";

let t: TestServer;
let api: Api;
const repo = "test-repo";
const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

beforeAll(async () => {
  t = await startTestServer();
  api = apiClient(t);
});
afterAll(async () => {
  await t.close();
});
// Every test starts from an empty store (only test-repo, on an empty main): tests run alone and in any order.
beforeEach(async () => {
  await t.server.reset();
});

async function upload(path: string, body: string | Buffer, headers: Record<string, string> = {}, branch = "main") {
  return api("POST", `/repositories/${repo}/branches/${branch}/objects?path=${encodeURIComponent(path)}`, {
    body,
    headers: { "content-type": "application/octet-stream", ...headers },
  });
}

async function commit(branch = "main", message = "commit") {
  const res = await api("POST", `/repositories/${repo}/branches/${branch}/commits`, { json: { message } });
  expect(res.status, res.text).toBe(201);
  return res.json.id as string;
}

describe("auth, system endpoints and errors", () => {
  it("needs HTTP Basic with the configured key pair (401 {message} otherwise)", async () => {
    expectError(await api("GET", "/repositories", { auth: false }), 401, /authenticating/);
    expectError(await api("GET", "/repositories", { auth: basicAuth(t.server.accessKeyId, "wrong") }), 401);
    expectError(await api("GET", "/repositories", { auth: basicAuth("AKIAOTHER", t.server.secretAccessKey) }), 401);
    expectError(await api("GET", "/repositories", { auth: "Bearer abc" }), 401);
    expect((await api("GET", "/repositories")).status).toBe(200);
  });

  it("serves healthcheck, setup state and version without credentials", async () => {
    const health = await api("GET", "/healthcheck", { auth: false });
    expect(health.status).toBe(204);
    expect(health.text).toBe("");
    const setup = await api("GET", "/setup_lakefs", { auth: false });
    expectSchema(setup.json, "SetupState");
    expect(setup.json.state).toBe("initialized");
    expectError(await api("POST", "/setup_lakefs", { auth: false, json: { username: "admin" } }), 409, /already initialized/);
    const version = await api("GET", "/config/version", { auth: false });
    expectSchema(version.json, "VersionConfig");
    expect(version.json.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("describes a local blockstore without presign or import (GET /config, /config/storage)", async () => {
    const config = await api("GET", "/config");
    expectSchema(config.json, "Config");
    expect(config.json.storage_config).toMatchObject({ blockstore_type: "local", pre_sign_support: false, import_support: false });
    const storage = await api("GET", "/config/storage");
    expectSchema(storage.json, "StorageConfig");
    expectError(await api("GET", "/config", { auth: false }), 401);
  });

  it("names the one user (GET /user)", async () => {
    const res = await api("GET", "/user");
    expectSchema(res.json, "CurrentUser");
    expect(res.json.user.id).toBe("quickstart");
  });

  it("answers unknown routes 404, wrong methods 405, bad JSON 400, huge bodies 413", async () => {
    expectError(await api("GET", "/no/such/thing"), 404);
    expectError(await api("GET", "/repositoriesx"), 404);
    expectError(await api("PATCH", "/repositories"), 405);
    expectError(await api("POST", "/repositories", { body: "{nope", headers: { "content-type": "application/json" } }), 400, /JSON/);
    expectError(await api("POST", "/repositories", { json: [1, 2] }), 400);
    expectError(await api("POST", "/repositories", { json: { name: "x".repeat(2 * 1024 * 1024), storage_namespace: "local://x" } }), 413);
    expectError(await api("POST", "/repositories", { json: { name: 7, storage_namespace: "local://x" } }), 400, /name/);
  });

  it("answers CORS preflights (204) and echoes the origin on real requests", async () => {
    const pre = await fetch(`${t.url}/api/v1/repositories`, { method: "OPTIONS", headers: { origin: "http://localhost:3000", "access-control-request-headers": "authorization" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(pre.headers.get("access-control-allow-headers")).toBe("authorization");
    const res = await api("GET", "/repositories", { headers: { origin: "http://localhost:3000" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
  });

  it("answers 404 for every route under a missing repository", async () => {
    for (const [method, path] of [
      ["GET", "/repositories/nope-repo"],
      ["GET", "/repositories/nope-repo/branches"],
      ["GET", "/repositories/nope-repo/refs/main/objects/ls"],
      ["POST", "/repositories/nope-repo/branches/main/commits"],
    ] as const) {
      expectError(await api(method, path, method === "POST" ? { json: { message: "m" } } : {}), 404, /^repository not found$/);
    }
  });

  it("emits start/end events into the request log, with credentials masked", async () => {
    await api("GET", `/repositories/${repo}/branches/main`);
    const events = t.server.log.getSnapshot().finished.filter((e) => e.operation === "api:getBranch");
    const e = events.at(-1)!;
    expect(e).toMatchObject({ source: "admin", method: "GET", status: 200, repo, ref: "main", auth: "ok", done: true });
    expect(e.headers?.["authorization"]).toBe("Basic ****");
    await api("GET", "/repositories/nope-repo");
    expect(t.server.log.getSnapshot().finished.at(-1)).toMatchObject({ status: 404, errorCode: "NotFound", operation: "api:getRepository" });
  });

  it("validates strictly: a field the spec does not declare fails expectSchema", () => {
    expect(() => expectSchema({ id: "a", commit_id: "b", commitId: "b" }, "Ref")).toThrow();
    expect(() => expectSchema({ id: "a" }, "Ref")).toThrow();
  });
});

describe("repositories", () => {
  it("validates names and namespaces (400) and deletes (204, then 404)", async () => {
    expectError(await api("POST", "/repositories", { json: { name: "Bad_Name", storage_namespace: "local://x" } }), 400, /invalid repository name/);
    expectError(await api("POST", "/repositories", { json: { name: "good-name", storage_namespace: "ftp://x" } }), 400, /storage_namespace/);
    expectError(await api("POST", "/repositories", { json: { name: "good-name" } }), 400, /storage_namespace/);
    expectError(await api("POST", "/repositories", { json: { name: "good-name", storage_namespace: "local://x", default_branch: "no~pe" } }), 400);

    const created = await api("POST", "/repositories", { json: { name: "doomed", storage_namespace: "local://doomed", default_branch: "trunk" } });
    expect(created.status).toBe(201);
    expect(created.json.default_branch).toBe("trunk");
    await t.client.send(new PutObjectCommand({ Bucket: "doomed", Key: "trunk/a.txt", Body: "x" }));
    expect((await api("DELETE", "/repositories/doomed")).status).toBe(204);
    expectError(await api("GET", "/repositories/doomed"), 404);
    expectError(await api("DELETE", "/repositories/doomed"), 404);
  });

  it("lists with prefix, amount, after and search", async () => {
    for (const n of ["list-a1", "list-a2", "list-b1"]) {
      expect((await api("POST", "/repositories", { json: { name: n, storage_namespace: `local://${n}` } })).status).toBe(201);
    }
    const first = await api("GET", "/repositories?prefix=list-&amount=2");
    expectSchema(first.json, "RepositoryList");
    expect(first.json.results.map((r: { id: string }) => r.id)).toEqual(["list-a1", "list-a2"]);
    expect(first.json.pagination).toEqual({ has_more: true, next_offset: "list-a2", results: 2, max_per_page: 1000 });
    const second = await api("GET", `/repositories?prefix=list-&amount=2&after=${first.json.pagination.next_offset}`);
    expect(second.json.results.map((r: { id: string }) => r.id)).toEqual(["list-b1"]);
    expect(second.json.pagination).toMatchObject({ has_more: false, next_offset: "" });
    const search = await api("GET", "/repositories?search=a2");
    expect(search.json.results.map((r: { id: string }) => r.id)).toEqual(["list-a2"]);
    expectError(await api("GET", "/repositories?amount=5000"), 400);
    expectError(await api("GET", "/repositories?amount=ten"), 400);
  });
});

describe("branches and tags", () => {
  /** A commit on main, tag seed-tag on it, and branches from-{branch,tag,commit,prefix} created from it. */
  async function seedBranches(): Promise<string> {
    await upload("seed.txt", "seed");
    const c = await commit();
    const tag = await api("POST", `/repositories/${repo}/tags`, { json: { id: "seed-tag", ref: c } });
    expect(tag.status).toBe(201);
    for (const [name, source] of [["from-branch", "main"], ["from-tag", "seed-tag"], ["from-commit", c], ["from-prefix", c.slice(0, 10)]]) {
      const res = await api("POST", `/repositories/${repo}/branches`, { json: { name, source } });
      expect(res.status, res.text).toBe(201);
      expect(res.text).toBe(c);
    }
    return c;
  }

  it("creates branches from a branch, a tag or a commit; refuses bad names, duplicates and missing sources", async () => {
    await seedBranches();
    expectError(await api("POST", `/repositories/${repo}/branches`, { json: { name: "from-branch", source: "main" } }), 409);
    expectError(await api("POST", `/repositories/${repo}/branches`, { json: { name: "bad~name", source: "main" } }), 400);
    expectError(await api("POST", `/repositories/${repo}/branches`, { json: { name: "orphan", source: "no-such-ref" } }), 404);
    expectError(await api("POST", `/repositories/${repo}/branches`, { json: { name: "orphan" } }), 400, /source/);
    expectError(await api("GET", `/repositories/${repo}/branches/no-such-branch`), 404);
  });

  it("pages branches and deletes them (204; the default branch is refused)", async () => {
    await seedBranches();
    const page = await api("GET", `/repositories/${repo}/branches?prefix=from-&amount=2`);
    expectSchema(page.json, "RefList");
    expect(page.json.results.map((r: { id: string }) => r.id)).toEqual(["from-branch", "from-commit"]);
    expect(page.json.pagination.has_more).toBe(true);
    const next = await api("GET", `/repositories/${repo}/branches?prefix=from-&after=${page.json.pagination.next_offset}`);
    expect(next.json.results.map((r: { id: string }) => r.id)).toEqual(["from-prefix", "from-tag"]);

    await upload("staged.txt", "staged", {}, "from-prefix");
    expect((await api("DELETE", `/repositories/${repo}/branches/from-prefix`)).status).toBe(204);
    expectError(await api("GET", `/repositories/${repo}/branches/from-prefix`), 404);
    expectError(await api("DELETE", `/repositories/${repo}/branches/from-prefix`), 404);
    expectError(await api("DELETE", `/repositories/${repo}/branches/main`), 400);
  });

  it("creates (201), lists, gets and deletes tags; 409 on a duplicate unless forced", async () => {
    await seedBranches();
    const c = (await api("GET", `/repositories/${repo}/branches/main`)).json.commit_id;
    const created = await api("POST", `/repositories/${repo}/tags`, { json: { id: "t1", ref: "main" } });
    expectSchema(created.json, "Ref");
    expect(created.json).toEqual({ id: "t1", commit_id: c });
    expectError(await api("POST", `/repositories/${repo}/tags`, { json: { id: "t1", ref: "main" } }), 409);
    expectError(await api("POST", `/repositories/${repo}/tags`, { json: { id: "t2", ref: "nope" } }), 404);

    await upload("after-tag.txt", "x");
    const c2 = await commit();
    const forced = await api("POST", `/repositories/${repo}/tags`, { json: { id: "t1", ref: "main", force: true } });
    expect(forced.status).toBe(201);
    expect(forced.json.commit_id).toBe(c2);

    const list = await api("GET", `/repositories/${repo}/tags`);
    expectSchema(list.json, "RefList");
    expect(list.json.results).toEqual([
      { id: "seed-tag", commit_id: expect.any(String) },
      { id: "t1", commit_id: c2 },
    ]);
    const got = await api("GET", `/repositories/${repo}/tags/t1`);
    expectSchema(got.json, "Ref");
    expect((await api("DELETE", `/repositories/${repo}/tags/t1`)).status).toBe(204);
    expectError(await api("GET", `/repositories/${repo}/tags/t1`), 404);
    expectError(await api("DELETE", `/repositories/${repo}/tags/t1`), 404);
  });

  it("gets a commit by id, prefix or ref; 404 for an unknown one", async () => {
    await upload("c.txt", "c");
    await commit();
    const head = (await api("GET", `/repositories/${repo}/branches/main`)).json.commit_id;
    for (const id of [head, head.slice(0, 8), "main"]) {
      const res = await api("GET", `/repositories/${repo}/commits/${id}`);
      expectSchema(res.json, "Commit");
      expect(res.json).toMatchObject({ id: head, committer: "quickstart", version: 1 });
      expect(typeof res.json.creation_date).toBe("number");
    }
    expectError(await api("GET", `/repositories/${repo}/commits/${"0".repeat(64)}`), 404);
    expectError(await api("GET", `/repositories/${repo}/refs/nope/commits`), 404);
    expectError(await api("GET", `/repositories/${repo}/refs/main/commits?since=yesterday`), 400, /since/);
    expectError(await api("GET", `/repositories/${repo}/refs/main/commits?stop_at=nope`), 404);
    const filtered = await api("GET", `/repositories/${repo}/refs/main/commits?objects=no/such/path`);
    expectSchema(filtered.json, "CommitList");
    expect(filtered.json.results).toEqual([]);
  });

  it("refuses a commit with uncommitted changes on the destination of a merge, and empty messages", async () => {
    await seedBranches();
    expectError(await api("POST", `/repositories/${repo}/branches/main/commits`, { json: {} }), 400, /message/);
    await upload("dirty.txt", "dirty");
    expectError(await api("POST", `/repositories/${repo}/refs/from-tag/merge/main`, { json: {} }), 400, /uncommitted/);
    expectError(await api("POST", `/repositories/${repo}/refs/main/merge/no-such-branch`, { json: {} }), 404);
    expect((await api("PUT", `/repositories/${repo}/branches/main`, { json: { type: "reset" } })).status).toBe(204);
  });
});

describe("objects", () => {
  it("uploads a raw body (201 ObjectStats) that S3 reads back, metadata included", async () => {
    const body = "hello, api\n";
    const res = await upload("raw/hello.txt", body, { "content-type": "text/plain", "x-lakefs-meta-owner": "ci", "X-Lakefs-Meta-Stage": "raw" });
    expect(res.status, res.text).toBe(201);
    expectSchema(res.json, "ObjectStats");
    expect(res.json).toMatchObject({
      path: "raw/hello.txt",
      path_type: "object",
      checksum: md5(body),
      size_bytes: Buffer.byteLength(body),
      content_type: "text/plain",
      metadata: { owner: "ci", stage: "raw" },
    });
    expect(res.json.physical_address).toMatch(/^local:\/\/test-repo\/data\/([0-9a-f]{32}|s[0-9a-f]{31}|i[A-Za-z0-9_-]{6,49})$/);
    expect(Math.abs(res.json.mtime - Date.now() / 1000)).toBeLessThan(60);

    const got = await t.client.send(new GetObjectCommand({ Bucket: repo, Key: "main/raw/hello.txt" }));
    expect(await got.Body!.transformToString()).toBe(body);
    expect(got.ETag).toBe(`"${md5(body)}"`);
    expect(got.ContentType).toBe("text/plain");
    expect(got.Metadata).toEqual({ owner: "ci", stage: "raw" });
  });

  it("honours If-None-Match: * (412 when the path exists; other values 501) and If-Match", async () => {
    expect((await upload("cond/x.txt", "1", { "if-none-match": "*" })).status).toBe(201);
    expectError(await upload("cond/x.txt", "2", { "if-none-match": "*" }), 412);
    expectError(await upload("cond/x.txt", "2", { "if-none-match": '"abc"' }), 501);
    expectError(await upload("cond/x.txt", "2", { "if-match": '"0000"' }), 412);
    expect((await upload("cond/x.txt", "2", { "if-match": `"${md5("1")}"` })).status).toBe(201);
    const stat = await api("GET", `/repositories/${repo}/refs/main/objects/stat?path=cond/x.txt`);
    expect(stat.json.checksum).toBe(md5("2"));
    expectError(await upload("", "x"), 400, /path/);
  });

  it("uploads multipart/form-data as lakectl does (FormData, the `content` field)", async () => {
    const form = new FormData();
    form.append("note", "a field before the file");
    const bytes = randomBytes(300_000);
    form.append("content", new Blob([bytes], { type: "application/x-parquet" }), "part-0.parquet");
    const res = await fetch(`${t.url}/api/v1/repositories/${repo}/branches/main/objects?path=form/part-0.parquet`, {
      method: "POST",
      headers: { authorization: basicAuth(t.server.accessKeyId, t.server.secretAccessKey) },
      body: form,
    });
    const json = await res.json();
    expect(res.status, JSON.stringify(json)).toBe(201);
    expectSchema(json, "ObjectStats");
    expect(json).toMatchObject({ size_bytes: bytes.length, checksum: md5(bytes), content_type: "application/x-parquet" });
    const back = await t.client.send(new GetObjectCommand({ Bucket: repo, Key: "main/form/part-0.parquet" }));
    expect(Buffer.from(await back.Body!.transformToByteArray()).equals(bytes)).toBe(true);
  });

  it("streams a chunked multipart body whose content contains partial boundaries", async () => {
    const boundary = "----lakes3boundary";
    const payload = Buffer.concat([randomBytes(70_000), Buffer.from(`\r\n--${boundary.slice(0, -1)}x\r\n-${boundary} --${boundary}\r\n`), randomBytes(70_000)]);
    const parts = [
      `--${boundary}\r\nContent-Disposition: form-data; name="other"\r\n\r\nvalue\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ];
    const chunks = [Buffer.from(parts[0]!), Buffer.from(parts[1]!), payload, Buffer.from(`\r\n--${boundary}--\r\n`)];
    const res = await rawPost(`/api/v1/repositories/${repo}/branches/main/objects?path=form/tricky.bin`, `multipart/form-data; boundary=${boundary}`, chunks);
    expect(res.status, res.body).toBe(201);
    expect(JSON.parse(res.body)).toMatchObject({ size_bytes: payload.length, checksum: md5(payload) });
    expectError(
      await api("POST", `/repositories/${repo}/branches/main/objects?path=form/none.bin`, {
        body: `--${boundary}\r\nContent-Disposition: form-data; name="other"\r\n\r\nv\r\n--${boundary}--\r\n`,
        headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      }),
      400,
      /content/,
    );
  });

  it("stats (user_metadata=false omits it) and lists with delimiter and pagination", async () => {
    await upload("ls/a/1.txt", "1");
    await upload("ls/a/2.txt", "22");
    await upload("ls/b.txt", "333");
    await upload("ls/c/3.txt", "4444");
    const stat = await api("GET", `/repositories/${repo}/refs/main/objects/stat?path=ls/b.txt&user_metadata=false`);
    expectSchema(stat.json, "ObjectStats");
    expect(stat.json.metadata).toBeUndefined();
    expectError(await api("GET", `/repositories/${repo}/refs/main/objects/stat?path=ls/missing`), 404);
    expectError(await api("GET", `/repositories/${repo}/refs/no-ref/objects/stat?path=ls/b.txt`), 404);

    const grouped = await api("GET", `/repositories/${repo}/refs/main/objects/ls?prefix=ls/&delimiter=/`);
    expectSchema(grouped.json, "ObjectStatsList");
    expect(grouped.json.results.map((r: { path: string; path_type: string }) => `${r.path_type} ${r.path}`)).toEqual(["common_prefix ls/a/", "object ls/b.txt", "common_prefix ls/c/"]);

    const seen: string[] = [];
    let after = "";
    for (;;) {
      const page = await api("GET", `/repositories/${repo}/refs/main/objects/ls?prefix=ls/&amount=3&after=${encodeURIComponent(after)}`);
      expectSchema(page.json, "ObjectStatsList");
      seen.push(...page.json.results.map((r: { path: string }) => r.path));
      if (!page.json.pagination.has_more) break;
      after = page.json.pagination.next_offset;
    }
    expect(seen).toEqual(["ls/a/1.txt", "ls/a/2.txt", "ls/b.txt", "ls/c/3.txt"]);
  });

  it("gets bytes with ETag/Last-Modified/Content-Type, Range (206/416), If-None-Match (304); HEAD", async () => {
    const body = "0123456789";
    await upload("get/digits.txt", body, { "content-type": "text/plain" });
    const base = `${t.url}/api/v1/repositories/${repo}/refs/main/objects?path=get/digits.txt`;
    const auth = { authorization: basicAuth(t.server.accessKeyId, t.server.secretAccessKey) };
    const full = await fetch(base, { headers: auth });
    expect(full.status).toBe(200);
    expect(await full.text()).toBe(body);
    expect(full.headers.get("etag")).toBe(`"${md5(body)}"`);
    expect(full.headers.get("content-type")).toBe("text/plain");
    expect(full.headers.get("content-length")).toBe("10");
    expect(Date.parse(full.headers.get("last-modified")!)).toBeGreaterThan(0);

    const ranged = await fetch(base, { headers: { ...auth, range: "bytes=2-4" } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe("234");
    expect(ranged.headers.get("content-range")).toBe("bytes 2-4/10");
    const unsatisfiable = await fetch(base, { headers: { ...auth, range: "bytes=50-" } });
    expect(unsatisfiable.status).toBe(416);
    expectSchema(await unsatisfiable.json(), "Error");
    expect((await fetch(base, { headers: { ...auth, "if-none-match": `"${md5(body)}"` } })).status).toBe(304);

    const head = await fetch(base, { method: "HEAD", headers: auth });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("10");
    expect(await head.text()).toBe("");
    const missing = await fetch(base.replace("digits", "nothing"), { method: "HEAD", headers: auth });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("");
    expectError(await api("GET", `/repositories/${repo}/refs/main/objects?path=get/nothing`), 404);
    expectError(await api("GET", `/repositories/${repo}/refs/main/objects`), 400, /path/);
  });

  it("reads at a commit, a tag and main~1 after the branch moved on", async () => {
    await upload("versions/v.txt", "one");
    const c1 = await commit();
    await api("POST", `/repositories/${repo}/tags`, { json: { id: "objects-v1", ref: c1 } });
    await upload("versions/v.txt", "two");
    await commit();
    for (const ref of [c1, "objects-v1", "main~1", encodeURIComponent("main~1")]) {
      const res = await api("GET", `/repositories/${repo}/refs/${ref}/objects?path=versions/v.txt`);
      expect(res.text, ref).toBe("one");
    }
    expect((await api("GET", `/repositories/${repo}/refs/main/objects?path=versions/v.txt`)).text).toBe("two");
  });

  it("deletes one object (204, then 404) and many (200 {errors: []}), reclaiming staged blobs", async () => {
    await upload("del/one.txt", "1");
    expect((await api("DELETE", `/repositories/${repo}/branches/main/objects?path=del/one.txt`)).status).toBe(204);
    expectError(await api("DELETE", `/repositories/${repo}/branches/main/objects?path=del/one.txt`), 404);
    expectError(await api("DELETE", `/repositories/${repo}/branches/objects-v1/objects?path=versions/v.txt`), 404);

    await upload("del/a.txt", "a");
    await upload("del/b.txt", "b");
    const res = await api("POST", `/repositories/${repo}/branches/main/objects/delete`, { json: { paths: ["del/a.txt", "del/b.txt", "del/missing.txt", ""] } });
    expect(res.status, res.text).toBe(200);
    expectSchema(res.json, "ObjectErrorList");
    expect(res.json).toEqual({ errors: [] });
    const ls = await api("GET", `/repositories/${repo}/refs/main/objects/ls?prefix=del/`);
    expect(ls.json.results).toEqual([]);
    const tooMany = Array.from({ length: 1001 }, (_, i) => `x${i}`);
    expectError(await api("POST", `/repositories/${repo}/branches/main/objects/delete`, { json: { paths: tooMany } }), 400);
    expectError(await api("POST", `/repositories/${repo}/branches/main/objects/delete`, { json: { paths: "a" } }), 400);
  });

  it("copies an object (201), from the same branch or another ref; the copy owns its bytes", async () => {
    await upload("versions/v.txt", "one");
    await api("POST", `/repositories/${repo}/tags`, { json: { id: "objects-v1", ref: await commit() } });
    await upload("copy/src.txt", "source bytes", { "content-type": "text/x-src", "x-lakefs-meta-k": "v" });
    const res = await api("POST", `/repositories/${repo}/branches/main/objects/copy?dest_path=copy/dst.txt`, { json: { src_path: "copy/src.txt" } });
    expect(res.status, res.text).toBe(201);
    expectSchema(res.json, "ObjectStats");
    expect(res.json).toMatchObject({ path: "copy/dst.txt", checksum: md5("source bytes"), content_type: "text/x-src", metadata: { k: "v" } });
    const src = await api("GET", `/repositories/${repo}/refs/main/objects/stat?path=copy/src.txt`);
    expect(res.json.physical_address).not.toBe(src.json.physical_address);
    // Deleting the staged source must not take the copy's bytes with it.
    await api("DELETE", `/repositories/${repo}/branches/main/objects?path=copy/src.txt`);
    const head = await t.client.send(new HeadObjectCommand({ Bucket: repo, Key: "main/copy/dst.txt" }));
    expect(head.ContentLength).toBe(12);

    const fromTag = await api("POST", `/repositories/${repo}/branches/main/objects/copy?dest_path=copy/old.txt`, { json: { src_path: "versions/v.txt", src_ref: "objects-v1" } });
    expect(fromTag.status).toBe(201);
    expect((await api("GET", `/repositories/${repo}/refs/main/objects?path=copy/old.txt`)).text).toBe("one");
    expectError(await api("POST", `/repositories/${repo}/branches/main/objects/copy?dest_path=copy/x.txt`, { json: { src_path: "copy/none" } }), 404);
    expectError(await api("POST", `/repositories/${repo}/branches/main/objects/copy`, { json: { src_path: "copy/dst.txt" } }), 400, /dest_path/);
  });
});

/** POST a body in explicit chunks (Transfer-Encoding: chunked), like a streaming client. */
function rawPost(path: string, contentType: string, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: t.server.port, method: "POST", path, headers: { "content-type": contentType, authorization: basicAuth(t.server.accessKeyId, t.server.secretAccessKey) } },
      (res) => {
        const out: Buffer[] = [];
        res.on("data", (c: Buffer) => out.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(out).toString("utf8") }));
      },
    );
    req.on("error", reject);
    void (async () => {
      for (const c of chunks) {
        // Split each chunk at odd offsets so boundaries straddle writes.
        for (let i = 0; i < c.length; i += 7919) req.write(c.subarray(i, i + 7919));
        await new Promise((r) => setImmediate(r));
      }
      req.end();
    })();
  });
}
