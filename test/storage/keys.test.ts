import { describe, expect, it } from "vitest";
import { compareKeys, skipPast } from "../../src/storage/keys.js";

describe("skipPast", () => {
  it("is the next string after every one with the prefix, whatever its last character", () => {
    const cases: [string, string][] = [
      ["a/", "a0"],
      ["dir-é", "dir-ê"],
      ["x\uD7FE", "x\uD7FF"],
      ["x\uE000", "x\uE001"],
      ["x\uFFFF", "x\u{10000}"],
      ["x😀", "x😁"],
      ["x\u{10FFFF}", "x\u{10FFFF}"],
    ];
    for (const [prefix, next] of cases) {
      expect(skipPast(prefix), prefix).toBe(next);
      if (next !== prefix) expect(compareKeys(prefix + "\u{10FFFE}", next), prefix).toBeLessThan(0);
    }
  });
});
