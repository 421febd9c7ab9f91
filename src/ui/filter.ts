/**
 * The request list filter: parse the `/` input into tokens and match events against them.
 * Free text matches method/operation/repo/ref/path/error code/source (case-insensitive substring);
 * `status:4xx|404`, `op:`, `repo:`, `ref:`, `method:` match one field exactly. Tokens are ANDed.
 */
import type { RequestEvent } from "../log/events.js";

export type FilterToken =
  | { kind: "text"; value: string }
  | { kind: "status"; min: number; max: number }
  | { kind: "field"; field: "operation" | "repo" | "ref" | "method"; value: string };

export interface Filter {
  tokens: FilterToken[];
}

const FIELDS: Record<string, "operation" | "repo" | "ref" | "method"> = {
  op: "operation",
  operation: "operation",
  repo: "repo",
  ref: "ref",
  method: "method",
};

export function parseFilter(text: string): Filter {
  const tokens: FilterToken[] = [];
  for (const word of text.trim().split(/\s+/)) {
    if (word === "") continue;
    tokens.push(parseToken(word));
  }
  return { tokens };
}

function parseToken(word: string): FilterToken {
  const colon = word.indexOf(":");
  const key = colon > 0 ? word.slice(0, colon).toLowerCase() : "";
  const value = word.slice(colon + 1).toLowerCase();
  if (key === "status") {
    const klass = /^([1-5])xx$/.exec(value);
    if (klass) return { kind: "status", min: Number(klass[1]) * 100, max: Number(klass[1]) * 100 + 99 };
    if (/^[1-5]\d\d$/.test(value)) return { kind: "status", min: Number(value), max: Number(value) };
  }
  const field = FIELDS[key];
  if (field !== undefined && value !== "") return { kind: "field", field, value };
  return { kind: "text", value: word.toLowerCase() };
}

export function matchesFilter(event: RequestEvent, filter: Filter): boolean {
  return filter.tokens.every((token) => matchesToken(event, token));
}

function matchesToken(e: RequestEvent, token: FilterToken): boolean {
  switch (token.kind) {
    case "status":
      return e.status !== undefined && e.status >= token.min && e.status <= token.max;
    case "field":
      return (e[token.field] ?? "").toLowerCase() === token.value;
    case "text":
      return [e.method, e.operation, e.repo, e.ref, e.path, e.query, e.errorCode, e.source].some(
        (field) => field !== undefined && field.toLowerCase().includes(token.value),
      );
  }
}

/** The matching events; with no filter, `events` itself (not a copy). */
export function filterEvents(events: readonly RequestEvent[], text: string): readonly RequestEvent[] {
  const filter = parseFilter(text);
  return filter.tokens.length === 0 ? events : events.filter((e) => matchesFilter(e, filter));
}
