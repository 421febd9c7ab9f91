/**
 * Reads never miss an object while the branch moves (issue 10, finding 2). S3 promises
 * read-after-write, and lakeFS serves a staged object that is being committed without a gap
 * (graveler reads the branch's staging tokens and its commit as one state: pkg/graveler/graveler.go,
 * Get/List over the sealed tokens). Each round writes (or relies on) objects, then runs GETs, HEADs
 * and ListObjectsV2 pages at the same moment as a commit, merge, revert, cherry-pick or reset of the
 * branch: every read must find every acknowledged object.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { apiClient, type Api } from "../api/helpers.js";

const REPO = "test-repo";
let t: TestServer;
let api: Api;

beforeAll(async () => {
  t = await startTestServer();
  api = apiClient(t);
});
afterAll(async () => {
  await t.close();
});

const put = (key: string, body = key) => t.raw({ method: "PUT", path: `/${REPO}/${key}`, body });
const get = (key: string) => t.raw({ method: "GET", path: `/${REPO}/${key}` });
const head = (key: string) => t.raw({ method: "HEAD", path: `/${REPO}/${key}` });
const list = (ref: string, prefix: string) => t.raw({ method: "GET", path: `/${REPO}?list-type=2&prefix=${encodeURIComponent(`${ref}/${prefix}`)}` });

/**
 * Reads of `keys` (ref-qualified), sent in waves for as long as `op` runs (at least one wave), so
 * that some land while it writes; returns the misses (404s, listings without the key).
 */
async function raceReads(keys: string[], op: () => Promise<{ status: number; text: string }>, expected: number): Promise<string[]> {
  const misses: string[] = [];
  const wave = () =>
    Promise.all(
      keys.flatMap((key) => {
        const [ref, ...rest] = key.split("/");
        const path = rest.join("/");
        return [
          get(key).then((r) => void (r.status !== 200 && misses.push(`GET ${key}: ${r.status}`))),
          head(key).then((r) => void (r.status !== 200 && misses.push(`HEAD ${key}: ${r.status}`))),
          list(ref!, path).then((r) => void (!r.body.includes(`<Key>${key}</Key>`) && misses.push(`LIST ${key}: ${r.status}`))),
        ];
      }),
    );
  let done = false;
  const running = op().finally(() => (done = true));
  for (let n = 0; n < 50 && (n === 0 || !done); n++) await wave();
  const res = await running;
  expect(res.status, res.text).toBe(expected);
  return misses;
}

describe("reads racing a branch that moves", () => {
  it("a staged object stays readable while it is committed (300 rounds)", async () => {
    const misses: string[] = [];
    for (let i = 0; i < 300; i++) {
      const key = `main/commit-race/${i}`;
      expect((await put(key)).status).toBe(200);
      misses.push(...(await raceReads([key, "main/commit-race/0"], () => api("POST", `/repositories/${REPO}/branches/main/commits`, { json: { message: `c${i}` } }), 201)));
    }
    expect(misses).toEqual([]);
  });

  it("objects stay readable while the branch is merged into, reverted, cherry-picked onto and reset (200 rounds)", async () => {
    expect((await put("main/anchor")).status).toBe(200);
    expect((await api("POST", `/repositories/${REPO}/branches/main/commits`, { json: { message: "anchor" } })).status).toBe(201);
    expect((await api("POST", `/repositories/${REPO}/branches`, { json: { name: "feature", source: "main" } })).status).toBe(201);
    const misses: string[] = [];
    for (let i = 0; i < 200; i++) {
      const key = `feature/moves/${i}`;
      expect((await put(key)).status).toBe(200);
      const fc = await api("POST", `/repositories/${REPO}/branches/feature/commits`, { json: { message: `f${i}` } });
      expect(fc.status).toBe(201);
      const reads = ["main/anchor", "feature/moves/0"];
      switch (i % 4) {
        case 0:
          misses.push(...(await raceReads(reads, () => api("POST", `/repositories/${REPO}/refs/feature/merge/main`, { json: {} }), 200)));
          break;
        case 1:
          misses.push(...(await raceReads(reads, () => api("POST", `/repositories/${REPO}/branches/feature/revert`, { json: { ref: fc.json.id, parent_number: 1 } }), 204)));
          break;
        case 2:
          misses.push(...(await raceReads(reads, () => api("POST", `/repositories/${REPO}/branches/main/cherry-pick`, { json: { ref: fc.json.id } }), 201)));
          break;
        default:
          expect((await put(`main/scratch/${i}`)).status).toBe(200);
          misses.push(...(await raceReads(reads, () => api("PUT", `/repositories/${REPO}/branches/main`, { json: { type: "reset" } }), 204)));
      }
    }
    expect(misses).toEqual([]);
  });
});
