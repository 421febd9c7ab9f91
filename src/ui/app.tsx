/**
 * <App>: the terminal request viewer. Header, live request list, optional detail pane and a bottom
 * filter/help line; keyboard for selection, details, filter, pause, clear and quit. Knows only the
 * RequestLog (through useRequests) and never exits the process itself: `q`/Ctrl-C call onQuit.
 */
import { useCallback, useLayoutEffect, useMemo, useRef, useState } from "react";
import { Box, useInput, useStdin, type Key } from "ink";
import type { RequestEvent, RequestLog } from "../log/events.js";
import { DetailPane, detailLines, maxDetailOffset, warningLines } from "./detail-pane.js";
import { filterEvents } from "./filter.js";
import { FilterBar } from "./filter-bar.js";
import { Header, headerRows, type ServerInfo } from "./header.js";
import { RequestList } from "./request-list.js";
import { splitKeys } from "./split-keys.js";
import { useRequests, type FramePacer } from "./use-requests.js";
import { useTerminalSize } from "./use-terminal-size.js";

export type { ServerInfo } from "./header.js";

export interface AppProps {
  log: RequestLog;
  info: ServerInfo;
  onQuit: () => void;
  /** Spaces frames by how long the terminal takes to draw one (the real terminal's; tests go without). */
  pacer?: FramePacer;
}

const MIN_LIST = 5; // column header + 4 rows
const PAUSED_FRAME_MS = 1000;

export function App({ log, info, onQuit, pacer }: AppProps) {
  const [frozen, setFrozen] = useState<{ rows: RequestEvent[]; at: number }>(); // set while paused
  // paused, only the header's totals change: one frame a second is enough
  const { snapshot, refresh } = useRequests(log, frozen ? PAUSED_FRAME_MS : undefined, pacer);
  const { rows: termRows, columns } = useTerminalSize();
  const { isRawModeSupported } = useStdin();
  const [selectedId, setSelectedId] = useState<string | undefined>();
  const [detail, setDetail] = useState(false);
  const [filter, setFilter] = useState("");
  const [editing, setEditingState] = useState(false);
  // keys can arrive faster than renders (fast typing, paste): the input mode must be current at once
  const editingNow = useRef(false);
  const setEditing = (value: boolean): void => {
    editingNow.current = value;
    setEditingState(value);
  };
  const [help, setHelp] = useState(false);
  const [showWarnings, setShowWarnings] = useState(false);
  // the detail pane's scroll position, for the request it was scrolled on (a new selection starts at the top)
  const [scroll, setScroll] = useState<{ id?: string; offset: number }>({ offset: 0 });

  const live = useMemo(() => [...snapshot.finished, ...snapshot.inFlight], [snapshot]);
  const all = frozen?.rows ?? live;
  const rows = useMemo(() => filterEvents(all, filter), [all, filter]);
  const selectedIndex = selectedId === undefined ? -1 : rows.findIndex((e) => e.id === selectedId);
  const selected = selectedIndex >= 0 ? rows[selectedIndex] : undefined;

  // built afresh every render (events are mutated in place while in flight), but only once per render
  const lines = showWarnings ? warningLines(snapshot.warnings.recent, columns) : detail && selected ? detailLines(selected, columns) : undefined;
  const paneId = showWarnings ? "warnings" : selectedId;
  const available = Math.max(MIN_LIST, termRows - headerRows(snapshot.warnings) - 2); // header + bottom line + one spare row
  const detailRows = lines ? Math.max(3, Math.min(lines.length + 1, available - MIN_LIST)) : 0;
  const listRows = Math.max(2, available - detailRows);
  const maxOffset = lines ? maxDetailOffset(lines.length, detailRows) : 0;
  // warnings open at their newest; a request's details at their top
  const detailOffset = scroll.id === paneId ? Math.min(scroll.offset, maxOffset) : showWarnings ? maxOffset : 0;
  const scrollDetail = (to: number): void => setScroll({ id: paneId, offset: Math.min(Math.max(to, 0), maxOffset) });
  const page = Math.max(1, detailRows - 2);

  const idAt = (index: number): string | undefined => rows[Math.min(Math.max(index, 0), rows.length - 1)]?.id;
  const select = (index: number): void => setSelectedId((prev) => idAt(index) ?? prev);
  const move = (delta: number): void =>
    setSelectedId((prev) => {
      const index = prev === undefined ? -1 : rows.findIndex((e) => e.id === prev);
      if (index >= 0) return idAt(index + delta);
      return delta < 0 ? idAt(rows.length - 1) : prev;
    });
  const follow = (): void => {
    setSelectedId(undefined);
    setDetail(false);
  };
  const clear = (): void => {
    log.clear();
    refresh();
    setFrozen((f) => f && { rows: f.rows.filter((e) => !e.done), at: f.at });
    follow();
  };

  const onKey = (input: string, key: Key): void => {
    if (key.ctrl && input === "c") return onQuit();
    if (editingNow.current) {
      if (key.escape) {
        setFilter("");
        setEditing(false);
      } else if (key.return) setEditing(false);
      else if (key.backspace || key.delete) setFilter((f) => f.slice(0, -1));
      else if (key.ctrl && input === "u") setFilter("");
      else if (key.upArrow || key.downArrow) move(key.upArrow ? -1 : 1);
      else if (!key.ctrl && !key.meta && input !== "" && !/[\u0000-\u001f]/.test(input)) setFilter((f) => f + input);
      return;
    }
    if (input === "q") onQuit();
    else if (lines && (key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.home || key.end)) {
      // the open detail pane takes the arrows and paging keys; j/k still change the request
      if (key.upArrow || key.downArrow) scrollDetail(detailOffset + (key.upArrow ? -1 : 1));
      else if (key.pageUp || key.pageDown) scrollDetail(detailOffset + (key.pageUp ? -page : page));
      else scrollDetail(key.home ? 0 : maxOffset);
    } else if (key.upArrow || input === "k") move(-1);
    else if (key.downArrow || input === "j") move(1);
    else if (key.pageUp) move(-(listRows - 1));
    else if (key.pageDown) move(listRows - 1);
    else if (key.home || input === "g") select(0);
    else if (key.end || input === "G") follow();
    else if (key.return) {
      if (showWarnings) setShowWarnings(false);
      else if (selected) setDetail((d) => !d);
      else if (rows.length > 0) {
        select(rows.length - 1);
        setDetail(true);
      }
    } else if (key.escape) {
      if (showWarnings) setShowWarnings(false);
      else if (detail) setDetail(false);
      else if (help) setHelp(false);
      else if (filter) setFilter("");
      else follow();
    } else if (input === "/") {
      setEditing(true);
      setHelp(false);
    } else if (input === "p") setFrozen((f) => (f ? undefined : { rows: live.map((e) => ({ ...e })), at: Date.now() }));
    else if (input === "c") clear();
    else if (input === "?") setHelp((h) => !h);
    else if (input === "w") setShowWarnings((w) => !w);
  };
  // Ink re-subscribes to stdin whenever the handler changes: give it one stable handler that calls
  // the current onKey (updated as each render commits).
  const onKeyRef = useRef(onKey);
  useLayoutEffect(() => {
    onKeyRef.current = onKey;
  });
  const onInput = useCallback((input: string, key: Key): void => {
    for (const [one, oneKey] of splitKeys(input, key)) onKeyRef.current(one, oneKey);
  }, []);
  useInput(onInput, { isActive: isRawModeSupported });

  return (
    <Box flexDirection="column" width={columns}>
      <Header info={info} totals={snapshot.totals} warnings={snapshot.warnings} inFlight={snapshot.inFlight.length} paused={frozen !== undefined} />
      <RequestList rows={rows} selectedIndex={selectedIndex} height={listRows} columns={columns} now={frozen?.at ?? Date.now()} filtered={filter !== ""} />
      {lines ? <DetailPane lines={lines} height={detailRows} columns={columns} offset={detailOffset} title={showWarnings ? "warnings" : "details"} /> : null}
      <FilterBar editing={editing} filter={filter} shown={rows.length} total={all.length} help={help} following={selectedIndex < 0} />
    </Box>
  );
}
