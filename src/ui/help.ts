/**
 * The `?` pane: every key, every row marker, the filter syntax, and how to reach the server (the
 * secret masked until `x`, and a copy-paste `try` command).
 */
import { fieldLines, type DetailLine } from "./detail-pane.js";
import { FILTER_HELP } from "./filter.js";
import type { ServerInfo } from "./header.js";
import { ROW_MARKERS } from "./request-row.js";

const KEYS: readonly [string, string][] = [
  ["↑/↓ k/j", "select a request; PgUp/PgDn a page, Home/g the oldest, End/G follow the newest"],
  ["Enter", "details of the selected request (↑/↓ PgUp/PgDn Home/End scroll them, j/k change the request)"],
  ["/", "filter the list (Enter apply, Esc clear); see filters below"],
  ["s", "statistics per operation: count, errors, p50/p99 latency, bytes (since start or c)"],
  ["w", "the server's warnings (skipped fixtures, start-up findings)"],
  ["p", "pause the list (the header keeps counting)"],
  ["c", "clear the list and the statistics"],
  ["x", "show or hide the secret key below"],
  ["Esc", "close a pane, then clear the filter, then follow"],
  ["? / q", "this help / quit (also Ctrl-C)"],
];

const OTHER_MARKS: readonly [string, string][] = [
  ["›", "the selected request"],
  ["…", "in flight (status column; its duration counts up)"],
  ["ST colour", "green 2xx, cyan 3xx, yellow 4xx, red 5xx"],
];

const MASKED_SECRET = "****";

export function helpLines(info: ServerInfo, showSecret: boolean, width: number): DetailLine[] {
  const secret = showSecret ? info.secretAccessKey : MASKED_SECRET;
  const section = (title: string, rows: readonly [string, string][]): DetailLine[] => [
    { value: title, bold: true },
    ...rows.flatMap(([label, text]) => fieldLines(label, text, width)),
  ];
  return [
    ...section("keys", KEYS),
    { value: "row markers", bold: true },
    ...ROW_MARKERS.flatMap((m) => fieldLines(`  ${m.char}`, m.meaning, width, m.color)),
    ...OTHER_MARKS.flatMap(([label, text]) => fieldLines(label, text, width)),
    { value: "filters (/)", bold: true },
    ...FILTER_HELP.flatMap(([syntax, text]) => fieldLines("", `${syntax} — ${text}`, width)),
    ...section("server", [
      ["endpoint", info.endpoint],
      ["access key", info.accessKeyId],
      ["secret key", showSecret ? secret : `${secret} (x shows it)`],
      ["try", info.tryCommand(secret)],
    ]),
  ];
}
