/**
 * WriteGuard over a fake LevelDB (its native write hooks under our control), for the orderings a
 * real disk rarely produces on demand: a write that succeeds while an overlapping one fails, a
 * reopen that must wait for room, the metadata dir replaced under the store.
 */
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StorageError } from "../../src/storage/errors.js";
import { WriteGuard } from "../../src/storage/write-guard.js";

interface Pending {
  resolve(): void;
  reject(err: unknown): void;
}

/** A fake abstract-level: each native write waits until the test settles it. */
function fakeDb() {
  const pending: Pending[] = [];
  const native = () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
  const db = {
    status: "open",
    opens: 0,
    _put: native,
    _del: native,
    _batch: native,
    _clear: native,
    _chainedBatch: () => ({ _write: native }),
    async open() {
      db.status = "open";
      db.opens++;
    },
    async close() {
      db.status = "closed";
    },
  };
  return { db, pending };
}

const enospc = () => Object.assign(new Error("IO error: /d/metadata/000005.log: No space left on device"), { code: "LEVEL_IO_ERROR" });

let dir: string;
let guard: WriteGuard | undefined;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-guard-"));
  await mkdir(path.join(dir, "metadata"));
});
afterEach(async () => {
  guard?.stop();
  await rm(dir, { recursive: true, force: true });
});

const until = async (ok: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("WriteGuard", () => {
  it("a write that succeeded while an overlapping one failed is not acknowledged", async () => {
    const { db, pending } = fakeDb();
    guard = new WriteGuard(db as never, path.join(dir, "metadata"), dir);
    await guard.opened();
    const a = db._put("a");
    const b = db._put("b");
    await until(() => pending.length === 2);
    pending[1]!.resolve(); // b lands first (it may sit after a's torn record)…
    await new Promise((r) => setTimeout(r, 20));
    pending[0]!.reject(enospc()); // …then a fails
    const [ra, rb] = await Promise.allSettled([a, b]);
    expect(ra.status).toBe("rejected");
    expect((ra as PromiseRejectedResult).reason).toBeInstanceOf(StorageError);
    expect(((ra as PromiseRejectedResult).reason as StorageError).problem).toBe("disk-full");
    expect(rb.status, "b was acknowledged although it overlapped a failed write").toBe("rejected");
    expect(((rb as PromiseRejectedResult).reason as StorageError).problem).toBe("unavailable");
  });

  it("after a failed write, writes are refused (naming the cause) until the store has reopened", async () => {
    const { db, pending } = fakeDb();
    guard = new WriteGuard(db as never, path.join(dir, "metadata"), dir);
    await guard.opened();
    const a = db._batch();
    await until(() => pending.length === 1);
    pending[0]!.reject(enospc());
    await expect(a).rejects.toThrow(/is full \(no space left on the device\)/);
    await expect(db._put("x")).rejects.toThrow(/not taking writes until its metadata store reopens cleanly: .*is full/);
    expect(guard.health()).toMatchObject({ ok: false, problem: "disk-full" });
    // The temp dir has room, so the background reopen goes ahead.
    await until(() => db.opens === 1);
    await until(() => guard!.health().ok);
    const c = db._put("c");
    await until(() => pending.length === 2);
    pending[1]!.resolve();
    await expect(c).resolves.toBeUndefined();
  });

  it("a metadata dir replaced under the store fails the write that notices, and is never reopened", async () => {
    const { db, pending } = fakeDb();
    const location = path.join(dir, "metadata");
    guard = new WriteGuard(db as never, location, dir);
    await guard.opened();
    await rename(location, path.join(dir, "moved"));
    await mkdir(location);
    const a = db._put("a");
    await until(() => pending.length === 1);
    pending[0]!.resolve();
    await expect(a).rejects.toThrow(/was removed while lakes3 was running/);
    expect(await guard.check()).toMatchObject({ ok: false, problem: "data-dir-missing" });
    await new Promise((r) => setTimeout(r, 800));
    expect(db.opens, "a replaced store must not be reopened (LevelDB would start an empty one)").toBe(0);
  });
});
