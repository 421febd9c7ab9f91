/** The real CLI, spawned as a user would run it (needs the build: `npm test` builds first). */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = path.resolve(import.meta.dirname, "../bin/lakes3.js");
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-cli-"));
});
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  let stdout = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const firstLine = new Promise<string>((resolve) => {
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes("\n")) resolve(stdout.split("\n")[0]!);
    });
  });
  return { child, exited, firstLine, stderr: () => stderr, stdout: () => stdout };
}

describe("lakes3 serve", () => {
  it("prints the bound URL first, serves /_health, and exits 0 on SIGTERM", async () => {
    const dataDir = path.join(dir, "serve");
    const s = run(["serve", "--port", "0", "--data-dir", dataDir, "--repo", "cli-repo"]);
    const line = await s.firstLine;
    expect(line).toMatch(/^lakes3 listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = line.split(" ").at(-1)!;
    const health = await fetch(`${url}/_health`);
    expect(health.status).toBe(200);
    const unsigned = await fetch(`${url}/cli-repo?list-type=2`);
    expect(unsigned.status).toBe(403);

    // a second server on the same data dir fails with one line naming it
    const second = run(["serve", "--port", "0", "--data-dir", dataDir]);
    expect(await second.exited).toBe(1);
    expect(second.stderr().trim().split("\n")).toHaveLength(1);
    expect(second.stderr()).toContain(dataDir);

    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
  });

  it("reads flags from LAKES3_* environment variables; --ephemeral removes its data dir", async () => {
    const s = run(["serve", "--ephemeral"], { LAKES3_PORT: "0", LAKES3_MODE: "s3" });
    const line = await s.firstLine;
    expect(line).toMatch(/^lakes3 listening on /);
    await new Promise((r) => setTimeout(r, 200));
    const out = s.stdout();
    const dataDir = /data dir\s+(\S+)/.exec(out)?.[1];
    expect(out).toContain("mode          s3");
    expect(dataDir && existsSync(dataDir)).toBe(true);
    s.child.kill("SIGINT");
    expect(await s.exited).toBe(0);
    expect(existsSync(dataDir!)).toBe(false);
  });

  it("fails with one clear line and a non-zero exit on bad input", async () => {
    for (const args of [["serve", "--port", "nope"], ["serve", "--mode", "gcs"], ["serve", "--port", "0", "--repo", "Bad_Repo", "--ephemeral"]]) {
      const s = run(args);
      const code = await s.exited;
      expect(code, args.join(" ")).not.toBe(0);
      expect(s.stderr(), args.join(" ")).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
