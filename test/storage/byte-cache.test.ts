import { describe, expect, it } from "vitest";
import { ByteCache } from "../../src/storage/byte-cache.js";

describe("ByteCache", () => {
  const cache = (...keys: string[]) => {
    const c = new ByteCache<string>(3, () => 1);
    for (const k of keys) c.set(k, k);
    return c;
  };
  const held = (c: ByteCache<string>) => ["a", "b", "c", "d", "e"].filter((k) => c.get(k) !== undefined);

  it("drops what was not read lately, first the oldest, within its budget", () => {
    const c = cache("a", "b", "c", "d"); // a goes: the oldest
    c.get("b");
    c.set("e", "e"); // c goes: b was read since d came
    expect(c.size).toBe(3);
    expect(held(c)).toEqual(["b", "d", "e"]);
  });

  it("keeps the value just kept even when every other one was read", () => {
    const c = cache("a", "b", "c");
    for (const k of ["a", "b", "c"]) c.get(k);
    c.set("d", "d");
    expect(held(c)).toEqual(["b", "c", "d"]);
  });
});
