/**
 * Plain sinks of the request event stream: one text line or one JSON object per finished request
 * (for terminals without the UI, CI logs and artifacts). With `quiet`, only failed requests.
 */
import type { Writable } from "node:stream";
import { operationLabel, type RequestEvent, type RequestLog } from "./events.js";

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
  const fault = e.fault ? ` [fault ${e.fault.action}]` : "";
  const divergent = e.divergence ? ` ${divergenceNote(e.divergence)}` : "";
  return `${time} ${e.status ?? "---"} ${e.method.padEnd(6)} ${operationLabel(e).padEnd(22)} ${targetLabel(e, queryLabel(e))}${bytes} ${Math.round(e.durationMs ?? 0)}ms${error}${fault}${divergent}`;
}

/** The portability warning of a request whose answer lakeFS would not give (log lines, viewer). */
export function divergenceNote(d: NonNullable<RequestEvent["divergence"]>): string {
  return `≠lakeFS: ${d.lakefs}`;
}

/** `repo/ref/path` (empty parts left out), `/` when there is none. */
export function targetOf(e: Pick<RequestEvent, "repo" | "ref" | "path">): string {
  return [e.repo, e.ref, e.path].filter((s) => s !== undefined && s !== "").join("/") || "/";
}

/** The target and the telling part of the query, as a line shows them. */
export function targetLabel(e: Pick<RequestEvent, "repo" | "ref" | "path">, query: string): string {
  const target = targetOf(e);
  return query ? `${target} ${query}` : target;
}

/** `METHOD /repo/ref/path?query` (a REST path as it is), as the request was made. */
export function requestLine(e: RequestEvent): string {
  const target = targetOf(e);
  return `${e.method} ${target.startsWith("/") ? "" : "/"}${target}${e.query ? `?${e.query}` : ""}`;
}

/** The query's parameters, decoded, in order (a parameter without `=` has the value ""). */
export function queryParams(e: RequestEvent): [string, string][] {
  if (!e.query) return [];
  return e.query
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const eq = pair.indexOf("=");
      return eq < 0 ? [decode(pair), ""] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
    });
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/** The parameters that say what a listing or a multipart request asked for, in the order shown. */
const TELLING_PARAMS = ["prefix", "delimiter", "continuation-token", "start-after", "marker", "key-marker", "upload-id-marker", "part-number-marker", "partNumber", "uploadId", "versionId", "max-keys", "max-uploads", "max-parts"];
/** Opaque tokens and ids: their start is enough to tell two apart. */
const OPAQUE_PARAMS = new Set(["continuation-token", "uploadId", "upload-id-marker", "versionId"]);

/**
 * The telling part of the query: sub-resources (`?uploads`, `?cors`) and listing / multipart
 * arguments (`prefix=raw/ delimiter=/`, `partNumber=2 uploadId=3f9a…`); "" when there is none.
 */
export function queryLabel(e: RequestEvent): string {
  const params = queryParams(e);
  const subresources = params.filter(([name, value]) => value === "" && !TELLING_PARAMS.includes(name) && !/^x-/i.test(name)).map(([name]) => `?${name}`);
  const told = params
    .filter(([name]) => TELLING_PARAMS.includes(name))
    .sort(([a], [b]) => TELLING_PARAMS.indexOf(a) - TELLING_PARAMS.indexOf(b))
    .map(([name, value]) => `${name}=${OPAQUE_PARAMS.has(name) && value.length > 10 ? `${value.slice(0, 8)}…` : value}`);
  return [...subresources, ...told].join(" ");
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
