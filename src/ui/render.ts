/**
 * renderApp: mount <App> on the real terminal. Ctrl-C is handled by the app (it calls onQuit, and
 * the CLI closes the server); console output is not patched.
 */
import { createElement } from "react";
import { render } from "ink";
import type { RequestLog } from "../log/events.js";
import { App, type ServerInfo } from "./app.js";
import { FramePacer, FRAMES_PER_SECOND } from "./use-requests.js";

export interface RenderedApp {
  unmount(): void;
}

export function renderApp(log: RequestLog, info: ServerInfo, onQuit: () => void): RenderedApp {
  // Ink draws at most as often as the app publishes frames, and tells the pacer how long a frame took.
  const pacer = new FramePacer();
  const instance = render(createElement(App, { log, info, onQuit, pacer }), {
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: FRAMES_PER_SECOND,
    onRender: ({ renderTime }) => pacer.drew(renderTime),
  });
  return { unmount: () => instance.unmount() };
}
