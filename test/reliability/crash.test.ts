/**
 * Crash safety, tested by killing the process (issue 7.1). The built `lakes3 serve` runs on a data
 * dir; writers (PutObject 0 B – 8 MiB, multipart Complete, DeleteObjects) and a reader run against
 * it through @aws-sdk/client-s3 (maxAttempts 1); SIGKILL lands at a random moment; then:
 *
 *  - offline (server dead): every blob a record references exists with its recorded size;
 *  - the server restarts on the same dir; after its startup sweep the blob files are exactly the
 *    referenced ones (no orphan, nothing missing) and tmp/ is empty;
 *  - every key is in a state the model allows (acknowledged writes present with the right bytes
 *    and ETag; a write in flight at the kill old or new, never partial), and ListObjectsV2 agrees
 *    with the reads.
 *
 * Bounded by time: LAKES3_CRASH_SECONDS (default 20) of kill/restart cycles; LAKES3_CRASH_SEED
 * replays a run.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUCKET, Model, describeState, makeClient, runReader, runWriter, sameState, type State, type WriterStats } from "./crash-writer.js";
import { BIN, killAll, sleep, spawnServer, type SpawnedServer } from "./lib/cli.js";
import { send, type Endpoint } from "./lib/s3raw.js";
import { isInlineBlob } from "../../src/storage/blob-store.js";
import { blobFiles, missingOrTruncated, orphans, referencedBlobs, tmpFiles } from "./lib/datadir.js";
import { Rng } from "./lib/random.js";

const SECONDS = Number(process.env["LAKES3_CRASH_SECONDS"] ?? 20);
const SEED = Number(process.env["LAKES3_CRASH_SEED"] ?? Date.now() % 1_000_000);
const WRITERS = 4;
const KEYS_PER_WRITER = 6;
const CREDENTIALS = { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

let root: string;
let dataDir: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "lakes3-crash-"));
  dataDir = path.join(root, "data");
});
afterAll(async () => {
  killAll();
  await rm(root, { recursive: true, force: true });
});

const start = () => spawnServer(["--data-dir", dataDir, "--repo", BUCKET, "--quiet"]);

function writerKeys(w: number): string[] {
  const shapes = ["k{i}.bin", "dir/{i}/obj", "ünï-{i}", "deep/a/b/c/{i}.csv"];
  return Array.from({ length: KEYS_PER_WRITER }, (_, i) => `w${w}/${shapes[i % shapes.length]!.replace("{i}", String(i))}`);
}

/** Every key read back must be a state the model allows; returns what was seen. */
async function verifyKeys(client: S3Client, model: Model, violations: string[]): Promise<Map<string, State>> {
  const seen = new Map<string, State>();
  for (const [key, possible] of model.keys) {
    let actual: State;
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `main/${key}` }));
      const bytes = Buffer.from(await out.Body!.transformToByteArray());
      actual = { size: bytes.length, md5: createHash("md5").update(bytes).digest("hex"), etag: (out.ETag ?? "").replace(/"/g, "") };
      if (Number(out.ContentLength) !== bytes.length) violations.push(`${key}: Content-Length ${out.ContentLength}, body ${bytes.length} B`);
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw err;
      actual = null;
    }
    if (!possible.some((s) => sameState(s, actual))) {
      violations.push(`${key}: found ${describeState(actual)}${actual ? ` md5 ${actual.md5}` : ""}; allowed: ${possible.map(describeState).join(" | ")}`);
    }
    model.observe(key, actual);
    seen.set(key, actual);
  }
  return seen;
}

/** ListObjectsV2 over main/ (small random pages) must list exactly the keys that read back, with their size and ETag. */
async function verifyListing(client: S3Client, seen: Map<string, State>, rng: Rng, violations: string[]): Promise<void> {
  const listed = new Map<string, { size: number; etag: string }>();
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "main/", MaxKeys: rng.int(1, 30), ContinuationToken: token }));
    for (const o of page.Contents ?? []) listed.set(o.Key!.slice("main/".length), { size: Number(o.Size), etag: (o.ETag ?? "").replace(/"/g, "") });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  for (const [key, state] of seen) {
    const l = listed.get(key);
    if (state === null && l) violations.push(`listing shows deleted ${key}`);
    if (state !== null && (!l || l.size !== state.size || l.etag !== state.etag)) {
      violations.push(`listing of ${key}: ${l ? `${l.size} B ${l.etag}` : "missing"}, read ${describeState(state)}`);
    }
  }
  for (const key of listed.keys()) if (!seen.has(key)) violations.push(`listing shows unknown key ${key}`);
}

describe("crash safety (SIGKILL at random points)", () => {
  it(
    `acknowledged writes survive, nothing is partial, no blob is orphaned or missing (seed ${SEED}, ${SECONDS}s)`,
    async () => {
      const rng = new Rng(SEED);
      const keysByWriter = Array.from({ length: WRITERS }, (_, w) => writerKeys(w));
      const model = new Model(keysByWriter.flat());
      const violations: string[] = [];
      const totals = { iterations: 0, acknowledged: 0, inFlightAtKill: 0, orphansSwept: 0 };
      const deadline = Date.now() + SECONDS * 1000;
      let server: SpawnedServer | undefined = await start();

      while (Date.now() < deadline) {
        totals.iterations++;
        const client = makeClient(server.url, "us-east-1", CREDENTIALS);
        let stopped = false;
        const stats: WriterStats = { acknowledged: 0, inFlightAtKill: 0, unexpected: [] };
        const workers = [
          ...keysByWriter.map((keys, w) => runWriter(client, model, keys, new Rng(SEED * 31 + totals.iterations * 7 + w), () => stopped, stats)),
          runReader(client, model, keysByWriter.flat(), new Rng(SEED + totals.iterations), () => stopped, violations),
        ];
        // Kill anywhere from "a few requests in" to "well into multi-MiB writes".
        await sleep(rng.chance(0.3) ? rng.int(5, 150) : rng.int(150, 1500));
        stopped = true;
        await server.kill();
        await Promise.allSettled(workers);
        client.destroy();
        totals.acknowledged += stats.acknowledged;
        totals.inFlightAtKill += stats.inFlightAtKill;
        violations.push(...stats.unexpected);

        // Offline, before the restart: nothing a record points at may be missing or short.
        const refs = await referencedBlobs(dataDir);
        const before = await blobFiles(dataDir);
        violations.push(...missingOrTruncated(refs, before).map((m) => `after kill: ${m}`));
        totals.orphansSwept += orphans(refs, before).length;

        server = await start();
        // After the startup sweep (and before any write): exactly the referenced blob files, no temp
        // files. Inline blobs sit in the LevelDB the running server holds: they are checked offline,
        // after the next kill and at the final clean shutdown.
        const after = await blobFiles(dataDir);
        const fileRefs = new Map([...refs].filter(([id]) => !isInlineBlob(id)));
        violations.push(...orphans(fileRefs, after).map((id) => `orphan after startup sweep: ${id}`));
        violations.push(...missingOrTruncated(fileRefs, after).map((m) => `after restart: ${m}`));
        const tmp = await tmpFiles(dataDir);
        if (tmp.length > 0) violations.push(`tmp/ not empty after startup: ${tmp.join(", ")}`);

        const verifyClient = makeClient(server.url, "us-east-1", CREDENTIALS);
        const seen = await verifyKeys(verifyClient, model, violations);
        await verifyListing(verifyClient, seen, rng, violations);
        verifyClient.destroy();
        if (violations.length > 0) break;
      }

      // A clean shutdown leaves exactly the referenced blobs too (the reclaimer flushes on close).
      expect(await server.stop()).toBe(0);
      server = undefined;
      const refs = await referencedBlobs(dataDir);
      const files = await blobFiles(dataDir);
      violations.push(...orphans(refs, files).map((id) => `orphan after clean shutdown: ${id}`));
      violations.push(...missingOrTruncated(refs, files));

      console.log(`crash harness: seed ${SEED}, ${JSON.stringify(totals)}`);
      expect(violations, `seed ${SEED}`).toEqual([]);
      expect(totals.iterations).toBeGreaterThan(1);
      expect(totals.acknowledged).toBeGreaterThan(0);
    },
    (SECONDS + 90) * 1000,
  );
});

describe("a crash while a commit writes its ranges", () => {
  it(`loses no acknowledged commit or staged change, and every start after it finds its ranges (seed ${SEED})`, async () => {
    const rng = new Rng(SEED);
    const dir = path.join(root, "commit-crash");
    const ep = (s: SpawnedServer): Endpoint => ({ port: s.port, region: "us-east-1", ...CREDENTIALS });
    const auth = "Basic " + Buffer.from(`${CREDENTIALS.accessKeyId}:${CREDENTIALS.secretAccessKey}`).toString("base64");
    /** key → body: everything acknowledged (staged or committed), and the last acknowledged commit. */
    const acknowledged = new Map<string, string>();
    let committed = new Map<string, string>();
    const read = async (s: SpawnedServer, ref: string, keys: Iterable<string>) => {
      const out = new Map<string, string>();
      for (const key of keys) {
        const r = await send(ep(s), { method: "GET", path: `/${BUCKET}/${ref}/${key}` });
        if (r.status === 200) out.set(key, r.text);
        else if (r.status !== 404) throw new Error(`GET ${ref}/${key}: ${r.status} ${r.text}`);
      }
      return out;
    };
    let s = await spawnServer(["--data-dir", dir, "--repo", BUCKET, "--quiet"]);
    const kills = { beforeAnswer: 0, afterAnswer: 0 };
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 300; i++) {
        const key = `c/${String(rng.int(0, 999)).padStart(4, "0")}`;
        const body = `round ${round} change ${i}`;
        const r = await send(ep(s), { method: "PUT", path: `/${BUCKET}/main/${key}`, body, headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
        expect(r.status, r.text).toBe(200);
        acknowledged.set(key, body);
      }
      // Kill the server while the commit may be anywhere: reading ranges, writing its pack, syncing
      // it, writing the commit record, or answering.
      const commit = fetch(`${s.url}/api/v1/repositories/${BUCKET}/branches/main/commits`, { method: "POST", headers: { authorization: auth, "content-type": "application/json" }, body: JSON.stringify({ message: `round ${round}` }) }).then(
        (r) => r.status,
        () => 0,
      );
      await sleep(rng.int(0, 120));
      await s.kill();
      const status = await commit;
      if (status === 201) committed = new Map(acknowledged);
      kills[status === 201 ? "afterAnswer" : "beforeAnswer"]++;

      s = await spawnServer(["--data-dir", dir, "--quiet"]); // after a crash: the sweep reads every committed range
      const keys = new Set([...acknowledged.keys()]);
      expect(Object.fromEntries(await read(s, "main", keys)), `round ${round}: the branch`).toEqual(Object.fromEntries(acknowledged));
      // The committed state is the last acknowledged commit's, or, for a commit cut short, all of it.
      const head = Object.fromEntries(await read(s, "main@", keys));
      expect([Object.fromEntries(committed), Object.fromEntries(acknowledged)], `round ${round}: main@`).toContainEqual(head);
      if (JSON.stringify(head) === JSON.stringify(Object.fromEntries(acknowledged))) committed = new Map(acknowledged);
    }
    expect(await s.stop()).toBe(0);
    const doctor = spawnSync(process.execPath, [BIN, "doctor", "--data-dir", dir], { encoding: "utf8" });
    expect(doctor.status, doctor.stdout + doctor.stderr).toBe(0);
    console.log(`commit crashes: seed ${SEED}, ${JSON.stringify(kills)}`);
  }, 120_000);
});
