#!/usr/bin/env node
/**
 * Commit cost: time `Catalog.commit` against the number of staged changes (10 … 10000) and the
 * size of the committed repository (1k … 100k objects), on a temporary data dir, using the
 * Catalog directly (no HTTP, no blob bytes: records point at made-up blob ids).
 *
 *   node test/bench/commit-bench.mjs [--sizes 1000,10000,100000] [--changes 10,100,1000,10000] [--runs 3]
 *   node test/bench/commit-bench.mjs --store DIR [--changes 1000] [--runs 5]
 *
 * --store: instead of building repositories, a copy of a data dir made by `npm run bench -- --scale N`
 * (scale-data.mjs; DIR itself is never changed): only spread commits (of paths of its layout, half
 * overwrites, half new paths), each timed and its process CPU time measured.
 *
 * Build first (`npm run build`). Two shapes of change per cell, median of --runs commits each:
 *   spread    half overwrites of random committed paths (at most all of them), the rest new paths
 *             at random places (every change may land in a different range of the committed tree:
 *             the worst case);
 *   clustered new paths under one fresh prefix (they share ranges: the common ingest case).
 * Staging is filled with unsynced batches to keep the setup fast; only the commit is timed.
 */
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { MetadataStore, SEP } from "../../dist/storage/metadata-store.js";
import { Catalog } from "../../dist/versioning/catalog.js";
import { READY } from "./scale-data.mjs";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1000,10000,100000" },
    changes: { type: "string", default: "10,100,1000,10000" },
    runs: { type: "string", default: "3" },
    store: { type: "string" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const changeCounts = values.changes.split(",").map(Number);
const runs = Number(values.runs);
const REPO = "bench";

const record = () => ({
  size: 1024,
  etag: randomBytes(16).toString("hex"),
  lastModified: new Date().toISOString(),
  contentType: "application/octet-stream",
  headers: {},
  userMeta: {},
  parts: [{ blobId: randomBytes(16).toString("hex"), size: 1024 }],
});
const committedPath = (i) => `data/part-${String(i).padStart(7, "0")}.parquet`;

/** Stage records at these paths on main (one unsynced batch per 10k; setup only). */
async function stage(store, catalog, paths) {
  const branch = await catalog.getBranch(REPO, "main");
  for (let i = 0; i < paths.length; i += 10_000) {
    const batch = store.batch();
    for (const p of paths.slice(i, i + 10_000)) batch.put(REPO + SEP + branch.stagingToken + SEP + p, record(), { sublevel: store.staging });
    await batch.write();
  }
}

async function timedCommit(catalog, message) {
  const t0 = performance.now();
  await catalog.commit(REPO, "main", { message });
  return performance.now() - t0;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
if (values.store) {
  await storeBench(values.store);
  process.exit(0);
}

/** Spread commits on a copy of a scale data dir (see --store). */
async function storeBench(source) {
  const { n, perDir } = JSON.parse(await readFile(path.join(source, READY), "utf8"));
  const key = (i) => `d${String(Math.floor(i / perDir)).padStart(4, "0")}/f${String(i % perDir).padStart(6, "0")}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-commit-bench-"));
  await cp(source, dir, { recursive: true });
  const store = new MetadataStore(path.join(dir, "metadata"), dir);
  await store.open();
  try {
    const catalog = new Catalog(store);
    for (const count of changeCounts) {
      const wall = [];
      const cpu = [];
      for (let r = 0; r < runs; r++) {
        const paths = new Set();
        while (paths.size < count / 2) paths.add(key(Math.floor(Math.random() * n)));
        for (let k = 0; paths.size < count; k++) paths.add(`${key(Math.floor(Math.random() * n))}.new-${r}-${k}`);
        await stage(store, catalog, [...paths]);
        await catalog.idle(); // the previous commit's drop of its staging, as a server between commits
        const c0 = process.cpuUsage();
        wall.push(await timedCommit(catalog, `spread ${count}`));
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
        process.stderr.write(`  ${count} spread: ${wall.at(-1).toFixed(1)} ms, cpu ${cpu.at(-1).toFixed(1)} ms\n`);
      }
      console.log(`${n} objects, ${count} spread changes, median of ${runs}: ${median(wall).toFixed(1)} ms, cpu ${median(cpu).toFixed(1)} ms`);
    }
    await catalog.idle();
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)).padStart(9);

const rows = [];
for (const size of sizes) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-commit-bench-"));
  const store = new MetadataStore(path.join(dir, "metadata"), dir);
  await store.open();
  try {
    const catalog = new Catalog(store);
    await catalog.createRepository(REPO);
    await stage(store, catalog, Array.from({ length: size }, (_, i) => committedPath(i)));
    const initial = await timedCommit(catalog, "initial load");
    process.stderr.write(`repo ${size}: initial commit of ${size} objects ${initial.toFixed(0)} ms\n`);
    let batchNo = 0;
    for (const n of changeCounts) {
      const spread = [];
      const clustered = [];
      for (let r = 0; r < runs; r++) {
        const paths = new Set();
        const overwrites = Math.min(Math.floor(n / 2), size);
        while (paths.size < overwrites) paths.add(committedPath(Math.floor(Math.random() * size)));
        for (let k = 0; paths.size < n; k++) paths.add(`${committedPath(Math.floor(Math.random() * size))}.new-${batchNo}-${k}`);
        await stage(store, catalog, [...paths]);
        spread.push(await timedCommit(catalog, `spread ${n}`));
        await stage(store, catalog, Array.from({ length: n }, (_, k) => `ingest/batch-${batchNo}/file-${String(k).padStart(6, "0")}`));
        clustered.push(await timedCommit(catalog, `clustered ${n}`));
        batchNo++;
      }
      rows.push({ size, n, spread: median(spread), clustered: median(clustered) });
      process.stderr.write(`  ${n} staged: spread ${median(spread).toFixed(1)} ms, clustered ${median(clustered).toFixed(1)} ms\n`);
    }
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`\nCatalog.commit, median of ${runs} (ms)\n`);
console.log(`${"repo objects".padStart(12)} ${"staged".padStart(7)} ${"spread".padStart(9)} ${"clustered".padStart(9)} ${"µs/change".padStart(10)}`);
for (const r of rows) {
  console.log(`${String(r.size).padStart(12)} ${String(r.n).padStart(7)} ${fmt(r.spread)} ${fmt(r.clustered)} ${((r.clustered * 1000) / r.n).toFixed(0).padStart(10)}`);
}
