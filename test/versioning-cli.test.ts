/**
 * The versioning workflow from the shell (issue 15, item 4), the real CLI: tag, merge,
 * cherry-pick, branch delete/reset/revert and show, against a running server (`--url`, and found
 * through the data dir) and with no server at all (one started in-process for the command).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, killAll, spawnServer, type SpawnedServer } from "./reliability/lib/cli.js";
import { send, type Endpoint } from "./reliability/lib/s3raw.js";

const REPO = "vc-repo";
const KEYS = { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
let dir: string;
let dataDir: string;
let server: SpawnedServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-vcli-"));
  dataDir = path.join(dir, "data");
});
afterAll(async () => {
  await server?.kill();
  killAll();
  await rm(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, LAKES3_URL: "" } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const ok = async (...args: string[]) => {
  const r = await cli(...args);
  expect(r.code, `lakes3 ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};

describe("lakes3 tag / merge / cherry-pick / branch delete|reset|revert / show", () => {
  it("runs lakeFS's workflow against a running server, by --url and through the data dir", async () => {
    server = await spawnServer(["--data-dir", dataDir, "--repo", REPO, "--quiet"]);
    const ep: Endpoint = { port: server.port, region: "us-east-1", ...KEYS };
    const put = async (key: string, body: string) => expect((await send(ep, { method: "PUT", path: `/${REPO}/${key}`, body })).status).toBe(200);
    const get = async (key: string) => send(ep, { method: "GET", path: `/${REPO}/${key}` });
    const url = ["--url", server.url];

    await ok("branch", "create", `${REPO}/dev`, "--source", "main", "--data-dir", dataDir);
    await put("dev/a.csv", "a1");
    await ok("commit", `${REPO}/dev`, "-m", "add a", "--data-dir", dataDir);
    expect(await ok("tag", "create", `${REPO}/v1`, "dev", ...url)).toMatch(/^created tag v1 at [0-9a-f]{64}$/);
    expect(await ok("tag", "list", REPO, ...url)).toMatch(/^v1 +[0-9a-f]{64}$/);
    expect(await ok("show", `${REPO}/v1`, ...url)).toMatch(/^commit [0-9a-f]{64}\nDate: .*\n[\s\S]*\n    add a$/);

    expect(await ok("merge", `${REPO}/dev`, `${REPO}/main`, "-m", "bring a", ...url)).toMatch(/^merged dev into main: [0-9a-f]{64}$/);
    expect((await get("main/a.csv")).text).toBe("a1");

    await put("dev/b.csv", "b1");
    await ok("commit", `${REPO}/dev`, "-m", "add b", "--data-dir", dataDir);
    expect(await ok("cherry-pick", `${REPO}/dev`, `${REPO}/main`, "--data-dir", dataDir)).toMatch(/^cherry-picked dev onto main: [0-9a-f]{64}$/);
    expect((await get("main/b.csv")).text).toBe("b1");

    expect(await ok("branch", "revert", `${REPO}/main`, "main", ...url)).toMatch(/^reverted main on main: [0-9a-f]{64}$/);
    expect((await get("main/b.csv")).status).toBe(404);

    await put("dev/scratch/x", "x");
    await put("dev/keep", "k");
    await ok("branch", "reset", `${REPO}/dev`, "--prefix", "scratch/", ...url);
    expect((await get("dev/scratch/x")).status).toBe(404);
    expect((await get("dev/keep")).status).toBe(200);

    const json = JSON.parse(await ok("show", `${REPO}/main`, "--json", ...url)) as { id: string; message: string };
    expect(json.message).toMatch(/^Revert /);
    await ok("tag", "delete", `${REPO}/v1`, ...url);
    await ok("branch", "delete", `${REPO}/dev`, ...url);
    expect((await get("dev/keep")).status).toBe(404);

    // lakeFS's errors, one line, non-zero
    const missing = await cli("tag", "delete", `${REPO}/nope`, ...url);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/^lakes3: .*\(HTTP 404\)$/m);
    expect(await server.stop()).toBe(0);
    server = undefined;
  });

  it("works with no server running: one is started in-process on the data dir for the command", async () => {
    const offline = path.join(dir, "offline");
    await ok("repo", "create", REPO, "--data-dir", offline);
    expect(await ok("tag", "create", `${REPO}/offline`, "main", "--data-dir", offline)).toMatch(/^created tag offline at /);
    expect(await ok("tag", "list", REPO, "--data-dir", offline)).toMatch(/^offline +[0-9a-f]{64}$/);
    expect(await ok("show", `${REPO}/offline`, "--data-dir", offline)).toMatch(/^commit [0-9a-f]{64}/);
    const none = await cli("tag", "list", REPO, "--data-dir", path.join(dir, "nothing-here"));
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^lakes3: no lakes3 data in .*nothing-here \(pass --data-dir, or --url of a running server\)\n$/);
  });

  it("repo, branch, commit, log and diff take --url (or LAKES3_URL) too", async () => {
    server = await spawnServer(["--data-dir", path.join(dir, "elsewhere"), "--repo", "url-repo", "--quiet"]);
    const url = ["--url", server.url.replace("http://", "")];
    expect(await ok("repo", "list", ...url)).toMatch(/^url-repo +main/);
    await ok("branch", "create", "url-repo/dev", "--source", "main", ...url);
    expect(await ok("branch", "list", "url-repo", ...url)).toMatch(/^dev /m);
    const ep: Endpoint = { port: server.port, region: "us-east-1", ...KEYS };
    expect((await send(ep, { method: "PUT", path: "/url-repo/dev/x", body: "x" })).status).toBe(200);
    expect(await ok("commit", "url-repo/dev", "-m", "x", ...url)).toMatch(/^committed [0-9a-f]{64} on dev: x$/);
    expect(await ok("log", "url-repo/dev", "-n", "1", ...url)).toMatch(/^commit [0-9a-f]{64}/);
    expect(await ok("diff", "url-repo/main", "url-repo/dev", ...url)).toContain("x");
    expect(await server.stop()).toBe(0);
    server = undefined;
  });

  it("every command has --help with an example", async () => {
    for (const cmd of [["repo", "create"], ["repo", "list"], ["branch", "create"], ["branch", "list"], ["commit"], ["log"], ["diff"], ["tag", "create"], ["tag", "list"], ["tag", "delete"], ["branch", "delete"], ["branch", "reset"], ["branch", "revert"], ["merge"], ["cherry-pick"], ["show"]]) {
      expect(await ok(...cmd, "--help"), cmd.join(" ")).toMatch(/\nExample:\n  lakes3 /);
    }
  });
});
