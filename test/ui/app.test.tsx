/** <App> end to end over a real RequestLog: frames after each event and key press. */
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RequestLog } from "../../src/log/events.js";
import { App } from "../../src/ui/app.js";
import { ROW_MARKERS } from "../../src/ui/request-row.js";
import { info, keys, nextFrame, plain, startRequest, type } from "./helpers.js";

type Rendered = ReturnType<typeof render>;
let current: Rendered | undefined;

function mount(log = new RequestLog(), onQuit = vi.fn()) {
  current = render(<App log={log} info={info} onQuit={onQuit} />);
  const frame = () => plain(current!.lastFrame());
  return { log, onQuit, frame, ...current };
}

afterEach(() => {
  current?.unmount();
  current = undefined;
});

describe("App", () => {
  it("shows the header: endpoint, access key id, data dir, mode, uptime and totals", async () => {
    const { log, frame } = mount();
    expect(frame()).toContain("http://127.0.0.1:9000");
    expect(frame()).toContain("key AKIATESTKEY");
    expect(frame()).toContain("data /tmp/lakes3-data");
    expect(frame()).toContain("mode dev");
    expect(frame()).toMatch(/up \dm\d\ds/);
    expect(frame()).toContain("waiting for requests");
    log.end(startRequest(log, { method: "PUT", operation: "PutObject" }), { status: 200, bytesIn: 2048 });
    log.end(startRequest(log), { status: 404, errorCode: "NoSuchKey", bytesOut: 300 });
    await expect.poll(frame).toMatch(/requests 2 +errors 1 +in 2\.0 KiB +out 300 B +in flight 0/);
  });

  it("shows a request as pending, then its status, bytes, duration and error code", async () => {
    const { log, frame } = mount();
    const e = startRequest(log, { repo: "lake", ref: "main", path: "data/file.csv" });
    const rowOf = () => frame().split("\n").find((l) => l.includes("lake/main/data/file.csv")) ?? "";
    await expect.poll(rowOf).toMatch(/GET +GetObject +… /);
    expect(frame()).toContain("in flight 1");
    log.end(e, { status: 404, errorCode: "NoSuchKey", bytesOut: 1234, durationMs: 12 });
    await expect.poll(rowOf).toMatch(/GET +GetObject +404 +1\.2 KiB +12ms +lake\/main\/data\/file\.csv +NoSuchKey/);
  });

  it("keeps newest at the bottom and fits the terminal", async () => {
    const { log, frame } = mount();
    for (let i = 0; i < 50; i++) log.end(startRequest(log, { path: `file-${i}.txt` }), { status: 200 });
    await nextFrame();
    const lines = frame().split("\n");
    expect(lines.length).toBeLessThan(24);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    const rows = lines.filter((l) => l.includes("repo/main/file-"));
    expect(rows.at(-1)).toContain("file-49.txt");
    expect(frame()).not.toContain("file-0.txt");
  });

  it("shows a listing's prefix and delimiter in its row and the whole query in its details", async () => {
    const { log, frame, stdin } = mount();
    log.end(startRequest(log, { operation: "ListObjectsV2", ref: undefined, path: undefined, query: "list-type=2&prefix=main%2Fraw%2F&delimiter=%2F" }), { status: 200 });
    await expect.poll(() => frame().split("\n").find((l) => l.includes("ListObjectsV2")) ?? "").toMatch(/ repo prefix=main\/raw\/ delimiter=\/$/);
    await type(stdin, "k", keys.enter);
    expect(frame()).toContain("GET /repo?list-type=2&prefix=main%2Fraw%2F&delimiter=%2F");
    expect(frame()).toContain("query       list-type=2 · prefix=main/raw/ · delimiter=/");
  });

  it("shows warnings, given before and after it starts, in a warnings line and a pane (w)", async () => {
    const log = new RequestLog();
    log.warn("fixtures: skipping README.md: files go in fixtures/<repository>/<branch>/<path>");
    const { frame, stdin } = mount(log);
    expect(frame()).toContain("⚠ 1 warning (w shows them) · fixtures: skipping README.md");
    log.warn("fixtures: skipping sample-repo/ma.in/: invalid branch name");
    await expect.poll(frame).toContain("⚠ 2 warnings (w shows them) · fixtures: skipping sample-repo/ma.in/");
    await type(stdin, "w");
    expect(frame()).toContain("─ warnings");
    expect(frame()).toMatch(/\d\d:\d\d:\d\d    fixtures: skipping README\.md/);
    await type(stdin, keys.escape);
    expect(frame()).not.toContain("─ warnings");
    expect(frame().split("\n").length).toBeLessThan(24);
  });

  it("marks fixture loads", async () => {
    const { log, frame } = mount();
    log.end(startRequest(log, { source: "fixture", method: "PUT", operation: "PutObject", path: "fx.txt" }), { status: 200 });
    await expect.poll(() => frame().split("\n").find((l) => l.includes("fx.txt")) ?? "").toMatch(/^ ◆ /);
  });

  it("filters with / (text and tokens), Esc clears", async () => {
    const { log, frame, stdin } = mount();
    log.end(startRequest(log, { path: "good.txt" }), { status: 200 });
    log.end(startRequest(log, { method: "PUT", operation: "PutObject", repo: "other", path: "bad.txt" }), { status: 403, errorCode: "AccessDenied" });
    await nextFrame();
    await type(stdin, "/", ..."status:4xx", keys.enter);
    expect(frame()).toContain("bad.txt");
    expect(frame()).not.toContain("good.txt");
    expect(frame()).toContain("filter: status:4xx");
    await type(stdin, "/", keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace);
    await type(stdin, ..."op:GetObject repo:repo", keys.enter);
    expect(frame()).toContain("good.txt");
    expect(frame()).not.toContain("bad.txt");
    await type(stdin, keys.escape);
    expect(frame()).toContain("good.txt");
    expect(frame()).toContain("bad.txt");
    await type(stdin, "/", "zzz");
    expect(frame()).toContain("no requests match the filter");
    await type(stdin, keys.escape);
    expect(frame()).toContain("good.txt");
  });

  it("keeps up with keys that arrive faster than renders (paste, key repeat)", async () => {
    const { log, frame, stdin } = mount();
    for (let i = 0; i < 10; i++) log.end(startRequest(log, { path: `f-${i}.txt` }), { status: i === 3 ? 404 : 200 });
    await nextFrame();
    stdin.write(keys.up);
    stdin.write(keys.up);
    stdin.write(keys.up);
    await expect.poll(() => frame().split("\n").find((l) => l.startsWith("›")) ?? "").toContain("f-7.txt");
    stdin.write("/");
    stdin.write("status:4xx");
    stdin.write(keys.enter);
    await expect.poll(frame).toContain("filter: status:4xx");
    expect(frame()).toContain("f-3.txt");
    expect(frame()).not.toContain("f-7.txt");
  });

  it("opens the details of the request selected by keys in the same chunk (kk⏎)", async () => {
    const { log, frame, stdin } = mount();
    for (let i = 0; i < 3; i++) log.end(startRequest(log, { path: `r-${i}.txt` }), { status: 200 });
    await nextFrame();
    stdin.write("kk\r");
    await expect.poll(frame).toContain("GET /repo/main/r-1.txt");
  });

  it("replays a multi-key chunk key by key", async () => {
    const { log, frame, stdin } = mount();
    log.end(startRequest(log, { path: "gone.txt" }), { status: 200 });
    await nextFrame();
    await type(stdin, "c?");
    expect(frame()).not.toContain("gone.txt");
    expect(frame()).toContain("Enter details");
  });

  it("opens a detail pane with masked headers", async () => {
    const { log, frame, stdin } = mount();
    log.end(
      startRequest(log, {
        userAgent: "aws-sdk-js/3.0",
        auth: "ok",
        headers: {
          authorization: "AWS4-HMAC-SHA256 Credential=AKIATESTKEY/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0123456789abcdef",
          "x-amz-security-token": "SECRET-TOKEN",
          cookie: "session=SECRET-COOKIE",
          "x-amz-date": "20240101T000000Z",
        },
      }),
      { status: 200, bytesOut: 5 },
    );
    await nextFrame();
    await type(stdin, keys.up, keys.enter);
    const f = frame();
    expect(f).toContain("GET /repo/main/a.txt");
    expect(f).toContain("user agent  aws-sdk-js/3.0");
    expect(f).toContain("auth ok");
    expect(f).toContain("Signature=****");
    expect(f).toContain("x-amz-security-token: ****");
    expect(f).toContain("cookie: ****");
    expect(f).toContain("x-amz-date: 20240101T000000Z");
    expect(f).not.toMatch(/0123456789abcdef|SECRET-TOKEN|SECRET-COOKIE/);
    await type(stdin, keys.enter);
    expect(frame()).not.toContain("Signature=****");
  });

  it("shows the server's canonical request and string to sign for SignatureDoesNotMatch", async () => {
    const { log, frame, stdin, stdout } = mount();
    log.end(startRequest(log, { auth: "failed" }), {
      status: 403,
      errorCode: "SignatureDoesNotMatch",
      errorMessage: "The request signature we calculated does not match the signature you provided.",
      signature: {
        canonicalRequest: "GET\n/repo/main/a.txt\n\nhost:127.0.0.1:9000\nx-amz-date:20240101T000000Z\n\nhost;x-amz-date\nUNSIGNED-PAYLOAD",
        stringToSign: "AWS4-HMAC-SHA256\n20240101T000000Z\n20240101/us-east-1/s3/aws4_request\nabc123hash",
      },
    });
    // a taller terminal: re-layout on resize
    Object.defineProperty(stdout, "rows", { value: 50, configurable: true });
    stdout.emit("resize");
    await nextFrame();
    await type(stdin, keys.enter);
    const f = frame();
    expect(f).toContain("403 SignatureDoesNotMatch · auth failed");
    expect(f).toContain("The request signature we calculated");
    expect(f).toContain("canonical request (server)");
    expect(f).toContain("host:127.0.0.1:9000");
    expect(f).toContain("UNSIGNED-PAYLOAD");
    expect(f).toContain("string to sign (server)");
    expect(f).toContain("abc123hash");
  });

  it("puts a signature failure's hint and string to sign first, and scrolls the detail pane at 80×24", async () => {
    const { log, frame, stdin } = mount();
    const headerLines = Array.from({ length: 30 }, (_, i) => `x-amz-meta-h${i}:value-${i}`).join("\n");
    log.end(startRequest(log, { auth: "failed", headers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-extra-${i}`, `v${i}`])) }), {
      status: 403,
      errorCode: "SignatureDoesNotMatch",
      errorMessage: "The request signature we calculated does not match the signature you provided.",
      signature: {
        canonicalRequest: `GET\n/repo/main/a.txt\n\nhost:127.0.0.1:9000\n${headerLines}\n\nhost;x-amz-date\nLAST-CANONICAL-LINE`,
        stringToSign: "AWS4-HMAC-SHA256\n20240101T000000Z\n20240101/us-east-1/s3/aws4_request\nabc123hash",
      },
    });
    await nextFrame();
    await type(stdin, "k", keys.enter);
    expect(frame()).toContain("hint");
    expect(frame()).toContain("string to sign (server)");
    expect(frame()).toContain("abc123hash");
    expect(frame()).not.toContain("LAST-CANONICAL-LINE");
    expect(frame()).toMatch(/details 1–\d+ of \d+/);
    await type(stdin, keys.down, keys.down);
    expect(frame()).toMatch(/details 3–/);
    await type(stdin, keys.pageDown);
    expect(frame()).toContain("x-amz-meta-h0:value-0");
    await type(stdin, keys.end);
    expect(frame()).toContain("x-extra-9: v9");
    expect(frame()).not.toContain("string to sign (server)");
    await type(stdin, keys.home);
    expect(frame()).toContain("string to sign (server)");
    // the arrows scrolled the pane, not the selection
    expect(frame().split("\n").find((l) => l.startsWith("›"))).toContain("SignatureDoesNotMatch");
    expect(frame().split("\n").length).toBeLessThan(24);
  });

  it("freezes the view while a request is selected; End/G follows the tail again", async () => {
    const { log, frame, stdin } = mount();
    for (let i = 0; i < 30; i++) log.end(startRequest(log, { path: `old-${i}.txt` }), { status: 200 });
    await nextFrame();
    await type(stdin, keys.up, keys.up);
    expect(frame().split("\n").find((l) => l.startsWith("›"))).toContain("old-28.txt");
    for (let i = 0; i < 5; i++) log.end(startRequest(log, { path: `new-${i}.txt` }), { status: 200 });
    await nextFrame();
    expect(frame()).toContain("old-28.txt");
    expect(frame()).not.toContain("new-4.txt");
    await type(stdin, "j", "k", "k");
    expect(frame().split("\n").find((l) => l.startsWith("›"))).toContain("old-27.txt");
    await type(stdin, "G");
    expect(frame()).toContain("new-4.txt");
    expect(frame()).not.toMatch(/^›/m);
  });

  it("pauses the list (totals keep counting) and resumes with p", async () => {
    const { log, frame, stdin } = mount();
    const slow = startRequest(log, { path: "slow.txt" });
    await nextFrame();
    await type(stdin, "p");
    expect(frame()).toContain("PAUSED");
    log.end(slow, { status: 200 });
    log.end(startRequest(log, { path: "later.txt" }), { status: 500, errorCode: "InternalError" });
    await nextFrame();
    expect(frame()).not.toContain("later.txt");
    expect(frame().split("\n").find((l) => l.includes("slow.txt"))).toMatch(/ … /);
    expect(frame()).toContain("requests 2");
    await type(stdin, "p");
    expect(frame()).not.toContain("PAUSED");
    expect(frame()).toContain("later.txt");
    expect(frame().split("\n").find((l) => l.includes("slow.txt"))).toMatch(/ 200 /);
  });

  it("paused, a stream of requests draws no list and at most one header frame a second", async () => {
    const { log, frame, frames, stdin } = mount();
    log.end(startRequest(log, { path: "before.txt" }), { status: 200 });
    await expect.poll(frame).toContain("before.txt");
    await type(stdin, "p");
    await expect.poll(frame).toContain("PAUSED");
    const before = frames.length;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) log.end(startRequest(log, { path: `during-${round}-${i}.txt` }), { status: 200 });
      await nextFrame(60);
    }
    // 500 requests over ~0.3 s: live, that is several frames; paused, the header's next second at most
    expect(frames.length - before).toBeLessThanOrEqual(1);
    expect(frame()).not.toContain("during-");
  });

  it("clears finished requests with c", async () => {
    const { log, frame, stdin } = mount();
    log.end(startRequest(log, { path: "gone.txt" }), { status: 200 });
    await expect.poll(frame).toContain("gone.txt");
    await type(stdin, "c");
    expect(frame()).not.toContain("gone.txt");
    expect(frame()).toContain("waiting for requests");
    expect(log.getSnapshot().finished).toEqual([]);
  });

  it("shows help with ?: keys, every row marker, filters, the secret masked until x, and a try command", async () => {
    const { frame, stdin, stdout } = mount();
    Object.defineProperty(stdout, "rows", { value: 60, configurable: true });
    stdout.emit("resize");
    await type(stdin, "?");
    expect(frame()).toContain("Enter details");
    for (const marker of ROW_MARKERS) expect(frame()).toContain(`${marker.char}${" ".repeat(9)}${marker.meaning}`);
    expect(frame()).toContain("status:404 status:4xx — one status, or a class 1xx–5xx");
    expect(frame()).toContain("secret key  **** (x shows it)");
    expect(frame()).toContain("AWS_SECRET_ACCESS_KEY=**** aws --endpoint-url");
    expect(frame()).not.toContain("TEST/SECRET/KEY");
    await type(stdin, "x");
    expect(frame()).toContain("secret key  TEST/SECRET/KEY");
    expect(frame()).toContain("AWS_SECRET_ACCESS_KEY=TEST/SECRET/KEY aws");
    await type(stdin, "?");
    expect(frame()).not.toContain("TEST/SECRET/KEY");
  });

  it("shows statistics per operation with s, since start or since c", async () => {
    const { log, frame, stdin } = mount();
    for (let i = 0; i < 3; i++) log.end(startRequest(log, { method: "PUT", operation: "PutObject" }), { status: 200, bytesIn: 1024, durationMs: 4 });
    log.end(startRequest(log), { status: 404, errorCode: "NoSuchKey", durationMs: 2 });
    await nextFrame();
    await type(stdin, "s");
    expect(frame()).toContain("─ stats");
    expect(frame()).toMatch(/OPERATION +COUNT +ERRORS +P50 +P99 +IN +OUT/);
    expect(frame()).toMatch(/PutObject +3 +0 +4\.\dms +4\.\dms +3\.0 KiB +0 B/);
    expect(frame()).toMatch(/GetObject +1 +1 +2\.\dms/);
    await type(stdin, "c");
    expect(frame()).toContain("no requests yet");
    log.end(startRequest(log), { status: 200, durationMs: 1 });
    await expect.poll(frame).toMatch(/GetObject +1 +0 /);
    await type(stdin, "s");
    expect(frame()).not.toContain("─ stats");
  });

  it("says when a filter is invalid", async () => {
    const { log, frame, stdin } = mount();
    log.end(startRequest(log), { status: 200 });
    await type(stdin, "/", ..."status:abc");
    expect(frame()).toContain("invalid filter: status:abc: a status is 100–599 or a class such as 4xx");
    await type(stdin, keys.enter);
    expect(frame()).toContain("invalid filter: status:abc");
    await type(stdin, keys.escape);
    expect(frame()).not.toContain("invalid filter");
  });

  it("calls onQuit on q and on Ctrl-C", async () => {
    const { onQuit, stdin } = mount();
    await type(stdin, "q");
    expect(onQuit).toHaveBeenCalledTimes(1);
    await type(stdin, keys.ctrlC);
    expect(onQuit).toHaveBeenCalledTimes(2);
  });

  it("renders only a handful of frames for a burst of 2000 requests", async () => {
    const { log, frame, frames } = mount();
    await nextFrame();
    const before = frames.length;
    for (let i = 0; i < 2000; i++) log.end(startRequest(log, { path: `burst-${i}` }), { status: 200 });
    await nextFrame(200);
    expect(frames.length - before).toBeLessThanOrEqual(3);
    expect(frame()).toContain("requests 2000");
    expect(frame()).toContain("burst-1999");
  });
});
