/**
 * The real CLI in a real terminal (tmux): start `lakes3 serve`, make requests (one failing),
 * read the screen, open a detail pane, filter, and quit with `q`. Skipped, with a printed
 * reason, where tmux is not installed (a failure under LAKES3_REQUIRE_CLIENTS=1, as in .ci/run).
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { itWithTool, runs } from "../helpers/tools.js";

const BIN = path.resolve(import.meta.dirname, "../../bin/lakes3.js");
const hasTmux = runs("tmux", ["-V"]);
const withTmux = itWithTool(hasTmux, "the terminal UI test: tmux is not installed (apt-get install tmux)");

const session = `lakes3-ui-${process.pid}`;
let dir: string;
const tmux = (...args: string[]) => execFileSync("tmux", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const screen = () => tmux("capture-pane", "-p", "-t", session);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: (text: string) => boolean, ms = 5000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const text = screen();
    if (check(text)) return text;
    if (Date.now() - t0 > ms) throw new Error(`screen never matched; last screen:\n${text}`);
    await sleep(100);
  }
}

/** The tmux session ends when lakes3 exits. */
async function untilGone(): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    try {
      tmux("has-session", "-t", session);
    } catch {
      return;
    }
    if (Date.now() - t0 > 5000) throw new Error("lakes3 did not exit on q");
    await sleep(100);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-ui-"));
});
afterAll(async () => {
  if (hasTmux) {
    try {
      tmux("kill-session", "-t", session);
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

describe("lakes3 serve in a terminal", () => {
  withTmux("shows requests live, details with masked headers, a filter, and quits on q", async () => {
    // CI=true as on a CI runner: Ink alone would then draw only its last frame; the viewer stays live.
    tmux("new-session", "-d", "-s", session, "-x", "140", "-y", "35", `env CI=true ${process.execPath} ${BIN} serve --port 0 --data-dir ${path.join(dir, "data")} --repo ui-repo`);
    await until((t) => t.includes("lakes3 http://127.0.0.1:"));
    const endpoint = screen().match(/http:\/\/127\.0\.0\.1:\d+/)![0];
    const credentials = { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
    const good = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, credentials });
    const bad = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, credentials: { ...credentials, secretAccessKey: "wrong-secret" } });
    await good.send(new PutObjectCommand({ Bucket: "ui-repo", Key: "main/screen/visible.txt", Body: "hello" }));
    await bad.send(new PutObjectCommand({ Bucket: "ui-repo", Key: "main/screen/denied.txt", Body: "x" })).catch(() => undefined);
    good.destroy();
    bad.destroy();

    const list = await until((t) => t.includes("SignatureDoesNotMatch") && t.includes("ui-repo/main/screen/visible.txt"));
    expect(list).toMatch(/PUT\s+PutObject\s+200/);
    expect(list).toMatch(/requests 2\s+errors 1/);

    // select the failing request (the newest, at the bottom) and open its details
    tmux("send-keys", "-t", session, "Up");
    tmux("send-keys", "-t", session, "Enter");
    const detail = await until((t) => t.includes("canonical request"));
    expect(detail).toContain("auth failed");
    expect(detail).not.toContain("wrong-secret");
    tmux("send-keys", "-t", session, "Escape");

    // filter to failures only
    tmux("send-keys", "-t", session, "/");
    tmux("send-keys", "-t", session, "-l", "status:4xx");
    tmux("send-keys", "-t", session, "Enter");
    const filtered = await until((t) => t.includes("1 of 2") || (t.includes("status:4xx") && !t.includes("visible.txt")));
    expect(filtered).not.toContain("visible.txt");

    tmux("send-keys", "-t", session, "q");
    await untilGone();
  }, 30_000);
});
