/**
 * Fixtures: a directory laid out as `<repo>/<branch>/<path...>` loaded as objects, then watched
 * (chokidar) so that a file added, changed or removed shows up within a second. Every load goes
 * through the PutObject write path (`writeBlob` + `publishObject`), so ETags and checksums are
 * real, and appears in the request log with `source: "fixture"`. A file is published only once it
 * has not been written to for `settleMs` and did not change while it was read, so a file being
 * written is never visible half-written. Bad paths are reported once and skipped, never fatal.
 * `applyFixtureChange` is the one place a single change is applied. After the initial load, and
 * after each burst of live changes, every branch that changed is committed ("Load fixtures"), so
 * tests can diff against the fixture state (note: that commit includes anything else staged on
 * the branch at that moment).
 */
import { randomUUID } from "node:crypto";
import type { Stats } from "node:fs";
import { open, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { FSWatcher } from "chokidar";
import mime from "mime-types";
import { BRANCH_NAME, REPOSITORY_NAME } from "./config.js";
import type { RequestLog } from "./events.js";
import { MAX_KEY_BYTES } from "./operations/address.js";
import { objectRecord, publishObject, writeBlob } from "./operations/store-object.js";
import type { Services } from "./operations/types.js";
import { S3Error } from "./protocol/errors.js";
import { VersioningError } from "./versioning/errors.js";

/** Commit a branch's fixture changes, recorded in the request log; "no changes" is not an error. */
async function commitFixtures(services: Services, log: RequestLog, repo: string, branch: string): Promise<void> {
  const event = log.start({ id: randomUUID(), source: "fixture", method: "POST", operation: "FixtureCommit", repo, ref: branch });
  try {
    const commit = await services.catalog.commit(repo, branch, { message: "Load fixtures", metadata: { source: "lakes3 fixtures" } });
    log.end(event, { status: 201, path: commit.id.slice(0, 12) });
  } catch (err) {
    if (err instanceof VersioningError && err.kind === "bad_request") {
      log.end(event, { status: 204 });
      return;
    }
    log.end(event, { status: 500, errorCode: "InternalError", errorMessage: (err as Error).message });
    throw err;
  }
}

/** One change to apply: load a file's current bytes as an object, or remove the object. */
type FixtureChange =
  | { kind: "load"; repo: string; branch: string; path: string; file: string }
  | { kind: "remove"; repo: string; branch: string; path: string };

const LOAD_CONCURRENCY = 8;

/** Hidden files and editor backups are never fixtures. */
const ignoredName = (name: string) => name.startsWith(".") || name.endsWith("~");

/**
 * Apply one fixture change and record it in the request log. Resolves false (nothing published)
 * when the file changed while it was being read; the caller retries once it has settled.
 */
async function applyFixtureChange(services: Services, log: RequestLog, change: FixtureChange): Promise<boolean> {
  const load = change.kind === "load";
  const event = log.start({
    id: randomUUID(),
    source: "fixture",
    method: load ? "PUT" : "DELETE",
    operation: load ? "FixtureLoad" : "FixtureRemove",
    repo: change.repo,
    ref: change.branch,
    path: change.path,
  });
  const target = { repo: change.repo, branch: change.branch };
  try {
    if (!load) {
      const removed = await services.catalog.deleteObjects(target, [change.path]);
      services.reclaimer.reclaim(removed.flatMap((r) => r.parts));
      log.end(event, { status: 204 });
      return true;
    }
    await ensureBranch(services, change.repo, change.branch);
    const fh = await open(change.file, "r");
    let written;
    try {
      const before = await fh.stat();
      written = await writeBlob(services, fh.createReadStream({ autoClose: false }), { checksum: { algorithm: "CRC64NVME" } }, undefined, before.size);
      const after = await fh.stat();
      if (!sameFile(before, after) || written.blob.size !== after.size) {
        services.reclaimer.reclaim([written.blob]);
        log.end(event, { status: 409, errorCode: "FixtureChanged", errorMessage: "file changed while it was loaded; retrying" });
        return false;
      }
    } finally {
      await fh.close();
    }
    const contentType = mime.lookup(change.path) || "application/octet-stream";
    await publishObject(services, target, change.path, objectRecord(written, { contentType, headers: {}, userMeta: {} }));
    log.end(event, { status: 200, bytesIn: written.blob.size });
    return true;
  } catch (err) {
    const status = err instanceof S3Error ? err.status : 500;
    const code = err instanceof S3Error ? err.code : ((err as NodeJS.ErrnoException).code ?? "InternalError");
    log.end(event, { status, errorCode: code, errorMessage: (err as Error).message });
    return true; // reported; retrying would not help
  }
}

/** Create the repository (default branch `main`) and the branch (from the default branch) if missing. */
async function ensureBranch(services: Services, repo: string, branch: string): Promise<void> {
  const { catalog } = services;
  if (!(await catalog.getRepository(repo))) await catalog.createRepository(repo);
  if (await catalog.getBranch(repo, branch)) return;
  const { defaultBranch } = (await catalog.getRepository(repo))!;
  await catalog.createBranch(repo, branch, defaultBranch).catch(async (err: unknown) => {
    if (!(await catalog.getBranch(repo, branch))) throw err; // not a lost race with another load
  });
}

export interface FixtureOptions {
  /** Absolute path of the fixtures directory. */
  dir: string;
  services: Services;
  log: RequestLog;
  /** One line per skipped path (bad repository or branch name, misplaced file). */
  onWarning: (message: string) => void;
  /** Quiet time after the last write before a file is loaded (default 200 ms). */
  settleMs?: number;
}

export interface FixtureWatcher {
  /** Stop watching, then run `clear` and load every fixture again (programmatic reset). */
  reload(clear: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/** Load every fixture, then keep watching the directory. Resolves once the initial load is done. */
export async function startFixtures(options: FixtureOptions): Promise<FixtureWatcher> {
  const fixtures = new FixtureSync(options);
  await fixtures.start();
  return fixtures;
}

/**
 * A fixtures directory kept in line with the store, in four steps: watch it; on each watcher
 * event, debounce (per file), then sync the file once it has settled, one sync at a time per file;
 * after each burst, commit the branches that changed; reload and close stop and drain that work.
 */
class FixtureSync implements FixtureWatcher {
  private readonly dir: string;
  private readonly services: Services;
  private readonly log: RequestLog;
  private readonly onWarning: (message: string) => void;
  private readonly settleMs: number;
  private readonly warned = new Set<string>();
  private readonly loaded = new Set<string>(); // files published since start/reset (a removal of anything else is noise)
  /** Per file: the debounce timer of its last watcher event. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per file: the end of the work queued for it (one sync at a time per file). */
  private readonly chains = new Map<string, Promise<void>>();
  /** While a reload runs: the files touched meanwhile, synced once it is done. */
  private suspended: Set<string> | undefined;
  private closed = false;
  /** Branches changed since their last fixture commit ("repo\0branch"). */
  private readonly dirty = new Set<string>();
  private commitTimer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;

  constructor(options: FixtureOptions) {
    this.dir = options.dir;
    this.services = options.services;
    this.log = options.log;
    this.onWarning = options.onWarning;
    this.settleMs = options.settleMs ?? 200;
  }

  // ---- start, reload, close -------------------------------------------------------------------

  async start(): Promise<void> {
    // Watch first, then walk: a change made during the initial load is not missed.
    const { watch } = await import("chokidar");
    const watcher = (this.watcher = watch(this.dir, {
      ignoreInitial: true,
      // Symlinked folders are walked once at load (see walk); the watcher does not follow links,
      // so a link out of the fixtures dir or a link cycle never reaches it.
      followSymlinks: false,
      ignored: (p: string) => p !== this.dir && ignoredName(path.basename(p)),
    }));
    const touched = (file: string) => this.touched(file);
    watcher.on("add", touched).on("change", touched).on("unlink", touched);
    watcher.on("error", (err) => this.onWarning(`fixtures: watcher: ${(err as Error).message}`));
    await new Promise<void>((resolve) => watcher.once("ready", resolve));
    try {
      await this.loadAll();
      await this.commitDirty();
    } catch (err) {
      this.closed = true;
      await watcher.close();
      throw err;
    }
  }

  async reload(clear: () => Promise<void>): Promise<void> {
    const pending = (this.suspended = new Set<string>());
    for (const [file, timer] of this.timers) {
      clearTimeout(timer);
      pending.add(file);
    }
    this.timers.clear();
    try {
      await this.drain();
      await clear();
      this.loaded.clear();
      this.warned.clear();
      this.dirty.clear();
      await this.loadAll();
      await this.commitDirty();
    } finally {
      this.suspended = undefined;
      for (const file of pending) this.touched(file);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.commitTimer);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.watcher?.close();
    await this.drain();
  }

  // ---- loading and watching ------------------------------------------------------------------

  private async loadAll(): Promise<void> {
    const files = await walk(this.dir, (key, message) => this.warnOnce(key, message));
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const file = files[next++]!;
        await this.enqueue(file, () => this.sync(file));
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, files.length) }, worker));
  }

  /** A watcher event: debounce, then sync. */
  private touched(file: string): void {
    if (this.closed) return;
    if (this.suspended) {
      this.suspended.add(file);
      return;
    }
    clearTimeout(this.timers.get(file));
    const timer = setTimeout(() => {
      this.timers.delete(file);
      if (this.suspended) this.suspended.add(file);
      else void this.enqueue(file, () => this.sync(file)).then(() => this.scheduleCommit());
    }, this.settleMs);
    this.timers.set(file, timer);
  }

  /** Run `task` after anything already queued for the same file. */
  private enqueue(file: string, task: () => Promise<void>): Promise<void> {
    const { chains } = this;
    const next = (chains.get(file) ?? Promise.resolve()).then(task).catch((err: Error) => this.onWarning(`fixtures: ${file}: ${err.message}`));
    chains.set(file, next);
    void next.then(() => {
      if (chains.get(file) === next) chains.delete(file);
    });
    return next;
  }

  private async drain(): Promise<void> {
    while (this.chains.size > 0) await Promise.all(this.chains.values());
  }

  // ---- one file ------------------------------------------------------------------------------

  /** Bring one file's object in line with the file, once the file has settled. */
  private async sync(file: string): Promise<void> {
    const { services, log, settleMs } = this;
    const where = locate(this.dir, file, (key, message) => this.warnOnce(key, message));
    if (!where) return;
    if (!(await insideRoot(this.dir, file))) {
      this.warnOnce(path.relative(this.dir, file), "a symbolic link to a file outside the fixtures directory (not followed)");
      return;
    }
    let previous: string | undefined;
    while (!this.closed) {
      let st: Stats;
      try {
        st = await stat(file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
        if (this.loaded.delete(file) && (await applyFixtureChange(services, log, { kind: "remove", ...where }))) this.dirty.add(`${where.repo}\0${where.branch}`);
        return;
      }
      if (!st.isFile()) return;
      // Settled: not written for settleMs, or (an mtime in the future) unchanged over settleMs.
      const age = Date.now() - st.mtimeMs;
      const signature = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (age < settleMs && signature !== previous) {
        previous = signature;
        await sleep(age >= 0 ? settleMs - age + 10 : settleMs);
        continue;
      }
      if (await applyFixtureChange(services, log, { kind: "load", ...where, file })) {
        this.loaded.add(file);
        this.dirty.add(`${where.repo}\0${where.branch}`);
        return;
      }
      previous = undefined;
      await sleep(settleMs);
    }
  }

  private warnOnce(key: string, message: string): void {
    if (!this.warned.has(key)) this.onWarning(`fixtures: skipping ${key}: ${message}`);
    this.warned.add(key);
  }

  // ---- commits -------------------------------------------------------------------------------

  private async commitDirty(): Promise<void> {
    for (const key of [...this.dirty]) {
      this.dirty.delete(key);
      const [repo, branch] = key.split("\0") as [string, string];
      await commitFixtures(this.services, this.log, repo, branch).catch((err: Error) => this.onWarning(`fixtures: commit ${repo}/${branch}: ${err.message}`));
    }
  }

  /** Commit once the current burst of live changes has been applied. */
  private scheduleCommit(): void {
    clearTimeout(this.commitTimer);
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      if (this.closed || this.suspended) return;
      void this.drain().then(() => this.commitDirty());
    }, this.settleMs);
  }
}

/** A file's place, or undefined when it is ignored (hidden, editor backup) or bad (warned once). */
function locate(dir: string, file: string, warn: (key: string, message: string) => void): Omit<FixtureChange, "kind" | "file"> | undefined {
  const parts = path.relative(dir, file).split(path.sep);
  if (parts.some(ignoredName)) return undefined;
  const [repo, branch, ...rest] = parts;
  if (rest.length === 0) {
    warn(parts.join("/"), `files go in ${path.basename(dir)}/<repository>/<branch>/<path>`);
    return undefined;
  }
  if (!REPOSITORY_NAME.test(repo!)) {
    warn(`${repo}/`, `invalid repository name (3-63 characters a-z, 0-9 and '-', starting with a letter or digit)`);
    return undefined;
  }
  if (!BRANCH_NAME.test(branch!)) {
    warn(`${repo}/${branch}/`, `invalid branch name (letters, digits, '_' and '-', not starting with '-')`);
    return undefined;
  }
  const key = rest.join("/");
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    warn(parts.join("/"), `key longer than ${MAX_KEY_BYTES} bytes`);
    return undefined;
  }
  return { repo: repo!, branch: branch!, path: key };
}

/**
 * Every regular file under `root`, hidden entries skipped. A symbolic link is followed only when
 * its target is inside `root` (a link to /etc/passwd is not served); a folder already visited
 * through another path (a link cycle, or two links to one folder) is walked once.
 */
async function walk(root: string, warn: (key: string, message: string) => void): Promise<string[]> {
  const out: string[] = [];
  const realRoot = await realpath(root);
  const visited = new Set<string>();
  const visit = async (d: string) => {
    const real = await realpath(d).catch(() => undefined);
    if (real === undefined || visited.has(real)) return;
    visited.add(real);
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (ignoredName(entry.name)) continue;
      const full = path.join(d, entry.name);
      let st: { isDirectory(): boolean; isFile(): boolean } | undefined = entry;
      if (entry.isSymbolicLink()) {
        const target = await realpath(full).catch(() => undefined);
        if (target === undefined) continue; // dangling
        if (!isWithin(realRoot, target)) {
          warn(path.relative(root, full), "a symbolic link out of the fixtures directory (not followed)");
          continue;
        }
        st = await stat(full).catch(() => undefined);
      }
      if (st?.isDirectory()) await visit(full);
      else if (st?.isFile()) out.push(full);
    }
  };
  await visit(root);
  return out.sort();
}

const isWithin = (root: string, p: string) => p === root || p.startsWith(root + path.sep);

/** Whether a file, its links resolved, is inside the fixtures directory. */
async function insideRoot(root: string, file: string): Promise<boolean> {
  const [realRoot, real] = await Promise.all([realpath(root), realpath(file).catch(() => undefined)]);
  return real === undefined || isWithin(realRoot, real); // a vanished file is the caller's to handle
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
