/**
 * <App>: the terminal request viewer. Header, live request list, one optional pane (a request's
 * details, the warnings, the statistics or the help; each scrolls) and a bottom filter/help line;
 * keyboard for selection, panes, filter, pause, clear and quit. Knows only the RequestLog (through
 * useRequests) and never exits the process itself: `q`/Ctrl-C call onQuit.
 */
import { useCallback, useLayoutEffect, useMemo, useRef, useState } from "react";
import { Box, useInput, useStdin, type Key } from "ink";
import type { RequestEvent, RequestLog } from "../log/events.js";
import { DetailPane, detailLines, maxDetailOffset, warningLines, type DetailLine } from "./detail-pane.js";
import { filterEvents, parseFilter } from "./filter.js";
import { FilterBar } from "./filter-bar.js";
import { Header, headerRows, type ServerInfo } from "./header.js";
import { helpLines } from "./help.js";
import { RequestList } from "./request-list.js";
import { splitKeys } from "./split-keys.js";
import { statsLines } from "./stats-lines.js";
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

type Pane = "details" | "warnings" | "stats" | "help";

/** The key that toggles each pane other than the details (Enter). */
const PANE_KEYS: Record<string, Pane> = { w: "warnings", s: "stats", "?": "help" };

const MIN_LIST = 5; // column header + 4 rows
const PAUSED_FRAME_MS = 1000;

export function App({ log, info, onQuit, pacer }: AppProps) {
  const [frozen, setFrozen] = useState<{ rows: RequestEvent[]; at: number }>(); // set while paused
  // paused, only the header's totals change: one frame a second is enough
  const { snapshot, refresh } = useRequests(log, frozen ? PAUSED_FRAME_MS : undefined, pacer);
  const { rows: termRows, columns } = useTerminalSize();
  const { isRawModeSupported } = useStdin();
  const [selectedId, setSelectedState] = useState<string | undefined>();
  // like the input mode, the selection must be current at once for keys that arrive before a render ("kk⏎")
  const selectedNow = useRef<string | undefined>(undefined);
  const setSelectedId = (next: string | undefined | ((prev: string | undefined) => string | undefined)): void => {
    selectedNow.current = typeof next === "function" ? next(selectedNow.current) : next;
    setSelectedState(selectedNow.current);
  };
  const [pane, setPane] = useState<Pane | undefined>();
  const [filter, setFilter] = useState("");
  const [editing, setEditingState] = useState(false);
  // keys can arrive faster than renders (fast typing, paste): the input mode must be current at once
  const editingNow = useRef(false);
  const setEditing = (value: boolean): void => {
    editingNow.current = value;
    setEditingState(value);
  };
  const [showSecret, setShowSecret] = useState(false);
  // the pane's scroll position, for what it was scrolled on (a new request's details start at the top)
  const [scroll, setScroll] = useState<{ id?: string; offset: number }>({ offset: 0 });

  const live = useMemo(() => [...snapshot.finished, ...snapshot.inFlight], [snapshot]);
  const all = frozen?.rows ?? live;
  const parsedFilter = useMemo(() => parseFilter(filter), [filter]);
  const rows = useMemo(() => filterEvents(all, parsedFilter), [all, parsedFilter]);
  const selectedIndex = selectedId === undefined ? -1 : rows.findIndex((e) => e.id === selectedId);
  const selected = selectedIndex >= 0 ? rows[selectedIndex] : undefined;

  // built afresh every render (events are mutated in place while in flight), but only once per render
  const lines = paneLines();
  function paneLines(): DetailLine[] | undefined {
    switch (pane) {
      case "details":
        return selected && detailLines(selected, columns);
      case "warnings":
        return warningLines(snapshot.warnings.recent, columns);
      case "stats":
        return statsLines(log.stats.summary(), log.stats.since, columns);
      case "help":
        return helpLines(info, showSecret, columns);
      case undefined:
        return undefined;
    }
  }
  const paneId = pane === "details" ? selectedId : pane;
  const available = Math.max(MIN_LIST, termRows - headerRows(snapshot.warnings) - 2); // header + bottom line + one spare row
  const paneRows = lines ? Math.max(3, Math.min(lines.length + 1, available - MIN_LIST)) : 0;
  const listRows = Math.max(2, available - paneRows);
  const maxOffset = lines ? maxDetailOffset(lines.length, paneRows) : 0;
  // warnings open at their newest, everything else at its top
  const paneOffset = scroll.id === paneId ? Math.min(scroll.offset, maxOffset) : pane === "warnings" ? maxOffset : 0;
  const scrollPane = (to: number): void => setScroll({ id: paneId, offset: Math.min(Math.max(to, 0), maxOffset) });
  const page = Math.max(1, paneRows - 2);

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
    setPane((p) => (p === "details" ? undefined : p));
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
    const paneKey = PANE_KEYS[input];
    if (input === "q") onQuit();
    else if (lines && (key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.home || key.end)) {
      // an open pane takes the arrows and paging keys; j/k still change the request
      if (key.upArrow || key.downArrow) scrollPane(paneOffset + (key.upArrow ? -1 : 1));
      else if (key.pageUp || key.pageDown) scrollPane(paneOffset + (key.pageUp ? -page : page));
      else scrollPane(key.home ? 0 : maxOffset);
    } else if (key.upArrow || input === "k") move(-1);
    else if (key.downArrow || input === "j") move(1);
    else if (key.pageUp) move(-(listRows - 1));
    else if (key.pageDown) move(listRows - 1);
    else if (key.home || input === "g") select(0);
    else if (key.end || input === "G") follow();
    else if (key.return) {
      if (pane === "details") setPane(undefined);
      else if (rows.some((e) => e.id === selectedNow.current)) setPane("details");
      else if (rows.length > 0) {
        select(rows.length - 1);
        setPane("details");
      }
    } else if (key.escape) {
      if (pane) setPane(undefined);
      else if (filter) setFilter("");
      else follow();
    } else if (input === "/") {
      setEditing(true);
      setPane((p) => (p === "help" ? undefined : p));
    } else if (paneKey) setPane((p) => (p === paneKey ? undefined : paneKey));
    else if (input === "x") setShowSecret((shown) => !shown);
    else if (input === "p") setFrozen((f) => (f ? undefined : { rows: live.map((e) => ({ ...e })), at: Date.now() }));
    else if (input === "c") clear();
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
      {lines && pane ? <DetailPane lines={lines} height={paneRows} columns={columns} offset={paneOffset} title={pane} /> : null}
      <FilterBar editing={editing} filter={filter} errors={parsedFilter.errors} shown={rows.length} total={all.length} help={pane === "help"} following={selectedIndex < 0} />
    </Box>
  );
}
