import { describe, expect, it } from "vitest";
import { compareKeys, ordersNatively, skipPast } from "../../src/storage/keys.js";

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

describe("compareKeys", () => {
  // Code points whose UTF-16 order is not their UTF-8 order: U+E000–U+FFFF sort after a surrogate
  // pair's first unit in UTF-16, before the pair's code point in UTF-8 (LevelDB's order).
  const alphabet = ["a", "/", "~", "é", "\uD7FF", "\uE000", "\uFFFF", "😀", "\u{10000}", "\u{10FFFF}"];
  const utf8Order = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));

  it("is the order of the keys' UTF-8 bytes, whichever of them have units from U+D800 up", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const key = () => Array.from({ length: Math.floor(random() * 5) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    for (let n = 0; n < 5000; n++) {
      const a = key();
      const b = random() < 0.3 ? a + key() : key(); // prefixes of each other too
      expect(Math.sign(compareKeys(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(utf8Order(a, b));
      expect(Math.sign(compareKeys(b, a))).toBe(utf8Order(b, a));
    }
  });

  it("orders a surrogate pair after U+E000–U+FFFF, though its first unit is smaller", () => {
    expect(compareKeys("x\uE000", "x😀")).toBeLessThan(0);
    expect(compareKeys("x\uFFFF/a", "x\u{10000}")).toBeLessThan(0);
    expect(compareKeys("x😀", "x\uFFFF")).toBeGreaterThan(0);
    expect(compareKeys("x😀", "x😀")).toBe(0);
  });

  it("says which strings JavaScript's < orders correctly against any other: those without units from U+D800 up", () => {
    for (const s of ["", "plain/key", "dir-é", "\uD7FF"]) expect(ordersNatively(s), s).toBe(true);
    for (const s of ["x😀", "\uE000", "a\uFFFF", "\uD800"]) expect(ordersNatively(s), s).toBe(false);
  });
});
