/**
 * useRequests: the RequestLog as React state, frame-rate capped. The log may change thousands of
 * times a second; a frame store subscribes once, coalesces changes with a timer and publishes a new
 * snapshot at most every `intervalMs` (~15 fps), which useSyncExternalStore then renders.
 */
import { useMemo, useSyncExternalStore } from "react";
import type { RequestLog, RequestSnapshot } from "../log/events.js";

const FRAME_MS = 67;

interface FrameStore {
  subscribe(onChange: () => void): () => void;
  getSnapshot(): RequestSnapshot;
  /** Publish the log's current state now (e.g. after `log.clear()`, which does not notify). */
  refresh(): void;
}

function createFrameStore(log: RequestLog, intervalMs = FRAME_MS): FrameStore {
  const listeners = new Set<() => void>();
  let current = log.getSnapshot();
  let lastFlush = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let unsubscribeLog: (() => void) | undefined;

  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    lastFlush = Date.now();
    current = log.getSnapshot();
    for (const listener of listeners) listener();
  };
  const schedule = (): void => {
    if (timer !== undefined) return;
    timer = setTimeout(flush, Math.max(0, lastFlush + intervalMs - Date.now()));
  };

  return {
    subscribe(onChange) {
      listeners.add(onChange);
      if (unsubscribeLog === undefined) {
        unsubscribeLog = log.subscribe(schedule);
        if (log.getSnapshot() !== current) schedule(); // changed between first render and subscribe
      }
      return () => {
        listeners.delete(onChange);
        if (listeners.size > 0) return;
        unsubscribeLog?.();
        unsubscribeLog = undefined;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      };
    },
    getSnapshot: () => current,
    refresh: flush,
  };
}

export function useRequests(log: RequestLog, intervalMs = FRAME_MS): { snapshot: RequestSnapshot; refresh: () => void } {
  const store = useMemo(() => createFrameStore(log, intervalMs), [log, intervalMs]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return { snapshot, refresh: store.refresh };
}
