/**
 * The storage layer's own errors. Storage knows nothing of S3 or HTTP: it says what went wrong
 * with the data dir (full, read-only, not ours to write, gone, a damaged blob) in words a user can
 * act on, and the layers above map each problem to their protocol's error in one place.
 */

export type StorageProblem =
  /** No space (or quota) left on the file system that holds the data dir. */
  | "disk-full"
  /** The data dir's file system is mounted read-only. */
  | "read-only"
  /** The process may not write (or read) a file of the data dir. */
  | "permission-denied"
  /** The data dir, or its metadata directory, was removed or replaced under the running server. */
  | "data-dir-missing"
  /** Any other I/O failure of the disk or the metadata store. */
  | "io-error"
  /** The store refuses writes until it has reopened cleanly after a failed write. */
  | "unavailable"
  /** An object's data file is gone. */
  | "blob-missing"
  /** An object's data file has another size than its record says. */
  | "blob-damaged"
  /** Committed metadata kept outside LevelDB (a range file) is gone or changed. */
  | "metadata-damaged"
  /** A body larger than the write allows. */
  | "too-large";

export class StorageError extends Error {
  override readonly name = "StorageError";
  constructor(
    readonly problem: StorageProblem,
    message: string,
    options: { cause?: unknown; path?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.path = options.path;
  }
  readonly path: string | undefined;
}

const ERRNO_PROBLEM: Record<string, StorageProblem> = {
  ENOSPC: "disk-full",
  EDQUOT: "disk-full",
  EROFS: "read-only",
  EACCES: "permission-denied",
  EPERM: "permission-denied",
  EIO: "io-error",
};

/** LevelDB reports file errors as text ("IO error: /d/metadata/000005.log: No space left on device"). */
const TEXT_PROBLEM: [RegExp, StorageProblem][] = [
  [/no space left on device|disk quota exceeded/i, "disk-full"],
  [/read-only file system/i, "read-only"],
  [/permission denied|operation not permitted/i, "permission-denied"],
  [/no such file or directory/i, "data-dir-missing"],
];

/** What a user should do about each problem, for the message. */
function advice(problem: StorageProblem, dataDir: string): string {
  switch (problem) {
    case "disk-full":
      return `the disk holding the data dir ${dataDir} is full (no space left on the device): free space there; lakes3 takes writes again by itself once there is room`;
    case "read-only":
      return `the data dir ${dataDir} is on a read-only file system: remount it read-write (or start lakes3 with another --data-dir)`;
    case "permission-denied":
      return `permission denied writing the data dir ${dataDir}: give the user running lakes3 write access to it (or start lakes3 with another --data-dir)`;
    case "data-dir-missing":
      return `the data dir ${dataDir} (or a folder inside it) was removed while lakes3 was running: restart lakes3; writes are refused until then`;
    default:
      return `an I/O error on the data dir ${dataDir}: check the disk (dmesg); lakes3 takes writes again once the store reopens cleanly`;
  }
}

/**
 * A file-system or LevelDB failure as a StorageError naming the cause; anything else (a client's
 * stream error, a programming error) is returned unchanged.
 */
export function classifyFsError(err: unknown, dataDir: string): unknown {
  if (err instanceof StorageError) return err;
  const problem = problemOf(err);
  if (!problem) return err;
  return new StorageError(problem, advice(problem, dataDir), { cause: err, path: (err as { path?: string }).path });
}

function problemOf(err: unknown): StorageProblem | undefined {
  for (let e = err as { code?: string; syscall?: string; message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e !== "object") break;
    // Node's fs errors carry the syscall; a socket's ECONNRESET on a body is not the disk's.
    if (e.code && e.syscall && ERRNO_PROBLEM[e.code]) return ERRNO_PROBLEM[e.code];
    if (e.code === "ENOENT" && e.syscall) return "data-dir-missing";
    if (typeof e.message === "string" && /^(IO error|Corruption)/.test(e.message)) {
      for (const [re, problem] of TEXT_PROBLEM) if (re.test(e.message)) return problem;
      return "io-error";
    }
  }
  return undefined;
}

/** The message for a problem, e.g. to refuse a write while the store is failed. */
export function storageError(problem: StorageProblem, dataDir: string, cause?: unknown): StorageError {
  return new StorageError(problem, advice(problem, dataDir), { cause });
}
