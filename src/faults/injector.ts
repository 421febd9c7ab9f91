/**
 * The fault injector a server consults once per request, when its operation and address are
 * known. Rules are checked in order; each matching rule counts the request, and the first one that
 * fires (past `after`, within `times`, and drawn under `rate`) is the request's fault: at most one
 * fault per request, and later rules do not see it. Each rule draws from its own PRNG seeded from
 * the server's seed and the rule's position, so with a fixed seed the same requests in the same
 * order get the same faults.
 */
import { randomInt } from "node:crypto";
import { parseRule, type FaultAction, type FaultRule, type FaultRuleInput } from "./rule.js";

/** What a rule can match a request on. */
export interface FaultRequest {
  source: "s3" | "api";
  /** As in the request log: `PutObject`, `api:commit`. */
  operation: string;
  method: string;
  repo?: string;
  ref?: string;
  key?: string;
}

/** The fault decided for one request. */
export interface Fault {
  /** The rule's name (its text unless it has `name=`). */
  rule: string;
  action: FaultAction;
  /** What happened, for the log: `error=SlowDown`, `delay=237ms` (the drawn delay), `reset=after:1MiB`. */
  label: string;
  /** The delay drawn for this request (delay rules). */
  delayMs?: number;
}

/** A rule as listed (`server.faults.list()`, GET /_lakes3/faults). */
export interface FaultRuleInfo {
  name: string;
  rule: string;
  /** Matching requests so far. */
  seen: number;
  /** Requests it injected its fault into. */
  fired: number;
}

/** Run-time control of a server's rules (`server.faults`). */
export interface FaultControl {
  /** Add a rule (the CLI grammar, or an object of the same keys); throws FaultRuleError. */
  add(rule: FaultRuleInput): FaultRuleInfo;
  /** Remove every rule. */
  clear(): void;
  list(): FaultRuleInfo[];
}

interface Entry {
  rule: FaultRule;
  seen: number;
  fired: number;
  random: () => number;
}

/** Seeds are 32-bit: 0 to 2^32 - 1. */
export const MAX_FAULT_SEED = 2 ** 32 - 1;

export class FaultInjector implements FaultControl {
  private entries: Entry[] = [];

  constructor(
    private readonly operations: readonly string[],
    readonly seed: number = randomInt(MAX_FAULT_SEED + 1),
  ) {}

  add(input: FaultRuleInput): FaultRuleInfo {
    return this.addAll([input])[0]!;
  }

  /** Add rules in order, all or none (a bad one throws FaultRuleError and adds nothing). */
  addAll(inputs: readonly FaultRuleInput[]): FaultRuleInfo[] {
    const rules = inputs.map((input) => parseRule(input, this.operations));
    return rules.map((rule) => {
      const entry: Entry = { rule, seen: 0, fired: 0, random: prng(this.seed ^ Math.imul(this.entries.length + 1, 0x9e3779b1)) };
      this.entries.push(entry);
      return info(entry);
    });
  }

  clear(): void {
    this.entries = [];
  }

  list(): FaultRuleInfo[] {
    return this.entries.map(info);
  }

  decide(req: FaultRequest): Fault | undefined {
    for (const e of this.entries) {
      if (!matches(e.rule, req)) continue;
      e.seen++;
      if (e.seen <= e.rule.after) continue;
      if (e.rule.times !== undefined && e.fired >= e.rule.times) continue;
      if (e.rule.rate < 1 && e.random() >= e.rule.rate) continue;
      e.fired++;
      const { action } = e.rule;
      if (action.kind !== "delay") return { rule: e.rule.name, action, label: e.rule.actionText };
      const delayMs = action.minMs + Math.round(e.random() * (action.maxMs - action.minMs));
      return { rule: e.rule.name, action, label: `delay=${delayMs}ms`, delayMs };
    }
    return undefined;
  }
}

function matches(r: FaultRule, q: FaultRequest): boolean {
  return (
    (r.op === undefined || r.op.includes(q.operation)) &&
    (r.method === undefined || r.method.includes(q.method)) &&
    (r.source === undefined || r.source === q.source) &&
    globMatches(r.repo, q.repo) &&
    globMatches(r.ref, q.ref) &&
    globMatches(r.key, q.key)
  );
}

/** No pattern matches anything; a pattern never matches a request without that part. */
const globMatches = (pattern: RegExp | undefined, value: string | undefined) => pattern === undefined || (value !== undefined && pattern.test(value));

const info = (e: Entry): FaultRuleInfo => ({ name: e.rule.name, rule: e.rule.text, seen: e.seen, fired: e.fired });

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
