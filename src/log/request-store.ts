/**
 * The request log on disk: a sink of the RequestLog that appends finished requests as JSON lines
 * to <dataDir>/requests.log, rotating to requests.1.log every `capacity` lines or `maxBytes`
 * bytes, whichever comes first, so the data dir keeps the last requests (at most twice that) for
 * `lakes3 inspect requests`. Events carry masked, clipped headers only; appends are batched and
 * never block a request.
 */
import { createReadStream } from "node:fs";
import { appendFile, rename, stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import type { RequestEvent, RequestLog } from "./events.js";

export const REQUEST_LOG_CAPACITY = 10_000;
/** Bytes in one requests.log file before it rotates. */
export const REQUEST_LOG_MAX_BYTES = 16 << 20;
const FLUSH_MS = 200;

export class RequestStore {
  private pending: string[] = [];
  private lines = 0;
  private bytes = 0;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private unsubscribe?: () => void;

  constructor(
    private readonly dataDir: string,
    private readonly capacity = REQUEST_LOG_CAPACITY,
    private readonly maxBytes = REQUEST_LOG_MAX_BYTES,
  ) {}

  get file(): string {
    return path.join(this.dataDir, "requests.log");
  }

  /** Start persisting the log's finished requests. */
  async attach(log: RequestLog): Promise<void> {
    this.lines = await countLines(this.file);
    this.bytes = (await stat(this.file).catch(() => ({ size: 0 }))).size;
    this.unsubscribe = log.subscribe((event, phase) => {
      if (phase !== "end") return;
      this.pending.push(JSON.stringify(event));
      this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    });
  }

  /** Write what is pending (also on close). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.writing = this.writing.then(() => this.write(batch)).catch(() => undefined);
    return this.writing;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.flush();
  }

  private async write(batch: string[]): Promise<void> {
    if (batch.length === 0) return;
    const text = batch.join("\n") + "\n";
    if (this.lines + batch.length > this.capacity || this.bytes + text.length > this.maxBytes) {
      await rename(this.file, path.join(this.dataDir, "requests.1.log")).catch(() => undefined);
      this.lines = 0;
      this.bytes = 0;
    }
    await appendFile(this.file, text);
    this.lines += batch.length;
    this.bytes += Buffer.byteLength(text);
  }
}

/** The persisted requests, oldest first (at most the last `limit`). */
export async function readRequests(dataDir: string, limit = REQUEST_LOG_CAPACITY): Promise<RequestEvent[]> {
  const out: RequestEvent[] = [];
  for (const name of ["requests.1.log", "requests.log"]) {
    const file = path.join(dataDir, name);
    if (!(await stat(file).catch(() => undefined))) continue;
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as RequestEvent);
      } catch {
        // a torn last line after a crash: skip it
      }
      if (out.length > limit) out.shift();
    }
  }
  return out;
}

async function countLines(file: string): Promise<number> {
  if (!(await stat(file).catch(() => undefined))) return 0;
  let n = 0;
  for await (const _ of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) n++;
  return n;
}
