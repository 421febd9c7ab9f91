/** The pooled random ids (src/storage/random.ts): right length and alphabet, never repeated across refills. */
import { describe, expect, it } from "vitest";
import { randomString } from "../../src/storage/random.js";

describe("randomString", () => {
  it("gives hex and base64url of the asked number of bytes", () => {
    expect(randomString(16, "hex")).toMatch(/^[0-9a-f]{32}$/);
    expect(randomString(6, "base64url")).toMatch(/^[A-Za-z0-9_-]{8}$/);
  });

  it("never draws the same bytes twice, across many refills of its pool (and draws that do not divide it)", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(randomString(i % 2 ? 16 : 10, "hex"));
    expect(seen.size).toBe(20_000);
  });
});
