/**
 * Errors that teach lakeFS addressing (issue 15, item 3): the codes stay lakeFS's (pkg/gateway's
 * NoSuchKey, NoSuchBucket for a ref that is not a branch, and our 400 InvalidArgument where lakeFS
 * answers 500 for a ref that cannot be a branch name), the messages say what the ref is, which
 * branches there are, and how lakeFS addresses objects.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, startTestServer, type TestServer } from "../helpers/server.js";
import { apiClient } from "../api/helpers.js";

let t: TestServer;
const message = (body: string) =>
  /<Message>([^<]*)<\/Message>/
    .exec(body)?.[1]
    ?.replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">");

beforeAll(async () => {
  t = await startTestServer({ repos: ["teach-repo"] });
  const api = apiClient(t);
  expect((await api("POST", "/repositories/teach-repo/branches", { json: { name: "dev", source: "main" } })).status).toBe(201);
  expect((await t.raw({ method: "PUT", path: "/teach-repo/main/raw/data.csv", body: "a,b" })).status).toBe(200);
  expect((await api("POST", "/repositories/teach-repo/branches/main/commits", { json: { message: "c" } })).status).toBe(201);
  expect((await api("POST", "/repositories/teach-repo/tags", { json: { id: "v1.0", ref: "main" } })).status).toBe(201);
  expect((await api("POST", "/repositories/teach-repo/tags", { json: { id: "release", ref: "main" } })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
});

describe("errors that teach lakeFS addressing", () => {
  it("a key without its branch (`s3://repo/data.csv`): NoSuchKey naming the form and an example", async () => {
    const put = await t.raw({ method: "PUT", path: "/teach-repo/data.csv", body: "x" });
    expect([put.status, errorCode(put.body)]).toEqual([404, "NoSuchKey"]);
    expect(message(put.body)).toBe('The specified key does not exist: the key is empty, and "data.csv" is taken as the ref. lakeFS addresses objects as s3://teach-repo/<branch or ref>/<path>, e.g. s3://teach-repo/main/data.csv');
  });

  it("a read through a folder taken as the ref names the repository's branches", async () => {
    const get = await t.raw({ method: "GET", path: "/teach-repo/raw/data.csv" });
    expect([get.status, errorCode(get.body)]).toEqual([404, "NoSuchKey"]);
    expect(message(get.body)).toBe('The specified key does not exist: "raw" is not a branch, tag or commit of repository teach-repo (its branches: dev, main). lakeFS addresses objects as s3://teach-repo/<branch or ref>/<path>, e.g. s3://teach-repo/main/raw/data.csv');
    // An object that is simply missing on a real branch keeps S3's plain message.
    const missing = await t.raw({ method: "GET", path: "/teach-repo/main/nope.csv" });
    expect(message(missing.body)).toBe("The specified key does not exist.");
  });

  it("a write to a missing branch names it (NoSuchBucket, as lakeFS)", async () => {
    const put = await t.raw({ method: "PUT", path: "/teach-repo/feature/x.csv", body: "x" });
    expect([put.status, errorCode(put.body)]).toEqual([404, "NoSuchBucket"]);
    expect(message(put.body)).toMatch(/^branch "feature" does not exist in repository teach-repo \(its branches: dev, main\)\. Create it first \(lakectl branch create, or POST \/api\/v1\/repositories\/teach-repo\/branches\), or lakeFS addresses objects as/);
  });

  it("a write to a tag or a commit says it is read-only", async () => {
    const toTag = await t.raw({ method: "PUT", path: "/teach-repo/release/x.csv", body: "x" });
    expect([toTag.status, errorCode(toTag.body)]).toEqual([404, "NoSuchBucket"]);
    expect(message(toTag.body)).toBe('"release" is a tag of repository teach-repo, and tags and commits are read-only: write to a branch (its branches: dev, main)');
    const dotted = await t.raw({ method: "PUT", path: "/teach-repo/v1.0/x.csv", body: "x" });
    expect([dotted.status, errorCode(dotted.body)]).toEqual([400, "InvalidArgument"]);
    expect(message(dotted.body)).toContain('"v1.0" is a tag of repository teach-repo, and tags and commits are read-only');
    const commitRef = await t.raw({ method: "PUT", path: "/teach-repo/main~1/x.csv", body: "x" });
    expect(message(commitRef.body)).toContain('"main~1" is a commit of repository teach-repo, and tags and commits are read-only');
  });
});
