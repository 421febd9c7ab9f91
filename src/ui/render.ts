/**
 * renderApp: mount <App> on the real terminal. Ctrl-C is handled by the app (it calls onQuit, and
 * the CLI closes the server); console output is not patched.
 */
import { createElement } from "react";
import { render } from "ink";
import type { RequestLog } from "../log/events.js";
import { App, type ServerInfo } from "./app.js";

export interface RenderedApp {
  unmount(): void;
}

export function renderApp(log: RequestLog, info: ServerInfo, onQuit: () => void): RenderedApp {
  const instance = render(createElement(App, { log, info, onQuit }), { exitOnCtrlC: false, patchConsole: false });
  return { unmount: () => instance.unmount() };
}
