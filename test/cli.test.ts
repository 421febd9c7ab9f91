/** The real CLI, spawned as a user would run it (needs the build: `npm test` builds first). */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers/wait.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const BIN = path.join(ROOT, "bin/lakes3.js");
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
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  // "close", not "exit": stdout and stderr are complete when it resolves
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
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

/**
 * Servers whose parent a test killed are nobody's children: find them by the server.json they
 * keep in their (ephemeral) data dirs under `tmp`, and kill what is left (also when a test failed).
 */
const orphanDirs: string[] = [];
afterAll(async () => {
  for (const tmp of orphanDirs) {
    for (const name of await readdir(tmp).catch(() => [] as string[])) {
      const info = await readFile(path.join(tmp, name, "server.json"), "utf8").catch(() => undefined);
      if (!info) continue;
      try {
        process.kill((JSON.parse(info) as { pid: number }).pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
});

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
    await waitFor(() => /data dir\s+\S+/.test(s.stdout()), { message: "the banner's data dir line" });
    const out = s.stdout();
    const dataDir = /data dir\s+(\S+)/.exec(out)?.[1];
    expect(out).toContain("mode          s3");
    expect(dataDir && existsSync(dataDir)).toBe(true);
    s.child.kill("SIGINT");
    expect(await s.exited).toBe(0);
    expect(existsSync(dataDir!)).toBe(false);
  });

  it("fails with one clear line and a non-zero exit on bad input", async () => {
    const tmp = path.join(dir, "tmp-bad-input");
    await mkdir(tmp);
    const cases: [string[], number, RegExp][] = [
      [["serve", "--port", "nope"], 2, /--port.*'nope' is invalid/],
      [["serve", "--mode", "gcs"], 2, /--mode.*'gcs' is invalid.*lakefs, s3/],
      [["serve", "--port", "0", "--repo", "Bad_Repo", "--ephemeral"], 1, /^lakes3: invalid repository name "Bad_Repo"/],
    ];
    for (const [args, exitCode, says] of cases) {
      const s = run(args, { TMPDIR: tmp });
      const code = await s.exited;
      expect(code, args.join(" ")).toBe(exitCode);
      const lines = s.stderr().trim().split("\n");
      expect(lines, args.join(" ")).toHaveLength(1); // one line, so no stack trace either
      expect(lines[0], args.join(" ")).toMatch(says);
      expect(s.stdout(), args.join(" ")).not.toMatch(/listening/);
    }
    expect(await readdir(tmp)).toEqual([]); // no ephemeral dir left behind
  });
});

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("lakes3 serve for CI: fixtures, ready file, health", () => {
  it("loads --fixtures, writes --ready-file, passes `lakes3 health`, and cleans up on SIGTERM", async () => {
    const readyFile = path.join(dir, "ready-url");
    const s = run(["serve", "--port", "0", "--ephemeral", "--fixtures", "fixtures", "--ready-file", readyFile]);
    const line = await s.firstLine;
    expect(line).toMatch(/^lakes3 listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = line.split(" ").at(-1)!;

    const probe = run(["health", "--url", url, "--timeout", "10000"]);
    expect(await probe.exited).toBe(0);
    expect((await fetch(`${url}/_health`)).status).toBe(200);
    expect(await readFile(readyFile, "utf8")).toBe(url);

    const s3 = new S3Client({
      endpoint: url,
      region: "us-east-1",
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
    });
    const res = await s3.send(new GetObjectCommand({ Bucket: "sample-repo", Key: "main/config/pipeline.json" }));
    expect(await res.Body!.transformToString()).toBe(await readFile(path.join(ROOT, "fixtures/sample-repo/main/config/pipeline.json"), "utf8"));
    s3.destroy();
    // the request log shows the fixture loads
    expect(s.stdout()).toMatch(/FixtureLoad\s+sample-repo\/main\/config\/pipeline\.json/);

    const dataDir = /data dir\s+(\S+)/.exec(s.stdout())?.[1];
    expect(dataDir && existsSync(dataDir)).toBe(true);
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    expect(existsSync(dataDir!)).toBe(false);
    expect(existsSync(readyFile)).toBe(false);
  });

  it("`lakes3 health` exits 1 with one line when nothing answers, and waits with --timeout", async () => {
    const port = await freePort();
    const down = run(["health", "--url", `http://127.0.0.1:${port}`]);
    expect(await down.exited).toBe(1);
    expect(down.stderr().trim().split("\n")).toHaveLength(1);
    expect(down.stderr()).toMatch(/^lakes3: health: http:\/\/127\.0\.0\.1:\d+\/_health: ECONNREFUSED/);

    const waiting = run(["health", "--url", `http://127.0.0.1:${port}/`, "--timeout", "20000"]);
    // Not a synchronisation: the scenario is a server that comes up while the waiter is already retrying.
    await new Promise((r) => setTimeout(r, 300));
    expect(waiting.child.exitCode).toBeNull();
    const s = run(["serve", "--port", String(port), "--ephemeral", "--quiet"], { LAKES3_FIXTURES: "fixtures" });
    expect(await waiting.exited).toBe(0);
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
  });

  it("reports bad fixture paths on stderr, one line each, and keeps serving; a missing dir is fatal", async () => {
    const fx = path.join(dir, "bad-fixtures");
    await mkdir(path.join(fx, "Bad_Repo/main"), { recursive: true });
    await writeFile(path.join(fx, "Bad_Repo/main/a.csv"), "x");
    await writeFile(path.join(fx, "stray.txt"), "x");
    const readyFile = path.join(dir, "ready-bad");
    const s = run(["serve", "--port", "0", "--ephemeral", "--quiet", "--fixtures", fx], { LAKES3_READY_FILE: readyFile });
    const url = (await s.firstLine).split(" ").at(-1)!;
    const probe = run(["health", "--url", url, "--timeout", "10000"]);
    expect(await probe.exited).toBe(0);
    expect(await readFile(readyFile, "utf8")).toBe(url);
    expect(s.stderr().trim().split("\n").sort()).toEqual([
      expect.stringMatching(/^lakes3: fixtures: skipping Bad_Repo\/: invalid repository name/),
      expect.stringMatching(/^lakes3: fixtures: skipping stray\.txt: files go in/),
    ]);
    expect(s.stdout().trim()).toBe(`lakes3 listening on ${url}`); // --quiet: only the first line
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);

    const missing = run(["serve", "--port", "0", "--ephemeral", "--fixtures", path.join(dir, "nope")]);
    expect(await missing.exited).toBe(1);
    expect(missing.stderr().trim()).toMatch(/^lakes3: fixtures directory .*nope does not exist$/);
  });
});

describe("the first ten minutes (issue 15)", () => {
  it("boolean env vars take true/false/1/0/yes/no; anything else is one clear error", async () => {
    // LAKES3_EPHEMERAL=false with a data dir keeps the data dir (and does not delete it on exit).
    const kept = path.join(dir, "kept");
    const s = run(["serve", "--port", "0", "--no-tui", "--data-dir", kept], { LAKES3_EPHEMERAL: "false", LAKES3_QUIET: "0" });
    const url = (await s.firstLine).split(" ").at(-1)!;
    expect((await fetch(`${url}/_health`)).status).toBe(200);
    await waitFor(() => s.stdout().includes("data dir"), { message: "the non-quiet banner" });
    expect(s.stdout()).toContain(`data dir      ${kept}\n`);
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    expect(existsSync(path.join(kept, "metadata"))).toBe(true);

    const bad = run(["serve", "--port", "0", "--no-tui", "--data-dir", path.join(dir, "bad")], { LAKES3_EPHEMERAL: "flase" });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toBe('lakes3: LAKES3_EPHEMERAL="flase": expected true or false (or 1/0, yes/no)\n');
  });

  it("--ephemeral with --data-dir is refused with one line", async () => {
    const r = run(["serve", "--port", "0", "--ephemeral", "--data-dir", path.join(dir, "both")]);
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toBe("lakes3: --ephemeral uses a temporary data dir, --data-dir (or LAKES3_DATA_DIR) names one: choose one\n");
    expect(existsSync(path.join(dir, "both"))).toBe(false);
  });

  it("a stale ready file is removed before binding; a ready file that cannot be written removes the ephemeral dir", async () => {
    const ready = path.join(dir, "stale-ready");
    await writeFile(ready, "http://127.0.0.1:1");
    const s = run(["serve", "--port", "0", "--no-tui", "--quiet", "--ephemeral", "--ready-file", ready]);
    const url = (await s.firstLine).split(" ").at(-1)!;
    // From the first line on, the ready file is either absent or this server's URL.
    const seen = existsSync(ready) ? await readFile(ready, "utf8") : "";
    expect(["", url]).toContain(seen);
    await waitFor(async () => existsSync(ready) && (await readFile(ready, "utf8")) === url, { message: "the ready file" });
    s.child.kill("SIGTERM");
    await s.exited;

    // The server's temporary dirs go into a TMPDIR of the test's own, so nothing else running on
    // the machine can be mistaken for a leftover.
    const tmp = await mkdtemp(path.join(dir, "tmp-"));
    const bad = run(["serve", "--port", "0", "--no-tui", "--quiet", "--ephemeral", "--ready-file", path.join(dir, "missing-dir", "url")], { TMPDIR: tmp });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toMatch(/^lakes3: cannot write ready file .*missing-dir\/url: /);
    expect(await readdir(tmp), "the ephemeral data dir was left behind").toEqual([]);
  });

  it("a closed pipe is not a crash: `inspect requests | head -1` exits 0, `serve | head -1` stops cleanly", async () => {
    const dataDir = path.join(dir, "epipe");
    const s = run(["serve", "--port", "0", "--no-tui", "--data-dir", dataDir]);
    const url = (await s.firstLine).split(" ").at(-1)!;
    for (let i = 0; i < 20; i++) await fetch(`${url}/_health`);
    s.child.kill("SIGTERM");
    await s.exited;
    const { spawnSync } = await import("node:child_process");
    const piped = spawnSync("bash", ["-c", `"${process.execPath}" "${BIN}" inspect requests --data-dir "${dataDir}" | head -c 1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: "utf8" });
    expect(piped.stdout.trim()).toBe("0");
    expect(piped.stderr).not.toMatch(/EPIPE|Error/);

    // `serve | head -1`: once head has gone, the next line the server prints (here: the log line
    // of a request) finds the pipe closed, and the server stops cleanly. Requests are sent until
    // it does, since head may still be reading when the banner goes out.
    const tmp = await mkdtemp(path.join(dir, "tmp-"));
    orphanDirs.push(tmp);
    const pipeline = spawn("bash", ["-c", `"${process.execPath}" "${BIN}" serve --port 0 --no-tui --ephemeral 2>"${tmp}/../serve-stderr" | head -1`], { env: { ...process.env, TMPDIR: tmp }, stdio: ["ignore", "pipe", "pipe"] });
    children.push(pipeline);
    let first = "";
    pipeline.stdout!.on("data", (d: Buffer) => (first += d.toString()));
    const exited = new Promise<number | null>((resolve) => pipeline.once("close", (code) => resolve(code)));
    const servedUrl = await waitFor(() => /^lakes3 listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(first)?.[1], { message: "the first line" });
    await waitFor(async () => (await fetch(`${servedUrl}/_health`).then(() => "up", () => "down")) === "down", { message: "the server to stop", intervalMs: 100 });
    expect(await exited).toBe(0);
    expect(first).toMatch(/^lakes3 listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    expect(await readFile(path.join(tmp, "..", "serve-stderr"), "utf8")).not.toMatch(/EPIPE|Error/);
    await waitFor(async () => (await readdir(tmp)).length === 0, { message: "the ephemeral dir to go" });
  });

  it("`lakes3 health --url` takes host:port as well as a URL", async () => {
    const s = run(["serve", "--port", "0", "--no-tui", "--quiet", "--ephemeral"]);
    const url = (await s.firstLine).split(" ").at(-1)!;
    const hostPort = url.replace("http://", "");
    const h = run(["health", "--url", hostPort]);
    expect(await h.exited, h.stderr()).toBe(0);
    s.child.kill("SIGTERM");
    await s.exited;
  });
});

describe("startServer (issue 15)", () => {
  it("defaults to a temporary data dir, refuses unknown options, and speaks the API's language", async () => {
    const { startServer } = await import("../dist/index.js");
    // (A README `lakes3 serve` in this checkout may have made ./.lakes3 already: only a new one counts.)
    const hadDefaultDir = existsSync(path.join(ROOT, ".lakes3"));
    const server = await startServer({ port: 0 });
    try {
      expect(server.dataDir.startsWith(os.tmpdir())).toBe(true);
      expect(existsSync(path.join(ROOT, ".lakes3"))).toBe(hadDefaultDir);
      const busy = await startServer({ port: server.port }).catch((e: Error) => e);
      expect((busy as Error).message).toMatch(/port \d+ is already in use on 127\.0\.0\.1 \(pick another, or port 0 for any free one\)/);
    } finally {
      await server.close();
    }
    expect(existsSync(server.dataDir)).toBe(false);
    await expect(startServer({ port: 0, prot: 1 } as never)).rejects.toThrow(/startServer: unknown option "prot"/);
  });
});

describe("`npx lakes3 serve &` in a script (issue 15)", () => {
  it("under npm exec, the server stops cleanly when its parent is killed: port, ready file and ephemeral dir go", async () => {
    const tmp = await mkdtemp(path.join(dir, "tmp-"));
    orphanDirs.push(tmp);
    const ready = path.join(dir, "npx-ready");
    // A stand-in for npm exec: a shell that runs lakes3 and is then killed, as `kill $!` kills npm.
    const parent = spawn("sh", ["-c", `"${process.execPath}" "${BIN}" serve --port 0 --no-tui --quiet --ephemeral --ready-file "${ready}"; sleep 60`], {
      env: { ...process.env, npm_command: "exec", TMPDIR: tmp },
      stdio: "ignore",
    });
    children.push(parent);
    const url = await waitFor(async () => existsSync(ready) && (await readFile(ready, "utf8")), { message: "the ready file" });
    expect((await fetch(`${url}/_health`)).status).toBe(200);
    parent.kill("SIGKILL");
    await waitFor(() => !existsSync(ready), { message: "the ready file to be removed" });
    await waitFor(async () => (await readdir(tmp)).length === 0, { message: "the ephemeral dir to go" });
    await waitFor(async () => (await fetch(`${url}/_health`).then(() => "up", () => "down")) === "down", { message: "the port to be released" });
  });
});
