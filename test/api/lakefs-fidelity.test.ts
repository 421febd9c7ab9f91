/**
 * lakeFS fidelity (issue 13): behaviours checked against lakeFS's own source (treeverse/lakeFS at
 * 71a45eeb); each test names the file it follows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { apiClient, expectSchema, type Api } from "./helpers.js";

let t: TestServer;
let api: Api;
let repoCount = 0;

beforeAll(async () => {
  t = await startTestServer();
  api = apiClient(t);
});
afterAll(async () => {
  await t.close();
});

/** A fresh repository (main, with an initial commit) for one test. */
async function newRepo(): Promise<string> {
  const name = `fidelity-${++repoCount}`;
  const res = await api("POST", "/repositories", { json: { name, storage_namespace: `local://${name}`, default_branch: "main" } });
  expect(res.status, res.text).toBe(201);
  return name;
}

async function put(repo: string, key: string, body: string, headers: Record<string, string> = {}) {
  const res = await t.raw({ method: "PUT", path: `/${repo}/${key}`, body, headers });
  expect(res.status, res.body).toBe(200);
  return res;
}

async function del(repo: string, key: string) {
  expect((await t.raw({ method: "DELETE", path: `/${repo}/${key}` })).status).toBe(204);
}

async function commit(repo: string, branch: string, json: Record<string, unknown> = { message: "c" }) {
  const res = await api("POST", `/repositories/${repo}/branches/${branch}/commits`, { json });
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string; creation_date: number; metadata: Record<string, string> };
}

async function branch(repo: string, name: string, source: string) {
  const res = await api("POST", `/repositories/${repo}/branches`, { json: { name, source } });
  expect(res.status, res.text).toBe(201);
}

/** A repository whose main and dev (branched from a first commit) each commit their own writes. */
async function divergedRepo(onMain: Record<string, string>, onDev: Record<string, string>): Promise<string> {
  const repo = await newRepo();
  await put(repo, "main/base", "base");
  await commit(repo, "main");
  await branch(repo, "dev", "main");
  for (const [b, writes] of [["main", onMain], ["dev", onDev]] as const) {
    for (const [key, body] of Object.entries(writes)) await put(repo, `${b}/${key}`, body);
    await commit(repo, b);
  }
  return repo;
}

async function diff(repo: string, left: string, right: string, type?: string): Promise<string[]> {
  const res = await api("GET", `/repositories/${repo}/refs/${left}/diff/${right}${type ? `?type=${type}` : ""}`);
  expect(res.status, res.text).toBe(200);
  expectSchema(res.json, "DiffList");
  return (res.json.results as { type: string; path: string }[]).map((d) => `${d.type} ${d.path}`);
}

// lakeFS: pkg/api/controller.go DiffRefs (three_dot → Catalog.Compare, two_dot → Catalog.Diff);
// pkg/graveler/graveler.go Compare; pkg/graveler/committed/compare_iterator.go (the cases);
// pkg/catalog/entry.go EntryToValue (identity = size, ETag, user metadata, content type, so the
// same bytes written separately on two branches are the same entry).
describe("diff between refs (pkg/graveler/committed/compare_iterator.go)", () => {
  it("three-dot compares both sides through the merge base: identical changes unlisted, different changes conflict", async () => {
    const repo = await newRepo();
    for (const k of ["both-changed", "dest-changed", "src-changed", "src-removed", "dest-removed", "dest-removed-src-changed", "same-changed"]) await put(repo, `main/${k}`, `base ${k}`);
    await commit(repo, "main");
    await branch(repo, "dev", "main");

    // key → [main's side, dev's side]: a body written, null deleted, undefined left as it was.
    const sides: Record<string, [string | null | undefined, string | null | undefined]> = {
      "same-added": ["identical bytes", "identical bytes"],
      "same-changed": ["identical change", "identical change"],
      "both-added": ["main's", "dev's"],
      "both-changed": ["main's", "dev's"],
      "dest-changed": ["main only", undefined],
      "src-changed": [undefined, "dev only"],
      "src-added": [undefined, "dev only"],
      "dest-added": ["main only", undefined],
      "src-removed": [undefined, null],
      "dest-removed": [null, undefined],
      "dest-removed-src-changed": [null, "dev's"],
    };
    for (const [key, bodies] of Object.entries(sides)) {
      for (const [i, body] of bodies.entries()) {
        const at = `${i === 0 ? "main" : "dev"}/${key}`;
        if (body === null) await del(repo, at);
        else if (body !== undefined) await put(repo, at, body);
      }
    }
    await commit(repo, "main");
    await commit(repo, "dev");

    const threeDot = [
      "conflict both-added",
      "conflict both-changed",
      "conflict dest-removed-src-changed",
      "added src-added",
      "changed src-changed",
      "removed src-removed",
    ].sort((a, b) => (a.split(" ")[1]! < b.split(" ")[1]! ? -1 : 1));
    expect(await diff(repo, "main", "dev")).toEqual(threeDot);
    expect(await diff(repo, "main", "dev", "three_dot")).toEqual(threeDot);

    // Two-dot is the plain difference of the two trees (pkg/graveler/graveler.go Diff); an
    // identical entry on both sides is no difference either.
    expect(await diff(repo, "main", "dev", "two_dot")).toEqual([
      "changed both-added",
      "changed both-changed",
      "removed dest-added",
      "changed dest-changed",
      "added dest-removed",
      "added dest-removed-src-changed",
      "added src-added",
      "changed src-changed",
      "removed src-removed",
    ]);
  });

  it("a merge whose only overlap is an identical change on both sides succeeds", async () => {
    const repo = await divergedRepo({ same: "identical bytes" }, { same: "identical bytes", other: "dev only" });
    const res = await api("POST", `/repositories/${repo}/refs/dev/merge/main`, { json: {} });
    expect(res.status, res.text).toBe(200);
    expect(await diff(repo, "main", "dev")).toEqual([]);
  });
});

// lakeFS: pkg/gateway/operations/putobject.go ifNoneMatchHeader / ifMatchHeader (an empty header,
// as Go's Header.Get gives it, is no condition), used by PutObject and postobject.go
// (CompleteMultipartUpload).
describe("an empty If-None-Match or If-Match on a write is no condition (pkg/gateway/operations/putobject.go)", () => {
  it("PutObject and CompleteMultipartUpload with empty conditional headers write as without them", async () => {
    const repo = await newRepo();
    await put(repo, "main/a", "first", { "if-none-match": "" });
    await put(repo, "main/a", "second", { "if-none-match": "", "if-match": "" });
    expect((await t.raw({ method: "GET", path: `/${repo}/main/a` })).body).toBe("second");

    const created = await t.raw({ method: "POST", path: `/${repo}/main/mpu?uploads` });
    expect(created.status, created.body).toBe(200);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)![1]!;
    const part = await t.raw({ method: "PUT", path: `/${repo}/main/mpu?partNumber=1&uploadId=${encodeURIComponent(uploadId)}`, body: "only part" });
    expect(part.status, part.body).toBe(200);
    const done = await t.raw({
      method: "POST",
      path: `/${repo}/main/mpu?uploadId=${encodeURIComponent(uploadId)}`,
      headers: { "if-none-match": "" },
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.headers.etag}</ETag></Part></CompleteMultipartUpload>`,
    });
    expect(done.status, done.body).toBe(200);
    expect((await t.raw({ method: "GET", path: `/${repo}/main/mpu` })).body).toBe("only part");
  });
});

// S3 conformance (ceph s3-tests: stored headers come back as written). lakeFS drops
// Content-Encoding altogether (README table); lakes3 keeps it, and then verbatim: only the
// aws-chunked token (transfer framing, not the object's encoding) is taken out.
describe("Content-Encoding is returned verbatim, minus the aws-chunked token", () => {
  it("keeps the spacing of a list and strips aws-chunked wherever it is", async () => {
    const repo = await newRepo();
    const cases: [string, string][] = [
      ["deflate, gzip", "deflate, gzip"],
      ["gzip,br", "gzip,br"],
      ["aws-chunked, gzip", "gzip"],
      ["gzip, aws-chunked", "gzip"],
      ["deflate, aws-chunked, gzip", "deflate, gzip"],
    ];
    for (const [i, [sent, stored]] of cases.entries()) {
      await put(repo, `main/enc${i}`, "x", { "content-encoding": sent });
      for (const method of ["GET", "HEAD"]) {
        expect((await t.raw({ method, path: `/${repo}/main/enc${i}` })).headers["content-encoding"], `${method} ${sent}`).toBe(stored);
      }
    }
    await put(repo, "main/only-chunked", "x", { "content-encoding": "aws-chunked" });
    expect((await t.raw({ method: "HEAD", path: `/${repo}/main/only-chunked` })).headers["content-encoding"]).toBeUndefined();
  });
});

// S3 conformance: a path that does not percent-decode is S3's `400 InvalidURI` ("Couldn't parse
// the specified URI."). lakeFS never sees one: Go's HTTP server refuses it before the gateway.
describe("an unparseable URI", () => {
  it("answers 400 InvalidURI", async () => {
    for (const path of ["/test-repo/main/%zz", "/test-repo/main/a%", "/test-repo/main/%E0%A4%A"]) {
      const res = await t.raw({ method: "GET", path });
      expect(res.status, path).toBe(400);
      expect(res.body, path).toMatch(/<Code>InvalidURI<\/Code><Message>Couldn&apos;t parse the specified URI.<\/Message>/);
    }
  });
});

// lakeFS: cmd/lakefs/cmd/run.go sends a request carrying an AWS signature to the S3 gateway
// whatever its path (pkg/gateway/sig/sig.go IsAWSSignedRequest); pkg/gateway/middleware.go then
// answers a missing repository under /api/v1 with ErrNoSuchBucketPossibleAPIEndpoint
// (esti TestPossibleAPIEndpointError).
describe("an AWS-signed request under /api/v1 goes to the S3 gateway (pkg/gateway/sig/sig.go IsAWSSignedRequest)", () => {
  it("answers XML 404 ErrNoSuchBucketPossibleAPIEndpoint, while unsigned and Basic-auth requests stay REST", async () => {
    for (const [method, path] of [["GET", "/api/v1/test-repo/main/a"], ["PUT", "/api/v1/test-repo/main/a"], ["GET", "/api/v1/test-repo?list-type=2"], ["HEAD", "/api/v1/test-repo/main/a"]] as const) {
      const res = await t.raw({ method, path, body: method === "PUT" ? "x" : undefined });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers["content-type"]).toMatch(/xml/);
      if (method !== "HEAD") expect(res.body.replaceAll("&quot;", '"')).toContain('<Code>ErrNoSuchBucketPossibleAPIEndpoint</Code><Message>Repository "api" not found; this can happen if your endpoint URL mistakenly ends in "/api/v1".</Message>');
    }
    // A SigV2 header and a presigned query are AWS signatures too.
    const v2 = await t.raw({ method: "GET", path: "/api/v1/test-repo/main/a", sign: false, headers: { authorization: "AWS AKIAIOSFOLQUICKSTART:c2lnbmF0dXJl", date: new Date().toUTCString() } });
    expect(v2.headers["content-type"]).toMatch(/xml/);
    const presigned = await t.raw({ method: "GET", path: "/api/v1/test-repo/main/a?X-Amz-Credential=x", sign: false });
    expect(presigned.headers["content-type"]).toMatch(/xml/);

    expect((await api("GET", "/repositories/test-repo")).status).toBe(200);
    const unsigned = await t.raw({ method: "GET", path: "/api/v1/healthcheck", sign: false });
    expect(unsigned.status).toBe(204);
  });
});

// lakeFS: pkg/api/controller.go CopyObject → apiutil.BuildOptsFromParams (pkg/api/apiutil/
// conditions.go): `shallow: true` is ErrNotImplemented, which handleApiErrorCallback answers 501
// "Not Implemented" (after the destination branch is checked).
describe("REST copyObject with shallow:true (pkg/api/apiutil/conditions.go BuildOptsFromParams)", () => {
  it("answers 501 Not Implemented and copies nothing; shallow:false copies", async () => {
    const repo = await newRepo();
    await put(repo, "main/src", "bytes");
    const copy = (json: Record<string, unknown>, branch = "main") => api("POST", `/repositories/${repo}/branches/${branch}/objects/copy?dest_path=dst`, { json });
    const shallow = await copy({ src_path: "src", shallow: true });
    expect(shallow.status, shallow.text).toBe(501);
    expect(shallow.json).toMatchObject({ message: "Not Implemented" });
    expect((await api("GET", `/repositories/${repo}/refs/main/objects/stat?path=dst`)).status).toBe(404);
    expect((await copy({ src_path: "src", shallow: true }, "no-such-branch")).status).toBe(404);
    expect((await copy({ src_path: "src", shallow: false })).status).toBe(201);
  });
});

// lakeFS: pkg/graveler/graveler.go Commit (`if params.Date != nil { commit.CreationDate =
// time.Unix(*params.Date, 0) }`), from the CommitCreation `date` of api/swagger.yml.
describe("REST commit `date` (pkg/graveler/graveler.go Commit)", () => {
  it("sets the commit's creation date (Unix seconds); without it the commit is dated now", async () => {
    const repo = await newRepo();
    await put(repo, "main/a", "a");
    const dated = await commit(repo, "main", { message: "backfill", date: 1700000000 });
    expect(dated.creation_date).toBe(1700000000);
    const got = await api("GET", `/repositories/${repo}/commits/${dated.id}`);
    expect(got.json.creation_date).toBe(1700000000);

    await put(repo, "main/b", "b");
    const now = Math.floor(Date.now() / 1000);
    const undated = await commit(repo, "main", { message: "now" });
    expect(Math.abs(undated.creation_date - now)).toBeLessThan(60);

    await put(repo, "main/c", "c");
    const bad = await api("POST", `/repositories/${repo}/branches/main/commits`, { json: { message: "m", date: "yesterday" } });
    expect(bad.status).toBe(400);
  });
});

// lakeFS: pkg/graveler/graveler.go Merge (`metadata[MergeStrategyMetadataKey] =
// mergeStrategyString[mergeStrategy]`, key ".lakefs.merge.strategy", values "default",
// "dest-wins", "source-wins"), on every merge commit, squashed or not.
describe("merge commits record .lakefs.merge.strategy (pkg/graveler/graveler.go Merge)", () => {
  it("writes default, dest-wins or source-wins next to the caller's metadata", async () => {
    for (const [strategy, recorded, squash] of [[undefined, "default", false], ["dest-wins", "dest-wins", false], ["source-wins", "source-wins", true]] as const) {
      const repo = await divergedRepo({ m: "main's" }, { d: "dev's" });
      const res = await api("POST", `/repositories/${repo}/refs/dev/merge/main`, { json: { strategy, squash_merge: squash, metadata: { run: "7" } } });
      expect(res.status, res.text).toBe(200);
      const merged = await api("GET", `/repositories/${repo}/commits/${res.json.reference}`);
      expect(merged.json.metadata, String(strategy)).toEqual({ run: "7", ".lakefs.merge.strategy": recorded });
    }
  });
});

// lakeFS's REST error messages, which lakectl prints: pkg/api/controller.go CreateRepository
// ("error creating repository: not unique"), pkg/graveler/errors.go (ErrRepositoryNotFound
// "repository not found", ErrBranchExists "branch already exists: not unique",
// ErrTagAlreadyExists "tag already exists: not unique", ErrConflictFound "conflict found"), and
// pkg/graveler/graveler.go Revert / CherryPick ("update branch: %w").
describe("REST error messages as lakeFS words them (pkg/graveler/errors.go, pkg/api/controller.go)", () => {
  it("says what lakeFS says for a duplicate repository, branch or tag, a missing repository and a revert conflict", async () => {
    const repo = await newRepo();
    const again = await api("POST", "/repositories", { json: { name: repo, storage_namespace: `local://${repo}` } });
    expect([again.status, again.json.message]).toEqual([409, "error creating repository: not unique"]);
    const missing = await api("GET", "/repositories/no-such-repo/branches");
    expect([missing.status, missing.json.message]).toEqual([404, "repository not found"]);

    await put(repo, "main/a", "1");
    const c1 = await commit(repo, "main");
    const dup = await api("POST", `/repositories/${repo}/branches`, { json: { name: "main", source: "main" } });
    expect([dup.status, dup.json.message]).toEqual([409, "branch already exists: not unique"]);
    expect((await api("POST", `/repositories/${repo}/tags`, { json: { id: "v1", ref: "main" } })).status).toBe(201);
    const dupTag = await api("POST", `/repositories/${repo}/tags`, { json: { id: "v1", ref: "main" } });
    expect([dupTag.status, dupTag.json.message]).toEqual([409, "tag already exists: not unique"]);

    await put(repo, "main/a", "2");
    await commit(repo, "main");
    const revert = await api("POST", `/repositories/${repo}/branches/main/revert`, { json: { ref: c1.id, parent_number: 1 } });
    expect([revert.status, revert.json.message]).toEqual([409, "update branch: conflict found"]);

    // pkg/graveler/graveler.go Merge: ErrNoChanges and ErrDirtyBranch inside "update branch <dest>".
    await branch(repo, "dev", "main");
    const nothing = await api("POST", `/repositories/${repo}/refs/dev/merge/main`, { json: {} });
    expect([nothing.status, nothing.json.message]).toEqual([400, "update branch main: no changes"]);
    await put(repo, "main/dirty", "x");
    const dirty = await api("POST", `/repositories/${repo}/refs/dev/merge/main`, { json: {} });
    expect([dirty.status, dirty.json.message]).toEqual([400, "update branch main: main: uncommitted changes (dirty branch)"]);
    const dirtyRevert = await api("POST", `/repositories/${repo}/branches/main/revert`, { json: { ref: c1.id, parent_number: 1 } });
    expect([dirtyRevert.status, dirtyRevert.json.message]).toEqual([400, "update branch: main: uncommitted changes (dirty branch)"]);
  });
});

// README "Not supported yet": lakeFS's hard_reset (api/swagger.yml hardResetBranch) is no
// endpoint here, and sample_data is refused.
describe("REST features the README lists as not supported", () => {
  it("answers hard_reset with 404 and sample_data with 400", async () => {
    const repo = await newRepo();
    expect((await api("PUT", `/repositories/${repo}/branches/main/hard_reset?ref=main`)).status).toBe(404);
    const sample = await api("POST", "/repositories", { json: { name: "fidelity-sample", storage_namespace: "local://fidelity-sample", sample_data: true } });
    expect([sample.status, sample.json.message]).toEqual([400, "sample_data is not supported by lakes3"]);
  });
});

// lakeFS: pkg/gateway/operations/operation_utils.go decodes x-amz-meta-* with Go's
// mime.WordDecoder.DecodeHeader and writes values back with mime.QEncoding.Encode("utf-8", v)
// (Go's src/mime/encodedword.go: whitespace between adjacent encoded words dropped; utf-8,
// iso-8859-1 and us-ascii charsets; lowercase `=?utf-8?q?`, `_` for a space, words of at most 75
// characters, split with a space, never inside a character).
describe("RFC 2047 user metadata as Go's mime package (pkg/gateway/operations/operation_utils.go)", () => {
  it("decodes as mime.WordDecoder and encodes as mime.QEncoding", async () => {
    const repo = await newRepo();
    const roundTrip: [sent: string, returned: string][] = [
      ["=?UTF-8?Q?=C2=A1Hola,?= =?UTF-8?Q?_se=C3=B1or!?=", "=?utf-8?q?=C2=A1Hola,_se=C3=B1or!?="],
      ["=?utf-8?q?=c3=a9t=C3=A9?=  \t =?utf-8?b?w6k=?=", "=?utf-8?q?=C3=A9t=C3=A9=C3=A9?="],
      ["x =?utf-8?q?y?= and =?utf-8?q?z?=", "x y and z"],
      ["=?iso-8859-1?q?caf=E9?=", "=?utf-8?q?caf=C3=A9?="],
      ["a b\t=?utf-8?q?c_=C3=BC?=", "=?utf-8?q?a_b=09c_=C3=BC?="],
      [`=?utf-8?q?${"=C3=A9".repeat(12)}?=`, `=?utf-8?q?${"=C3=A9".repeat(10)}?= =?utf-8?q?${"=C3=A9".repeat(2)}?=`],
      [`=?utf-8?q?${"a".repeat(62)}=C3=A9?=`, `=?utf-8?q?${"a".repeat(62)}?= =?utf-8?q?=C3=A9?=`],
      ["=?utf-8?q?=ZZ?= =?utf-8?x?abc?=", "=?utf-8?q?=ZZ?= =?utf-8?x?abc?="],
      ["plain ascii ?= =?", "plain ascii ?= =?"],
    ];
    for (const [i, [sent, returned]] of roundTrip.entries()) {
      await put(repo, `main/meta${i}`, "x", { "x-amz-meta-v": sent });
      const head = await t.raw({ method: "HEAD", path: `/${repo}/main/meta${i}` });
      expect(head.headers["x-amz-meta-v"], sent).toBe(returned);
    }
    // A charset Go cannot convert fails DecodeHeader; lakeFS's PutObject then answers
    // ErrInvalidHeaderValue (pkg/gateway/errors/errors.go: 400 InvalidArgument).
    const refused = await t.raw({ method: "PUT", path: `/${repo}/main/koi8`, body: "x", headers: { "x-amz-meta-v": "=?koi8-r?q?abc?=" } });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain("<Code>InvalidArgument</Code><Message>Invalid header value.</Message>");
  });
});

// lakeFS: pkg/api/controller.go StatObject / ListObjects / CopyObject answer
// BlockAdapter.ResolveNamespace(repo.StorageNamespace, entry.PhysicalAddress): an object's
// physical address lies under its repository's storage namespace.
describe("physical addresses lie under the repository's storage namespace (pkg/api/controller.go StatObject)", () => {
  it("stat, ls, upload and copy answer <storage_namespace>/data/…", async () => {
    const name = "fidelity-namespace";
    const created = await api("POST", "/repositories", { json: { name, storage_namespace: "local://elsewhere/ns", default_branch: "main" } });
    expect(created.status, created.text).toBe(201);
    await put(name, "main/a", "bytes");
    const under = expect.stringMatching(/^local:\/\/elsewhere\/ns\/data\/./);
    expect((await api("GET", `/repositories/${name}/refs/main/objects/stat?path=a`)).json.physical_address).toEqual(under);
    expect((await api("GET", `/repositories/${name}/refs/main/objects/ls`)).json.results[0].physical_address).toEqual(under);
    const copied = await api("POST", `/repositories/${name}/branches/main/objects/copy?dest_path=b`, { json: { src_path: "a" } });
    expect(copied.json.physical_address).toEqual(under);
    const uploaded = await api("POST", `/repositories/${name}/branches/main/objects?path=c`, { body: "up", headers: { "content-type": "application/octet-stream" } });
    expect(uploaded.status, uploaded.text).toBe(201);
    expect(uploaded.json.physical_address).toEqual(under);
  });
});
