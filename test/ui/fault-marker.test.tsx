/** The viewer marks a request a fault rule injected a fault into, and its details name the rule. */
import { render } from "ink-testing-library";
import { afterEach, expect, it, vi } from "vitest";
import { RequestLog } from "../../src/log/events.js";
import { App } from "../../src/ui/app.js";
import { info, keys, nextFrame, plain, startRequest, type } from "./helpers.js";

let current: ReturnType<typeof render> | undefined;
afterEach(() => current?.unmount());

it("marks an injected fault with ↯ and names its rule in the details", async () => {
  const log = new RequestLog();
  current = render(<App log={log} info={info} onQuit={vi.fn()} />);
  const frame = () => plain(current!.lastFrame());
  log.end(startRequest(log, { path: "plain.txt" }), { status: 200 });
  log.end(startRequest(log, { method: "PUT", operation: "PutObject", path: "raw/x.csv", fault: { rule: "throttle-raw", action: "error=SlowDown" } }), { status: 503, errorCode: "SlowDown" });
  const row = (name: string) => () => frame().split("\n").find((l) => l.includes(name)) ?? "";
  await expect.poll(row("raw/x.csv")).toMatch(/^ ↯ /);
  expect(row("plain.txt")()).toMatch(/^ {3}/);
  await nextFrame();
  await type(current.stdin, keys.up, keys.enter);
  await expect.poll(frame).toContain("fault       error=SlowDown · injected by rule throttle-raw");
});
