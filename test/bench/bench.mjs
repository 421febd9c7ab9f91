#!/usr/bin/env node
// lakes3 benchmark (`npm run bench`; not part of `npm test`). Starts the built server
// (`node bin/lakes3.js serve`) fresh per round and measures, over loopback:
//   cold start (spawn → /_health 200), small-object PUT/GET/HEAD ops/s (4 KiB, concurrency 16, raw
//   keep-alive http with SigV4), a 1 GiB streamed PUT and GET (MB/s, peak server RSS from
//   /proc/PID/status VmHWM and sampled VmRSS), multipart upload throughput, ListObjectsV2 pages over
//   100k keys (ms/page; the keys are seeded once per run), and restart time with those keys.
// With --ceiling the same small/large workloads also run against a bare Node http server that
// stores bodies in files (no auth, no metadata: the ceiling for any Node S3 server), in the same
// run, and ratios are printed. Medians over --rounds.
//
//   npm run bench -- [--rounds 3] [-n 2000] [-c 16] [--size 4096] [--large-mb 1024]
//                    [--mp-mb 256] [--mp-part-mb 16] [--mp-concurrency 4] [--list-keys 100000]
//                    [--workloads small,large,multipart,list] [--ceiling] [--json FILE]
//                    [--list-cache DIR] (default: $TMPDIR/lakes3-bench-list-<keys>, kept for the next run)
//                    [--profile DIR]   (node --cpu-prof on the server; prints its hot spots)
//                    [--scale N] [--scale-cache DIR]   (only the scale workload, see scaleRound)
//
// --scale N: N committed objects on one branch in a two-level layout (main/d0000/f000000 …; 1M is
// 1000 × 1000), populated in-process through the catalog once and kept in --scale-cache (default
// $TMPDIR/lakes3-bench-scale-N). A run works on a copy of it (the rounds' commits would otherwise
// age the data set from run to run, and grow it by a range pack each). Each round restarts the
// server on the copy and measures: restart to
// first answer, HEAD and GET ops/s (c=16, random keys), a ListObjectsV2 page without delimiter
// (random start-after) p50, with delimiter `/` at the branch root p50, the same from a random
// start-after p99, a commit of 1000 scattered overwrites (through the REST API), and server RSS.
import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import fs from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureScaleData, scaleLayout } from "./scale-data.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(HERE, "../../bin/lakes3.js");
const MIB = 1024 * 1024;
const AK = "AKIAIOSFOLQUICKSTART";
const SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION = "us-east-1";
const BUCKET = "bench";

// ---- the ceiling: a bare http server that stores bodies in files ------------------------------

function serveCeiling(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const file = (url) => path.join(dir, createHash("sha1").update(url.split("?")[0]).digest("hex"));
  const server = http.createServer((req, res) => {
    if (req.method === "PUT") {
      const w = fs.createWriteStream(file(req.url));
      req.pipe(w);
      w.on("finish", () => {
        res.setHeader("ETag", '"x"');
        res.end();
      });
      return;
    }
    if (req.url === "/_health") return res.end("ok");
    const f = file(req.url);
    fs.stat(f, (err, st) => {
      if (err) {
        res.statusCode = 404;
        return res.end();
      }
      res.setHeader("Content-Length", st.size);
      if (req.method === "HEAD") return res.end();
      fs.createReadStream(f).pipe(res);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, "127.0.0.1", () => console.log(`ceiling listening on http://127.0.0.1:${server.address().port}`));
}

// ---- options ---------------------------------------------------------------------------------

function options() {
  const { values: a } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      n: { type: "string", short: "n", default: "2000" },
      c: { type: "string", short: "c", default: "16" },
      size: { type: "string", default: "4096" },
      "large-mb": { type: "string", default: "1024" },
      "mp-mb": { type: "string", default: "256" },
      "mp-part-mb": { type: "string", default: "16" },
      "mp-concurrency": { type: "string", default: "4" },
      "list-keys": { type: "string", default: "100000" },
      "seed-concurrency": { type: "string", default: "128" },
      "list-cache": { type: "string" },
      workloads: { type: "string", default: "small,large,multipart,list" },
      ceiling: { type: "boolean", default: false },
      json: { type: "string" },
      profile: { type: "string" },
      scale: { type: "string" },
      "scale-cache": { type: "string" },
    },
  });
  return {
    rounds: +a.rounds,
    n: +a.n,
    c: +a.c,
    size: +a.size,
    largeBytes: +a["large-mb"] * MIB,
    mpBytes: +a["mp-mb"] * MIB,
    mpPart: +a["mp-part-mb"] * MIB,
    mpConcurrency: +a["mp-concurrency"],
    listKeys: +a["list-keys"],
    seedConcurrency: +a["seed-concurrency"],
    listCache: a["list-cache"] && path.resolve(a["list-cache"]),
    workloads: new Set(a.workloads.split(",")),
    ceiling: a.ceiling,
    json: a.json,
    profile: a.profile && path.resolve(a.profile),
    scale: a.scale === undefined ? undefined : +a.scale,
    scaleCache: a["scale-cache"] && path.resolve(a["scale-cache"]),
  };
}

// ---- SigV4 (header auth, UNSIGNED-PAYLOAD) ----------------------------------------------------

const hmac = (k, s) => createHmac("sha256", k).update(s).digest();
const sha256 = (s) => createHash("sha256").update(s).digest("hex");
const keyCache = new Map();
function signingKey(day) {
  if (!keyCache.has(day)) keyCache.set(day, hmac(hmac(hmac(hmac("AWS4" + SK, day), REGION), "s3"), "aws4_request"));
  return keyCache.get(day);
}
/** SigV4 URI encoding; `/` kept unless `encodeSlash`. */
function enc(s, encodeSlash) {
  const e = encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  return encodeSlash ? e : e.replace(/%2F/g, "/");
}

/** Headers for a request; `query` is an object of decoded params. */
function sign(method, host, key, query = {}, extra = {}) {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
  const day = now.slice(0, 8);
  const canonicalPath = `/${BUCKET}${key ? "/" + enc(key, false) : ""}`;
  const qs = Object.keys(query)
    .sort()
    .map((k) => `${enc(k, true)}=${enc(String(query[k]), true)}`)
    .join("&");
  const headers = { host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": now, ...extra };
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const creq = [method, canonicalPath, qs, names.map((n) => `${n}:${lower[n].trim()}\n`).join(""), names.join(";"), "UNSIGNED-PAYLOAD"].join("\n");
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const sig = hmac(signingKey(day), `AWS4-HMAC-SHA256\n${now}\n${scope}\n${sha256(creq)}`).toString("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${AK}/${scope}, SignedHeaders=${names.join(";")}, Signature=${sig}`;
  return { path: canonicalPath + (qs ? "?" + qs : ""), headers };
}

// ---- client ------------------------------------------------------------------------------------

function client(url) {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  /** One request; resolves { status, bytes, text? }. `body` may be a Buffer or a Readable. */
  function request(method, key, { body, query, headers = {}, keepText = false } = {}) {
    const s = sign(method, u.host, key, query, headers);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, method, path: s.path, headers: s.headers, agent }, (res) => {
        let bytes = 0;
        const chunks = [];
        res.on("data", (d) => {
          bytes += d.length;
          if (keepText) chunks.push(d);
        });
        res.on("end", () => resolve({ status: res.statusCode, bytes, headers: res.headers, text: keepText ? Buffer.concat(chunks).toString() : "" }));
        res.on("error", reject);
      });
      req.on("error", reject);
      if (body instanceof Readable) body.pipe(req);
      else req.end(body);
    });
  }
  /** A lakeFS REST API call (HTTP Basic), JSON in and out. */
  function api(method, apiPath, json) {
    const body = json === undefined ? undefined : JSON.stringify(json);
    const headers = { authorization: "Basic " + Buffer.from(`${AK}:${SK}`).toString("base64"), ...(body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {}) };
    return new Promise((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, method, path: `/api/v1${apiPath}`, headers, agent }, (res) => {
        const chunks = [];
        res.on("data", (d) => chunks.push(d));
        res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  }
  return { request, api, close: () => agent.destroy() };
}

async function pool(total, concurrency, fn) {
  const latencies = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        try {
          const r = await fn(i);
          if (r.status >= 300) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((x, y) => x - y);
  return { opsPerSec: total / seconds, p50: latencies[Math.floor(latencies.length * 0.5)], p99: latencies[Math.floor(latencies.length * 0.99)], errors };
}

function zeros(total) {
  let sent = 0;
  const chunk = Buffer.alloc(MIB, 7);
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

// ---- servers -------------------------------------------------------------------------------------

async function status(pid, field) {
  const text = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(text);
  return m ? +m[1] / 1024 : 0;
}

/** Sample `field` (VmRSS) every 50 ms while `fn` runs; returns [fn's result, max MB]. */
async function sampled(pid, fn, field = "VmRSS") {
  let max = await status(pid, field);
  const timer = setInterval(async () => (max = Math.max(max, await status(pid, field))), 50);
  try {
    return [await fn(), max];
  } finally {
    clearInterval(timer);
  }
}

async function startProcess(kind, dir, opts) {
  const args =
    kind === "lakes3"
      ? [...(opts.profile ? ["--cpu-prof", `--cpu-prof-dir=${opts.profile}`] : []), BIN, "serve", "--port", "0", "--data-dir", dir, "--repo", BUCKET, "--no-tui", "--quiet"]
      : [fileURLToPath(import.meta.url), "--serve-ceiling", dir];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let out = "";
  const url = await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`${kind} exited (${code}) before listening: ${out}`)));
  });
  child.stdout.resume();
  for (;;) {
    const ok = await fetch(`${url}/_health`).then((r) => r.status === 200, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const startupMs = performance.now() - t0;
  return {
    url,
    pid: child.pid,
    startupMs,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---- workloads -------------------------------------------------------------------------------------

async function smallOps(c, o, prefix) {
  const body = Buffer.alloc(o.size, 1);
  const key = (i) => `${prefix}small/obj-${String(i).padStart(7, "0")}`;
  return {
    "small-put": await pool(o.n, o.c, (i) => c.request("PUT", key(i), { body, headers: { "content-length": o.size } })),
    "small-get": await pool(o.n, o.c, (i) => c.request("GET", key(i))),
    head: await pool(o.n, o.c, (i) => c.request("HEAD", key(i))),
  };
}

async function largeOps(c, o, prefix, pid) {
  const key = `${prefix}large/object`;
  const [put, putRss] = await sampled(pid, async () => {
    const t0 = performance.now();
    const r = await c.request("PUT", key, { body: zeros(o.largeBytes), headers: { "content-length": o.largeBytes } });
    if (r.status !== 200) throw new Error(`large PUT: ${r.status}`);
    return (o.largeBytes / MIB) / ((performance.now() - t0) / 1000);
  });
  const [get, getRss] = await sampled(pid, async () => {
    const t0 = performance.now();
    const r = await c.request("GET", key);
    if (r.status !== 200 || r.bytes !== o.largeBytes) throw new Error(`large GET: ${r.status} ${r.bytes} B`);
    return (r.bytes / MIB) / ((performance.now() - t0) / 1000);
  });
  return { "large-put": put, "large-get": get, "large-rss": Math.max(putRss, getRss, await status(pid, "VmHWM")) };
}

async function multipart(c, o, prefix) {
  const key = `${prefix}multipart/object`;
  const t0 = performance.now();
  const created = await c.request("POST", key, { query: { uploads: "" }, keepText: true });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)[1];
  const parts = Math.ceil(o.mpBytes / o.mpPart);
  const etags = [];
  await pool(parts, o.mpConcurrency, async (i) => {
    const size = Math.min(o.mpPart, o.mpBytes - i * o.mpPart);
    const r = await c.request("PUT", key, { body: zeros(size), query: { partNumber: i + 1, uploadId }, headers: { "content-length": size } });
    etags[i] = r.headers.etag;
    return r;
  });
  const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
  const done = await c.request("POST", key, { query: { uploadId }, body: xml, headers: { "content-length": Buffer.byteLength(xml) } });
  if (done.status !== 200) throw new Error(`Complete: ${done.status}`);
  return { multipart: (o.mpBytes / MIB) / ((performance.now() - t0) / 1000) };
}

async function seedList(c, o) {
  const t0 = performance.now();
  const body = Buffer.alloc(16, 1);
  const r = await pool(o.listKeys, o.seedConcurrency, (i) => c.request("PUT", `main/list/obj-${String(i).padStart(7, "0")}`, { body, headers: { "content-length": 16 } }));
  if (r.errors) throw new Error(`seeding the listing: ${r.errors} errors`);
  return (performance.now() - t0) / 1000;
}

async function listAll(c) {
  const t0 = performance.now();
  let token;
  let pages = 0;
  let keys = 0;
  for (;;) {
    const query = { "list-type": 2, "max-keys": 1000, prefix: "main/list/", delimiter: "/", ...(token ? { "continuation-token": token } : {}) };
    const r = await c.request("GET", "", { query, keepText: true });
    if (r.status !== 200) throw new Error(`list: ${r.status}`);
    pages++;
    keys += (r.text.match(/<Key>/g) ?? []).length;
    const m = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(r.text);
    if (!m) break;
    token = m[1].replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'");
  }
  return { msPerPage: (performance.now() - t0) / pages, pages, keys };
}

// ---- scale ----------------------------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32), so that rounds and runs ask for the same keys. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

/** Time `count` ListObjectsV2 pages, one after another (ms each). */
async function listPages(c, count, query) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const q = { "list-type": 2, "max-keys": 1000, prefix: "main/", ...query(i) };
    const t0 = performance.now();
    const r = await c.request("GET", "", { query: q, keepText: true });
    times.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`list ${JSON.stringify(q)}: ${r.status} ${r.text.slice(0, 200)}`);
    if (!/<(Key|Prefix)>main\/d/.test(r.text) && !q["start-after"]) throw new Error(`list ${JSON.stringify(q)}: empty page`);
  }
  return times;
}

/** One round of the scale workload on a server started on the scale data set. */
async function scaleRound(c, o, srv, round) {
  const layout = scaleLayout(o.scale);
  const rnd = random(round);
  const randomKey = () => `main/${layout.key(Math.floor(rnd() * layout.n))}`;
  const out = {};
  const keys = Array.from({ length: o.n }, randomKey);
  await pool(500, o.c, () => c.request("HEAD", randomKey())); // warm-up (JIT), untimed
  const head = await pool(o.n, o.c, (i) => c.request("HEAD", keys[i]));
  const get = await pool(o.n, o.c, (i) => c.request("GET", keys[i]));
  if (head.errors || get.errors) throw new Error(`scale: ${head.errors} HEAD and ${get.errors} GET errors`);
  out["scale-head"] = head.opsPerSec;
  out["scale-get"] = get.opsPerSec;
  out["scale-rss-serving"] = await status(srv.pid, "VmRSS");
  // RSS is the heap and native allocations (RssAnon) plus pages of mapped files (RssFile).
  out["scale-rssfile-serving"] = await status(srv.pid, "RssFile");
  let listRssFile = 0;
  const [lists, listRss] = await sampled(srv.pid, async () => {
    const plain = await listPages(c, 20, () => ({ "start-after": randomKey() }));
    const root = await listPages(c, 10, () => ({ delimiter: "/" }));
    const after = await listPages(c, 50, () => ({ delimiter: "/", "start-after": randomKey() }));
    return { plain, root, after };
  }).then(async (r) => ((listRssFile = await status(srv.pid, "RssFile")), r));
  out["scale-list-p50"] = percentile(lists.plain, 0.5);
  out["scale-list-delim-root-p50"] = percentile(lists.root, 0.5);
  out["scale-list-delim-after-p99"] = percentile(lists.after, 0.99);
  out["scale-rss-listing"] = listRss;
  out["scale-rssfile-listing"] = listRssFile;
  // 1000 scattered overwrites of committed objects, staged through S3 (untimed), then committed.
  const body = Buffer.alloc(16, 9);
  const changed = Array.from({ length: 1000 }, randomKey);
  const put = await pool(changed.length, o.c, (i) => c.request("PUT", changed[i], { body, headers: { "content-length": body.length } }));
  if (put.errors) throw new Error(`scale: ${put.errors} PUT errors`);
  const [commitMs, commitRss] = await sampled(srv.pid, async () => {
    const t0 = performance.now();
    const r = await c.api("POST", `/repositories/${BUCKET}/branches/main/commits`, { message: `scale round ${round}` });
    if (r.status !== 201) throw new Error(`commit: ${r.status} ${r.text}`);
    return performance.now() - t0;
  });
  out["scale-commit-1000-ms"] = commitMs;
  out["scale-rss-commit"] = commitRss;
  out["scale-peak-rss"] = await status(srv.pid, "VmHWM");
  return out;
}

// ---- profile summary -----------------------------------------------------------------------------

async function hotSpots(dir, top = 25) {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  const self = new Map();
  let total = 0;
  for (const f of files) {
    const p = JSON.parse(await readFile(path.join(dir, f), "utf8"));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const dt = new Map();
    p.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
    for (const [id, us] of dt) {
      const n = byId.get(id);
      const cf = n.callFrame;
      const where = cf.url ? `${cf.url.replace(/^file:\/\//, "").replace(process.cwd() + "/", "")}:${cf.lineNumber + 1}` : "";
      const name = `${cf.functionName || "(anonymous)"} ${where}`.trim();
      self.set(name, (self.get(name) ?? 0) + us);
      total += us;
    }
  }
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / total }));
}

// ---- main ------------------------------------------------------------------------------------------

const median = (xs) => {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const o = options();
  if (!fs.existsSync(path.resolve(HERE, "../../dist/cli/main.js"))) {
    console.error("bench: build first (npx tsc -p .)");
    process.exit(2);
  }
  const root = await mkdtemp(path.join(os.tmpdir(), "lakes3-bench-"));
  const results = { lakes3: {}, ceiling: {} };
  const add = (who, metric, value) => (results[who][metric] ??= []).push(value);
  const log = (s) => process.stderr.write(`${s}\n`);
  const scaleDir = o.scaleCache ?? path.join(os.tmpdir(), `lakes3-bench-scale-${o.scale}`);
  try {
    const listDir = o.listCache ?? path.join(os.tmpdir(), `lakes3-bench-list-${o.listKeys}`);
    if (o.scale !== undefined) {
      const secs = await ensureScaleData(scaleDir, o.scale, log);
      if (secs > 0) log(`  populated ${o.scale} objects in ${secs.toFixed(1)} s into ${scaleDir}`);
    }
    // The rounds commit: they work on a copy (in the run's temp dir), so every run measures the
    // data set as populated. Making the copy also warms the page cache; every round is a restart.
    const scaleCopy = path.join(root, "scale");
    if (o.scale !== undefined) await cp(scaleDir, scaleCopy, { recursive: true });
    for (let round = 1; round <= o.rounds && o.scale !== undefined; round++) {
      log(`round ${round}/${o.rounds} (scale ${o.scale})`);
      const srv = await startProcess("lakes3", scaleCopy, o);
      const c = client(srv.url);
      try {
        add("lakes3", "scale-restart-ms", srv.startupMs);
        for (const [k, v] of Object.entries(await scaleRound(c, o, srv, round))) add("lakes3", k, v);
      } finally {
        c.close();
        await srv.stop();
      }
    }
    for (let round = 1; round <= o.rounds && o.scale === undefined; round++) {
      log(`round ${round}/${o.rounds}`);
      for (const who of o.ceiling ? ["lakes3", "ceiling"] : ["lakes3"]) {
        const dir = path.join(root, `${who}-${round}`);
        const srv = await startProcess(who, dir, o);
        const c = client(srv.url);
        const prefix = who === "lakes3" ? "main/" : "";
        try {
          add(who, "cold-start-ms", srv.startupMs);
          if (o.workloads.has("large")) {
            const r = await largeOps(c, o, prefix, srv.pid);
            for (const [k, v] of Object.entries(r)) add(who, k, v);
          }
          if (o.workloads.has("small")) {
            const r = await smallOps(c, o, prefix);
            for (const [k, v] of Object.entries(r)) {
              add(who, k, v.opsPerSec);
              add(who, `${k}-p99-ms`, v.p99);
              if (v.errors) add(who, `${k}-errors`, v.errors);
            }
          }
          if (who === "lakes3" && o.workloads.has("multipart")) {
            // Memory must stay flat while a big multipart upload runs: sample the server's RSS.
            const [mp, rss] = await sampled(srv.pid, () => multipart(c, o, prefix));
            add(who, "multipart", mp.multipart);
            add(who, "multipart-rss", rss);
          }
          add(who, "peak-rss", await status(srv.pid, "VmHWM"));
        } finally {
          c.close();
          await srv.stop();
          await rm(dir, { recursive: true, force: true });
        }
        log(`  ${who} done`);
      }
      if (o.workloads.has("list")) {
        // The listing data set is seeded once (durable PUTs are slow to seed: 100k take minutes) and
        // kept in a cache dir across rounds and runs; each round restarts the server on it.
        const srv = await startProcess("lakes3", listDir, o);
        const c = client(srv.url);
        try {
          let l = await listAll(c).catch(() => ({ keys: -1 }));
          if (l.keys !== o.listKeys) {
            if (l.keys > 0) throw new Error(`${listDir} holds ${l.keys} keys, expected ${o.listKeys}: remove it or pass --list-cache`);
            const secs = await seedList(c, o);
            log(`  seeded ${o.listKeys} keys in ${secs.toFixed(1)} s (${(o.listKeys / secs).toFixed(0)} PUT/s at concurrency ${o.seedConcurrency}) into ${listDir}`);
            add("lakes3", "seed-put-per-s", o.listKeys / secs);
          } else add("lakes3", "start-with-list-keys-ms", srv.startupMs);
          l = await listAll(c);
          if (l.keys !== o.listKeys) throw new Error(`listing saw ${l.keys} keys, expected ${o.listKeys}`);
          add("lakes3", "list-ms-per-page", l.msPerPage);
        } finally {
          c.close();
          await srv.stop();
        }
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }

  const units = {
    "cold-start-ms": "ms", "small-put": "ops/s", "small-get": "ops/s", head: "ops/s", "small-put-p99-ms": "ms", "small-get-p99-ms": "ms", "head-p99-ms": "ms",
    "large-put": "MB/s", "large-get": "MB/s", "large-rss": "MB", multipart: "MB/s", "multipart-rss": "MB", "peak-rss": "MB", "list-ms-per-page": "ms", "seed-put-per-s": "ops/s", "start-with-list-keys-ms": "ms",
    "scale-restart-ms": "ms", "scale-head": "ops/s", "scale-get": "ops/s", "scale-list-p50": "ms", "scale-list-delim-root-p50": "ms", "scale-list-delim-after-p99": "ms",
    "scale-commit-1000-ms": "ms", "scale-rss-serving": "MB", "scale-rss-listing": "MB", "scale-rss-commit": "MB", "scale-peak-rss": "MB",
    "scale-rssfile-serving": "MB", "scale-rssfile-listing": "MB",
  };
  const metrics = [...new Set([...Object.keys(results.lakes3), ...Object.keys(results.ceiling)])];
  const lines = [`| metric | lakes3 |${o.ceiling ? " ceiling | lakes3/ceiling |" : ""}`, `|---|---|${o.ceiling ? "---|---|" : ""}`];
  const summary = {};
  for (const m of metrics) {
    const a = median(results.lakes3[m] ?? []);
    const b = median(results.ceiling[m] ?? []);
    summary[m] = { lakes3: a, ceiling: b, ratio: a !== undefined && b ? a / b : undefined };
    const fmt = (x) => (x === undefined ? "—" : x.toFixed(x < 10 ? 2 : 1));
    lines.push(`| ${m} (${units[m] ?? ""}) | ${fmt(a)} |${o.ceiling ? ` ${fmt(b)} | ${summary[m].ratio === undefined ? "—" : summary[m].ratio.toFixed(2)} |` : ""}`);
  }
  if (o.scale !== undefined) {
    const l = scaleLayout(o.scale);
    console.log(`lakes3 bench --scale ${o.scale}: ${o.rounds} round(s), medians; ${l.dirs} dirs x ${l.perDir} objects of 16 B on main, HEAD/GET ${o.n} random keys at concurrency ${o.c}; data in ${scaleDir}`);
  } else console.log(`lakes3 bench: ${o.rounds} round(s), medians; small = ${o.size} B x ${o.n} at concurrency ${o.c}, large = ${o.largeBytes / MIB} MiB, multipart = ${o.mpBytes / MIB} MiB in ${o.mpPart / MIB} MiB parts x ${o.mpConcurrency}, list = ${o.listKeys} keys`);
  console.log(lines.join("\n"));
  if (o.json) await writeFile(o.json, JSON.stringify({ options: { ...o, workloads: [...o.workloads] }, raw: results, summary }, null, 2));
  if (o.profile) {
    console.log(`\nserver CPU profile (${o.profile}), top self time:`);
    for (const h of await hotSpots(o.profile)) console.log(`${h.pct.toFixed(1).padStart(5)}%  ${h.ms.toFixed(0).padStart(7)} ms  ${h.name}`);
  }
}

if (process.argv[2] === "--serve-ceiling") serveCeiling(process.argv[3]);
else await main();
