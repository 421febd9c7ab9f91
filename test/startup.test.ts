/**
 * What `lakes3 serve` loads before its first answer: start-up time is mostly loading code, so what
 * a HeadBucket does not need (fast-xml-parser, mime-types, chokidar, the terminal UI) loads on
 * first use. The spawned server (the build, as a user runs it) reports each ES module it loads
 * through a loader hook, and at exit each CommonJS module (require.cache). Needs the build: `npm
 * test` builds first. bin/lakes3.js runs the CLI as one script that src/build/bundle.mjs makes, with
 * V8's code cache for it; the build itself fails if a module of the bundle that the CLI imports
 * on first use (the REST API, the admin route's queries, the other commands, fixtures) is also
 * imported at start.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send, type Endpoint } from "./reliability/lib/s3raw.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const BIN = path.join(ROOT, "bin/lakes3.js");
let dir: string;
let preload: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-startup-"));
  preload = path.join(dir, "report-modules.cjs");
  const hook = `export async function load(url, context, next) { const r = await next(url, context); process.stderr.write("loaded " + url + "\\n"); return r; }`;
  await writeFile(
    preload,
    `const { register } = require("node:module");
const { writeSync } = require("node:fs");
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}));
const builtinsBefore = new Set(process.moduleLoadList);
process.on("exit", () => {
  for (const file of Object.keys(require.cache)) writeSync(2, "loaded " + file + "\\n");
  for (const m of process.moduleLoadList) if (m.startsWith("NativeModule ") && !builtinsBefore.has(m)) writeSync(2, "loaded node:" + m.slice(13) + "\\n");
});
`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Start `lakes3 serve`, answer one HeadBucket, run `use` against it, stop it: the modules it loaded. */
async function modulesLoaded(use: (endpoint: string, s3: Endpoint) => Promise<void> = async () => {}): Promise<string[]> {
  const dataDir = await mkdtemp(path.join(dir, "data-"));
  const child = spawn(process.execPath, ["--require", preload, BIN, "serve", "--port", "0", "--data-dir", dataDir, "--repo", "bench", "--no-tui", "--quiet"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise((resolve) => child.once("close", resolve));
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /^lakes3 listening on (\S+)\n/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`lakes3 exited (${code}): ${stderr}`)));
    });
    const s3 = { port: Number(new URL(endpoint).port), region: "us-east-1", accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
    expect((await send(s3, { method: "HEAD", path: "/bench", agent: false })).status).toBe(200);
    await use(endpoint, s3);
  } finally {
    child.kill("SIGTERM");
    await closed;
  }
  return [...stderr.matchAll(/^loaded (.*)$/gm)].map((m) => m[1]!);
}

const LAZY = ["node_modules/fast-xml-parser/", "node_modules/mime-types/", "node_modules/chokidar/", "dist/ui/", "node_modules/ink/"];
/** Node's modules a HeadBucket does not need either (zlib: CRC-32 for range packs and checksums; readline: `inspect requests`). */
const LAZY_BUILTINS = ["node:zlib", "node:readline"];
const loadedOf = (modules: string[]) => LAZY.filter((m) => modules.some((url) => url.includes(m)));

describe("lakes3 serve", () => {
  it("answers a HeadBucket without loading the XML library, mime-types, chokidar, the terminal UI, zlib or readline", async () => {
    const modules = await modulesLoaded();
    expect(modules.some((url) => url.includes("/bin/load.js"))).toBe(true); // the report works
    expect(modules).toContain("node:http"); // and reports Node's modules
    expect(loadedOf(modules)).toEqual([]);
    expect(LAZY_BUILTINS.filter((m) => modules.includes(m))).toEqual([]);
  });

  it("runs the bundled command line (src/build/bundle.mjs) with its code cache, not tsc's modules one by one", async () => {
    const modules = await modulesLoaded();
    expect(modules.filter((url) => url.includes("/dist/"))).toEqual([]);
    // Nor the packages the bundle inlines (commander, level and what level imports), but for
    // classic-level's native binding.
    const inlined = ["commander", "level", "classic-level", "abstract-level", "level-transcoder"];
    const binding = /\/classic-level\/(binding\.js|package\.json|prebuilds\/.*\.node)$/;
    expect(inlined.filter((name) => modules.some((url) => url.includes(`/node_modules/${name}/`) && !binding.test(url)))).toEqual([]);
    // V8 takes the code cache (it does not when made under other V8 flags than a new process has).
    const check = `import { loadCli } from ${JSON.stringify(path.join(ROOT, "bin/load.js"))}; console.log(loadCli().cacheRejected);`;
    const { execFileSync } = await import("node:child_process");
    expect(execFileSync(process.execPath, ["--input-type=module", "-e", check], { encoding: "utf8" }).trim()).toBe("false");
  });

  it("loads each of them when a request needs it", async () => {
    const modules = await modulesLoaded(async (endpoint, s3) => {
      expect((await fetch(`${endpoint}/api/v1/healthcheck`)).status).toBe(204);
      expect((await fetch(`${endpoint}/_lakes3/inspect/summary`)).status).toBe(200);
      // no Content-Type: one by the key's extension
      expect((await send(s3, { method: "PUT", path: "/bench/main/a.csv", body: "x", agent: false })).status).toBe(200);
      expect((await send(s3, { method: "GET", path: "/bench/main/missing", agent: false })).text).toContain("<Code>NoSuchKey</Code>");
    });
    expect(loadedOf(modules)).toEqual(LAZY.filter((m) => m.includes("fast-xml") || m.includes("mime")));
  });
});

describe("lakes3 serve's request log", () => {
  // A client that polls the port while the server starts (as CI fixtures and the benchmark's probe
  // do) gets answers as soon as it listens; those requests must be in requests.log too, also when
  // an existing log takes a while to count.
  it("records the requests it answers from the very first one on", async () => {
    const dataDir = await mkdtemp(path.join(dir, "data-"));
    const old = JSON.stringify({ id: "old", source: "s3", startedAt: 0, method: "GET", bytesIn: 0, bytesOut: 0, done: true, headers: { x: "y".repeat(900) } });
    await writeFile(path.join(dataDir, "requests.log"), `${old}\n`.repeat(9000));
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, "serve", "--port", String(port), "--data-dir", dataDir, "--repo", "bench", "--no-tui", "--quiet"], { cwd: ROOT, stdio: "ignore" });
    const closed = new Promise((resolve) => child.once("close", resolve));
    const s3 = { port, region: "us-east-1", accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
    let first: string | undefined;
    try {
      for (let i = 0; i < 5000 && first === undefined; i++) {
        const res = await send(s3, { method: "HEAD", path: `/bench?probe=${i}`, agent: false }).catch(() => undefined);
        if (res?.status === 200) first = String(res.headers["x-amz-request-id"]);
        else await new Promise((r) => setImmediate(r));
      }
    } finally {
      child.kill("SIGTERM");
      await closed;
    }
    expect(first).toBeDefined();
    const { readFile } = await import("node:fs/promises");
    const ids = (await readFile(path.join(dataDir, "requests.log"), "utf8")).split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toContain(first);
  });
});

async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
