/**
 * The digests of a request body that need all of it: the MD5 of a PUT or part (its ETag) and the
 * SHA-256 of a payload signed whole (what the aws CLI and boto3 send over http), computed on a
 * thread of their own once the body passes BATCH bytes. Hashing was over half the request thread's
 * CPU in a large PUT or a multipart upload (MD5 runs at ~650 MB/s here, the network and the disk
 * faster); on another core it runs beside them. The request thread copies each batch of the body
 * into a buffer that the hashing thread hands back once hashed (fresh buffers cost more in page
 * faults than the copy), and the body waits while AHEAD of its batches, or QUEUED of all bodies'
 * batches, are queued, so memory stays bounded whatever the speeds and the number of bodies. A body
 * that ends before BATCH bytes (nearly every request) is hashed here, in one go, and never uses the
 * thread. The first body of any size starts the thread (its own V8 heap, 10-20 MB of RSS, which a
 * server that is only read never pays); a body that passes BATCH before the thread runs is hashed
 * here. If the thread cannot start or ever fails, every body is hashed here from then on (a body
 * the thread was hashing when it failed fails too: its bytes are gone).
 */
import { createHash, type Hash } from "node:crypto";
import { Worker } from "node:worker_threads";

/** Bytes handed to the hashing thread at a time. */
const BATCH = 256 << 10;
/**
 * A batch buffer's size: a batch is handed over once it reaches BATCH bytes, so it passes BATCH by
 * less than one chunk, and a socket reads at most 64 KiB at a time (a longer batch gets a buffer of
 * its own size).
 */
const BUFFER_BYTES = BATCH + (64 << 10);
/** Batches of one body queued at the hashing thread before the body waits (a large PUT's pipeline). */
const AHEAD = 4;
/**
 * Batches of all bodies queued at the hashing thread before the next body to hand one over waits:
 * with AHEAD alone the queue grew with the number of bodies: a multipart upload's four parts at a
 * time held ~6 MB of batches at the thread, and the server's peak RSS over s3bench's whole sequence
 * was ~10 MB higher.
 */
const QUEUED = 8;
/** Batch buffers kept for reuse (their pages stay mapped). */
const KEPT_BUFFERS = 8;

/** What the hashing thread runs: one hash per job id, fed in order, each buffer handed back. */
const THREAD_SOURCE = `
const { parentPort } = process.getBuiltinModule("node:worker_threads");
const { createHash } = process.getBuiltinModule("node:crypto");
const hashes = new Map();
parentPort.on("message", (m) => {
  if (m.buffer) {
    let hash = hashes.get(m.id);
    if (!hash) hashes.set(m.id, (hash = createHash(m.algorithm)));
    hash.update(new Uint8Array(m.buffer, 0, m.length));
    parentPort.postMessage({ id: m.id, buffer: m.buffer }, [m.buffer]);
  } else if (m.end === "digest") {
    const hash = hashes.get(m.id); // a job sends a batch before anything else
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, digest: hash.digest() });
  } else hashes.delete(m.id);
});
`;

export type BodyHashAlgorithm = "md5" | "sha256";

type Message = { id: number; buffer: ArrayBuffer } | { id: number; digest: Uint8Array };

/** One body's hash on the thread. */
class Job {
  private queued = 0;
  private resume?: () => void;
  private result?: { resolve: (digest: Buffer) => void; reject: (err: Error) => void };
  private error?: Error;
  private ended = false;

  constructor(
    private readonly thread: HashThread,
    readonly id: number,
    private readonly algorithm: BodyHashAlgorithm,
  ) {}

  /** Hands the chunks over; a promise while AHEAD batches of this body are queued. */
  send(chunks: readonly Buffer[], bytes: number): Promise<void> | undefined {
    if (this.error) return undefined; // digest() reports it
    this.queued++;
    this.thread.post(this.id, this.algorithm, chunks, bytes);
    return this.mustWait() ? new Promise((resolve) => (this.resume = resolve)) : undefined;
  }

  /** AHEAD of its batches, or QUEUED of all bodies', are at the thread. */
  private mustWait(): boolean {
    return this.queued >= AHEAD || this.thread.queued >= QUEUED;
  }

  digest(): Promise<Buffer> {
    this.ended = true;
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      this.result = { resolve, reject };
      this.thread.end(this.id, "digest");
    });
  }

  /** The body was abandoned: the thread forgets it (nothing to do once its digest was asked for). */
  drop(): void {
    if (this.ended) return;
    this.ended = true;
    this.thread.end(this.id, "drop");
    this.wake(); // its acks no longer reach it: a stream waiting on them goes on (to its end)
  }

  /** One of its batches was hashed. */
  hashed(): void {
    this.queued--;
  }

  /** A batch (of any body) was hashed: the body goes on if it waits and now may. */
  roomMade(): void {
    if (this.resume && !this.mustWait()) this.wake();
  }

  finished(digest: Buffer): void {
    this.result?.resolve(digest);
  }

  failed(err: Error): void {
    this.error = err;
    this.wake();
    this.result?.reject(err);
  }

  private wake(): void {
    const resume = this.resume;
    this.resume = undefined;
    resume?.();
  }
}

class HashThread {
  private readonly worker: Worker;
  private readonly jobs = new Map<number, Job>();
  private readonly free: ArrayBuffer[] = [];
  private nextId = 1;
  /** Batches handed over and not yet handed back, of all bodies (dropped ones' too). */
  queued = 0;
  running = false;
  /** True once the thread runs; false if it failed first. */
  readonly started: Promise<boolean>;

  constructor(onFailure: () => void) {
    // A string run as a script: no file to find beside a bundle; the process's flags are not its own.
    this.worker = new Worker(THREAD_SOURCE, { eval: true, execArgv: [], name: "lakes3 hashing" });
    this.started = new Promise((resolve) => {
      this.worker.once("online", () => {
        this.running = true;
        if (this.jobs.size === 0) this.worker.unref(); // idle: the thread keeps the process alive only while it hashes
        resolve(true);
      });
      const fail = (err: Error) => {
        this.running = false;
        resolve(false);
        onFailure();
        for (const job of this.jobs.values()) job.failed(err);
        this.jobs.clear();
      };
      this.worker.on("error", fail);
      this.worker.on("exit", (code) => fail(new Error(`the hashing thread exited with code ${code}`)));
    });
    this.worker.on("message", (m: Message) => this.received(m));
  }

  open(algorithm: BodyHashAlgorithm): Job {
    const job = new Job(this, this.nextId++, algorithm);
    if (this.jobs.size === 0) this.worker.ref();
    this.jobs.set(job.id, job);
    return job;
  }

  post(id: number, algorithm: BodyHashAlgorithm, chunks: readonly Buffer[], bytes: number): void {
    const buffer = bytes <= BUFFER_BYTES ? (this.free.pop() ?? new ArrayBuffer(BUFFER_BYTES)) : new ArrayBuffer(bytes);
    const view = new Uint8Array(buffer);
    let at = 0;
    for (const c of chunks) {
      view.set(c, at);
      at += c.length;
    }
    this.worker.postMessage({ id, algorithm, buffer, length: bytes }, [buffer]);
    this.queued++;
  }

  end(id: number, how: "digest" | "drop"): void {
    if (how === "drop") this.close(id);
    this.worker.postMessage({ id, end: how });
  }

  private received(m: Message): void {
    const job = this.jobs.get(m.id);
    if ("buffer" in m) {
      if (m.buffer.byteLength === BUFFER_BYTES && this.free.length < KEPT_BUFFERS) this.free.push(m.buffer);
      this.queued--;
      job?.hashed();
      for (const waiting of this.jobs.values()) waiting.roomMade();
    } else if (job) {
      this.close(m.id);
      job.finished(Buffer.from(m.digest.buffer, m.digest.byteOffset, m.digest.byteLength));
    }
  }

  private close(id: number): void {
    if (this.jobs.delete(id) && this.jobs.size === 0) this.worker.unref();
  }
}

let thread: HashThread | undefined;
let broken = false;

/** The hashing thread once it runs; undefined while it starts, or for good once it failed. */
function hashThread(): HashThread | undefined {
  return thread?.running ? thread : undefined;
}

/**
 * Starts the hashing thread unless it was started (by the first body); resolves true once it runs,
 * false when it cannot.
 */
export function startHashThread(): Promise<boolean> {
  if (broken) return Promise.resolve(false);
  try {
    thread ??= new HashThread(() => (broken = true));
  } catch {
    broken = true;
    return Promise.resolve(false);
  }
  return thread.started;
}

/** A body's digest: `update` (or `pass`) each chunk in order, waiting when told to, then `digest` once. */
export class BodyHash {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private job: Job | undefined;
  private local: Hash | undefined;

  constructor(private readonly algorithm: BodyHashAlgorithm) {
    void startHashThread(); // the first body starts it, running by the large bodies after it
  }

  /** Whether the hashing thread hashes this body. */
  get onThread(): boolean {
    return this.job !== undefined;
  }

  /** Adds a chunk (kept, not copied, until its batch is handed over); a promise means wait. */
  update(chunk: Buffer): Promise<void> | undefined {
    if (this.local) {
      this.local.update(chunk);
      return undefined;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes < BATCH) return undefined;
    this.job ??= hashThread()?.open(this.algorithm);
    if (this.job) return this.handOver(this.job);
    this.local = this.hashHeld(createHash(this.algorithm)); // no thread: hashed here from now on
    return undefined;
  }

  /** A Transform's step: adds the chunk, then passes it on (once the thread caught up, if it must). */
  pass(chunk: Buffer, callback: (error: null, chunk: Buffer) => void): void {
    const wait = this.update(chunk);
    if (wait) void wait.then(() => callback(null, chunk));
    else callback(null, chunk);
  }

  digest(): Promise<Buffer> {
    if (this.job) {
      if (this.heldBytes > 0) void this.handOver(this.job);
      return this.job.digest();
    }
    return Promise.resolve(this.hashHeld(this.local ?? createHash(this.algorithm)).digest());
  }

  /** The body was abandoned (a Transform's _destroy): the thread forgets it. */
  discard(): void {
    this.job?.drop();
    this.held = [];
    this.heldBytes = 0;
  }

  /** Adds the chunks held to `hash` here, and lets go of them. */
  private hashHeld(hash: Hash): Hash {
    for (const c of this.held) hash.update(c);
    this.held = [];
    this.heldBytes = 0;
    return hash;
  }

  private handOver(job: Job): Promise<void> | undefined {
    const wait = job.send(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    return wait;
  }
}
