/**
 * Keeps a failed metadata write from costing later ones.
 *
 * When LevelDB fails to append a record to its log (disk full, EIO), the log may hold a torn
 * record, and LevelDB appends the next records after it: on the next open, recovery stops reading
 * that log block at the torn record and drops everything written after it, writes that were
 * acknowledged. So after one failed write the store takes no more writes until it has been closed
 * and reopened (recovery drops the torn, unacknowledged record and starts a new log). A write that
 * overlapped the failed one may have been appended after it, so it fails too: it waits for every
 * write in flight when it finished, and fails if any of them failed. Reopening is tried in the
 * background once the data dir looks writable again, so writes resume without a restart.
 *
 * Every acknowledged write is also checked to have landed in the data dir that is still there: a
 * metadata directory removed (or replaced) under the server would take writes into unlinked files.
 */
import { constants as fsConstants, statSync } from "node:fs";
import { access, stat, statfs } from "node:fs/promises";
import { classifyFsError, StorageError, storageError, type StorageProblem } from "./errors.js";

/** The native write hooks of an abstract-level database (its implementation interface). */
interface LevelInternals {
  _put(...args: unknown[]): Promise<void>;
  _del(...args: unknown[]): Promise<void>;
  _batch(...args: unknown[]): Promise<void>;
  _clear(...args: unknown[]): Promise<void>;
  _chainedBatch(): { _write(...args: unknown[]): Promise<void> };
  open(): Promise<void>;
  close(): Promise<void>;
  readonly status: string;
}

/** How often a failed store tries to reopen, and the room it wants before it does. */
const RETRY_MS = 500;
const MIN_FREE_BYTES = 4 << 20;

export interface StoreHealth {
  ok: boolean;
  /** Why not, in words a user can act on. */
  problem?: StorageProblem;
  message?: string;
}

export class WriteGuard {
  private fault: StorageError | undefined;
  /** Failed writes so far: a write fails if this moved while it was in flight. */
  private failures = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private identity: { dev: number; ino: number } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private reopening: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly db: LevelInternals,
    /** The LevelDB directory (its identity is checked after each write). */
    private readonly location: string,
    /** The data dir, for messages. */
    private readonly dataDir: string,
    /** Called after a reopen (sublevels do not reopen with their parent). */
    private readonly afterReopen: () => Promise<void> = async () => {},
  ) {
    const internals = db;
    for (const name of ["_put", "_del", "_batch", "_clear"] as const) {
      const original = internals[name].bind(internals);
      internals[name] = (...args: unknown[]) => this.write(() => original(...args));
    }
    const chained = internals._chainedBatch.bind(internals);
    internals._chainedBatch = () => {
      const batch = chained();
      const write = batch._write.bind(batch);
      batch._write = (...args: unknown[]) => this.write(() => write(...args));
      return batch;
    };
  }

  /** Remember which directory the store opened (after open). */
  async opened(): Promise<void> {
    const st = await stat(this.location);
    this.identity = { dev: st.dev, ino: st.ino };
  }

  /** Stop retrying (the store is closing). */
  stop(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  health(): StoreHealth {
    return this.fault ? { ok: false, problem: this.fault.problem, message: this.fault.message } : { ok: true };
  }

  /** Health, also noticing a data dir removed or made unwritable while nothing was written. */
  async check(): Promise<StoreHealth> {
    if (!this.fault) {
      try {
        this.checkLocation();
        await access(this.location, fsConstants.W_OK);
      } catch (err) {
        const e = classifyFsError(err, this.dataDir);
        if (e instanceof StorageError) return { ok: false, problem: e.problem, message: e.message };
        throw err;
      }
    }
    return this.health();
  }

  /** Any error of the store as the storage error it stands for (a closed store: unavailable). */
  explain(err: unknown): unknown {
    const code = (err as { code?: string } | null)?.code;
    if (code === "LEVEL_DATABASE_NOT_OPEN" || code === "LEVEL_DATABASE_NOT_CLOSED") return this.refusal();
    return classifyFsError(err, this.dataDir);
  }

  private refusal(): StorageError {
    const cause = this.fault?.message ?? "the metadata store is reopening";
    return new StorageError("unavailable", `lakes3 is not taking writes until its metadata store reopens cleanly: ${cause}`, { cause: this.fault });
  }

  private async write(fn: () => Promise<void>): Promise<void> {
    if (this.fault) throw this.refusal();
    const epoch = this.failures;
    const native = fn();
    const settled = native.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    try {
      await native;
    } catch (err) {
      this.fail(err);
      throw this.explain(err);
    } finally {
      this.inFlight.delete(settled);
    }
    // A write that overlapped a failed one may sit after its torn record: wait for the writes
    // still in flight, and fail if any of them (or any other) failed meanwhile.
    if (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    if (this.failures !== epoch) throw this.refusal();
    try {
      this.checkLocation();
    } catch (err) {
      this.fail(err);
      throw this.explain(err);
    }
  }

  /**
   * The store's directory must still be the one it opened. Checked after every write, with a
   * synchronous stat: a directory's stat is a few µs, and the thread pool's round trip for an
   * asynchronous one cost ~25 µs of CPU, a twentieth of a small PUT's.
   */
  private checkLocation(): void {
    if (!this.identity) return;
    let st;
    try {
      st = statSync(this.location);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw storageError("data-dir-missing", this.dataDir, err);
      throw err;
    }
    if (st.dev !== this.identity.dev || st.ino !== this.identity.ino) throw storageError("data-dir-missing", this.dataDir);
  }

  private fail(err: unknown): void {
    this.failures++;
    const explained = classifyFsError(err, this.dataDir);
    this.fault ??= explained instanceof StorageError ? explained : storageError("io-error", this.dataDir, err);
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    // A removed data dir is not reopened: LevelDB would create an empty store in its place.
    if (this.closed || this.retryTimer || this.fault?.problem === "data-dir-missing") return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.reopening ??= this.reopen().finally(() => (this.reopening = undefined));
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  /** Close and reopen the store once the data dir looks writable with room to spare. */
  private async reopen(): Promise<void> {
    if (this.closed || !this.fault) return;
    try {
      this.checkLocation();
      await access(this.location, fsConstants.W_OK);
      const fs = await statfs(this.location);
      if (fs.bavail * fs.bsize < MIN_FREE_BYTES) throw storageError("disk-full", this.dataDir);
      await Promise.all([...this.inFlight]);
      if (this.closed) return;
      if (this.db.status === "open") await this.db.close();
      await this.db.open();
      await this.afterReopen();
      await this.opened();
      this.fault = undefined;
    } catch (err) {
      const explained = classifyFsError(err, this.dataDir);
      if (explained instanceof StorageError && explained.problem !== "unavailable") this.fault = explained;
    } finally {
      if (this.fault) this.scheduleReopen();
    }
  }
}
