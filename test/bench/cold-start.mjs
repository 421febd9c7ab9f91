#!/usr/bin/env node
/**
 * Cold start: spawn `node bin/lakes3.js serve --port 0 --ephemeral --quiet` N times and measure
 * spawn → first 200 from GET /_health (the bound URL is read from the first stdout line); prints
 * the median and p90. With --peers, the same for s3rver (if installed in /work/shared/bench:
 * `npm install` there) and moto (`moto_server`), measured spawn → first HTTP answer on a free port.
 *
 *   node test/bench/cold-start.mjs [--runs 20] [--peers] [--fixtures DIR]
 *
 * Build first (`npm run build`). Runs are sequential; each server is stopped (SIGTERM) before the
 * next starts.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const ROOT = path.resolve(import.meta.dirname, "../..");
const S3RVER = "/work/shared/bench/node_modules/s3rver/bin/s3rver.js";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "20" }, peers: { type: "boolean", default: false }, fixtures: { type: "string" } },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolve with the status of the first HTTP answer at `url`, retrying refused connections. */
async function firstAnswer(url, { want200 = false, deadline = Date.now() + 30_000 } = {}) {
  for (;;) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (!want200 || res.status === 200) return res.status;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no answer from ${url}`);
    await sleep(2);
  }
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

async function lakes3Once() {
  const args = [path.join(ROOT, "bin/lakes3.js"), "serve", "--port", "0", "--ephemeral", "--quiet"];
  if (values.fixtures) args.push("--fixtures", values.fixtures);
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        const m = /^lakes3 listening on (\S+)\n/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once("exit", (code) => reject(new Error(`lakes3 exited with ${code}`)));
    });
    await firstAnswer(`${url}/_health`, { want200: true });
    return performance.now() - t0;
  } finally {
    await stop(child);
  }
}

/** A peer on a fixed free port: spawn → first HTTP answer of any status. */
async function peerOnce(command, args, cwdDir) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(command, args(port), { cwd: cwdDir, stdio: "ignore" });
  try {
    await firstAnswer(`http://127.0.0.1:${port}/`);
    return performance.now() - t0;
  } finally {
    await stop(child);
  }
}

function summary(name, samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const f = (v) => `${v.toFixed(0)} ms`;
  console.log(`${name.padEnd(8)} median ${f(median).padStart(8)}   p90 ${f(at(0.9)).padStart(8)}   min ${f(sorted[0]).padStart(8)}   max ${f(sorted.at(-1)).padStart(8)}   (${samples.length} runs)`);
}

async function measure(name, once) {
  await once(); // warm the file cache once; not counted
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await once());
  summary(name, samples);
}

if (!existsSync(path.join(ROOT, "dist/cli/main.js"))) throw new Error("build first: npm run build");
console.log(`cold start, spawn → first 200 from /_health (peers: first HTTP answer), node ${process.version}, ${os.cpus().length} CPUs`);
await measure("lakes3", lakes3Once);

if (values.peers) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "lakes3-cold-start-"));
  try {
    if (existsSync(S3RVER)) {
      await measure("s3rver", () => peerOnce(process.execPath, (port) => [S3RVER, "-d", tmp, "-p", String(port), "-a", "127.0.0.1", "--silent"], tmp));
    } else {
      console.log(`s3rver   skipped: not installed (${S3RVER}; run npm install in /work/shared/bench)`);
    }
    if (spawnSync("moto_server", ["--help"], { stdio: "ignore" }).status === 0) {
      await measure("moto", () => peerOnce("moto_server", (port) => ["-H", "127.0.0.1", "-p", String(port)], tmp));
    } else {
      console.log("moto     skipped: moto_server not found");
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
