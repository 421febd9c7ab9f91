/**
 * `--faults FILE`: a list of rules. `.json`: a JSON array of rule objects or rule strings.
 * `.yaml` / `.yml`: the simple YAML subset such a list needs (no YAML library): items `- key: value`
 * with further `key: value` lines indented under them, or `- "op=GetObject,delay=1s"`; scalars
 * plain or quoted; `#` comments. Anything else in YAML is refused with its line number (use JSON).
 * Any other file: one rule per line in the `--fault` grammar (`#` comments, blank lines skipped).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { FaultRuleError, type FaultRuleInput } from "./rule.js";

export async function readFaultFile(file: string): Promise<FaultRuleInput[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new FaultRuleError(`cannot read fault file ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === ".json") return parseJsonRules(text, file);
  if (ext === ".yaml" || ext === ".yml") return parseYamlRules(text, file);
  return parseRuleLines(text);
}

/** One rule per line; blank lines and `#` comments skipped (rule files, POST /_lakes3/faults). */
export function parseRuleLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

function parseJsonRules(text: string, file: string): FaultRuleInput[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FaultRuleError(`fault file ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(value)) throw new FaultRuleError(`fault file ${file}: expected a JSON array of rules`);
  return value as FaultRuleInput[];
}

/** The YAML subset: a top-level list of flat maps or strings. */
function parseYamlRules(text: string, file: string): FaultRuleInput[] {
  const rules: FaultRuleInput[] = [];
  let current: Record<string, string> | undefined;
  let indent = -1;
  text.split(/\r?\n/).forEach((raw, i) => {
    const fail = (why: string): never => {
      throw new FaultRuleError(`fault file ${file}:${i + 1}: ${why} (lakes3 reads a YAML list of flat maps, \`- op: PutObject\`; use JSON for anything more)`);
    };
    const line = stripComment(raw);
    if (line.trim() === "") return;
    const item = /^\s*-(?:\s+(.*))?$/.exec(line);
    if (item) {
      current = undefined;
      const rest = (item[1] ?? "").trim();
      if (rest === "") fail("an empty list item");
      const pair = keyValue(rest);
      if (!pair) {
        rules.push(scalar(rest, fail));
        return;
      }
      current = { [pair[0]]: scalar(pair[1], fail) };
      rules.push(current);
      indent = line.length - item[1]!.length; // the column of the item's first key
      return;
    }
    const lead = line.length - line.trimStart().length;
    const pair = keyValue(line.trim());
    if (!current || lead !== indent || !pair) fail(current ? "expected `key: value` aligned with the item's first key" : "expected a list item `- …`");
    if (Object.hasOwn(current!, pair![0])) fail(`${pair![0]} given twice`);
    current![pair![0]] = scalar(pair![1], fail);
  });
  return rules;
}

/** `key: value` (the key a plain word). */
function keyValue(text: string): [string, string] | undefined {
  const m = /^([A-Za-z_][\w-]*):(?:\s+(.*))?$/.exec(text);
  return m ? [m[1]!, (m[2] ?? "").trim()] : undefined;
}

/** A plain or quoted scalar; flow collections, anchors, tags and block scalars are refused. */
function scalar(text: string, fail: (why: string) => never): string {
  if (text === "") fail("a key without a value");
  const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(text) ?? /^'((?:[^']|'')*)'$/.exec(text);
  if (quoted) return text.startsWith('"') ? (JSON.parse(`"${quoted[1]}"`) as string) : quoted[1]!.replace(/''/g, "'");
  if (/^[[{&*!|>"'%@`]/.test(text)) fail(`unsupported YAML value ${text}`);
  return text;
}

/** A line without its `#` comment (one starting the line or after a space, outside quotes). */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}
