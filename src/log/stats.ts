/**
 * Per-operation statistics of finished requests, since start or the last clear: count, failures,
 * bytes in and out, and latency percentiles. Kept incrementally as requests end (the viewer's
 * statistics view reads a summary; nothing rescans the ring): latencies go into a log-scale
 * histogram, so p50/p99 are within ~3% whatever the number of requests.
 */

/** One finished request, as the statistics count it. */
export interface StatsSample {
  operation: string;
  failed: boolean;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
}

/** Buckets per doubling of latency: each is 2^(1/24) ≈ 3% wide. */
const BUCKETS_PER_DOUBLING = 24;
/** The smallest latency told apart (10 µs). */
const FLOOR_MS = 0.01;

class LatencyHistogram {
  private readonly buckets = new Map<number, number>();
  private total = 0;

  add(ms: number): void {
    const bucket = Math.max(0, Math.floor(Math.log2(Math.max(ms, FLOOR_MS) / FLOOR_MS) * BUCKETS_PER_DOUBLING));
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
    this.total++;
  }

  /** The latency below which a share `p` (0–1) of the requests ended (a bucket's middle). */
  percentile(p: number): number {
    const rank = Math.max(1, Math.ceil(p * this.total));
    let seen = 0;
    for (const bucket of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(bucket)!;
      if (seen >= rank) return FLOOR_MS * 2 ** ((bucket + 0.5) / BUCKETS_PER_DOUBLING);
    }
    return 0;
  }
}

export interface OperationSummary {
  operation: string;
  count: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  p50Ms: number;
  p99Ms: number;
}

interface Entry {
  count: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  latency: LatencyHistogram;
}

export class RequestStats {
  private readonly operations = new Map<string, Entry>();
  /** When counting (re)started: the server's start or the last clear. */
  since = Date.now();

  add(r: StatsSample): void {
    let entry = this.operations.get(r.operation);
    if (!entry) this.operations.set(r.operation, (entry = { count: 0, errors: 0, bytesIn: 0, bytesOut: 0, latency: new LatencyHistogram() }));
    entry.count++;
    if (r.failed) entry.errors++;
    entry.bytesIn += r.bytesIn;
    entry.bytesOut += r.bytesOut;
    entry.latency.add(r.durationMs);
  }

  clear(): void {
    this.operations.clear();
    this.since = Date.now();
  }

  /** One line per operation, the busiest first. */
  summary(): OperationSummary[] {
    return [...this.operations]
      .map(([operation, e]) => ({ operation, count: e.count, errors: e.errors, bytesIn: e.bytesIn, bytesOut: e.bytesOut, p50Ms: e.latency.percentile(0.5), p99Ms: e.latency.percentile(0.99) }))
      .sort((a, b) => b.count - a.count || a.operation.localeCompare(b.operation));
  }
}
