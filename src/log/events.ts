/**
 * The request event stream: one start and one end event per request (or fixture load), kept in a
 * bounded ring buffer. The server only emits; sinks (plain log lines, JSON lines, the terminal UI)
 * subscribe. The server never imports a sink.
 */
import { RequestStats } from "./stats.js";

export interface RequestEvent {
  id: string;
  source: "s3" | "fixture" | "admin";
  startedAt: number; // epoch ms
  method: string;
  operation?: string;
  repo?: string;
  ref?: string;
  path?: string;
  /** The raw query string (without `?`), signatures and tokens masked, clipped (see maskQuery). */
  query?: string;
  userAgent?: string;
  /** Masked request headers (no secrets or signatures). */
  headers?: Record<string, string>;
  status?: number;
  errorCode?: string;
  errorMessage?: string;
  /** The server's canonical request / string to sign when a signature did not match. */
  signature?: { canonicalRequest?: string; stringToSign?: string };
  auth?: "ok" | "failed" | "none";
  /** The answer relied on behaviour lakeFS does not have (protocol/divergences.ts): a portability warning. */
  divergence?: { id: string; lakefs: string };
  /** A fault a rule injected into this request (`--fault`): the rule's name and what it did. */
  fault?: { rule: string; action: string };
  bytesIn: number;
  bytesOut: number;
  durationMs?: number;
  done: boolean;
}

const SECRET_HEADERS = new Set(["x-amz-security-token", "cookie"]);

/**
 * How much of one header value (or one line of the signature details) an event keeps: the ring,
 * the request log and the viewer stay small whatever a client sends.
 */
export const MAX_EVENT_VALUE = 1024;

export function clip(value: string, max = MAX_EVENT_VALUE): string {
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length} characters)`;
}

/** Multi-line text (a canonical request) with each line clipped, and at most `maxLines` lines. */
export function clipLines(text: string, maxLines = 64): string {
  const lines = text.split("\n");
  const kept = lines.slice(0, maxLines).map((l) => clip(l));
  if (lines.length > maxLines) kept.push(`… (${lines.length - maxLines} more lines)`);
  return kept.join("\n");
}

/**
 * Request headers as a request event may carry them: signatures, tokens and cookies masked
 * (SigV4 keeps its Credential and SignedHeaders; SigV2 and Basic keep only the scheme and key id).
 */
export function maskHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined) continue;
    let value = Array.isArray(v) ? v.join(",") : v;
    if (k === "authorization") value = maskAuthorization(value);
    else if (SECRET_HEADERS.has(k)) value = "****";
    out[k] = value.length <= MAX_EVENT_VALUE ? value : clip(value);
  }
  return out;
}

function maskAuthorization(value: string): string {
  const masked = maskSignature(value);
  if (value.startsWith("AWS4-")) return masked; // the common case: nothing else can match
  return masked.replace(/^(AWS [^:]+:).*/, "$1****").replace(/^(Basic|Bearer)\s+.*/i, "$1 ****");
}

/** The first `Signature=<hex>` with its hex as `****` (what /(Signature=)[0-9a-fA-F]+/ finds; by hand, as every request has one). */
function maskSignature(value: string): string {
  for (let at = value.indexOf("Signature="); at >= 0; at = value.indexOf("Signature=", at + 1)) {
    const start = at + "Signature=".length;
    let end = start;
    while (end < value.length && isHexDigit(value.charCodeAt(end))) end++;
    if (end > start) return value.slice(0, start) + "****" + value.slice(end);
  }
  return value;
}

const isHexDigit = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/** Query parameters whose values are credentials (presigned URLs): kept as `****`. */
const SECRET_PARAMS = /^(x-amz-signature|signature|x-amz-security-token)$/i;
const HAS_SECRET_PARAM = /(?:^|&)(?:x-amz-signature|signature|x-amz-security-token)=/i;

/**
 * A URL's query as a request event keeps it: raw (still percent-encoded), secret parameters
 * masked, clipped; undefined when there is none.
 */
export function maskQuery(url: string): string | undefined {
  const at = url.indexOf("?");
  if (at < 0 || at === url.length - 1) return undefined;
  const query = url.slice(at + 1);
  if (!HAS_SECRET_PARAM.test(query)) return clip(query); // nearly every request: nothing to mask
  const masked = query
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      return eq > 0 && SECRET_PARAMS.test(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=****` : pair;
    })
    .join("&");
  return clip(masked);
}

/** The S3 operation; `-` for an unrecognised S3 request, the source for fixture and admin requests. */
export function operationLabel(e: RequestEvent): string {
  return e.operation ?? (e.source === "s3" ? "-" : e.source);
}

/** A request that failed (status 400 and up): counted as an error, kept in requests.errors.log. */
export const isFailure = (e: RequestEvent): boolean => (e.status ?? 0) >= 400;

export type RequestListener = (event: RequestEvent, phase: "start" | "end") => void;

/** Something the server wants a person to know (a skipped fixture, a start-up finding, exposed keys). */
export interface ServerWarning {
  at: number; // epoch ms
  message: string;
}

/** How many warnings the log keeps (the count goes on). */
const WARNINGS_KEPT = 100;

export class RequestLog {
  private readonly finished: RequestEvent[] = [];
  private readonly inFlight = new Map<string, RequestEvent>();
  private readonly listeners = new Set<RequestListener>();
  private readonly warnings: ServerWarning[] = [];
  /** What snapshots carry of the warnings: replaced when one arrives, shared until then. */
  private warningView: RequestSnapshot["warnings"] = { count: 0, recent: [] };
  private warningCount = 0;
  private readonly warningListeners = new Set<(warning: ServerWarning) => void>();
  private version = 0;
  private snapshot?: { version: number; value: RequestSnapshot };
  totals = { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, divergent: 0 };
  /** Per-operation statistics since start or the last clear. */
  readonly stats = new RequestStats();

  /** `capacity`: the finished requests snapshots show (the viewer's list); 0 keeps none. */
  constructor(readonly capacity = 1000) {}

  /** Requests started and not yet ended. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  subscribe(listener: RequestListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(event: Omit<RequestEvent, "done" | "bytesIn" | "bytesOut" | "startedAt"> & Partial<RequestEvent>): RequestEvent {
    const e: RequestEvent = { bytesIn: 0, bytesOut: 0, startedAt: Date.now(), ...event, done: false };
    this.inFlight.set(e.id, e);
    this.changed(e, "start");
    return e;
  }

  end(e: RequestEvent, update: Partial<RequestEvent>): void {
    if (e.done) return;
    Object.assign(e, update);
    e.done = true;
    e.durationMs = update.durationMs ?? Date.now() - e.startedAt;
    this.inFlight.delete(e.id);
    if (this.capacity > 0) {
      this.finished.push(e);
      // Trimmed `capacity` at a time: dropping the oldest one by one moved the whole array on every
      // request (~9 µs each); the snapshot shows the last `capacity`.
      if (this.finished.length >= 2 * this.capacity) this.finished.splice(0, this.finished.length - this.capacity);
    }
    const failed = isFailure(e);
    this.totals.requests++;
    if (failed) this.totals.errors++;
    if (e.divergence) this.totals.divergent++;
    this.stats.add({ operation: operationLabel(e), failed, bytesIn: e.bytesIn, bytesOut: e.bytesOut, durationMs: e.durationMs ?? 0 });
    this.totals.bytesIn += e.bytesIn;
    this.totals.bytesOut += e.bytesOut;
    this.changed(e, "end");
  }

  /**
   * The one place server warnings go: kept here (the last WARNINGS_KEPT, and the count), shown by
   * the viewer, written to requests.log; the server also prints them when there is no viewer.
   */
  warn(message: string): void {
    const warning = { at: Date.now(), message };
    this.warnings.push(warning);
    if (this.warnings.length > WARNINGS_KEPT) this.warnings.shift();
    this.warningCount++;
    this.warningView = { count: this.warningCount, recent: [...this.warnings] };
    this.version++;
    notify(this.warningListeners, warning);
  }

  onWarning(listener: (warning: ServerWarning) => void): () => void {
    this.warningListeners.add(listener);
    return () => this.warningListeners.delete(listener);
  }

  /** Snapshot for UIs (stable identity until something changes). */
  getSnapshot(): RequestSnapshot {
    if (this.snapshot?.version !== this.version) {
      this.snapshot = {
        version: this.version,
        value: { inFlight: [...this.inFlight.values()], finished: this.finished.slice(Math.max(0, this.finished.length - this.capacity)), totals: { ...this.totals }, warnings: this.warningView },
      };
    }
    return this.snapshot.value;
  }

  /** Forget the finished requests and the statistics (the totals count on). */
  clear(): void {
    this.finished.length = 0;
    this.stats.clear();
    this.version++;
  }

  private changed(e: RequestEvent, phase: "start" | "end"): void {
    this.version++;
    notify(this.listeners, e, phase);
  }
}

/** Call every listener; a failing sink must never break a request. */
function notify<A extends unknown[]>(listeners: Set<(...args: A) => void>, ...args: A): void {
  for (const l of listeners) {
    try {
      l(...args);
    } catch {
      // ignored: see above
    }
  }
}

export interface RequestSnapshot {
  inFlight: RequestEvent[];
  finished: RequestEvent[];
  totals: RequestLog["totals"];
  /** Every warning so far (`count`) and the last ones kept, oldest first. */
  warnings: { count: number; recent: ServerWarning[] };
}
