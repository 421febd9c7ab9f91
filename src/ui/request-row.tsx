/**
 * One request line: time, source marker, method, operation, status (coloured; "…" while in flight),
 * bytes, duration, repo/ref/path and the telling part of the query (cut to fit, the ref kept: see
 * fitTarget) and the error code (cut, or left out on narrow terminals, before the target is).
 */
import { memo } from "react";
import { Text } from "ink";
import { operationLabel, type RequestEvent } from "../log/events.js";
import { formatBytes, queryLabel, targetLabel, transferBytes } from "../log/sinks.js";
import { fitTarget, formatDuration, formatTime, statusColor, truncateEnd } from "./format.js";

export interface RowLayout {
  columns: number;
  millis: boolean;
  opWidth: number;
}

export function rowLayout(columns: number): RowLayout {
  return { columns, millis: columns >= 120, opWidth: columns >= 120 ? 23 : columns >= 100 ? 20 : 14 };
}

/** The target keeps at least this many columns (the ref and the end of the key stay readable). */
const MIN_TARGET = 24;
/** An error code cut shorter than this tells nothing: it is left to the detail pane. */
const MIN_ERROR = 8;

/** Width of everything but the target and the error code. */
function fixedWidth(layout: RowLayout): number {
  return 2 + 1 + (layout.millis ? 12 : 8) + 1 + 7 + 1 + layout.opWidth + 1 + 3 + 1 + 8 + 1 + 6 + 2;
}

export interface RowMarker {
  char: string;
  color: string;
  /** What it means, for the `?` legend. */
  meaning: string;
  applies: (e: RequestEvent) => boolean;
}

/** The marker column: a row shows the first marker that applies (a plain S3 request, none). */
export const ROW_MARKERS: readonly RowMarker[] = [
  { char: "↯", color: "yellow", meaning: "a fault a --fault rule injected (the detail pane names the rule)", applies: (e) => e.fault !== undefined },
  { char: "≠", color: "yellow", meaning: "an answer lakeFS would not give: a portability warning (--strict answers as lakeFS)", applies: (e) => e.divergence !== undefined },
  { char: "◆", color: "magenta", meaning: "a fixture load: a file under --fixtures loaded, removed or committed", applies: (e) => e.source === "fixture" },
  { char: "▪", color: "blue", meaning: "a lakeFS REST API call (/api/v1), not S3", applies: (e) => e.source === "admin" },
];

const NO_MARKER = { char: " ", color: undefined };

export interface RequestRowProps {
  event: RequestEvent;
  selected: boolean;
  layout: RowLayout;
  now: number;
}

/**
 * A finished row renders once: the same event, selection and layout give the same line (the list
 * keys rows by id and done, so a request that ends is drawn anew); only in-flight rows follow `now`.
 */
export const RequestRow = memo(
  RequestRowLine,
  (a, b) => a.event === b.event && a.selected === b.selected && a.layout === b.layout && (b.event.done || a.now === b.now),
);

function RequestRowLine({ event: e, selected, layout, now }: RequestRowProps) {
  const marker = ROW_MARKERS.find((m) => m.applies(e)) ?? NO_MARKER;
  const color = statusColor(e.status);
  const transferred = transferBytes(e);
  const bytes = transferred ? formatBytes(transferred) : "";
  const duration = formatDuration(e.done ? (e.durationMs ?? 0) : Math.max(0, now - e.startedAt));
  // the error code gives way to the target on narrow terminals (the detail pane has it whole)
  const query = queryLabel(e);
  const targetNeeds = Math.min(MIN_TARGET, targetLabel(e, query).length);
  const errorRoom = layout.columns - fixedWidth(layout) - targetNeeds - 1;
  const error = e.errorCode && errorRoom >= MIN_ERROR ? truncateEnd(e.errorCode, errorRoom) : "";
  const targetWidth = Math.max(8, layout.columns - fixedWidth(layout) - (error ? error.length + 1 : 0));
  const operation = operationLabel(e);
  return (
    <Text wrap="truncate-end" inverse={selected}>
      {selected ? "›" : " "}
      <Text color={marker.color}>{marker.char}</Text> <Text dimColor>{formatTime(e.startedAt, layout.millis)}</Text>{" "}
      {truncateEnd(e.method, 7).padEnd(7)} {truncateEnd(operation, layout.opWidth).padEnd(layout.opWidth)}{" "}
      {e.done ? <Text color={color}>{String(e.status ?? "---").padEnd(3)}</Text> : <Text dimColor>{"…".padEnd(3)}</Text>}{" "}
      {bytes.padStart(8)} <Text dimColor={!e.done}>{duration.padStart(6)}</Text>
      {"  "}
      {fitTarget(e, query, targetWidth).padEnd(error ? targetWidth : 0)}
      {error ? <Text color={color}> {error}</Text> : null}
    </Text>
  );
}

export function ColumnHeader({ layout }: { layout: RowLayout }) {
  const time = "TIME".padEnd(layout.millis ? 12 : 8);
  return (
    <Text dimColor wrap="truncate-end">
      {"  "} {time} {"METHOD".padEnd(7)} {"OPERATION".padEnd(layout.opWidth)} {"ST "} {"BYTES".padStart(8)} {"DUR".padStart(6)}
      {"  "}REPO/REF/PATH
    </Text>
  );
}
