/**
 * The two stream plumbings on the hot path, without `stream/promises.pipeline` (which builds an
 * AbortController and an AbortError per call — measurable at thousands of requests a second).
 */
import type { ServerResponse } from "node:http";
import { finished, type Readable, type Writable } from "node:stream";
import { isRecycling } from "../storage/blob-store.js";
import { S3Error } from "./errors.js";

/**
 * Pipe `source` into `target`; resolves when `target` has finished, rejects on either's error. A
 * source that fails or closes before its end — also one already gone when the pump starts, such as
 * the body of a client that disconnected while the request was being checked — fails the target
 * (which removes a half-written blob) with IncompleteBody.
 */
export function pump(source: Readable, target: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      target.destroy(err);
      reject(err);
    };
    finished(source, { writable: false }, (err) => {
      if (err) fail(err instanceof S3Error ? err : new S3Error("IncompleteBody", { message: "The request body ended prematurely: the client closed the connection." }));
    });
    target.once("error", reject);
    target.once("finish", () => resolve());
    source.pipe(target);
  });
}

/**
 * Stream a body to a response; a client that goes away stops (and releases) the body. A blob
 * read gets each chunk back once the socket has taken it, to read into it again.
 */
export function sendBody(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    body.once("error", (err) => {
      res.destroy(err);
      reject(err);
    });
    res.once("close", () => {
      body.destroy();
      resolve();
    });
    if (!isRecycling(body)) return void body.pipe(res);
    // what pipe does, with a callback per chunk
    body.on("data", (chunk: Buffer) => {
      const sent = (err?: Error | null) => {
        if (!err) body.recycle(chunk);
      };
      if (!res.write(chunk, sent)) body.pause();
    });
    res.on("drain", () => body.resume());
    body.once("end", () => res.end());
  });
}

/**
 * Stop reading a body that failed. A request's own stream is left alone: destroying it would kill
 * the socket before the error response is sent (the gateway answers, then closes or drains the
 * connection). Any other stream (a decoder, a blob being copied) is destroyed, freeing its file.
 */
export function release(source: Readable): void {
  if ("httpVersion" in source && "socket" in source) source.unpipe();
  else source.destroy();
}
