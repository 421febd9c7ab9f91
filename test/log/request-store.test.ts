/**
 * requests.log's writer (src/log/request-store.ts): a finished request is made its line when it
 * ends, so nothing holds its event afterwards (a server without the viewer keeps no finished event
 * at all), and the bytes on disk are the lines exactly, whatever their characters and length.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RequestLog, type RequestEvent } from "../../src/log/events.js";
import { readRequests, RequestStore } from "../../src/log/request-store.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-test-log-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function collectGarbage(): void {
  v8.setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

function finish(log: RequestLog, id: string, path: string, status = 200): void {
  log.end(log.start({ id, source: "s3", method: "GET", operation: "GetObject", path }), { status, durationMs: 1 });
}

describe("the request log without a viewer", () => {
  it("keeps no finished request in memory, and counts them", () => {
    const log = new RequestLog(0);
    for (let i = 0; i < 5; i++) finish(log, `r${i}`, `k${i}`, i === 4 ? 404 : 200);
    const snapshot = log.getSnapshot();
    expect(snapshot.finished).toEqual([]);
    expect(snapshot.inFlight).toEqual([]);
    expect(snapshot.totals).toMatchObject({ requests: 5, errors: 1 });
  });

  it("lets a finished request's event go before its line is written (the store keeps the line, not the event)", async () => {
    const log = new RequestLog(0);
    const store = new RequestStore(dir);
    store.attach(log);
    let held: WeakRef<RequestEvent> | undefined;
    (() => {
      const event = log.start({ id: "gone", source: "s3", method: "GET", operation: "GetObject", path: "k" });
      log.end(event, { status: 200 });
      held = new WeakRef(event);
    })();
    await new Promise((resolve) => setImmediate(resolve)); // a WeakRef keeps its target for the turn it was made in
    expect(existsSync(path.join(dir, "requests.log")), "written already: the test proves nothing").toBe(false);
    collectGarbage();
    expect(held?.deref(), "the event outlived its request").toBeUndefined();
    await store.close();
    expect((await readRequests(dir)).map((e) => e.id)).toEqual(["gone"]);
  });
});

describe("requests.log", () => {
  it("holds every line exactly: multi-byte characters, a line longer than a write buffer, lines across buffers", async () => {
    const log = new RequestLog(0);
    const store = new RequestStore(dir);
    store.attach(log);
    const paths = ["ascii", "é中😀".repeat(1000), `${"x".repeat(300_000)}ü`, ...Array.from({ length: 3000 }, (_, i) => `k${i}-ñ`)];
    paths.forEach((p, i) => finish(log, `r${i}`, p));
    await store.close();
    expect((await readRequests(dir)).map((e) => e.path)).toEqual(paths);
    const text = await readFile(path.join(dir, "requests.log"), "utf8");
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.split("\n")).toHaveLength(paths.length + 1);
  });

  it("counts its bytes, not its characters, against the size at which it rotates", async () => {
    // Lines of one size in bytes, mostly 3-byte characters: a budget of two lines' bytes holds two.
    const path3 = "中".repeat(100);
    const measure = path.join(dir, "one-line");
    await mkdir(measure);
    const one = new RequestLog(0);
    const measuring = new RequestStore(measure);
    measuring.attach(one);
    finish(one, "r0", path3);
    await measuring.close();
    const lineBytes = (await stat(path.join(measure, "requests.log"))).size;
    expect(lineBytes).toBeGreaterThan(300);

    const log = new RequestLog(0);
    const store = new RequestStore(dir, 10_000, 2 * lineBytes);
    store.attach(log);
    for (const id of ["r0", "r1", "r2"]) {
      finish(log, id, path3);
      await store.flush();
    }
    await store.close();
    const ids = async (name: string) => (await readFile(path.join(dir, name), "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as RequestEvent).id);
    expect(await ids("requests.1.log")).toEqual(["r0", "r1"]);
    expect(await ids("requests.log")).toEqual(["r2"]);
  });

  for (const [what, existing] of [
    ["ending in a newline", '{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n'],
    ["whose last line a crash cut short", '{"id":"a"}\n{"id":"b"}\n{"id":"c'],
  ] as const) {
    it(`counts the lines of a log it finds (${what}) against its line budget, and appends whole lines to it`, async () => {
      await writeFile(path.join(dir, "requests.log"), existing);
      const log = new RequestLog(0);
      const store = new RequestStore(dir, 5);
      store.attach(log);
      for (const id of ["d", "e"]) finish(log, id, "k");
      await store.flush();
      expect(existsSync(path.join(dir, "requests.1.log")), "rotated before 5 lines").toBe(false);
      finish(log, "f", "k");
      await store.close();
      const rotated = await readFile(path.join(dir, "requests.1.log"), "utf8");
      expect(rotated.startsWith(existing)).toBe(true);
      const appended = rotated.slice(existing.length).split("\n").filter(Boolean);
      expect(appended.map((l) => (JSON.parse(l) as RequestEvent).id)).toEqual(["d", "e"]);
      expect((await readRequests(dir)).map((e) => e.id)).toEqual(existing.endsWith("\n") ? ["a", "b", "c", "d", "e", "f"] : ["a", "b", "d", "e", "f"]);
    });
  }
});
