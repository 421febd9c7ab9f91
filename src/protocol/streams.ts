/**
 * The two stream plumbings on the hot path, without `stream/promises.pipeline` (which builds an
 * AbortController and an AbortError per call — measurable at thousands of requests a second).
 */
import type { ServerResponse } from "node:http";
import type { Readable, Writable } from "node:stream";

/** Pipe `source` into `target`; resolves when `target` has finished, rejects on either's error. */
export function pump(source: Readable, target: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    source.once("error", (err) => {
      target.destroy(err);
      reject(err);
    });
    target.once("error", reject);
    target.once("finish", () => resolve());
    source.pipe(target);
  });
}

/** Stream a body to a response; a client that goes away stops (and releases) the body. */
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
    body.pipe(res);
  });
}
