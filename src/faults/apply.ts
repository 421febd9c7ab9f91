/**
 * Carrying out a request's fault, the same way for S3 and the REST API: an error is thrown as the
 * S3Error of its code before the operation runs (so nothing is read or stored, and it is rendered
 * like any real error); a delay waits before the operation runs; a reset lets N bytes of the body
 * through (the request body when the operation reads one, else the response body), then resets
 * the connection, so the operation fails exactly as for a client that disconnected mid-body; a
 * bandwidth limit paces both bodies with a Transform that keeps backpressure (a chunk at a time,
 * never a whole body in memory).
 */
import type { Socket } from "node:net";
import { Readable, Transform, finished, type TransformCallback } from "node:stream";
import { S3Error } from "../protocol/errors.js";
import { release } from "../protocol/streams.js";
import type { RequestEvent } from "../log/events.js";
import type { Fault, FaultInjector, FaultRequest } from "./injector.js";

/** How a request's bodies pass through its fault. */
interface FaultHooks {
  /** Wraps the operation's lazy request body (the same stream on every call). */
  requestBody(get: () => Readable): () => Readable;
  /** Wraps a streamed response body. */
  responseBody(body: Readable): Readable;
}

const NO_FAULT: FaultHooks = { requestBody: (get) => get, responseBody: (body) => body };

/** What the request log records of an applied fault. */
type AppliedFault = NonNullable<RequestEvent["fault"]>;

/**
 * Run a request's operation under its fault, the one way S3 and the REST API do: decide the fault
 * (marked on `event` once it happens), carry out what comes first, and pass the operation's
 * request body and its streamed response body through it.
 */
export async function runWithFault<R extends { body?: Readable | Buffer }>(
  faults: FaultInjector,
  request: FaultRequest,
  socket: Socket,
  event: Pick<RequestEvent, "fault">,
  ctx: { body: () => Readable },
  run: () => Promise<R>,
): Promise<R> {
  const fault = faults.decide(request);
  if (!fault) return run(); // nearly every request: nothing to carry out
  const hooks = await injectFault(fault, socket, (f) => (event.fault = f));
  ctx.body = hooks.requestBody(ctx.body);
  const result = await run();
  if (result.body && hooks !== NO_FAULT) result.body = hooks.responseBody(Buffer.isBuffer(result.body) ? Readable.from([result.body]) : result.body);
  return result;
}

/**
 * Carry out what happens of the request's fault before the operation (throw the error, wait out
 * the delay); returns the hooks for its bodies. `mark` records the fault on the request's event
 * once it has happened (for a reset, when the connection is reset).
 */
async function injectFault(fault: Fault, socket: Socket, mark: (fault: AppliedFault) => void): Promise<FaultHooks> {
  const applied = { rule: fault.rule, action: fault.label };
  const { action } = fault;
  switch (action.kind) {
    case "error":
      mark(applied);
      throw new S3Error(action.code);
    case "delay":
      mark(applied);
      await delay(fault.delayMs ?? action.minMs, socket);
      return NO_FAULT;
    case "bandwidth":
      mark(applied);
      return bodyHooks(() => new Throttle(action.bytesPerSecond));
    case "reset": {
      let reset = false;
      const resetOnce = () => {
        if (reset) return;
        reset = true;
        mark(applied);
        socket.resetAndDestroy();
      };
      return bodyHooks(() => new ResetAfter(action.afterBytes, resetOnce));
    }
  }
}

function bodyHooks(make: () => Transform): FaultHooks {
  return {
    requestBody(get) {
      let wrapped: Readable | undefined;
      return () => (wrapped ??= through(get(), make()));
    },
    responseBody: (body) => through(body, make()),
  };
}

/**
 * `source` through `transform`: a failure of the source fails the transform (a request body cut
 * short reads as one), and a transform given up early releases the source as any stream an
 * operation gives up (a request's own stream is unpiped, not destroyed, so its answer still goes out).
 */
function through(source: Readable, transform: Transform): Readable {
  finished(source, { writable: false }, (err) => {
    if (err) transform.destroy(err);
  });
  transform.once("close", () => {
    if (!source.readableEnded) release(source);
  });
  return source.pipe(transform);
}

/** Wait `ms`, or until the client has gone (nobody is left to answer). */
function delay(ms: number, socket: Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.once("close", done);
  });
}

/** Lets `limit` bytes through, then resets the connection and fails as a body cut short. */
class ResetAfter extends Transform {
  constructor(
    private remaining: number,
    private readonly reset: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk.length < this.remaining) {
      this.remaining -= chunk.length;
      callback(null, chunk);
      return;
    }
    if (this.remaining > 0) this.push(chunk.subarray(0, this.remaining));
    this.remaining = 0;
    this.cut(callback);
  }

  override _flush(callback: TransformCallback): void {
    // A body exactly `limit` bytes long (reset=after:0 on an empty one) is cut at its end.
    if (this.remaining === 0) this.cut(callback);
    else callback();
  }

  private cut(callback: TransformCallback): void {
    this.reset();
    callback(new S3Error("IncompleteBody", { message: "The connection was reset by a fault rule (reset=after:…) before the body ended." }));
  }
}

/**
 * Paces a stream to `rate` bytes a second: each chunk is passed on in slices of a tenth of a
 * second's worth, each once its time has come, and the next chunk is taken only then.
 */
class Throttle extends Transform {
  private start = 0;
  private sent = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly rate: number) {
    super({ highWaterMark: 16 * 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.start === 0) this.start = performance.now();
    const slice = Math.max(1, Math.floor(this.rate / 10));
    let offset = 0;
    const next = (): void => {
      if (this.destroyed) return;
      if (offset >= chunk.length) return callback();
      const part = chunk.subarray(offset, offset + slice);
      const wait = this.start + ((this.sent + part.length) / this.rate) * 1000 - performance.now();
      const send = () => {
        offset += part.length;
        this.sent += part.length;
        this.push(part);
        next();
      };
      if (wait > 0) this.timer = setTimeout(send, wait);
      else send();
    };
    next();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    callback(err);
  }
}
