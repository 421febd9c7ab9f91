/**
 * The request list filter: parse the `/` input into tokens and match events against them.
 * Free text matches method/operation/repo/ref/path/error code/source (case-insensitive substring);
 * `status:4xx|404`, `op:`, `repo:`, `ref:`, `method:` match one field exactly. Tokens are ANDed; a
 * malformed `status:` or an empty field is reported (Filter.errors) and matched as text.
 */
import type { RequestEvent } from "../log/events.js";

export type FilterToken =
  | { kind: "text"; value: string }
  | { kind: "status"; min: number; max: number }
  | { kind: "field"; field: "operation" | "repo" | "ref" | "method"; value: string };

export interface Filter {
  tokens: FilterToken[];
  /** What is wrong with the text, one message per bad token (the token still matches as text). */
  errors: string[];
}

/** The filter syntax, for the `?` legend and the input line. */
export const FILTER_HELP: readonly [string, string][] = [
  ["text", "any part of method, operation, repo, ref, path, query, error code or source"],
  ["status:404 status:4xx", "one status, or a class 1xx–5xx"],
  ["op:PutObject", "the operation (also operation:)"],
  ["repo:name ref:main method:GET", "one field, exactly (case-insensitive)"],
  ["a b", "every word must match"],
];

const FIELDS: Record<string, "operation" | "repo" | "ref" | "method"> = {
  op: "operation",
  operation: "operation",
  repo: "repo",
  ref: "ref",
  method: "method",
};

export function parseFilter(text: string): Filter {
  const filter: Filter = { tokens: [], errors: [] };
  for (const word of text.trim().split(/\s+/)) {
    if (word === "") continue;
    const token = parseToken(word);
    filter.tokens.push("error" in token ? { kind: "text", value: word.toLowerCase() } : token);
    if ("error" in token) filter.errors.push(token.error);
  }
  return filter;
}

function parseToken(word: string): FilterToken | { error: string } {
  const colon = word.indexOf(":");
  const key = colon > 0 ? word.slice(0, colon).toLowerCase() : "";
  const value = word.slice(colon + 1).toLowerCase();
  if (key === "status") {
    const klass = /^([1-5])xx$/.exec(value);
    if (klass) return { kind: "status", min: Number(klass[1]) * 100, max: Number(klass[1]) * 100 + 99 };
    if (/^[1-5]\d\d$/.test(value)) return { kind: "status", min: Number(value), max: Number(value) };
    return { error: `${word}: a status is 100–599 or a class such as 4xx` };
  }
  const field = FIELDS[key];
  if (field !== undefined && value === "") return { error: `${word}: give a value, e.g. ${key}:${key === "op" || key === "operation" ? "PutObject" : key === "method" ? "GET" : "name"}` };
  if (field !== undefined) return { kind: "field", field, value };
  // other words with a colon (a key such as a:b.txt) are text
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
export function filterEvents(events: readonly RequestEvent[], filter: Filter): readonly RequestEvent[] {
  return filter.tokens.length === 0 ? events : events.filter((e) => matchesFilter(e, filter));
}
