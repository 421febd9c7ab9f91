/**
 * The published package, as a consumer gets it: `npm pack` the project (the build must exist:
 * `npm test` builds first), install the tarball into a fresh temporary project, then import
 * `lakes3` from an ESM script (start on port 0, put/get with @aws-sdk/client-s3, close), type-check
 * a TypeScript consumer against the shipped declarations, and run `npx lakes3 serve` from a shell.
 * Skipped, with the reason printed, when npm is not available.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REQUIRE_CLIENTS } from "./helpers/tools.js";
import { waitFor } from "./helpers/wait.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const run = promisify(execFile);
const npmVersion = spawnSync("npm", ["--version"], { encoding: "utf8" });
const npmMissing = npmVersion.status !== 0 ? `npm is not available (${npmVersion.error?.message ?? npmVersion.stderr.trim()})` : undefined;
if (npmMissing && REQUIRE_CLIENTS) throw new Error(`package.test.ts: npm is required (LAKES3_REQUIRE_CLIENTS=1): ${npmMissing}`);
if (npmMissing) console.warn(`package.test.ts skipped: ${npmMissing}`);

let tmp: string;
let app: string;
const children: ChildProcess[] = [];

let packedFiles: string[] = [];

// Pack and install once for the whole file, so every test below runs alone and in any order.
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "lakes3-package-"));
  app = path.join(tmp, "app");
  if (npmMissing) return;
  expect(existsSync(path.join(ROOT, "dist/index.js")), "build first (npm test does)").toBe(true);
  // --ignore-scripts: never rebuild dist/ under the other test files that import it
  const { stdout } = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], { cwd: ROOT });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  packedFiles = packed!.files.map((f) => f.path);
  await mkdir(app);
  await writeFile(path.join(app, "package.json"), JSON.stringify({ name: "lakes3-consumer", private: true, type: "module" }));
  await run("npm", ["install", path.join(tmp, packed!.filename), "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: app, timeout: 230_000 });
}, 240_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) killGroup(c, "SIGKILL");
  await rm(tmp, { recursive: true, force: true });
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

describe.skipIf(npmMissing !== undefined)("npm package", () => {
  it("packs the right files and installs into a fresh project", () => {
    for (const f of ["package.json", "README.md", "bin/lakes3.js", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "dist/server/lifecycle.js", "dist/fixtures/fixtures.js", "bin/load.js", "bin/package.json", "dist/bundle/cli.cjs", "dist/bundle/cli.cjs.cache", "dist/ui/render.js"]) {
      expect(packedFiles, f).toContain(f);
    }
    expect(packedFiles.filter((f) => /^(src|test|fixtures|node_modules)\//.test(f))).toEqual([]);
    expect(existsSync(path.join(app, "node_modules/lakes3/dist/index.js"))).toBe(true);
  });

  it("imports lakes3 from an ESM script: start on port 0, put/get an object, close", async () => {
    const s3Client = createRequire(path.join(ROOT, "package.json")).resolve("@aws-sdk/client-s3");
    await writeFile(
      path.join(app, "check.mjs"),
      `import { startServer } from "lakes3";
const { S3Client, PutObjectCommand, GetObjectCommand } = await import(${JSON.stringify(s3Client)});
const server = await startServer({ port: 0, ephemeral: true, repos: ["pkg-repo"] });
const s3 = new S3Client(server.s3ClientConfig);
const put = await s3.send(new PutObjectCommand({ Bucket: "pkg-repo", Key: "main/hello.txt", Body: "hello from a consumer" }));
const got = await s3.send(new GetObjectCommand({ Bucket: "pkg-repo", Key: "main/hello.txt" }));
console.log(JSON.stringify({ port: server.port, etag: put.ETag, body: await got.Body.transformToString() }));
s3.destroy();
await server.close();
`,
    );
    const { stdout } = await run(process.execPath, ["check.mjs"], { cwd: app, timeout: 30_000 });
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as { port: number; etag: string; body: string };
    expect(result.port).toBeGreaterThan(0);
    expect(result.etag).toBe(`"${createHash("md5").update("hello from a consumer").digest("hex")}"`);
    expect(result.body).toBe("hello from a consumer");
  }, 60_000);

  it("ships type declarations a strict TypeScript consumer compiles against", async () => {
    await writeFile(
      path.join(app, "check.ts"),
      `import { startServer, RequestLog, type LakeS3Server, type StartOptions, type RequestEvent, type Mode } from "lakes3";
const options: StartOptions = { port: 0, ephemeral: true, fixtures: "fixtures", repos: ["a-repo"], mode: "lakefs" satisfies Mode, onWarning: (m: string) => console.warn(m) };
const server: LakeS3Server = await startServer(options);
const config: { endpoint: string; region: string; forcePathStyle: true } = server.s3ClientConfig;
server.log.subscribe((e: RequestEvent) => e.source === "fixture");
void [config, new RequestLog(), server.reset, server.close];
`,
    );
    const tsc = path.join(ROOT, "node_modules/typescript/bin/tsc");
    const args = ["--noEmit", "--strict", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext", "--skipLibCheck", "--typeRoots", path.join(ROOT, "node_modules/@types"), "--types", "node", "check.ts"];
    const result = await run(process.execPath, [tsc, ...args], { cwd: app }).then(
      (r) => ({ ok: true, output: r.stdout + r.stderr }),
      (err: { stdout: string; stderr: string }) => ({ ok: false, output: err.stdout + err.stderr }),
    );
    expect(result).toEqual({ ok: true, output: "" });
  }, 60_000);

  it("runs `npx lakes3 serve --port 0 --ephemeral` from a shell and stops it", async () => {
    const child = spawn("sh", ["-c", "npx --no-install lakes3 serve --port 0 --ephemeral --no-tui"], { cwd: app, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const dataDir = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => {
        stdout += d.toString();
        const m = /data dir\s+(\S+)/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      child.once("exit", () => reject(new Error(`exited early: ${stderr}`)));
    });
    const url = /^lakes3 listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout.split("\n")[0]!)?.[1];
    expect(url, stdout).toBeDefined();
    expect((await fetch(`${url}/_health`)).status).toBe(200);
    expect(existsSync(dataDir)).toBe(true);
    killGroup(child, "SIGTERM");
    await exited;
    // the wrapper shell may exit before lakes3 has removed its ephemeral dir
    await waitFor(() => !existsSync(dataDir), { timeoutMs: 5000, message: `the ephemeral data dir ${dataDir} to be removed` });
  }, 60_000);
});
