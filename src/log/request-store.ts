/**
 * The request log on disk: a sink of the RequestLog that appends finished requests (and the
 * server's warnings, as `{"type":"warning",…}` lines) as JSON lines to <dataDir>/requests.log, and failed ones (status 400 and up) also to requests.errors.log, so
 * the last failures survive any amount of successful traffic. Each file rotates to a `.1` file every
 * `capacity` lines or `maxBytes` bytes, whichever comes first, so the data dir keeps the last
 * requests (at most twice that) for `lakes3 inspect requests [--errors]`. Events carry masked,
 * clipped headers only; appends are batched and never block a request.
 */
import { createReadStream } from "node:fs";
import { open, rename, stat } from "node:fs/promises";
import path from "node:path";
import { writeAll } from "../storage/durable-file.js";
import { isFailure, type RequestEvent, type RequestLog, type ServerWarning } from "./events.js";

export const REQUEST_LOG_CAPACITY = 10_000;
/** Bytes in one requests.log file before it rotates. */
const REQUEST_LOG_MAX_BYTES = 16 << 20;
const FLUSH_MS = 200;

/** The two logs: every request, and the failures alone. */
const FILES = { all: "requests", errors: "requests.errors" } as const;
type Which = keyof typeof FILES;

/** Bytes of one buffer lines are encoded into (a longer line gets a buffer of its own size). */
const CHUNK_BYTES = 256 << 10;

/**
 * An append-only JSON-lines file that rotates to `<name>.1.log` past a line or byte budget. A line
 * is encoded into a buffer outside V8's heap when it is pushed, and the buffers are appended in
 * batches: a finished request's event waiting as itself until the batch (~1 KB of small objects)
 * survived one or two young-generation collections, which copied it each time, and the garbage of
 * joining and encoding a batch cost as much again: ~10 µs of a HEAD's ~90 in all.
 */
class RotatingLog {
  private lines = 0;
  private bytes = 0;
  /** Lines encoded and not yet written: whole buffers, then the first `at` bytes of `chunk`. */
  private full: Buffer[] = [];
  private chunk = Buffer.alloc(0);
  private at = 0;
  private pendingLines = 0;
  /** The file ends in a line cut short (a crash mid-append): the next write ends it first. */
  private torn = false;

  constructor(
    private readonly dir: string,
    private readonly name: string,
    private readonly capacity: number,
    private readonly maxBytes: number,
  ) {}

  get file(): string {
    return path.join(this.dir, `${this.name}.log`);
  }

  async open(): Promise<void> {
    const found = await countLines(this.file);
    this.lines = found.lines;
    this.torn = found.torn;
    this.bytes = (await stat(this.file).catch(() => ({ size: 0 }))).size;
  }

  /** One line (without its newline). */
  push(line: string): void {
    const most = 3 * line.length + 1; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (this.at + most > this.chunk.length) {
      if (this.at > 0) this.full.push(this.chunk.subarray(0, this.at));
      this.chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, most));
      this.at = 0;
    }
    this.at += this.chunk.write(line, this.at);
    this.chunk[this.at++] = 0x0a;
    this.pendingLines++;
  }

  async write(): Promise<void> {
    if (this.pendingLines === 0) return;
    const chunks = this.full;
    if (this.at > 0) chunks.push(this.chunk.subarray(0, this.at));
    const lines = this.pendingLines;
    this.full = [];
    this.chunk = Buffer.alloc(0); // the next line starts a buffer of its own
    this.at = 0;
    this.pendingLines = 0;
    let bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (this.lines + lines > this.capacity || this.bytes + bytes > this.maxBytes) {
      await rename(this.file, path.join(this.dir, `${this.name}.1.log`)).catch(() => undefined);
      this.lines = 0;
      this.bytes = 0;
      this.torn = false;
    }
    if (this.torn) {
      chunks.unshift(Buffer.from("\n"));
      bytes++;
      this.torn = false;
    }
    // One open and one writev for the batch (appending buffer by buffer opened the file for each).
    const file = await open(this.file, "a");
    try {
      await writeAll(file, chunks);
    } finally {
      await file.close();
    }
    this.lines += lines;
    this.bytes += bytes;
  }
}

export class RequestStore {
  private readonly logs: Record<Which, RotatingLog>;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private unsubscribe?: () => void;

  constructor(dataDir: string, capacity = REQUEST_LOG_CAPACITY, maxBytes = REQUEST_LOG_MAX_BYTES) {
    this.logs = { all: new RotatingLog(dataDir, FILES.all, capacity, maxBytes), errors: new RotatingLog(dataDir, FILES.errors, capacity, maxBytes) };
  }

  get file(): string {
    return this.logs.all.file;
  }

  /**
   * Start persisting the log's finished requests and its warnings (those given so far too), from
   * now on: the files' line counts are read meanwhile, and the first write waits for them.
   */
  attach(log: RequestLog): void {
    this.writing = Promise.all([this.logs.all.open(), this.logs.errors.open()]).then(
      () => undefined,
      () => undefined,
    );
    const schedule = (): void => {
      this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    };
    const warned = (w: ServerWarning): void => {
      this.logs.all.push(JSON.stringify({ type: "warning", time: new Date(w.at).toISOString(), message: w.message }));
      schedule();
    };
    log.getSnapshot().warnings.recent.forEach(warned);
    const unsubscribes = [
      log.subscribe((event, phase) => {
        if (phase !== "end") return;
        const line = JSON.stringify(event); // an event does not change once it ended
        this.logs.all.push(line);
        if (isFailure(event)) this.logs.errors.push(line);
        schedule();
      }),
      log.onWarning(warned),
    ];
    this.unsubscribe = () => unsubscribes.forEach((u) => u());
  }

  /** Write what is pending (also on close). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => Promise.all([this.logs.all.write(), this.logs.errors.write()])).then(
      () => undefined,
      () => undefined,
    );
    return this.writing;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.flush();
  }
}


/** The persisted requests (or the failures alone), oldest first (at most the last `limit`). */
export async function readRequests(dataDir: string, limit = REQUEST_LOG_CAPACITY, which: Which = "all"): Promise<RequestEvent[]> {
  const out: RequestEvent[] = [];
  for (const name of [`${FILES[which]}.1.log`, `${FILES[which]}.log`]) {
    const file = path.join(dataDir, name);
    if (!(await stat(file).catch(() => undefined))) continue;
    const { createInterface } = process.getBuiltinModule("node:readline"); // for `inspect requests`, not the server
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as RequestEvent | { type: "warning" };
        if ("type" in entry) continue; // a warning line: not a request
        out.push(entry);
      } catch {
        // a torn last line after a crash: skip it
      }
      if (out.length > limit) out.shift();
    }
  }
  return out;
}

/** The lines of a file (a last line without its newline too), and whether it ends in such a line. */
async function countLines(file: string): Promise<{ lines: number; torn: boolean }> {
  if (!(await stat(file).catch(() => undefined))) return { lines: 0, torn: false };
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, at + 1)) lines++;
    last = chunk[chunk.length - 1]!;
  }
  return last === 0x0a ? { lines, torn: false } : { lines: lines + 1, torn: true };
}
