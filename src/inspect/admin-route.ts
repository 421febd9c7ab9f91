/**
 * The loopback-only admin route of a running server: GET /_lakes3/inspect/<query>?params answers
 * the same JSON `lakes3 inspect` computes when it opens a data dir itself. lakeFS repository names
 * cannot start with "_", so no bucket can collide with it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { answer, NotFound, type InspectSources } from "./queries.js";

export const ADMIN_PREFIX = "/_lakes3/";

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d{1,5})?$/i;

export function createAdminHandler(sources: InspectSources): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
      res.end(text);
    };
    const remote = req.socket.remoteAddress ?? "";
    if (!["127.0.0.1", "::1", "::ffff:127.0.0.1"].includes(remote)) return send(403, { error: "the admin route answers loopback clients only" });
    // A loopback Host too: a web page whose own domain was re-pointed at 127.0.0.1 (DNS rebinding)
    // sends its own domain as Host, and must not read keys, metadata or paths from here.
    if (!LOOPBACK_HOST.test(req.headers.host ?? "")) return send(403, { error: "the admin route answers requests addressed to localhost, 127.0.0.1 or [::1] only" });
    const url = new URL(req.url ?? "/", "http://localhost");
    const m = /^\/_lakes3\/inspect\/([a-z]+)$/.exec(url.pathname);
    if (req.method !== "GET" || !m) return send(404, { error: `no admin route ${req.method} ${url.pathname}` });
    try {
      send(200, await answer(sources, m[1]!, Object.fromEntries(url.searchParams)));
    } catch (err) {
      if (err instanceof NotFound) send(404, { error: err.message });
      else send(500, { error: "internal error" });
    }
  };
}
