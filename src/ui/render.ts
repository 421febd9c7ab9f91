/**
 * renderApp: mount <App> on the real terminal, in the alternate screen buffer (the user's screen
 * and scrollback come back untouched), which is left on every way out: unmount (q, Ctrl-C,
 * SIGINT/SIGTERM through the CLI), an uncaught error (before Node prints it), and process exit.
 * Ctrl-C is handled by the app (it calls onQuit, and the CLI closes the server); console output
 * is not patched.
 */
import { createElement } from "react";
import { render } from "ink";
import type { RequestLog } from "../log/events.js";
import { App, type ServerInfo } from "./app.js";
import { FramePacer, FRAMES_PER_SECOND } from "./use-requests.js";

export interface RenderedApp {
  unmount(): void;
}

const ENTER_ALTERNATE_SCREEN = "\u001B[?1049h";
const LEAVE_ALTERNATE_SCREEN = "\u001B[?1049l";

export function renderApp(log: RequestLog, info: ServerInfo, onQuit: () => void): RenderedApp {
  const out = process.stdout;
  out.write(ENTER_ALTERNATE_SCREEN);
  let left = false;
  const leave = (): void => {
    if (left) return;
    left = true;
    process.off("exit", leave);
    process.off("uncaughtExceptionMonitor", leave);
    instance.unmount();
    out.write(LEAVE_ALTERNATE_SCREEN);
  };
  // Ink draws at most as often as the app publishes frames, and tells the pacer how long a frame took.
  const pacer = new FramePacer();
  const instance = render(createElement(App, { log, info, onQuit, pacer }), {
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: FRAMES_PER_SECOND,
    onRender: ({ renderTime }) => pacer.drew(renderTime),
  });
  process.once("exit", leave);
  process.once("uncaughtExceptionMonitor", leave);
  return { unmount: leave };
}
