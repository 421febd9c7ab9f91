#!/usr/bin/env node
// What the terminal viewer costs (not part of `npm test`): starts the built `lakes3 serve` in a real
// terminal (a detached tmux session) with the viewer and with `--no-tui`, drives small PUTs at a fixed
// rate (open loop: one request every 1000/rate ms, whatever the answers), and reads the server's CPU
// ticks (utime + stime from /proc/<pid>/stat) before and after. Prints per round and the medians, and
// the viewer/--no-tui CPU ratio. Needs tmux and a build (`npm run build`).
//
//   node test/bench/viewer-cpu.mjs [--rounds 3] [-n 2000] [--rate 200] [--size 256]
//                                  [--cols 200] [--rows 60] [--paused] [--profile DIR]
//
// --paused presses `p` in the viewer before the load (the viewer should then draw only its header);
// --profile DIR writes the server's V8 CPU profiles (node --cpu-prof) there.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(HERE, "../../bin/lakes3.js");
const CREDENTIALS = { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

const { values: o } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    n: { type: "string", short: "n", default: "2000" },
    rate: { type: "string", default: "200" },
    size: { type: "string", default: "256" },
    cols: { type: "string", default: "200" },
    rows: { type: "string", default: "60" },
    paused: { type: "boolean", default: false },
    profile: { type: "string" },
  },
});
const rounds = Number(o.rounds);
const total = Number(o.n);
const rate = Number(o.rate);
const body = Buffer.alloc(Number(o.size), "x");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tmux = (...args) => execFileSync("tmux", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function until(check, what, ms = 15_000) {
  const t0 = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function cpuTicks(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
}

async function round(viewer, index) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-viewer-cpu-"));
  const session = `lakes3-cpu-${process.pid}-${index}-${viewer ? "tui" : "plain"}`;
  const ready = path.join(dir, "ready");
  try {
    const flags = `serve --port 0 --data-dir ${dir}/data --repo bench --ready-file ${ready}${viewer ? "" : " --no-tui"}`;
    tmux("new-session", "-d", "-s", session, "-x", o.cols, "-y", o.rows, `${process.execPath}${o.profile ? ` --cpu-prof --cpu-prof-dir=${path.resolve(o.profile)}` : ""} ${BIN} ${flags}`);
    const endpoint = await until(() => readFile(ready, "utf8").catch(() => ""), "the ready file");
    const { pid } = JSON.parse(await until(() => readFile(path.join(dir, "data/server.json"), "utf8").catch(() => ""), "server.json"));
    if (viewer) await until(() => tmux("capture-pane", "-p", "-t", session).includes("requests 0"), "the viewer");
    if (viewer && o.paused) {
      tmux("send-keys", "-t", session, "p");
      await until(() => tmux("capture-pane", "-p", "-t", session).includes("PAUSED"), "PAUSED");
    }
    const client = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, credentials: CREDENTIALS });
    await client.send(new PutObjectCommand({ Bucket: "bench", Key: "main/warm", Body: body })); // connection and signing warm
    const before = await cpuTicks(pid);
    const latencies = [];
    const t0 = performance.now();
    const pending = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const started = performance.now();
      pending.push(client.send(new PutObjectCommand({ Bucket: "bench", Key: `main/load/${i}.txt`, Body: body })).then(() => latencies.push(performance.now() - started)));
    }
    const sentIn = (performance.now() - t0) / 1000;
    await Promise.all(pending);
    const elapsed = (performance.now() - t0) / 1000;
    if (viewer) await sleep(300); // the last frames
    const ticks = (await cpuTicks(pid)) - before;
    client.destroy();
    process.kill(pid, "SIGTERM");
    await until(() => { try { tmux("has-session", "-t", session); return false; } catch { return true; } }, "the server to exit");
    return { ticks, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), achieved: total / elapsed, sentRate: total / sentIn };
  } finally {
    try {
      tmux("kill-session", "-t", session);
    } catch {
      // gone already
    }
    await rm(dir, { recursive: true, force: true });
  }
}

const results = { viewer: [], plain: [] };
for (let r = 0; r < rounds; r++) {
  for (const viewer of [false, true]) {
    const res = await round(viewer, r);
    results[viewer ? "viewer" : "plain"].push(res);
    console.log(
      `round ${r + 1} ${viewer ? (o.paused ? "viewer (paused)" : "viewer") : "--no-tui"}: ${res.ticks} ticks, p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)} ms, ${res.achieved.toFixed(0)} req/s done (sent at ${res.sentRate.toFixed(0)}/s)`,
    );
  }
}
const summary = (xs) => ({ ticks: median(xs.map((x) => x.ticks)), p50: median(xs.map((x) => x.p50)), achieved: median(xs.map((x) => x.achieved)) });
const v = summary(results.viewer);
const p = summary(results.plain);
console.log(`\nmedians over ${rounds} rounds, ${total} PUTs of ${body.length} B at ${rate}/s, ${o.cols}×${o.rows}:`);
console.log(`  --no-tui  ${p.ticks} ticks, p50 ${p.p50.toFixed(1)} ms, ${p.achieved.toFixed(0)} req/s`);
console.log(`  viewer    ${v.ticks} ticks, p50 ${v.p50.toFixed(1)} ms, ${v.achieved.toFixed(0)} req/s${o.paused ? " (paused)" : ""}`);
console.log(`  CPU ratio viewer / --no-tui: ${(v.ticks / p.ticks).toFixed(2)}× (median of the per-round ratios: ${median(results.viewer.map((x, i) => x.ticks / results.plain[i].ticks)).toFixed(2)}×)`);
