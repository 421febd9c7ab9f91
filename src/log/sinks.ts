/**
 * Plain sinks of the request event stream: one text line or one JSON object per finished request
 * (for terminals without the UI, CI logs and artifacts). With `quiet`, only failed requests.
 */
import type { Writable } from "node:stream";
import type { RequestEvent, RequestLog } from "./events.js";

export type LogFormat = "text" | "json";

export function attachLogSink(log: RequestLog, out: Writable, options: { format: LogFormat; quiet: boolean }): () => void {
  return log.subscribe((event, phase) => {
    if (phase !== "end") return;
    if (options.quiet && (event.status ?? 0) < 500 && event.errorCode === undefined) return;
    out.write((options.format === "json" ? jsonLine(event) : textLine(event)) + "\n");
  });
}

export function textLine(e: RequestEvent): string {
  const time = new Date(e.startedAt).toISOString().slice(11, 23);
  const transferred = transferBytes(e);
  const bytes = transferred ? ` ${formatBytes(transferred)}` : "";
  // A server-side failure says why (disk full, a missing data file…); client errors keep to the code.
  const why = (e.status ?? 0) >= 500 && e.errorMessage ? `: ${e.errorMessage}` : "";
  const error = e.errorCode ? ` ${e.errorCode}${why}` : "";
  const divergent = e.divergence ? ` ${divergenceNote(e.divergence)}` : "";
  const fault = e.fault ? ` [fault ${e.fault.action}]` : "";
  return `${time} ${e.status ?? "---"} ${e.method.padEnd(6)} ${operationLabel(e).padEnd(22)} ${targetOf(e)}${bytes} ${Math.round(e.durationMs ?? 0)}ms${error}${fault}${divergent}`;
}

/** The portability warning of a request whose answer lakeFS would not give (log lines, viewer). */
export function divergenceNote(d: NonNullable<RequestEvent["divergence"]>): string {
  return `≠lakeFS: ${d.lakefs}`;
}

/** `repo/ref/path` (empty parts left out), `/` when there is none. */
export function targetOf(e: RequestEvent): string {
  return [e.repo, e.ref, e.path].filter((s) => s !== undefined && s !== "").join("/") || "/";
}

/** The S3 operation; `-` for an unrecognised S3 request, the source for fixture and admin requests. */
export function operationLabel(e: RequestEvent): string {
  return e.operation ?? (e.source === "s3" ? "-" : e.source);
}

/** The bytes a request moved: the body received, else the body sent (0 when neither). */
export function transferBytes(e: RequestEvent): number {
  return e.bytesIn || e.bytesOut;
}

function jsonLine(e: RequestEvent): string {
  const { headers: _headers, done: _done, ...rest } = e;
  return JSON.stringify({ ...rest, time: new Date(e.startedAt).toISOString(), durationMs: Math.round((e.durationMs ?? 0) * 1000) / 1000 });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
