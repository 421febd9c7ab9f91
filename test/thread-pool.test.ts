/**
 * Which requests wait on libuv's thread pool. A job there (an fs call, a LevelDB read or write)
 * costs ~25-50 µs of CPU in hand-offs and wake-ups on these machines, more than the rest of a
 * HEAD's work: a small PUT spent a fifth of its CPU on two such jobs it did not need (the staged
 * entries it replaces, read with getMany, and the stat that checks the data dir after the write).
 * So a small object's HEAD and GET wait on none, and its PUT on exactly one: the synced batch that
 * stores it. Every thread-pool job is an async resource, counted here with async_hooks.
 */
import { createHook } from "node:async_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.js";

/** Async resources that are thread-pool jobs: fs requests, LevelDB's operations, zlib, DNS. */
const THREAD_POOL = /^(FSREQ|FILEHANDLECLOSEREQ|classic_level\.|ZLIB|GETADDRINFO)/;
/** Frames of the server's background work. */
const BACKGROUND = /\b(RotatingLog|Reclaimer)\./;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

/**
 * The thread-pool jobs started while `run` runs, but for the server's background work, known by its
 * stack (whole, async frames included): requests.log's appends every 200 ms, and the reclaimer's
 * deletes of replaced blobs a second after a replacement.
 */
async function threadPoolJobs(run: () => Promise<void>): Promise<string[]> {
  const jobs: string[] = [];
  const hook = createHook({
    init: (_id, type) => {
      if (!THREAD_POOL.test(type)) return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = Infinity;
      const stack = new Error().stack!;
      Error.stackTraceLimit = limit;
      if (!BACKGROUND.test(stack)) jobs.push(type);
    },
  });
  hook.enable();
  try {
    await run();
  } finally {
    hook.disable();
  }
  return jobs;
}

const KEYS = Array.from({ length: 20 }, (_, i) => `/test-repo/main/pool/object-${i}`);
const BODY = "x".repeat(4096);

async function each(method: string, expected: number, body?: string) {
  for (const path of KEYS) {
    const res = await t.raw({ method, path, body });
    expect(res.status, `${method} ${path}: ${res.body}`).toBe(expected);
  }
}

describe("thread-pool jobs per request", () => {
  it("a small PUT waits on one job, the synced batch that stores it (also when it replaces an object)", async () => {
    await each("PUT", 200, BODY); // warm: the keys exist, so the PUTs below replace them
    const first = await threadPoolJobs(() => each("PUT", 200, BODY));
    expect(first).toEqual(KEYS.map(() => "classic_level.batch.do"));
  });

  it("a DeleteObjects of many keys reads their staged entries in one job, not one by one on the event loop", async () => {
    // Keys never written, so none of their entries is among the ones kept in memory.
    const keys = Array.from({ length: 100 }, (_, i) => `<Object><Key>main/pool/never-${i}</Key></Object>`).join("");
    const jobs = await threadPoolJobs(async () => {
      const res = await t.raw({ method: "POST", path: "/test-repo?delete", body: `<Delete>${keys}</Delete>` });
      expect(res.status, res.body).toBe(200);
    });
    expect(jobs).toEqual(["classic_level.get.many"]);
  });

  it("a small object's HEAD and GET wait on none", async () => {
    await each("PUT", 200, BODY);
    // The first read after a write asks LevelDB once (an iterator) whether the branch has
    // anything staged; the answer is kept until the next write.
    expect((await t.raw({ method: "HEAD", path: KEYS[0]! })).status).toBe(200);
    expect(await threadPoolJobs(() => each("HEAD", 200))).toEqual([]);
    expect(await threadPoolJobs(() => each("GET", 200))).toEqual([]);
  });
});
