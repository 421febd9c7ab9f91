/**
 * V8 heap settings for `lakes3 serve`, a process that is only the server (startServer() leaves an
 * embedding process's V8 alone).
 */
import { PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import type { RequestLog } from "../log/events.js";
import { cachedBufferBytes } from "../storage/byte-cache.js";

/** The young generation's size past which it stops growing (V8 grows it to 32 MB under load). */
const YOUNG_GENERATION_BYTES = 8 << 20;
/** ArrayBuffer bytes, beyond those the caches hold, past which read buffers are collected (V8 waits for 32 MB). */
const READ_BUFFERS_BYTES = 12 << 20;
/** How often they are looked at while requests are in flight. */
const READ_BUFFERS_CHECK_MS = 20;

/**
 * How far the old generation grows past what survives a full collection before the next one: 1.5×
 * instead of up to 4× (V8's default on a machine with memory to spare), so a commit of 30,000
 * objects with kilobytes of metadata peaks under 200 MB instead of ~270 MB; 2.5× while large bodies
 * flow (see collectReadBuffers). Read at each full collection.
 */
const HEAP_GROWING_PERCENT = 50;
const HEAP_GROWING_PERCENT_BODIES = 150;

export function tuneHeapForServing(requests: RequestLog): void {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  scavengeAlone();
  boundYoungGeneration(requests);
  collectReadBuffers(requests);
}

/**
 * Young-generation collections run on the request thread alone. V8 shares a scavenge with its
 * helper threads, which pays when much survives; a server's scavenge copies a few KB (~7 KB under a
 * HEAD load) and costs ~0.4 ms whatever it copies, most of it handing the work to the helpers and
 * waiting for them: over 20,000 HEADs, 0.33 ms of the parallel phase per scavenge against 0.10
 * alone, besides the helpers' own CPU (the machines have 2 cores, shared with the client). The flag
 * is read at each scavenge.
 */
function scavengeAlone(): void {
  v8.setFlagsFromString("--no-parallel-scavenge");
}

/**
 * Under a steady request load V8 grows the young generation to 32 MB, all of it resident: a sixth
 * of the server's memory at a million objects, for collections a little less frequent. Its cap
 * (--max-semi-space-size) is read only when V8 starts, but its growth factor is read when it grows:
 * after each collection, growth is allowed while requests are in flight and the young generation is
 * under YOUNG_GENERATION_BYTES, and stopped otherwise (when the server idles, V8 shrinks it, and it
 * grows back under load). The check runs a turn after each collection, so collections in one long
 * synchronous stretch (start-up's) could grow it twice, past the bound, before the check ran: it
 * does not grow while no request is in flight. Each new V8 heap in the process, a worker thread's
 * such as the hashing thread's, sets a factor under 2 back to 2 (Heap::ConfigureHeap, V8 11.3's
 * src/heap/heap.cc), so the factor is set again once a worker runs.
 */
function boundYoungGeneration(requests: RequestLog): void {
  let growing: boolean | undefined;
  const check = () => {
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
    const grow = young < YOUNG_GENERATION_BYTES && requests.inFlightCount > 0;
    if (grow === growing) return;
    growing = grow;
    v8.setFlagsFromString(`--semi-space-growth-factor=${grow ? 2 : 1}`);
  };
  new PerformanceObserver(check).observe({ entryTypes: ["gc"] });
  process.on("worker", (worker) =>
    worker.once("online", () => {
      growing = undefined;
      check();
    }),
  );
  check();
}

/**
 * A request body arrives as the socket's reads, a buffer of up to 64 KB each, which V8 frees only
 * when it collects the young generation. A large body allocates little else, so that comes when the
 * buffers themselves pass 32 MB (twice V8's largest semi-space, a constant), and a 256 MiB PUT
 * kept ~30 MB of read buffers resident whatever the server did with them. While requests are in
 * flight, the server looks at its ArrayBuffers every READ_BUFFERS_CHECK_MS and collects the young
 * generation itself (~0.5 ms) once they pass READ_BUFFERS_BYTES more than the caches hold (committed
 * ranges keep their stored bytes: ~23 MB of them at a million objects, where a collection every
 * check freed nothing and slowed a commit by a sixth). It reads them as V8's external memory
 * (ArrayBuffers and external strings), in under a µs: process.memoryUsage() also reads the RSS from
 * /proc, and took ~1% of a loaded server's CPU. The collector is V8's `gc`, exposed by its flag in a
 * context of its own, so the server's globals stay as they were.
 *
 * V8 also counts the ArrayBuffer bytes allocated since its last full collection against the old
 * generation's limit, which 1.5× a server's small heap keeps at 20-40 MB: a 256 MiB multipart
 * upload ran ~20 full collections (the bare server, whose limit is still V8's first, none). So once
 * large bodies flow, the old generation may grow to 2.5× what survives, until no request is in flight.
 */
function collectReadBuffers(requests: RequestLog): void {
  v8.setFlagsFromString("--expose-gc");
  const collect = runInNewContext("gc") as (options: { type: "minor" }) => void;
  let timer: NodeJS.Timeout | undefined;
  let bodies = false;
  const check = () => {
    if (v8.getHeapStatistics().external_memory > READ_BUFFERS_BYTES + cachedBufferBytes()) {
      collect({ type: "minor" });
      if (!bodies) v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT_BODIES}`);
      bodies = true;
    }
    if (requests.inFlightCount === 0) {
      clearInterval(timer);
      timer = undefined;
      if (bodies) v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
      bodies = false;
    }
  };
  requests.subscribe((_event, phase) => {
    if (phase === "start") timer ??= setInterval(check, READ_BUFFERS_CHECK_MS).unref();
  });
}
