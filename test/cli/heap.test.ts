/** `lakes3 serve`'s V8 settings (src/cli/heap.ts), in a process of their own: they are process-wide. */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const HEAP = path.resolve(import.meta.dirname, "../../dist/cli/heap.js");

/**
 * The young generation's size (MB) after allocating like a busy server, with or without the
 * settings; `thread`: a worker thread starts halfway, once the young generation reached its bound.
 */
function youngGenerationMb(tuned: boolean, thread = false): number {
  const script = `
    import v8 from "node:v8";
    import { Worker } from "node:worker_threads";
    const { tuneHeapForServing } = await import(${JSON.stringify(HEAP)});
    if (${tuned}) tuneHeapForServing();
    const kept = [];
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
  return Number(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }).trim());
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
});
