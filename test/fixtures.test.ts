/**
 * Fixtures and the programmatic API, used exactly as a consumer would: imported from the built
 * package entry (`npm test` builds first), servers on 127.0.0.1 port 0. Covers the initial load
 * (real ETags and checksums, content types, branches), live reload (add, change, remove, rename,
 * a big file written slowly never visible half-written), bad paths reported once and skipped,
 * fixture events in the request log, /_health during the initial load, reset() and close().
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { appendFile, cp, mkdir, mkdtemp, readFile, rename, rm, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startServer, type LakeS3Server, type RequestEvent } from "../dist/index.js";

const SAMPLE = path.resolve(import.meta.dirname, "../fixtures");
const CSV = "sample-repo/main/raw/orders/2024-01-15.csv";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "lakes3-fixtures-test-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fresh copy of the repository's sample fixtures (tests change it). */
async function fixtureCopy(): Promise<string> {
  const dir = await mkdtemp(path.join(root, "fx-"));
  await cp(SAMPLE, dir, { recursive: true });
  return dir;
}

async function start(options: Parameters<typeof startServer>[0]): Promise<{ server: LakeS3Server; s3: S3Client }> {
  const server = await startServer({ port: 0, ...options });
  const s3 = new S3Client({ ...server.s3ClientConfig, maxAttempts: 1 });
  cleanups.push(async () => {
    s3.destroy();
    await server.close();
  });
  return { server, s3 };
}

/** The object's bytes, or undefined on 404. */
async function getBytes(s3: S3Client, key: string): Promise<Buffer | undefined> {
  const [repo, ...rest] = key.split("/");
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: repo, Key: rest.join("/") }));
    return Buffer.from(await res.Body!.transformToByteArray());
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

/** Poll until `check` passes; fails after `ms` (a bound for a change that never shows, not a goal). Returns the time it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > ms) throw new Error(`not reflected within ${ms} ms`);
    await sleep(20);
  }
  return performance.now() - t0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");
const fixtureEvents = (server: LakeS3Server): RequestEvent[] => server.log.getSnapshot().finished.filter((e) => e.source === "fixture");

describe("programmatic API (package entry)", () => {
  it("runs two servers in parallel, each loading the sample fixtures with real ETags and checksums", async () => {
    const dir = await fixtureCopy();
    const [a, b] = await Promise.all([start({ ephemeral: true, fixtures: dir }), start({ ephemeral: true, fixtures: dir })]);
    expect(a.server.port).not.toBe(b.server.port);
    expect(a.server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const bytes = await readFile(path.join(dir, CSV));
    for (const { s3 } of [a, b]) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: "sample-repo", Key: "main/raw/orders/2024-01-15.csv", ChecksumMode: "ENABLED" }));
      expect(head.ETag).toBe(`"${md5(bytes)}"`);
      expect(head.ContentType).toBe("text/csv");
      expect(head.ContentLength).toBe(bytes.length);
      expect(head.ChecksumCRC64NVME).toMatch(/^[A-Za-z0-9+/]{11}=$/);
      expect(await getBytes(s3, CSV)).toEqual(bytes);
      const json = await s3.send(new HeadObjectCommand({ Bucket: "sample-repo", Key: "main/config/pipeline.json" }));
      expect(json.ContentType).toBe("application/json");
      const list = await s3.send(new ListObjectsV2Command({ Bucket: "sample-repo", Prefix: "main/" }));
      expect(list.Contents?.map((c) => c.Key)).toEqual([
        "main/config/pipeline.json",
        "main/raw/orders/2024-01-15.csv",
        "main/raw/orders/2024-01-16.csv",
        "main/tables/orders/part-00000.parquet",
      ]);
    }
  });

  it("close() releases the port, the data dir lock and the watcher; the data dir can be reused", async () => {
    const dir = await fixtureCopy();
    const dataDir = path.join(root, "reuse");
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const first = await startServer({ port: 0, dataDir, fixtures: dir, repos: ["extra-repo"] });
    const s3 = new S3Client({ ...first.s3ClientConfig, maxAttempts: 1 });
    await s3.send(new PutObjectCommand({ Bucket: "extra-repo", Key: "main/kept.txt", Body: "kept" }));
    s3.destroy();
    await first.close();
    await first.close(); // idempotent
    // the watcher is gone: a change now is not picked up
    const events = fixtureEvents(first).length;
    await writeFile(path.join(dir, "sample-repo/main/after-close.txt"), "late");
    await sleep(600);
    expect(fixtureEvents(first)).toHaveLength(events);

    // same port and same data dir, no fixtures this time: what was stored is still there
    const { server, s3: again } = await start({ port: first.port, dataDir });
    expect(server.port).toBe(first.port);
    expect((await getBytes(again, "extra-repo/main/kept.txt"))?.toString()).toBe("kept");
    expect(await getBytes(again, CSV)).toEqual(await readFile(path.join(dir, CSV)));
    expect(await getBytes(again, "sample-repo/main/after-close.txt")).toBeUndefined();
  });

  it("reset() empties everything, then re-creates the repos and re-loads the fixtures", async () => {
    const dir = await fixtureCopy();
    const { server, s3 } = await start({ ephemeral: true, fixtures: dir, repos: ["scratch-repo"] });
    await s3.send(new PutObjectCommand({ Bucket: "sample-repo", Key: "main/raw/orders/2024-01-15.csv", Body: "overwritten" }));
    await s3.send(new PutObjectCommand({ Bucket: "scratch-repo", Key: "main/tmp.txt", Body: "tmp" }));
    await server.reset();
    expect(await getBytes(s3, CSV)).toEqual(await readFile(path.join(dir, CSV)));
    expect(await getBytes(s3, "scratch-repo/main/tmp.txt")).toBeUndefined();
    expect((await s3.send(new ListObjectsV2Command({ Bucket: "scratch-repo", Prefix: "main/" }))).KeyCount).toBe(0);
    expect((await fetch(`${server.endpoint}/_health`)).status).toBe(200);
    // still watching after a reset
    await writeFile(path.join(dir, "sample-repo/main/new.txt"), "after reset");
    await within(10_000, async () => (await getBytes(s3, "sample-repo/main/new.txt"))?.toString() === "after reset");
  });

  it("answers /_health 503 while the initial fixture load is running, 200 once it is done", async () => {
    const dir = await fixtureCopy();
    // a file written just now is loaded only once it has settled (~200 ms): health must say 503 meanwhile
    await writeFile(path.join(dir, "sample-repo/main/fresh.txt"), "fresh");
    let during: Promise<number> | undefined;
    const { server, s3 } = await start({
      ephemeral: true,
      fixtures: dir,
      onListening: ({ endpoint }) => {
        during = fetch(`${endpoint}/_health`).then((r) => r.status);
      },
    });
    expect(await during).toBe(503);
    expect((await fetch(`${server.endpoint}/_health`)).status).toBe(200);
    expect((await getBytes(s3, "sample-repo/main/fresh.txt"))?.toString()).toBe("fresh");
  });
});

describe("fixtures", () => {
  it("creates branches as needed and loads a file whose mtime is in the future", async () => {
    const dir = await fixtureCopy();
    await mkdir(path.join(dir, "sample-repo/dev/data"), { recursive: true });
    await writeFile(path.join(dir, "sample-repo/dev/data/x.csv"), "a\n1\n");
    await mkdir(path.join(dir, "other-repo/main"), { recursive: true });
    const future = path.join(dir, "other-repo/main/future.txt");
    await writeFile(future, "from the future");
    const later = new Date(Date.now() + 3600_000);
    await utimes(future, later, later);
    const { s3 } = await start({ ephemeral: true, fixtures: dir });
    expect((await getBytes(s3, "sample-repo/dev/data/x.csv"))?.toString()).toBe("a\n1\n");
    expect(await getBytes(s3, "sample-repo/dev/raw/orders/2024-01-15.csv")).toBeUndefined(); // dev is not main
    expect((await getBytes(s3, "other-repo/main/future.txt"))?.toString()).toBe("from the future");
  });

  it("reflects a file added, changed, removed and renamed, and a new repository, in about a second", async () => {
    // Each change must show (a change missed fails at 10 s: the new repository's was, see the
    // next test); the README's "within a second" is held by the median of the seven: on an idle
    // machine each takes 0.2-0.35 s (200 ms of it the settle time), and one step slowed by the
    // machine (a new repository makes several fsyncs) says nothing of the watcher.
    const took: number[] = [];
    const reflected = async (check: () => Promise<boolean>) => took.push(await within(10_000, check));
    const dir = await fixtureCopy();
    const { server, s3 } = await start({ ephemeral: true, fixtures: dir });
    const file = path.join(dir, "sample-repo/main/live/new.json");
    await mkdir(path.dirname(file));
    await writeFile(file, '{"v":1}');
    await reflected(async () => (await getBytes(s3, "sample-repo/main/live/new.json"))?.toString() === '{"v":1}');

    await writeFile(file, '{"v":2}');
    await reflected(async () => (await getBytes(s3, "sample-repo/main/live/new.json"))?.toString() === '{"v":2}');
    const head = await s3.send(new HeadObjectCommand({ Bucket: "sample-repo", Key: "main/live/new.json" }));
    expect(head.ETag).toBe(`"${md5('{"v":2}')}"`);

    await rename(file, path.join(dir, "sample-repo/main/live/renamed.json"));
    await reflected(async () => (await getBytes(s3, "sample-repo/main/live/new.json")) === undefined);
    await reflected(async () => (await getBytes(s3, "sample-repo/main/live/renamed.json"))?.toString() === '{"v":2}');

    await rm(path.join(dir, "sample-repo/main/live/renamed.json"));
    await reflected(async () => (await getBytes(s3, "sample-repo/main/live/renamed.json")) === undefined);

    // a whole branch directory removed
    await rm(path.join(dir, "sample-repo/main/raw"), { recursive: true });
    await reflected(async () => (await getBytes(s3, CSV)) === undefined);

    // a new repository appearing while running
    await mkdir(path.join(dir, "late-repo/main"), { recursive: true });
    await writeFile(path.join(dir, "late-repo/main/hello.txt"), "hi");
    await reflected(async () => (await getBytes(s3, "late-repo/main/hello.txt"))?.toString() === "hi");

    const median = [...took].sort((a, b) => a - b)[Math.floor(took.length / 2)]!;
    console.log(`fixtures: changes reflected in ${took.map((ms) => Math.round(ms)).join(", ")} ms`);
    expect(median, `median of ${took.map((ms) => Math.round(ms)).join(", ")} ms`).toBeLessThan(1000);

    const ops = fixtureEvents(server).map((e) => `${e.operation} ${e.path}`);
    expect(ops).toContain("FixtureRemove live/new.json");
    expect(ops).toContain("FixtureLoad live/renamed.json");
  });

  it("loads the files of new repositories whose branch directory is made right after them, and what is added there later", async () => {
    // chokidar lists a new directory before it watches it (node_modules/chokidar/handler.js
    // _handleDir): a branch directory made in between was never reported, nor anything in it, ever.
    // The new-repository step above (one recursive mkdir) failed on it in two suite runs, and in 2
    // of 14 runs with two mkdirs; this test failed in each of 4 runs before the fix (the new
    // directory walked once its watch is up: src/fixtures/fixtures.ts, rescanLater).
    const dir = await fixtureCopy();
    const { s3 } = await start({ ephemeral: true, fixtures: dir });
    const repos = Array.from({ length: 24 }, (_, i) => `burst-repo-${i}`);
    // The branch directory is made while the server's thread is held (this test shares it), at a
    // later moment for each repository, so that some are made after chokidar's listing of the
    // repository and before its watch.
    for (const [i, repo] of repos.entries()) {
      await mkdir(path.join(dir, repo));
      await sleep(i % 6);
      const until = performance.now() + 3;
      while (performance.now() < until); // hold the thread: chokidar's listing completes meanwhile
      mkdirSync(path.join(dir, repo, "main"));
      writeFileSync(path.join(dir, repo, "main/first.txt"), repo);
    }
    for (const repo of repos) await within(10_000, async () => (await getBytes(s3, `${repo}/main/first.txt`))?.toString() === repo);
    // Each branch directory is watched now: a file added later shows too.
    for (const repo of repos) await writeFile(path.join(dir, repo, "main/second.txt"), `${repo} again`);
    for (const repo of repos) await within(10_000, async () => (await getBytes(s3, `${repo}/main/second.txt`))?.toString() === `${repo} again`);
  });

  it("never publishes a big file half-written while it is appended to slowly", async () => {
    // A file is published once it has not been written to for 200 ms (src/fixtures/fixtures.ts,
    // settleMs): appends 50 ms apart must never show half of it. On a loaded machine an append can
    // come more than 150 ms after the one before; such a run says nothing (the file did settle)
    // and is tried again, on a fresh server and directory.
    for (let attempt = 1; ; attempt++) {
      const { partials, saw404, slowestGapMs } = await appendSlowly();
      if (partials.length > 0 && slowestGapMs >= 150 && attempt < 4) continue;
      expect(partials, `slowest gap between appends ${Math.round(slowestGapMs)} ms`).toEqual([]);
      expect(saw404).toBe(true);
      return;
    }
  });

  /** Append 20 MiB to a new fixture file in 10 steps 50 ms apart while polling its object. */
  async function appendSlowly(): Promise<{ partials: string[]; saw404: boolean; slowestGapMs: number }> {
    const dir = await fixtureCopy();
    const { s3 } = await start({ ephemeral: true, fixtures: dir });
    const file = path.join(dir, "sample-repo/main/big/blob.bin");
    await mkdir(path.dirname(file));
    const chunks = Array.from({ length: 10 }, () => randomBytes(2 * 1024 * 1024)); // 20 MiB
    const full = Buffer.concat(chunks);
    const seen = new Set<string>();
    let writing = true;
    const poller = (async () => {
      while (writing) {
        const got = await getBytes(s3, "sample-repo/main/big/blob.bin");
        seen.add(got === undefined ? "404" : got.equals(full) ? "full" : `partial ${got.length}`);
      }
    })();
    let slowestGapMs = 0;
    let lastWrite: number | undefined;
    for (const chunk of chunks) {
      const before = performance.now();
      if (lastWrite !== undefined) slowestGapMs = Math.max(slowestGapMs, before - lastWrite);
      await appendFile(file, chunk);
      lastWrite = performance.now();
      await sleep(50);
    }
    await within(10_000, async () => (await getBytes(s3, "sample-repo/main/big/blob.bin"))?.equals(full) === true);
    writing = false;
    await poller;
    return { partials: [...seen].filter((s) => s !== "404" && s !== "full"), saw404: seen.has("404"), slowestGapMs };
  }

  it("reports each bad path once (onWarning) and skips it, at start and while watching", async () => {
    const dir = await fixtureCopy();
    const files = ["README.md", "sample-repo/notes.txt", "Bad_Repo/main/a.csv", "Bad_Repo/main/b.csv", "ab/main/c.csv", "sample-repo/ma.in/d.csv", "sample-repo/-x/e.csv"];
    for (const f of files) {
      await mkdir(path.join(dir, path.dirname(f)), { recursive: true });
      await writeFile(path.join(dir, f), "x");
    }
    await mkdir(path.join(dir, "sample-repo/main/.hidden"), { recursive: true });
    await writeFile(path.join(dir, "sample-repo/main/.hidden/secret.txt"), "hidden");
    await writeFile(path.join(dir, "sample-repo/main/backup.csv~"), "editor backup");
    const warnings: string[] = [];
    const { server, s3 } = await start({ ephemeral: true, fixtures: dir, onWarning: (m) => warnings.push(m) });
    expect(warnings.sort()).toEqual(
      [
        "fixtures: skipping Bad_Repo/: invalid repository name (3-63 characters a-z, 0-9 and '-', starting with a letter or digit)",
        "fixtures: skipping README.md: files go in " + path.basename(dir) + "/<repository>/<branch>/<path>",
        "fixtures: skipping ab/: invalid repository name (3-63 characters a-z, 0-9 and '-', starting with a letter or digit)",
        "fixtures: skipping sample-repo/-x/: invalid branch name (letters, digits, '_' and '-', not starting with '-')",
        "fixtures: skipping sample-repo/ma.in/: invalid branch name (letters, digits, '_' and '-', not starting with '-')",
        "fixtures: skipping sample-repo/notes.txt: files go in " + path.basename(dir) + "/<repository>/<branch>/<path>",
      ].sort(),
    );
    for (const w of warnings) expect(w).not.toContain("\n");
    // the good ones are loaded; nothing hidden or skipped is
    expect(await getBytes(s3, CSV)).toBeDefined();
    expect(await getBytes(s3, "sample-repo/main/.hidden/secret.txt")).toBeUndefined();
    expect(await getBytes(s3, "sample-repo/main/backup.csv~")).toBeUndefined();
    expect(fixtureEvents(server).every((e) => e.repo === "sample-repo" && e.ref === "main")).toBe(true);

    // live: a new bad file is reported once, a further one in the same bad directory is not
    warnings.length = 0;
    await writeFile(path.join(dir, "stray.txt"), "x");
    await mkdir(path.join(dir, "UPPER/main"), { recursive: true });
    await writeFile(path.join(dir, "UPPER/main/one.txt"), "x");
    await writeFile(path.join(dir, "Bad_Repo/main/c.csv"), "x");
    await within(10_000, async () => warnings.length >= 2);
    await sleep(400);
    expect(warnings.sort()).toEqual([
      expect.stringMatching(/^fixtures: skipping UPPER\/: invalid repository name/),
      expect.stringMatching(/^fixtures: skipping stray\.txt: files go in/),
    ]);
  });

  it("follows no symbolic link out of the fixtures directory, and terminates on link cycles", async () => {
    const dir = await fixtureCopy();
    const outside = path.join(root, `outside-${Date.now()}.txt`);
    await writeFile(outside, "not a fixture");
    const main = path.join(dir, "sample-repo/main");
    await symlink(outside, path.join(main, "escape.txt"));
    await symlink("/etc", path.join(main, "etc-dir"));
    await symlink(path.join(main, "raw"), path.join(main, "raw-again")); // inside: followed, walked once
    await mkdir(path.join(main, "loop"), { recursive: true });
    await symlink("..", path.join(main, "loop/up")); // a cycle
    await symlink(path.join(main, "loop"), path.join(main, "loop/self")); // another
    const warnings: string[] = [];
    const { server, s3 } = await start({ ephemeral: true, fixtures: dir, onWarning: (m) => warnings.push(m) });
    expect(await getBytes(s3, "sample-repo/main/escape.txt")).toBeUndefined();
    expect(await getBytes(s3, "sample-repo/main/etc-dir/passwd")).toBeUndefined();
    expect(await getBytes(s3, CSV)).toBeDefined();
    expect(warnings).toEqual(
      expect.arrayContaining([
        "fixtures: skipping sample-repo/main/escape.txt: a symbolic link out of the fixtures directory (not followed)",
        "fixtures: skipping sample-repo/main/etc-dir: a symbolic link out of the fixtures directory (not followed)",
      ]),
    );
    // Each real folder was walked once: no key repeats a path through a cycle.
    const loads = fixtureEvents(server).filter((e) => e.operation === "FixtureLoad").map((e) => e.path!);
    expect(loads.filter((p) => p.includes("loop/")).length).toBe(0);
    expect(loads.length).toBeLessThan(50);
    // A link added while watching that leads out is not served either.
    await symlink(outside, path.join(main, "escape-live.txt"));
    await sleep(600);
    expect(await getBytes(s3, "sample-repo/main/escape-live.txt")).toBeUndefined();
  });

  it("commits the initial load and each burst of live changes, so tests can diff against them", async () => {
    const dir = await fixtureCopy();
    const { server, s3 } = await start({ ephemeral: true, fixtures: dir });
    const auth = { Authorization: "Basic " + Buffer.from(`${server.accessKeyId}:${server.secretAccessKey}`).toString("base64") };
    const api = async (p: string) => (await fetch(`${server.endpoint}/api/v1${p}`, { headers: auth })).json() as Promise<{ results: { message: string; id: string }[] }>;
    const log1 = await api("/repositories/sample-repo/refs/main/commits");
    expect(log1.results.map((c) => c.message)).toEqual(["Load fixtures", "Repository created"]);
    expect((await api("/repositories/sample-repo/branches/main/diff")).results).toEqual([]);
    // the committed state is readable by commit id
    expect((await getBytes(s3, `sample-repo/${log1.results[0]!.id}/raw/orders/2024-01-15.csv`))?.length).toBeGreaterThan(0);

    await writeFile(path.join(dir, "sample-repo/main/raw/orders/2024-01-17.csv"), "id,total\n3,30\n");
    await within(10_000, async () => (await api("/repositories/sample-repo/refs/main/commits")).results.length === 3);
    const diff = await fetch(`${server.endpoint}/api/v1/repositories/sample-repo/refs/main~1/diff/main`, { headers: auth }).then((r) => r.json() as Promise<{ results: { path: string; type: string }[] }>);
    expect(diff.results).toEqual([expect.objectContaining({ path: "raw/orders/2024-01-17.csv", type: "added" })]);
    expect(fixtureEvents(server).some((e) => e.operation === "FixtureCommit" && e.status === 201)).toBe(true);
  });

  it("records loads and removals in the request log with source fixture", async () => {
    const dir = await fixtureCopy();
    const { server } = await start({ ephemeral: true, fixtures: dir });
    const bytes = await readFile(path.join(dir, CSV));
    const load = fixtureEvents(server).find((e) => e.path === "raw/orders/2024-01-15.csv")!;
    expect(load).toMatchObject({ source: "fixture", method: "PUT", operation: "FixtureLoad", repo: "sample-repo", ref: "main", status: 200, bytesIn: bytes.length, done: true });
    expect(fixtureEvents(server).filter((e) => e.operation === "FixtureLoad")).toHaveLength(4);
    expect(fixtureEvents(server).filter((e) => e.operation === "FixtureCommit")).toHaveLength(1);

    const ended = new Promise<RequestEvent>((resolve) => {
      const off = server.log.subscribe((e, phase) => {
        if (phase === "end" && e.operation === "FixtureRemove") {
          off();
          resolve(e);
        }
      });
    });
    await rm(path.join(dir, CSV));
    expect(await ended).toMatchObject({ source: "fixture", method: "DELETE", operation: "FixtureRemove", repo: "sample-repo", ref: "main", path: "raw/orders/2024-01-15.csv", status: 204 });
  });

  it("fails start with one clear message when the fixtures directory does not exist", async () => {
    await expect(startServer({ port: 0, ephemeral: true, fixtures: path.join(root, "missing") })).rejects.toThrow(/fixtures directory .*missing does not exist/);
  });
});
