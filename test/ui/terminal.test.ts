/**
 * The real CLI in a real terminal (tmux): start `lakes3 serve`, make requests (one failing), read
 * the screen, open panes, filter, and quit. At 80×24 as well: the ref and the key stay readable,
 * the signature hint and string to sign come first and the pane scrolls, start-up warnings stay on
 * screen, and the alternate screen gives the shell's screen back on q and on SIGTERM. Skipped,
 * with a printed reason, where tmux is not installed (a failure under LAKES3_REQUIRE_CLIENTS=1, as
 * in .ci/run).
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect } from "vitest";
import { itWithTool, runs } from "../helpers/tools.js";
import { waitFor } from "../helpers/wait.js";

const BIN = path.resolve(import.meta.dirname, "../../bin/lakes3.js");
const hasTmux = runs("tmux", ["-V"]);
const withTmux = itWithTool(hasTmux, "the terminal UI test: tmux is not installed (apt-get install tmux)");
const credentials = { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

let dir: string;
let sessions: string[] = [];
/**
 * A tmux server of this test's own, its socket in the test's temp dir: the default one is shared
 * with every other tmux user on the machine, and a suite running beside this one that ended its
 * last session took the server, and these sessions, down with it.
 */
const tmux = (...args: string[]) => execFileSync("tmux", ["-S", path.join(dir, "tmux.sock"), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/**
 * A tmux session of the given size running `lakes3 serve <flags>` inside a shell that prints a
 * line before it and the exit status after it, then keeps the pane open (so the screen left behind
 * can be read).
 */
function session(name: string, size: [number, number], flags: string) {
  const id = `lakes3-ui-${process.pid}-${name}`;
  sessions.push(id);
  // CI=true as on a CI runner: Ink alone would then draw only its last frame; the viewer stays live.
  const command = `printf 'shell-before-lakes3\\n'; env CI=true ${process.execPath} ${BIN} serve --port 0 ${flags}; printf 'lakes3-exited-%s\\n' "$?"; exec cat`;
  tmux("new-session", "-d", "-s", id, "-x", String(size[0]), "-y", String(size[1]), "sh", "-c", command);
  const screen = () => tmux("capture-pane", "-p", "-t", id);
  return {
    screen,
    keys: (...keys: string[]) => void tmux("send-keys", "-t", id, ...keys),
    text: (text: string) => void tmux("send-keys", "-t", id, "-l", text),
    alternate: () => tmux("display-message", "-p", "-t", id, "#{alternate_on}").trim() === "1",
    until: async (check: (text: string) => boolean, what: string): Promise<string> => {
      let last = "";
      try {
        return await waitFor(() => check((last = screen())) && last, { timeoutMs: 10_000, intervalMs: 100, message: what });
      } catch (err) {
        throw new Error(`${(err as Error).message}; last screen:\n${last}`);
      }
    },
  };
}

function clients(endpoint: string) {
  const options = { endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1 };
  return { good: new S3Client({ ...options, credentials }), bad: new S3Client({ ...options, credentials: { ...credentials, secretAccessKey: "wrong-secret" } }) };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-ui-"));
  // A session that outlives the tests' own: tmux ends its server when the last session ends, and a
  // test's new-session that reached the socket of a server still ending failed ("server exited
  // unexpectedly").
  if (hasTmux) tmux("new-session", "-d", "-s", "keeper", "-x", "20", "-y", "5", "cat");
});
afterEach(() => {
  for (const id of sessions) {
    try {
      tmux("kill-session", "-t", id);
    } catch {
      // already gone
    }
  }
  sessions = [];
});
afterAll(async () => {
  try {
    tmux("kill-server");
  } catch {
    // no server left (or no tmux)
  }
  await rm(dir, { recursive: true, force: true });
});

describe("lakes3 serve in a terminal", () => {
  withTmux("shows requests live, details with masked headers, a filter, and quits on q", async () => {
    const t = session("wide", [140, 35], `--data-dir ${path.join(dir, "wide")} --repo ui-repo`);
    await t.until((s) => s.includes("lakes3 http://127.0.0.1:"), "the header");
    const endpoint = t.screen().match(/http:\/\/127\.0\.0\.1:\d+/)![0];
    const { good, bad } = clients(endpoint);
    await good.send(new PutObjectCommand({ Bucket: "ui-repo", Key: "main/screen/visible.txt", Body: "hello" }));
    await bad.send(new PutObjectCommand({ Bucket: "ui-repo", Key: "main/screen/denied.txt", Body: "x" })).catch(() => undefined);
    await good.send(new ListObjectsV2Command({ Bucket: "ui-repo", Prefix: "main/screen/", Delimiter: "/" }));
    good.destroy();
    bad.destroy();

    const list = await t.until((s) => s.includes("SignatureDoesNotMatch") && s.includes("ui-repo/main/screen/visible.txt") && s.includes("ListObjectsV2"), "the requests");
    expect(list).toMatch(/PUT\s+PutObject\s+200/);
    expect(list).toMatch(/requests 3\s+errors 1/);
    expect(list).toMatch(/ListObjectsV2 +200 .* ui-repo prefix=main\/screen\/ delimiter=\//);

    // select the failing request (one above the newest) and open its details
    t.keys("k", "k", "Enter");
    const detail = await t.until((s) => s.includes("canonical request"), "the details");
    expect(detail).toContain("auth failed");
    expect(detail).not.toContain("wrong-secret");
    t.keys("Escape");

    // filter to failures only
    t.keys("/");
    t.text("status:4xx");
    t.keys("Enter");
    const filtered = await t.until((s) => s.includes("1 of 3"), "the filter");
    expect(filtered).not.toContain("visible.txt");

    // the header's error count and `inspect requests --errors` (asking the running server) agree
    const errors = () => JSON.parse(execFileSync(process.execPath, [BIN, "inspect", "requests", "--errors", "--json", "--data-dir", path.join(dir, "wide")], { encoding: "utf8" })) as { errorCode?: string }[];
    const listed = await waitFor(() => errors().length === 1 && errors(), { timeoutMs: 5000, message: "the failure in requests.errors.log" });
    expect(listed[0]!.errorCode).toBe("SignatureDoesNotMatch");
    expect(t.screen()).toMatch(/errors 1\s/);

    t.keys("q");
    await t.until((s) => s.includes("lakes3-exited-0"), "lakes3 to exit");
  }, 30_000);

  withTmux("at 80×24: ref and key readable, signature details first and scrollable, warnings shown, the screen given back on q", async () => {
    const fixtures = path.join(dir, "fixtures");
    await mkdir(path.join(fixtures, "a-rather-long-repository-name/main"), { recursive: true });
    await writeFile(path.join(fixtures, "a-rather-long-repository-name/main/seed.txt"), "seed");
    await writeFile(path.join(fixtures, "stray.txt"), "not in <repo>/<branch>/");
    const t = session("narrow", [80, 24], `--data-dir ${path.join(dir, "narrow")} --fixtures ${fixtures}`);
    await t.until((s) => s.includes("lakes3 http://127.0.0.1:"), "the header");
    expect(t.alternate()).toBe(true);
    // the start-up warning stays on screen (it used to scroll away behind the screen clear)
    expect(await t.until((s) => s.includes("⚠ 1 warning"), "the warnings line")).toContain("fixtures: skipping stray.txt");

    const endpoint = t.screen().match(/http:\/\/127\.0\.0\.1:\d+/)![0];
    const { good, bad } = clients(endpoint);
    const key = "feature-x/data/year=2024/month=01/day=15/part-00001.parquet";
    await good.send(new PutObjectCommand({ Bucket: "a-rather-long-repository-name", Key: "main/branch-setup.txt", Body: "x" }));
    await bad.send(new PutObjectCommand({ Bucket: "a-rather-long-repository-name", Key: `main/${key}`, Body: "x" })).catch(() => undefined);
    good.destroy();
    bad.destroy();
    const list = await t.until((s) => / 403 /.test(s), "the failed request");
    const row = list.split("\n").find((l) => l.includes(" 403 "))!;
    expect(row.length).toBeLessThanOrEqual(80);
    // the repository and the middle of the key give way; the ref and the file name do not
    expect(row).toMatch(/ a-r…\/main\/feat.*\.parquet$/);

    t.keys("k", "Enter");
    const detail = await t.until((s) => s.includes("string to sign (server)"), "the details");
    expect(detail).toContain("hint");
    expect(detail).toContain("AWS4-HMAC-SHA256");
    t.keys("End");
    const end = await t.until((s) => s.includes("request headers") || s.includes("x-amz-date: "), "the end of the details");
    expect(end).not.toContain("string to sign (server)");
    t.keys("Home");
    await t.until((s) => s.includes("string to sign (server)"), "the top of the details");
    // page down, one page at a time (each seen on screen), until the canonical request shows
    const firstLine = (s: string) => /details (\d+)–/.exec(s)?.[1];
    for (let i = 0; i < 8 && !t.screen().includes("canonical request (server)"); i++) {
      const before = firstLine(t.screen());
      t.keys("PageDown");
      await t.until((s) => firstLine(s) !== before, "the pane to scroll a page");
    }
    expect(t.screen()).toContain("canonical request (server)");
    for (const line of t.screen().split("\n")) expect(line.length).toBeLessThanOrEqual(80);

    t.keys("q");
    const after = await t.until((s) => s.includes("lakes3-exited-0"), "lakes3 to exit");
    expect(t.alternate()).toBe(false);
    expect(after).toContain("shell-before-lakes3");
    expect(after).toContain("lakes3: quit, shutting down");
    expect(after).not.toContain("REPO/REF/PATH");
  }, 40_000);

  withTmux("SIGTERM leaves the alternate screen too", async () => {
    const data = path.join(dir, "term");
    const t = session("term", [80, 24], `--data-dir ${data}`);
    await t.until((s) => s.includes("lakes3 http://127.0.0.1:"), "the header");
    expect(t.alternate()).toBe(true);
    const { pid } = JSON.parse(await readFile(path.join(data, "server.json"), "utf8")) as { pid: number };
    process.kill(pid, "SIGTERM");
    const after = await t.until((s) => s.includes("lakes3-exited-0"), "lakes3 to exit");
    expect(t.alternate()).toBe(false);
    expect(after).toContain("shell-before-lakes3");
    expect(after).toContain("lakes3: SIGTERM, shutting down");
  }, 30_000);
});
