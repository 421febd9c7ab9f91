/** `lakes3 serve`'s V8 settings (src/cli/heap.ts), in a process of their own: they are process-wide. */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const HEAP = path.resolve(import.meta.dirname, "../../dist/cli/heap.js");

/** The young generation's size (MB) after allocating like a busy server, with or without the settings. */
function youngGenerationMb(tuned: boolean): number {
  const script = `
    import v8 from "node:v8";
    const { tuneHeapForServing } = await import(${JSON.stringify(HEAP)});
    if (${tuned}) tuneHeapForServing();
    const kept = [];
    for (let round = 0; round < 40; round++) {
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
    expect(youngGenerationMb(true)).toBeLessThanOrEqual(16);
  });
});
