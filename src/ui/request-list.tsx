/**
 * The live request list, newest at the bottom, cut to `height` rows. Following (no selection) shows
 * the tail; with a selection the view stays put (the selected row keeps its place on screen).
 */
import { memo, useEffect, useMemo, useRef } from "react";
import { Box, Text } from "ink";
import type { RequestEvent } from "../log/events.js";
import { ColumnHeader, RequestRow, rowLayout } from "./request-row.js";

/** First visible index: the tail when following, else keep the selection where it was on screen. */
function windowStart(count: number, height: number, selectedIndex: number, previousOffset: number): number {
  if (count <= height) return 0;
  if (selectedIndex < 0) return count - height;
  let start = Math.min(Math.max(selectedIndex - previousOffset, 0), count - height);
  if (selectedIndex < start) start = selectedIndex;
  if (selectedIndex >= start + height) start = selectedIndex - height + 1;
  return start;
}

export interface RequestListProps {
  rows: readonly RequestEvent[];
  /** Index of the selected row in `rows`, -1 when following. */
  selectedIndex: number;
  height: number;
  columns: number;
  /** Clock for in-flight durations (the pause time while paused). */
  now: number;
  filtered: boolean;
}

/** Memoized: while paused (same rows, same clock) a frame redraws only the header. */
export const RequestList = memo(RequestListView);

function RequestListView({ rows, selectedIndex, height, columns, now, filtered }: RequestListProps) {
  const bodyHeight = Math.max(1, height - 1);
  const offset = useRef(bodyHeight - 1);
  const start = windowStart(rows.length, bodyHeight, selectedIndex, offset.current);
  useEffect(() => {
    offset.current = selectedIndex < 0 ? bodyHeight - 1 : selectedIndex - start;
  });
  const layout = useMemo(() => rowLayout(columns), [columns]);
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <ColumnHeader layout={layout} />
      {rows.length === 0 ? (
        <Text dimColor>{filtered ? "  no requests match the filter" : "  waiting for requests…"}</Text>
      ) : (
        rows
          .slice(start, start + bodyHeight)
          .map((e, i) => <RequestRow key={e.done ? e.id : `${e.id}…`} event={e} selected={start + i === selectedIndex} layout={layout} now={now} />)
      )}
    </Box>
  );
}
