/**
 * Small text helpers shared by the UI components: times, durations, truncation, colours. (The
 * request target, query label and byte count live in log/sinks.ts, shared with the text log; the
 * operation label in log/events.ts.)
 */
import type { RequestEvent } from "../log/events.js";
import { targetLabel } from "../log/sinks.js";

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

/** Keep both ends (`repo/main/…/file.csv`); `headShare` of the room goes to the start. */
export function truncateMiddle(text: string, width: number, headShare = 0.5): string {
  if (text.length <= width) return text;
  if (width <= 1) return "…".slice(0, width);
  const head = Math.ceil((width - 1) * headShare);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

/**
 * `repo/ref/path query` in `width` columns. What gives way first: the query (down to 12
 * columns), the middle of the path (down to 24), the end of the repository (down to 4), the path
 * (down to 12), then the query and the path entirely; the ref and the end of the key stay
 * readable longest.
 */
export function fitTarget(e: Pick<RequestEvent, "repo" | "ref" | "path">, query: string, width: number): string {
  let [repo, path, q] = [e.repo ?? "", e.path ?? "", query];
  const text = (): string => targetLabel({ repo, ref: e.ref, path }, q);
  if (text().length <= width) return text();
  const over = (): number => text().length - width;
  const shrink = (value: string, floor: number, cut: (s: string, w: number) => string): string =>
    over() <= 0 ? value : cut(value, Math.max(Math.min(value.length, floor), value.length - over()));
  const cutPath = (s: string, w: number): string => truncateMiddle(s, w, 1 / 3); // the file name matters most
  q = shrink(q, 12, truncateEnd);
  path = shrink(path, 24, cutPath);
  repo = shrink(repo, 4, truncateEnd);
  path = shrink(path, 12, cutPath);
  q = over() > 0 ? "" : q;
  path = shrink(path, 1, cutPath);
  return truncateEnd(text(), width);
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
