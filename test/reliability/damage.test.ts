/**
 * A damaged data dir (issue 10, findings 3–6), with the real CLI: metadata bytes flipped or the
 * metadata removed (startup must not delete data it cannot account for), blob files and committed
 * range files removed or cut behind the server's back (an S3 error, never a dropped connection, a
 * short 200 or objects silently gone), the data dir
 * removed or made read-only under a running server (/_health 503, writes refused with the cause),
 * and data dirs that cannot be used at all (one clear line).
 */
import { execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, killAll, spawnServer, type SpawnedServer } from "./lib/cli.js";
import { blobFiles, referencedBlobs } from "./lib/datadir.js";
import { errorCode, send, type Endpoint } from "./lib/s3raw.js";

const REPO = "damage-repo";
const KEYS = { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const canMount = process.platform === "linux" && process.getuid?.() === 0;
if (!canMount) console.warn(`damage tests that remount a tmpfs read-only are skipped: they need root on Linux (uid ${process.getuid?.()})`);

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "lakes3-damage-"));
});
afterAll(async () => {
  killAll();
  await rm(root, { recursive: true, force: true });
});

const endpoint = (s: SpawnedServer): Endpoint => ({ port: s.port, region: "us-east-1", ...KEYS });
const put = (s: SpawnedServer, key: string, body: Buffer) => send(endpoint(s), { method: "PUT", path: `/${REPO}/main/${key}`, body, headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
const get = (s: SpawnedServer, key: string, headers: Record<string, string> = {}) => send(endpoint(s), { method: "GET", path: `/${REPO}/main/${key}`, headers });

/** `lakes3 <args>` to completion: exit code and output. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: "1" } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `lakes3 serve` that is expected to refuse to start: exit code and stderr. */
function serveRefused(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--no-tui", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** A data dir holding `n` objects stored as blob files (over the inline limit), cleanly stopped. */
async function dataDirWithObjects(name: string, n: number): Promise<{ dir: string; bodies: Map<string, Buffer> }> {
  const dir = path.join(root, name);
  const s = await spawnServer(["--data-dir", dir, "--repo", REPO, "--quiet"]);
  const bodies = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const body = randomBytes(100 * 1024 + i);
    expect((await put(s, `obj-${i}`, body)).status).toBe(200);
    bodies.set(`obj-${i}`, body);
  }
  expect(await s.stop()).toBe(0);
  return { dir, bodies };
}

/** Blob files under blobs/, counted without opening the metadata store (an open would repair it). */
async function blobFileCount(dir: string): Promise<number> {
  let n = 0;
  for (const fan of await readdir(path.join(dir, "blobs")).catch(() => [])) n += (await readdir(path.join(dir, "blobs", fan))).length;
  return n;
}

async function lostFound(dir: string): Promise<string[]> {
  return readdir(path.join(dir, "lost+found")).catch(() => []);
}

describe("damaged metadata: startup never deletes what it cannot account for", () => {
  it("bytes flipped in the LevelDB log: refuses to start (one line), keeps every blob; --accept-damage quarantines instead of deleting", async () => {
    const { dir } = await dataDirWithObjects("flipped", 10);
    expect(await blobFileCount(dir)).toBe(10);
    const meta = path.join(dir, "metadata");
    const log = (await readdir(meta)).find((f) => f.endsWith(".log"))!;
    const bytes = await readFile(path.join(meta, log));
    const at = Math.floor(bytes.length / 3);
    for (let i = 0; i < 16; i++) bytes[at + i]! ^= 0xff;
    await writeFile(path.join(meta, log), bytes);

    const refused = await serveRefused(["--data-dir", dir]);
    expect(refused.code).not.toBe(0);
    const lines = refused.stderr.trim().split("\n");
    expect(lines, refused.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^lakes3: the metadata store in .* was damaged: LevelDB dropped \d+ bytes of its log .*--accept-damage/);
    expect(await blobFileCount(dir), "a refused start deleted blobs").toBe(10);

    // LevelDB reports its repair only once: the second start must still refuse.
    const again = await serveRefused(["--data-dir", dir]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/was damaged/);

    const doctor = await run(["doctor", "--data-dir", dir]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/damage\s+the metadata store .* was damaged/);

    const s = await spawnServer(["--data-dir", dir, "--accept-damage"]);
    try {
      expect(s.stderr()).toMatch(/started on damaged metadata \(--accept-damage\): .*; moved \d+ object files no record references to .*lost\+found/);
      const surviving = await blobFileCount(dir);
      const quarantined = await lostFound(dir);
      expect(surviving + quarantined.length, "blobs were deleted").toBe(10);
      expect(quarantined.length).toBeGreaterThan(0);
    } finally {
      expect(await s.stop()).toBe(0);
    }
    // Accepted once: the next start is a plain one.
    const next = await spawnServer(["--data-dir", dir]);
    expect(await next.stop()).toBe(0);
  });

  it("metadata/ removed while blobs remain: refuses to start, deletes nothing", async () => {
    const { dir } = await dataDirWithObjects("no-metadata", 3);
    await rm(path.join(dir, "metadata"), { recursive: true });
    const refused = await serveRefused(["--data-dir", dir]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/^lakes3: the metadata store .* is missing but .*blobs holds 3 object files\. lakes3 will not start on it/);
    expect(await blobFileCount(dir)).toBe(3);
  });

  it("unreferenced blobs older than the last clean shutdown go to lost+found/, newer ones (unfinished writes) are removed", async () => {
    const { dir } = await dataDirWithObjects("orphans", 2);
    // The last run was killed (a clean close leaves no orphans, and its next start looks for none).
    await (await spawnServer(["--data-dir", dir])).kill();
    const old = randomBytes(16).toString("hex");
    await mkdir(path.join(dir, "blobs", old.slice(0, 2)), { recursive: true });
    await writeFile(path.join(dir, "blobs", old.slice(0, 2), old), "written before the last clean close");
    const past = new Date(Date.now() - 3600_000);
    execFileSync("touch", ["-d", past.toISOString(), path.join(dir, "blobs", old.slice(0, 2), old)]);
    const fresh = randomBytes(16).toString("hex");
    await mkdir(path.join(dir, "blobs", fresh.slice(0, 2)), { recursive: true });
    await writeFile(path.join(dir, "blobs", fresh.slice(0, 2), fresh), "an unfinished write of the last run");
    const s = await spawnServer(["--data-dir", dir]);
    try {
      expect(s.stderr()).toMatch(/moved 1 object files that no record references and that predate the last clean shutdown to .*lost\+found/);
      expect(await lostFound(dir)).toEqual([old]);
      const files = await blobFiles(dir);
      expect(files.has(fresh)).toBe(false);
      expect(files.size).toBe(2);
      const doctor = await run(["doctor", "--data-dir", dir]);
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toContain(path.join("lost+found", old));
    } finally {
      await s.stop();
    }
  });
});

describe("the start after a clean close", () => {
  it("trusts a settled close (no sweep of the store), and records its own start before any write so that a crash is seen", async () => {
    const { dir } = await dataDirWithObjects("settled", 2);
    const state = () => readFile(path.join(dir, "clean-state.json"), "utf8").then((t) => JSON.parse(t) as { closedAt: string; settled?: boolean });
    const closed = await state();
    expect(closed.settled).toBe(true);
    const s = await spawnServer(["--data-dir", dir]);
    expect(await state()).toEqual({ closedAt: closed.closedAt });
    await s.kill();
    // After the crash the start sweeps again: an unfinished write of the killed run is removed.
    const fresh = randomBytes(16).toString("hex");
    await mkdir(path.join(dir, "blobs", fresh.slice(0, 2)), { recursive: true });
    await writeFile(path.join(dir, "blobs", fresh.slice(0, 2), fresh), "an unfinished write of the killed run");
    const next = await spawnServer(["--data-dir", dir]);
    expect((await blobFiles(dir)).has(fresh)).toBe(false);
    expect(await next.stop()).toBe(0);
    expect((await state()).settled).toBe(true);
  });
});

describe("blob files removed or cut behind the server's back", () => {
  it("GET answers S3 error XML naming the problem (never a dropped connection or a short 200); doctor lists them", async () => {
    const { dir, bodies } = await dataDirWithObjects("blob-damage", 3);
    const refs = await referencedBlobs(dir);
    const files = await blobFiles(dir);
    const blobOf = new Map<string, string>();
    // The objects' blobs by size (each body has its own size).
    for (const [key, body] of bodies) blobOf.set(key, [...refs].find(([, size]) => size === body.length)![0]);
    const fileOf = (id: string) => path.join(dir, "blobs", id.slice(0, 2), id);
    expect(files.size).toBe(3);
    await unlink(fileOf(blobOf.get("obj-0")!));
    await truncate(fileOf(blobOf.get("obj-1")!), 1000);

    const s = await spawnServer(["--data-dir", dir]);
    try {
      const missing = await get(s, "obj-0");
      expect([missing.status, errorCode(missing.text)]).toEqual([500, "InternalError"]);
      expect(missing.text).toMatch(/the data file of this object \(.*\) is missing: it was removed outside lakes3/);
      const cut = await get(s, "obj-1");
      expect([cut.status, errorCode(cut.text)]).toEqual([500, "InternalError"]);
      expect(cut.text).toMatch(/should be \d+ bytes but its file .* has 1000/);
      const ranged = await get(s, "obj-1", { range: "bytes=0-99" });
      expect(ranged.status).toBe(500);
      // The connection is still good, and the intact object is served whole.
      const ok = await get(s, "obj-2");
      expect(ok.status).toBe(200);
      expect(ok.body.equals(bodies.get("obj-2")!)).toBe(true);
      // A copy of a damaged object fails the same way instead of copying a short body.
      const copy = await send(endpoint(s), { method: "PUT", path: `/${REPO}/main/copy`, headers: { "x-amz-copy-source": `/${REPO}/main/obj-1`, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
      expect(copy.status).toBe(500);
      // The REST API answers 410 Gone, as lakeFS does for data that is no longer there.
      const rest = await fetch(`${s.url}/api/v1/repositories/${REPO}/refs/main/objects?path=obj-0`, { headers: { authorization: "Basic " + Buffer.from(`${KEYS.accessKeyId}:${KEYS.secretAccessKey}`).toString("base64") } });
      expect(rest.status).toBe(410);
      // doctor goes through the running server.
      const doctor = await run(["doctor", "--data-dir", dir]);
      expect(doctor.code, doctor.stderr).toBe(1);
      expect(doctor.stdout).toMatch(/2 object\(s\) without their data/);
      expect(doctor.stdout).toMatch(/damage-repo\/main\/obj-0 \(uncommitted\): the data file .* is missing/);
      expect(doctor.stdout).toMatch(/damage-repo\/main\/obj-1 \(uncommitted\): .*should be \d+ bytes but its file .* has 1000/);
    } finally {
      await s.stop();
    }
  });

  it("doctor --verify finds bytes changed in place (same size), and exits 0 on a healthy data dir", async () => {
    const { dir } = await dataDirWithObjects("verify", 2);
    const healthy = await run(["doctor", "--data-dir", dir, "--verify"]);
    expect(healthy.code, healthy.stdout + healthy.stderr).toBe(0);
    expect(healthy.stdout).toMatch(/checked\s+2 records, 2 blobs \(sizes and MD5\)/);
    expect(healthy.stdout).toMatch(/ok: every record has its data/);
    const [id] = [...(await blobFiles(dir)).keys()];
    const file = path.join(dir, "blobs", id!.slice(0, 2), id!);
    const bytes = await readFile(file);
    bytes[10]! ^= 0xff;
    await writeFile(file, bytes);
    expect((await run(["doctor", "--data-dir", dir])).code).toBe(0); // sizes only
    const verified = await run(["doctor", "--data-dir", dir, "--verify", "--json"]);
    expect(verified.code).toBe(1);
    const report = JSON.parse(verified.stdout) as { problems: { problem: string }[] };
    expect(report.problems).toEqual([{ where: expect.stringMatching(/\(uncommitted\)$/), problem: expect.stringMatching(/do not match its ETag/) }]);
  });
});

describe("committed range files removed or cut behind the server's back", () => {
  /** A data dir whose objects are committed: their records in one range file (a pack). */
  async function committed(name: string): Promise<{ dir: string; pack: string }> {
    const { dir } = await dataDirWithObjects(name, 3);
    const s = await spawnServer(["--data-dir", dir, "--quiet"]);
    const res = await fetch(`${s.url}/api/v1/repositories/${REPO}/branches/main/commits`, {
      method: "POST",
      headers: { authorization: "Basic " + Buffer.from(`${KEYS.accessKeyId}:${KEYS.secretAccessKey}`).toString("base64"), "content-type": "application/json" },
      body: JSON.stringify({ message: "three objects" }),
    });
    expect(res.status).toBe(201);
    expect(await s.stop()).toBe(0);
    const packs = await readdir(path.join(dir, "metadata", "ranges", REPO));
    expect(packs).toHaveLength(1);
    return { dir, pack: path.join(dir, "metadata", "ranges", REPO, packs[0]!) };
  }

  it("removed: reads that need it answer 500 naming the file, doctor lists it, and a start after a crash refuses to sweep", async () => {
    const { dir, pack } = await committed("range-removed");
    await unlink(pack);
    const s = await spawnServer(["--data-dir", dir]); // a settled close: the start reads no range
    try {
      const missing = await get(s, "obj-0");
      expect([missing.status, errorCode(missing.text)]).toEqual([500, "InternalError"]);
      expect(missing.text).toContain(`committed metadata of repository ${REPO} is damaged: the range file ${pack} is missing (removed outside lakes3)`);
      const list = await send(endpoint(s), { method: "GET", path: `/${REPO}?list-type=2&prefix=main/` });
      expect([list.status, errorCode(list.text)]).toEqual([500, "InternalError"]);
      expect((await send(endpoint(s), { method: "HEAD", path: `/${REPO}/main/obj-1` })).status).toBe(500);
      const doctor = await run(["doctor", "--data-dir", dir]);
      expect(doctor.code, doctor.stderr).toBe(1);
      expect(doctor.stdout).toContain(`the range file ${pack} is missing`);
    } finally {
      await s.kill();
    }
    // After the crash the start must sweep, and cannot tell which blobs the lost range named.
    const refused = await serveRefused(["--data-dir", dir]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toMatch(/^lakes3: committed metadata of repository damage-repo is damaged: the range file .* is missing .*lakes3 will not start on it, so that nothing is deleted/);
    expect(await blobFileCount(dir), "a refused start deleted blobs").toBe(3);
    const accepted = await spawnServer(["--data-dir", dir, "--accept-damage"]);
    expect(await accepted.stop()).toBe(0);
    expect((await blobFileCount(dir)) + (await lostFound(dir)).length, "blobs were deleted").toBe(3);
  });

  it("cut short: reads answer 500 saying so", async () => {
    const { dir, pack } = await committed("range-cut");
    await truncate(pack, 100);
    const s = await spawnServer(["--data-dir", dir]);
    try {
      const cut = await get(s, "obj-2");
      expect([cut.status, errorCode(cut.text)]).toEqual([500, "InternalError"]);
      expect(cut.text).toContain(`the range file ${pack} was cut short outside lakes3`);
    } finally {
      await s.stop();
    }
  });
});

describe("the data dir changed under a running server", () => {
  it("removed: /_health turns 503 and writes fail with the cause; nothing is acknowledged", async () => {
    const dir = path.join(root, "removed");
    const s = await spawnServer(["--data-dir", dir, "--repo", REPO]);
    try {
      expect((await put(s, "before", randomBytes(100))).status).toBe(200);
      await rm(dir, { recursive: true, force: true });
      const health = await fetch(`${s.url}/_health`);
      expect(health.status).toBe(503);
      expect(await health.text()).toMatch(/was removed while lakes3 was running/);
      for (const size of [100, 200 * 1024]) {
        const res = await put(s, `after-${size}`, randomBytes(size));
        expect(res.status, res.text).toBeGreaterThanOrEqual(500);
        expect(res.text).toMatch(/was removed while lakes3 was running|not taking writes/);
      }
    } finally {
      await s.kill();
    }
  });

  // A file system cannot be remounted read-only under open files, and root writes anywhere: so
  // the server runs as another user, and its data dir is made unwritable to it.
  const NOBODY = 65534;
  const nobodyCanRun = canMount && spawnSync(process.execPath, ["-e", `require("fs").accessSync(${JSON.stringify(BIN)})`], { uid: NOBODY, gid: NOBODY }).status === 0;
  if (canMount && !nobodyCanRun) console.warn(`"made unwritable" skipped: user ${NOBODY} cannot read ${BIN}`);
  it.skipIf(!nobodyCanRun)("made unwritable: /_health 503 and writes fail naming the permission problem; nothing is acknowledged that is not stored", async () => {
    const dir = path.join(root, "unwritable");
    await mkdir(dir);
    await chmod(root, 0o755);
    execFileSync("chown", ["-R", `${NOBODY}:${NOBODY}`, dir]);
    const s = await spawnServer(["--data-dir", dir, "--repo", REPO], { uid: NOBODY, gid: NOBODY });
    try {
      expect((await put(s, "before", randomBytes(100))).status).toBe(200);
      execFileSync("chmod", ["-R", "a-w", dir]);
      const health = await fetch(`${s.url}/_health`);
      expect(health.status).toBe(503);
      expect(await health.text()).toMatch(/permission denied writing the data dir/);
      const big = await put(s, "after-big", randomBytes(200 * 1024));
      expect(big.status, big.text).toBe(500);
      expect(big.text).toMatch(/permission denied writing the data dir .*: give the user running lakes3 write access/);
      // A small write goes into files LevelDB already holds open: stored (and readable) or refused.
      const small = await put(s, "after-small", randomBytes(100));
      if (small.status === 200) expect((await get(s, "after-small")).status).toBe(200);
      else expect(small.text).toMatch(/permission denied/);
      expect((await get(s, "before")).status).toBe(200);
    } finally {
      await s.kill();
      execFileSync("chmod", ["-R", "u+w", dir]);
    }
  });
});

describe("a data dir that cannot be used: one clear line", () => {
  it("a file where the data dir should be", async () => {
    const file = path.join(root, "a-file");
    await writeFile(file, "not a directory");
    const r = await serveRefused(["--data-dir", file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe(`lakes3: cannot use data dir ${file}: it (or a folder on its path) is a file, not a directory (pass another --data-dir)\n`);
  });

  it.skipIf(!canMount)("`inspect` and `doctor` read a read-only data dir (from a copy of its metadata), saying so in one line", async () => {
    const { dir } = await dataDirWithObjects("ro-inspect", 2);
    const mnt = await mkdtemp(path.join(root, "ro-inspect-"));
    execFileSync("mount", ["--bind", dir, mnt]);
    execFileSync("mount", ["-o", "remount,ro,bind", mnt]);
    try {
      const summary = await run(["inspect", "--data-dir", mnt, "--json"]);
      expect(summary.code, summary.stderr).toBe(0);
      expect(JSON.parse(summary.stdout)).toMatchObject({ repositories: 1, objects: 2, blobFiles: 2 });
      expect(summary.stderr).toBe(`lakes3: ${mnt} cannot be written, so this reads a copy of its metadata\n`);
      const doctor = await run(["doctor", "--data-dir", mnt, "--verify"]);
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).toMatch(/ok: every record has its data/);
    } finally {
      execFileSync("umount", ["-l", mnt]);
    }
  });

  it.skipIf(!canMount)("a data dir on a read-only file system", async () => {
    const { dir } = await dataDirWithObjects("ro-start", 1);
    const mnt = await mkdtemp(path.join(root, "ro-start-"));
    execFileSync("mount", ["--bind", dir, mnt]);
    execFileSync("mount", ["-o", "remount,ro,bind", mnt]);
    try {
      const r = await serveRefused(["--data-dir", mnt]);
      expect(r.code).not.toBe(0);
      const lines = r.stderr.trim().split("\n");
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^lakes3: cannot open the metadata store in ${mnt}/metadata: .*Read-only file system.*pass another --data-dir`));
    } finally {
      execFileSync("umount", ["-l", mnt]);
    }
  });
});
