/**
 * The loopback-only admin route of a running server: GET /_lakes3/inspect/<query>?params answers
 * the same JSON `lakes3 inspect` computes when it opens a data dir itself; /_lakes3/faults lists
 * (GET), adds (POST: a JSON rule, list of rules, or rule strings one per line) and clears (DELETE)
 * the server's fault rules. lakeFS repository names cannot start with "_", so no bucket can collide
 * with it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { InspectSources } from "./queries.js";
import type { FaultInjector } from "../faults/injector.js";
import { FaultRuleError, type FaultRuleInput } from "../faults/rule.js";
import { parseRuleLines } from "../faults/file.js";

export const ADMIN_PREFIX = "/_lakes3/";

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d{1,5})?$/i;

export function createAdminHandler(sources: InspectSources, faults?: FaultInjector): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
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
    if (url.pathname === "/_lakes3/faults" && faults) return faultsRoute(req, faults, send);
    const m = /^\/_lakes3\/inspect\/([a-z]+)$/.exec(url.pathname);
    if (req.method !== "GET" || !m) return send(404, { error: `no admin route ${req.method} ${url.pathname}` });
    // The queries are loaded on the first one: most servers are never inspected.
    const { answer, NotFound } = await import("./queries.js");
    try {
      send(200, await answer(sources, m[1]!, Object.fromEntries(url.searchParams)));
    } catch (err) {
      if (err instanceof NotFound) send(404, { error: err.message });
      else send(500, { error: "internal error" });
    }
  };
}

const MAX_RULES_BODY = 64 * 1024;

async function faultsRoute(req: IncomingMessage, faults: FaultInjector, send: (status: number, body: unknown) => void): Promise<void> {
  if (req.method === "GET") return send(200, { seed: faults.seed, rules: faults.list() });
  if (req.method === "DELETE") {
    const cleared = faults.list().length;
    faults.clear();
    return send(200, { cleared });
  }
  if (req.method !== "POST") return send(405, { error: `${req.method} /_lakes3/faults: use GET (list), POST (add) or DELETE (clear)` });
  let text = "";
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      text += chunk.toString("utf8");
      if (text.length > MAX_RULES_BODY) return send(413, { error: `rules larger than ${MAX_RULES_BODY} bytes` });
    }
  } catch {
    return; // the client went away mid-body
  }
  let rules: FaultRuleInput[];
  if (/json/i.test(req.headers["content-type"] ?? "")) {
    try {
      const value = JSON.parse(text) as FaultRuleInput | FaultRuleInput[];
      rules = Array.isArray(value) ? value : [value];
    } catch {
      return send(400, { error: "malformed JSON body: send a rule object, a rule string, or a list of them" });
    }
  } else rules = parseRuleLines(text);
  try {
    send(201, { added: faults.addAll(rules) });
  } catch (err) {
    if (!(err instanceof FaultRuleError)) throw err;
    send(400, { error: err.message });
  }
}
