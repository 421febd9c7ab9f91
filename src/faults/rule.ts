/**
 * Fault rules: one grammar for `--fault`, `--faults FILE`, `startServer({ faults })` and
 * POST /_lakes3/faults. A rule is comma-separated `key=value` pairs (or an object with the same
 * keys): what it matches (op, repo, ref, key, method, source), exactly one action (error, delay,
 * reset, bandwidth) and when it fires (rate, times, after). Every mistake is one FaultRuleError
 * line naming the rule and the key.
 */
import { isS3ErrorCode, type S3ErrorCode } from "../protocol/errors.js";

export type FaultAction =
  | { kind: "error"; code: S3ErrorCode }
  | { kind: "delay"; minMs: number; maxMs: number }
  | { kind: "reset"; afterBytes: number }
  | { kind: "bandwidth"; bytesPerSecond: number };

export interface FaultRule {
  /** `name=` when given, else the rule's canonical text: what the request log names. */
  name: string;
  /** The rule in the CLI grammar, keys in the order given (without `name`). */
  text: string;
  op?: string[];
  repo?: RegExp;
  ref?: RegExp;
  key?: RegExp;
  method?: string[];
  source?: "s3" | "api";
  action: FaultAction;
  /** The action's text as given, e.g. `delay=50ms..400ms`. */
  actionText: string;
  rate: number;
  times?: number;
  after: number;
}

/** A rule as written: the CLI grammar, or an object of the same keys (numbers allowed). */
export type FaultRuleInput = string | Record<string, unknown>;

/** A bad rule: its message is one line, naming the rule and what is wrong. */
export class FaultRuleError extends Error {}

const MATCH_KEYS = ["op", "repo", "ref", "key", "method", "source"] as const;
const ACTION_KEYS = ["error", "delay", "reset", "bandwidth"] as const;
const WHEN_KEYS = ["rate", "times", "after"] as const;
const KEYS = ["name", ...MATCH_KEYS, ...ACTION_KEYS, ...WHEN_KEYS] as const;
type Key = (typeof KEYS)[number];

export const RULE_GRAMMAR =
  "RULE is comma-separated key=value: match op=ID[|ID…] repo= ref= key= (globs: * any text, ? one character) method=GET[|PUT…] source=s3|api; " +
  "one action error=CODE | delay=200ms | delay=50ms..400ms | reset=after:1MiB | bandwidth=1MiB/s; when rate=0.2 times=3 after=10; name=LABEL";

/**
 * Parse and validate one rule. `operations` are the operation ids a rule may name (S3 ids as in the
 * request log, and REST ones as `api:<operationId>`).
 */
export function parseRule(input: FaultRuleInput, operations: readonly string[]): FaultRule {
  const shown = typeof input === "string" ? input : JSON.stringify(input);
  const fail = (why: string): never => {
    throw new FaultRuleError(`fault rule ${shown}: ${why}`);
  };
  const fields = typeof input === "string" ? splitRule(input, fail) : objectFields(input, fail);

  const text = (k: Key) => fields.get(k);
  const op = text("op")?.split("|").map((s) => s.trim());
  for (const id of op ?? []) {
    if (!operations.includes(id)) fail(`unknown operation ${JSON.stringify(id)}: use an operation id as the request log shows it (e.g. PutObject, UploadPart, GetObject, api:commit)`);
  }
  const method = text("method")?.split("|").map((s) => s.trim().toUpperCase());
  for (const m of method ?? []) if (!/^[A-Z]+$/.test(m)) fail(`method ${JSON.stringify(m)}: expected an HTTP method such as GET or PUT`);
  const source = text("source");
  if (source !== undefined && source !== "s3" && source !== "api") fail(`source ${JSON.stringify(source)}: expected s3 or api`);

  const actions = ACTION_KEYS.filter((k) => fields.has(k));
  if (actions.length === 0) fail("no action: add one of error=CODE, delay=200ms, reset=after:1MiB, bandwidth=1MiB/s");
  if (actions.length > 1) fail(`one action per rule, got ${actions.join(" and ")} (write two rules)`);
  const kind = actions[0]!;
  const value = fields.get(kind)!;
  const action = parseAction(kind, value, fail);

  const rate = text("rate") === undefined ? 1 : Number(text("rate"));
  if (!(rate > 0 && rate <= 1)) fail(`rate ${JSON.stringify(text("rate"))}: expected a probability above 0 and at most 1, e.g. rate=0.2`);
  const count = (k: "times" | "after", min: number): number | undefined => {
    const raw = text(k);
    if (raw === undefined) return undefined;
    if (!/^\d{1,9}$/.test(raw) || Number(raw) < min) fail(`${k} ${JSON.stringify(raw)}: expected an integer ≥ ${min}`);
    return Number(raw);
  };

  const canonical = [...fields].filter(([k]) => k !== "name").map(([k, v]) => `${k}=${v}`).join(",");
  return {
    name: text("name") ?? canonical,
    text: canonical,
    op,
    repo: glob(text("repo")),
    ref: glob(text("ref")),
    key: glob(text("key")),
    method,
    source: source as FaultRule["source"],
    action,
    actionText: `${kind}=${value}`,
    rate,
    times: count("times", 1),
    after: count("after", 0) ?? 0,
  };
}

/** `k=v,k=v` → fields (a value may contain `=`, not `,`). */
function splitRule(input: string, fail: (why: string) => never): Map<Key, string> {
  const fields = new Map<Key, string>();
  for (const part of input.split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) fail(`${JSON.stringify(part.trim())} is not key=value`);
    add(fields, part.slice(0, eq).trim(), part.slice(eq + 1).trim(), fail);
  }
  return fields;
}

function objectFields(input: Record<string, unknown>, fail: (why: string) => never): Map<Key, string> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) fail("expected a rule string or an object of key: value");
  const fields = new Map<Key, string>();
  for (const [k, v] of Object.entries(input)) {
    let value: string;
    if (typeof v === "string") value = v.trim();
    else if (typeof v === "number" && Number.isFinite(v)) value = k === "delay" ? `${v}ms` : String(v);
    else if (Array.isArray(v) && (k === "op" || k === "method") && v.every((x) => typeof x === "string")) value = v.join("|");
    else fail(`${k}: expected a string${k === "op" || k === "method" ? " or a list of strings" : " or a number"}`);
    add(fields, k, value, fail);
  }
  return fields;
}

function add(fields: Map<Key, string>, key: string, value: string, fail: (why: string) => never): void {
  if (!(KEYS as readonly string[]).includes(key)) fail(`unknown key ${JSON.stringify(key)} (known: ${KEYS.join(", ")})`);
  if (fields.has(key as Key)) fail(`${key} given twice`);
  if (value === "") fail(`${key} has no value`);
  fields.set(key as Key, value);
}

/** The longest delay a rule may add (a longer one is a mistake, not a test). */
const MAX_DELAY_MS = 60 * 60 * 1000;

function parseAction(kind: (typeof ACTION_KEYS)[number], value: string, fail: (why: string) => never): FaultAction {
  switch (kind) {
    case "error":
      if (!isS3ErrorCode(value)) fail(`error ${JSON.stringify(value)}: not an S3 error code lakes3 knows (e.g. SlowDown, InternalError, ServiceUnavailable, RequestTimeout)`);
      return { kind, code: value as S3ErrorCode };
    case "delay": {
      const [lo, hi = lo, extra] = value.split("..");
      const minMs = duration(lo!);
      const maxMs = duration(hi);
      if (extra !== undefined || minMs === undefined || maxMs === undefined || maxMs < minMs || maxMs > MAX_DELAY_MS) {
        fail(`delay ${JSON.stringify(value)}: expected a duration such as 200ms or 1.5s, or a range 50ms..400ms (at most 1h)`);
      }
      return { kind, minMs: minMs!, maxMs: maxMs! };
    }
    case "reset": {
      const bytes = /^after:(.+)$/.exec(value) ? size(value.slice(6)) : undefined;
      if (bytes === undefined) fail(`reset ${JSON.stringify(value)}: expected after:SIZE, e.g. reset=after:1MiB (the connection is reset once that much of the body has gone through)`);
      return { kind, afterBytes: bytes! };
    }
    case "bandwidth": {
      const bytes = value.endsWith("/s") ? size(value.slice(0, -2)) : undefined;
      if (!bytes) fail(`bandwidth ${JSON.stringify(value)}: expected SIZE/s above 0, e.g. bandwidth=1MiB/s or 64KiB/s`);
      return { kind, bytesPerSecond: bytes! };
    }
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** `200ms`, `1.5s`, `2m` (a bare number is milliseconds) → ms. */
export function duration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text.trim());
  return m ? Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? "ms"]!) : undefined;
}

/** `1MiB`, `512KB`, `100` (bytes) → bytes. */
export function size(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/i.exec(text.trim());
  const unit = SIZE_UNITS[(m?.[2] ?? "b").toLowerCase()];
  return m && unit ? Math.floor(Number(m[1]) * unit) : undefined;
}

/** A glob (`*` any text, `/` included; `?` one character) as an anchored RegExp. */
function glob(pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined) return undefined;
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}
