/**
 * Small text helpers shared by the UI components: times, durations, truncation, colours. (The
 * request target, operation label and byte count live in log/sinks.ts, shared with the text log.)
 */

type StatusColor = "green" | "cyan" | "yellow" | "red" | "gray";

export function statusColor(status: number | undefined): StatusColor {
  if (status === undefined) return "gray";
  if (status >= 500) return "red";
  if (status >= 400) return "yellow";
  if (status >= 300) return "cyan";
  if (status >= 200) return "green";
  return "gray";
}

/** Local wall-clock time, `HH:MM:SS` or `HH:MM:SS.mmm`. */
export function formatTime(epochMs: number, withMillis: boolean): string {
  const d = new Date(epochMs);
  const hms = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
  return withMillis ? `${hms}.${String(d.getMilliseconds()).padStart(3, "0")}` : hms;
}

export function formatDuration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return formatUptime(ms);
}

export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m${sec}s` : `${m}m${sec}s`;
}

/** Keep both ends (repo/ref and the file name are what matter): `repo/main/…/file.csv`. */
export function truncateMiddle(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return "…".slice(0, width);
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

export function truncateEnd(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? "…".slice(0, width) : `${text.slice(0, width - 1)}…`;
}

/** Split a long value into screen-width chunks (for the detail pane). */
export function chunk(text: string, width: number): string[] {
  if (width <= 0 || text.length <= width) return [text];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += width) out.push(text.slice(i, i + width));
  return out;
}
