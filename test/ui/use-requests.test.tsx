/** useRequests through a probe component: frame-capped, one subscription, real RequestLog. */
import { Text } from "ink";
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RequestLog } from "../../src/log/events.js";
import { FramePacer, useRequests } from "../../src/ui/use-requests.js";
import { waitFor } from "../helpers/wait.js";
import { nextFrame, startRequest } from "./helpers.js";

let renders = 0;

function Probe({ log }: { log: RequestLog }) {
  const { snapshot } = useRequests(log);
  renders++;
  return <Text>{JSON.stringify({ inFlight: snapshot.inFlight.length, finished: snapshot.finished.length, requests: snapshot.totals.requests })}</Text>;
}

afterEach(() => {
  renders = 0;
});

describe("useRequests", () => {
  it("shows start and end of a request on the next frame", async () => {
    const log = new RequestLog();
    const { lastFrame, unmount } = render(<Probe log={log} />);
    expect(lastFrame()).toBe('{"inFlight":0,"finished":0,"requests":0}');
    const e = startRequest(log);
    await waitFor(() => lastFrame() === '{"inFlight":1,"finished":0,"requests":0}', { timeoutMs: 1000, message: "the start on a frame" });
    log.end(e, { status: 200 });
    await waitFor(() => lastFrame() === '{"inFlight":0,"finished":1,"requests":1}', { timeoutMs: 1000, message: "the end on a frame" });
    unmount();
  });

  it("coalesces a burst of 2000 requests into a handful of renders, with one subscription", async () => {
    const log = new RequestLog();
    const subscribe = vi.spyOn(log, "subscribe");
    const { lastFrame, unmount } = render(<Probe log={log} />);
    const before = renders;
    for (let i = 0; i < 2000; i++) log.end(startRequest(log), { status: 200, bytesOut: 1 });
    await nextFrame(200);
    expect(lastFrame()).toBe('{"inFlight":0,"finished":1000,"requests":2000}');
    expect(renders - before).toBeGreaterThanOrEqual(1);
    expect(renders - before).toBeLessThanOrEqual(3);
    expect(subscribe).toHaveBeenCalledTimes(1);
    unmount();
  });

  it("caps a sustained stream at ~15 renders a second", async () => {
    const log = new RequestLog();
    const { unmount } = render(<Probe log={log} />);
    const before = renders;
    const started = Date.now();
    while (Date.now() - started < 500) {
      log.end(startRequest(log), { status: 200 });
      await new Promise((r) => setTimeout(r, 1));
    }
    await nextFrame();
    // ~0.6 s at 15 fps ≈ 9 frames; hundreds of events went by
    expect(renders - before).toBeLessThanOrEqual(12);
    expect(log.totals.requests).toBeGreaterThan(50);
    unmount();
  });

  it("stops listening on unmount (the log subscription is released, no listener is called afterwards)", async () => {
    const log = new RequestLog();
    const subscribe = log.subscribe.bind(log);
    let active = 0;
    let callsAfterUnmount = 0;
    let unmounted = false;
    vi.spyOn(log, "subscribe").mockImplementation((listener) => {
      active++;
      const off = subscribe((...args) => {
        if (unmounted) callsAfterUnmount++;
        listener(...args);
      });
      return () => {
        active--;
        off();
      };
    });
    const { lastFrame, unmount } = render(<Probe log={log} />);
    startRequest(log);
    await waitFor(() => lastFrame() === '{"inFlight":1,"finished":0,"requests":0}', { message: "the first frame" });
    expect(active).toBe(1);
    unmount();
    unmounted = true;
    expect(active).toBe(0);
    const before = renders;
    log.end(startRequest(log), { status: 200 });
    await nextFrame();
    expect(callsAfterUnmount).toBe(0);
    expect(renders).toBe(before);
  });
});

describe("FramePacer", () => {
  it("spaces frames so drawing stays a small share of a core, never under the minimum", () => {
    const pacer = new FramePacer();
    expect(pacer.interval(100)).toBe(100);
    pacer.drew(2);
    expect(pacer.interval(100)).toBe(100);
    pacer.drew(20);
    expect(pacer.interval(100)).toBeCloseTo(2 * 0.8 * 20 + 20 * 0.2 * 20, 5); // (0.8·2 + 0.2·20) ms / 5%
    for (let i = 0; i < 50; i++) pacer.drew(20);
    expect(pacer.interval(100)).toBeCloseTo(400, 0);
    pacer.drew(5000); // one very slow frame
    expect(pacer.interval(100)).toBe(1000);
    for (let i = 0; i < 50; i++) pacer.drew(1);
    expect(pacer.interval(100)).toBe(100);
  });
});
