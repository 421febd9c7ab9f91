/**
 * V8 heap settings for `lakes3 serve`, a process that is only the server (startServer() leaves an
 * embedding process's V8 alone).
 */
import { PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";

/** The young generation's size past which it stops growing (V8 grows it to 32 MB under load). */
const YOUNG_GENERATION_BYTES = 8 << 20;

export function tuneHeapForServing(): void {
  // Grow the old generation to 1.5× what survives a collection instead of up to 4× (V8's default
  // on a machine with memory to spare), so a commit of 30,000 objects with kilobytes of metadata
  // peaks under 200 MB instead of ~270 MB. Read at each collection, so it takes effect now.
  v8.setFlagsFromString("--heap-growing-percent=50");
  boundYoungGeneration();
}

/**
 * Under a steady request load V8 grows the young generation to 32 MB, all of it resident: a sixth
 * of the server's memory at a million objects, for collections a little less frequent. Its cap
 * (--max-semi-space-size) is read only when V8 starts, but its growth factor is read when it grows:
 * after each collection, growth is allowed while the young generation is under
 * YOUNG_GENERATION_BYTES and stopped once it is there (when the server idles, V8 shrinks it, and it
 * grows back under load). Each new V8 heap in the process, a worker thread's such as the hashing
 * thread's, sets a factor under 2 back to 2 (Heap::ConfigureHeap, V8 11.3's src/heap/heap.cc), so
 * the factor is set again once a worker runs.
 */
function boundYoungGeneration(): void {
  let growing = true;
  const setFactor = () => v8.setFlagsFromString(`--semi-space-growth-factor=${growing ? 2 : 1}`);
  const check = () => {
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
    if ((young < YOUNG_GENERATION_BYTES) === growing) return;
    growing = !growing;
    setFactor();
  };
  new PerformanceObserver(check).observe({ entryTypes: ["gc"] });
  process.on("worker", (worker) => worker.once("online", setFactor));
  check();
}
