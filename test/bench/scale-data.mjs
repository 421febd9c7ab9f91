/**
 * The data set of `npm run bench -- --scale N`: N committed objects on branch `main` of repository
 * `bench`, in a two-level layout (`dNNNN/fNNNNNN`, see scaleLayout), each a 16-byte inline blob. Written in-process through the catalog (unsynced
 * batches of staged records, one commit per 100k) rather than through S3, which at ~2,400 PUT/s
 * would take 7 minutes for 1M; the data dir is then closed cleanly and kept for later runs.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { IMMEDIATE_MAX, immediateBlobId } from "../../dist/storage/blob-store.js";
import { MetadataStore, SEP } from "../../dist/storage/metadata-store.js";
import { recordCleanState } from "../../dist/storage/recovery.js";
import { Catalog } from "../../dist/versioning/catalog.js";
import { stagingKey } from "../../dist/versioning/staging-keys.js";

export const SCALE_REPO = "bench";
/**
 * Names the data set's layout and format (v6: as populated, never committed onto, since bench runs
 * work on a copy; v5: 16-byte bodies in their blob ids; v4: ranges cut where folders start; v3:
 * committed ranges and trees in files): a cache made by another version is made again.
 */
export const READY = "scale-ready-v6.json";
const BODY = Buffer.alloc(16, 7);
const BATCH = 10_000;
const COMMIT_EVERY = 100_000;

/**
 * The layout: key(i) for i < n, in key order; up to 1000 directories of n/1000 objects (1k: 1000 × 1,
 * 1M: 1000 × 1000), so a delimiter listing at the root is the same page of 1000 common prefixes at
 * every size.
 */
export function scaleLayout(n) {
  const dirs = Math.min(1000, n);
  const perDir = Math.ceil(n / dirs);
  const key = (i) => `d${String(Math.floor(i / perDir)).padStart(4, "0")}/f${String(i % perDir).padStart(6, "0")}`;
  return { n, dirs: Math.ceil(n / perDir), perDir, key };
}

/** Populate `dir` with the scale data set unless it already holds it. Returns seconds spent (0 if cached). */
export async function ensureScaleData(dir, n, log) {
  const ready = path.join(dir, READY);
  if (fs.existsSync(ready) && JSON.parse(fs.readFileSync(ready, "utf8")).n === n) return 0;
  await rm(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const layout = scaleLayout(n);
  const store = new MetadataStore(path.join(dir, "metadata"), dir);
  await store.open();
  try {
    const catalog = new Catalog(store);
    await catalog.createRepository(SCALE_REPO);
    // 16-byte bodies, kept as a PUT of 16 bytes keeps them: in their blob ids (blob-store.ts).
    if (BODY.length > IMMEDIATE_MAX) throw new Error("scale data: the body must be small enough to be its blob id");
    const lastModified = new Date().toISOString();
    for (let start = 0; start < n; start += COMMIT_EVERY) {
      const branch = await catalog.getBranch(SCALE_REPO, "main");
      const end = Math.min(n, start + COMMIT_EVERY);
      for (let i = start; i < end; i += BATCH) {
        const batch = store.batch();
        for (let j = i; j < Math.min(end, i + BATCH); j++) {
          const blobId = immediateBlobId(BODY);
          const record = { size: BODY.length, etag: randomBytes(16).toString("hex"), lastModified, contentType: "application/octet-stream", headers: {}, userMeta: {}, parts: [{ blobId, size: BODY.length }] };
          batch.put(stagingKey(SCALE_REPO, branch.stagingToken, layout.key(j)), record, { sublevel: store.staging });
        }
        await batch.write();
      }
      await catalog.commit(SCALE_REPO, "main", { message: `scale data ${start}-${end - 1}` });
      log?.(`  populated ${end}/${n}`);
    }
    await catalog.idle();
  } finally {
    await store.close();
  }
  // Settled: populating leaves no blob unreferenced, so the first round measures a restart like the
  // others, not the sweep that follows a crash.
  await recordCleanState(dir, true);
  fs.writeFileSync(ready, JSON.stringify({ n, dirs: layout.dirs, perDir: layout.perDir, sep: SEP }) + "\n");
  return (performance.now() - t0) / 1000;
}
