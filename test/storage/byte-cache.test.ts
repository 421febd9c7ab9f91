import { describe, expect, it } from "vitest";
import { ByteCache, cachedBufferBytes } from "../../src/storage/byte-cache.js";

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

  it("holds its newest `keepAtLeast` values past its budget, a value larger than the whole budget too", () => {
    const c = new ByteCache<string>(3, () => 5, { keepAtLeast: 2 });
    for (const k of ["a", "b", "c"]) c.set(k, k);
    expect(held(c)).toEqual(["b", "c"]);
    c.set("d", "d"); // b and c were both read (above): the older goes
    expect(held(c)).toEqual(["c", "d"]);
    expect(c.size).toBe(10);
    const plain = new ByteCache<string>(3, () => 5);
    plain.set("a", "a"); // without it, a value larger than the budget is never held
    expect(plain.get("a")).toBeUndefined();
  });
});

describe("ByteCache's count of the process's cached ArrayBuffers", () => {
  // cli/heap.ts leaves these bytes out of the read buffers it collects for: a count that only grew
  // would stop those collections for good.
  it("follows what the cache holds through replacement, eviction, deletion and clearing", () => {
    const base = cachedBufferBytes();
    const c = new ByteCache<Buffer>(3, () => 1, { buffersOf: (b) => b.length });
    const held = () => cachedBufferBytes() - base;
    c.set("a", Buffer.alloc(10));
    c.set("b", Buffer.alloc(20));
    c.set("a", Buffer.alloc(30)); // replaces a's 10
    expect(held()).toBe(50);
    c.set("c", Buffer.alloc(40));
    c.set("d", Buffer.alloc(50)); // over the budget of 3: one goes
    expect(held()).toBe(["a", "b", "c", "d"].reduce((n, k) => n + (c.get(k)?.length ?? 0), 0));
    c.delete("d");
    expect(held()).toBe(["a", "b", "c"].reduce((n, k) => n + (c.get(k)?.length ?? 0), 0));
    c.set("e", Buffer.alloc(1000), 5); // larger than the budget: not kept, not counted
    c.clear();
    expect(held()).toBe(0);
    new ByteCache<Buffer>(3, () => 1).set("x", Buffer.alloc(10)); // a cache that counts none
    expect(held()).toBe(0);
  });
});
