/**
 * useRequests: the RequestLog as React state, frame-rate capped. The log may change thousands of
 * times a second; a frame store subscribes once, coalesces changes with a timer and publishes a new
 * snapshot at most every `intervalMs` (5 fps; the caller slows it, e.g. to 1 fps while paused),
 * which useSyncExternalStore then renders. Nothing is published while the log is unchanged. With a
 * FramePacer (the real terminal's), frames are also spaced so that drawing them stays a small share
 * of one core, however big the terminal.
 */
import { useMemo, useSyncExternalStore } from "react";
import type { RequestLog, RequestSnapshot } from "../log/events.js";

export const FRAMES_PER_SECOND = 5;
const FRAME_MS = 1000 / FRAMES_PER_SECOND;
/** The share of one core the viewer's drawing may take while requests stream in. */
const DRAW_SHARE = 0.05;

/** Frames never wait longer than this, however slow drawing gets. */
const MAX_FRAME_MS = 1000;

/** How long the terminal takes to draw a frame (Ink reports each: see render.ts), smoothed. */
export class FramePacer {
  private drawMs = 0;

  drew(ms: number): void {
    // a moving average: one slow frame (the first, a resize) does not stall the next ones
    this.drawMs = this.drawMs === 0 ? ms : 0.8 * this.drawMs + 0.2 * ms;
  }

  /** The interval to wait before the next frame: at least `minimumMs`, at most a second. */
  interval(minimumMs: number): number {
    return Math.max(minimumMs, Math.min(MAX_FRAME_MS, this.drawMs / DRAW_SHARE));
  }
}

interface FrameStore {
  subscribe(onChange: () => void): () => void;
  getSnapshot(): RequestSnapshot;
  /** Publish the log's current state now (e.g. after `log.clear()`, which does not notify). */
  refresh(): void;
}

function createFrameStore(log: RequestLog, intervalMs: number, pacer?: FramePacer): FrameStore {
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
    const interval = pacer ? pacer.interval(intervalMs) : intervalMs;
    timer = setTimeout(flush, Math.max(0, lastFlush + interval - Date.now()));
  };

  return {
    subscribe(onChange) {
      listeners.add(onChange);
      if (unsubscribeLog === undefined) {
        const unsubscribes = [log.subscribe(schedule), log.onWarning(schedule)];
        unsubscribeLog = () => unsubscribes.forEach((u) => u());
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

export function useRequests(log: RequestLog, intervalMs = FRAME_MS, pacer?: FramePacer): { snapshot: RequestSnapshot; refresh: () => void } {
  const store = useMemo(() => createFrameStore(log, intervalMs, pacer), [log, intervalMs, pacer]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return { snapshot, refresh: store.refresh };
}
