/** RequestStats: per-operation counts, failures, bytes and latency percentiles, kept as requests end. */
import { describe, expect, it } from "vitest";
import { RequestLog } from "../../src/log/events.js";
import { RequestStats } from "../../src/log/stats.js";
import { startRequest } from "./helpers.js";

describe("RequestStats", () => {
  it("counts per operation, busiest first, with p50/p99 within a few percent", () => {
    const stats = new RequestStats();
    for (let i = 1; i <= 1000; i++) stats.add({ operation: "GetObject", failed: i % 100 === 0, bytesIn: 0, bytesOut: 10, durationMs: i / 10 });
    stats.add({ operation: "PutObject", failed: false, bytesIn: 5, bytesOut: 0, durationMs: 3 });
    const [get, put] = stats.summary();
    expect(get).toMatchObject({ operation: "GetObject", count: 1000, errors: 10, bytesIn: 0, bytesOut: 10_000 });
    expect(get!.p50Ms).toBeGreaterThan(50 * 0.97);
    expect(get!.p50Ms).toBeLessThan(50 * 1.03);
    expect(get!.p99Ms).toBeGreaterThan(99 * 0.97);
    expect(get!.p99Ms).toBeLessThan(99 * 1.03);
    expect(put).toMatchObject({ operation: "PutObject", count: 1, errors: 0, bytesIn: 5 });
    expect(put!.p50Ms).toBeCloseTo(3, 0);
  });

  it("is fed by the request log and starts over on clear (the totals count on)", () => {
    const log = new RequestLog(10);
    for (let i = 0; i < 50; i++) log.end(startRequest(log), { status: i < 5 ? 404 : 200, bytesOut: 1 });
    // the ring keeps 10 requests; the statistics saw all 50
    expect(log.stats.summary()).toEqual([expect.objectContaining({ operation: "GetObject", count: 50, errors: 5, bytesOut: 50 })]);
    log.clear();
    expect(log.stats.summary()).toEqual([]);
    expect(log.totals.requests).toBe(50);
  });
});
