/**
 * The statistics pane (`s`): one line per operation, busiest first, from RequestStats.summary().
 */
import type { OperationSummary } from "../log/stats.js";
import { formatBytes } from "../log/sinks.js";
import type { DetailLine } from "./detail-pane.js";
import { formatDuration, formatTime, truncateEnd } from "./format.js";

export function statsLines(summary: readonly OperationSummary[], since: number, width: number): DetailLine[] {
  const opWidth = Math.max(12, Math.min(24, width - 52));
  const row = (cells: string[]): string =>
    [truncateEnd(cells[0]!, opWidth).padEnd(opWidth), ...cells.slice(1).map((c, i) => c.padStart(i < 2 ? 7 : 8))].join(" ");
  const lines: DetailLine[] = [
    { value: `since ${formatTime(since, false)} (start, or the last c)`, color: "gray" },
    { value: row(["OPERATION", "COUNT", "ERRORS", "P50", "P99", "IN", "OUT"]), bold: true },
  ];
  if (summary.length === 0) lines.push({ value: "no requests yet", color: "gray" });
  for (const s of summary) {
    lines.push({
      value: row([s.operation, String(s.count), String(s.errors), formatDuration(s.p50Ms), formatDuration(s.p99Ms), formatBytes(s.bytesIn), formatBytes(s.bytesOut)]),
      color: s.errors > 0 ? "yellow" : undefined,
    });
  }
  return lines;
}
