/** `lakes3 serve`'s V8 settings (src/cli/heap.ts), in a process of their own: they are process-wide. */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const HEAP = path.resolve(import.meta.dirname, "../../dist/cli/heap.js");
const EVENTS = path.resolve(import.meta.dirname, "../../dist/log/events.js");
const BYTE_CACHE = path.resolve(import.meta.dirname, "../../dist/storage/byte-cache.js");

/**
 * Script lines: `chunks` MiB arrive as 64 KiB buffers, 512 KiB a millisecond, each dropped once
 * written (a socket's reads of a large body); `each` runs after every 512 KiB.
 */
const bodyFlows = (chunks: number, each = "") => `
    for (let i = 0; i < ${chunks * 2}; i++) {
      for (let j = 0; j < 8; j++) Buffer.allocUnsafeSlow(65536).fill(1);
      ${each}
      await new Promise((resolve) => setTimeout(resolve, 1));
    }`;

/** Runs a module script in a new Node process; its output, trimmed, as a number. */
function runScript(script: string): number {
  return Number(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }).trim());
}

/**
 * The young generation's size (MB) after allocating like a busy server, with or without the
 * settings; `thread`: a worker thread starts halfway, once the young generation reached its bound.
 */
function youngGenerationMb(tuned: boolean, thread = false, burst = false): number {
  const script = `
    import v8 from "node:v8";
    import { Worker } from "node:worker_threads";
    const { tuneHeapForServing } = await import(${JSON.stringify(HEAP)});
    const { RequestLog } = await import(${JSON.stringify(EVENTS)});
    const log = new RequestLog();
    if (${tuned}) tuneHeapForServing(log);
    const kept = [];
    if (${burst}) {
      // Start-up's work: collections one after another, with no turn for the GC observer.
      for (let i = 0; i < 4000000; i++) { const o = { key: "k" + i, n: i }; if (i % 50 === 0) kept.push(o); }
      kept.length = 0;
    }
    log.start({ id: "r", source: "s3", method: "GET" }); // a request in flight from here on
    for (let round = 0; round < 40; round++) {
      if (${thread} && round === 20) {
        const worker = new Worker("setInterval(() => {}, 1000)", { eval: true });
        await new Promise((resolve) => worker.once("online", resolve));
        worker.unref();
      }
      // Requests' garbage, some of it surviving a collection or two.
      for (let i = 0; i < 200000; i++) { const o = { key: "k" + i, n: i }; if (i % 50 === 0) kept.push(o); }
      if (kept.length > 100000) kept.length = 0;
      await new Promise((r) => setImmediate(r)); // let the GC observer run
    }
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    console.log(young.space_size / 1048576);`;
  return runScript(script);
}

/**
 * The most ArrayBuffer memory (MB) held while a request is in flight and 128 MiB arrive as 64 KiB
 * buffers, 512 KiB a millisecond (a socket's reads of a large body, each dropped once written).
 */
function readBuffersMb(tuned: boolean): number {
  return runScript(`
    const { tuneHeapForServing } = await import(${JSON.stringify(HEAP)});
    const { RequestLog } = await import(${JSON.stringify(EVENTS)});
    const log = new RequestLog();
    if (${tuned}) tuneHeapForServing(log);
    const event = log.start({ id: "r", source: "s3", method: "PUT" });
    let most = 0;${bodyFlows(128, "most = Math.max(most, process.memoryUsage().arrayBuffers);")}
    log.end(event, { status: 200 });
    console.log(most / 1048576);`);
}

/**
 * Full collections while 256 MiB arrive as 64 KiB buffers through a request in flight, after one
 * full collection set the old generation's limit by a live heap; `raised`: false drops every change
 * of the growing factor made after tuneHeapForServing returned, as if nothing raised it while
 * bodies flow.
 */
function fullCollections(raised: boolean): number {
  return runScript(`
    import v8 from "node:v8";
    import { runInNewContext } from "node:vm";
    import { PerformanceObserver, constants } from "node:perf_hooks";
    const { tuneHeapForServing } = await import(${JSON.stringify(HEAP)});
    const { RequestLog } = await import(${JSON.stringify(EVENTS)});
    const log = new RequestLog();
    tuneHeapForServing(log);
    if (!${raised}) {
      const setFlags = v8.setFlagsFromString;
      v8.setFlagsFromString = (flags) => flags.startsWith("--heap-growing-percent=") || setFlags(flags);
    }
    const live = Array.from({ length: 200000 }, (_, i) => ({ i, s: "x" + i }));
    runInNewContext("gc")(); // exposed by tuneHeapForServing
    let full = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
    }).observe({ entryTypes: ["gc"] });
    const event = log.start({ id: "r", source: "s3", method: "PUT" });${bodyFlows(256)}
    log.end(event, { status: 200 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the observer's last entries
    console.log(live.length && full);`);
}

/**
 * Collections the server forces while a request is in flight for 300 ms and 24 MB of ArrayBuffers
 * stay alive, held by a ByteCache that counts them (`cached`) or by an array.
 */
function forcedCollections(cached: boolean): number {
  return runScript(`
    import { PerformanceObserver, constants } from "node:perf_hooks";
    const { tuneHeapForServing } = await import(${JSON.stringify(HEAP)});
    const { RequestLog } = await import(${JSON.stringify(EVENTS)});
    const { ByteCache } = await import(${JSON.stringify(BYTE_CACHE)});
    const log = new RequestLog();
    tuneHeapForServing(log);
    const cache = new ByteCache(64 << 20, (b) => b.length, { buffersOf: (b) => b.buffer.byteLength });
    const held = [];
    for (let i = 0; i < 256; i++) {
      const bytes = Buffer.allocUnsafeSlow(96 << 10);
      if (${cached}) cache.set("range" + i, bytes);
      else held.push(bytes);
    }
    let forced = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.detail?.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) forced++;
    }).observe({ entryTypes: ["gc"] });
    const event = log.start({ id: "r", source: "s3", method: "GET" });
    const until = performance.now() + 300;
    while (performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
    log.end(event, { status: 200 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the observer's last entries
    console.log(forced);`);
}

/**
 * Scavenges in a process allocating like a busy server (garbage, a few objects surviving), and how
 * many of them V8's helper threads worked on (`--trace-gc-nvp`'s background.scavenge.parallel).
 */
function helpedScavenges(tuned: boolean): { scavenges: number; helped: number } {
  const script = `
    const { tuneHeapForServing } = await import(${JSON.stringify(HEAP)});
    const { RequestLog } = await import(${JSON.stringify(EVENTS)});
    const log = new RequestLog();
    if (${tuned}) tuneHeapForServing(log);
    log.start({ id: "r", source: "s3", method: "GET" });
    const kept = [];
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 200000; i++) { const o = { key: "k" + i, n: i }; if (i % 50 === 0) kept.push(o); }
      if (kept.length > 50000) kept.length = 0;
      await new Promise((r) => setImmediate(r));
    }`;
  const out = execFileSync(process.execPath, ["--trace-gc-nvp", "--input-type=module", "-e", script], { encoding: "utf8" });
  const scavenges = out.split("\n").filter((line) => line.includes(" gc=s "));
  const helped = scavenges.filter((line) => Number(/ background\.scavenge\.parallel=([\d.]+)/.exec(line)?.[1] ?? 0) > 0);
  return { scavenges: scavenges.length, helped: helped.length };
}

describe("serve's heap settings", () => {
  it("the young generation stops growing at 8 MB (V8 grows it to 32 MB under load)", () => {
    expect(youngGenerationMb(false)).toBeGreaterThan(16);
    expect(youngGenerationMb(true)).toBeLessThanOrEqual(8);
  });

  // Each new V8 heap, a worker thread's too, sets the growth factor back to 2 if it is under 2
  // (Heap::ConfigureHeap in V8 11.3, deps/v8/src/heap/heap.cc): the bound must outlast it.
  it("the young generation stays at 8 MB after a worker thread starts", () => {
    expect(youngGenerationMb(true, true)).toBeLessThanOrEqual(8);
  });

  it("the young generation does not grow past 8 MB in a long synchronous stretch (start-up's), and reaches it under load", () => {
    expect(youngGenerationMb(true, false, true)).toBe(8);
  });

  // V8 collects dropped ArrayBuffers at a young-generation collection, which a large body triggers
  // only once 32 MB of them wait (Heap::AllocateExternalBackingStore, twice the largest semi-space).
  it("a large body's read buffers are collected at 12 MB while requests are in flight (V8 waits for 32 MB)", () => {
    expect(readBuffersMb(false)).toBeGreaterThan(28);
    expect(readBuffersMb(true)).toBeLessThan(22);
  });

  // Committed ranges keep their stored bytes in the range cache (~23 MB at a million objects): a
  // collection forced for them at every check (20 ms) frees nothing.
  it("ArrayBuffers a cache holds are not read buffers: they force no collection (the same bytes held elsewhere do)", () => {
    expect(forcedCollections(false)).toBeGreaterThanOrEqual(5);
    expect(forcedCollections(true)).toBe(0);
  });

  // V8 counts ArrayBuffer bytes allocated since its last full collection against the old
  // generation's limit, which 1.5× a small live heap keeps low: with the factor left at 1.5×, 256 MiB
  // of read buffers ran 8-18 full collections here. In about one run in ten V8 stopped starting them
  // partway for reasons of its own (3-5), so the unraised run counts its most of three.
  it("while large bodies flow, the old generation's limit lets them through without a full collection every few MB", () => {
    let unraised = 0;
    for (let run = 0; run < 3 && unraised < 6; run++) unraised = Math.max(unraised, fullCollections(false));
    expect(unraised).toBeGreaterThanOrEqual(6);
    expect(fullCollections(true)).toBeLessThanOrEqual(4);
  });

  // A scavenge under a server's load copies a few KB; shared with V8's helper threads, their
  // hand-off cost more than the copy (see heap.ts).
  it("young-generation collections run on the request thread alone (V8 shares them with its helper threads)", () => {
    const untuned = helpedScavenges(false);
    expect(untuned.scavenges).toBeGreaterThan(10);
    expect(untuned.helped).toBeGreaterThan(untuned.scavenges / 4); // all of them here, unless the helpers get no core
    const tuned = helpedScavenges(true);
    expect(tuned.scavenges).toBeGreaterThan(10);
    expect(tuned.helped).toBe(0);
  });
});
