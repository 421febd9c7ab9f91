/** `lakes3 inspect` against a populated data dir, with and without a server holding it. */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../src/server/lifecycle.js";
import { waitFor } from "./helpers/wait.js";

const exec = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, "../bin/lakes3.js");
let dir: string;

async function inspect(dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, "inspect", ...args, "--data-dir", dataDir]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function populate(client: S3Client) {
  await client.send(new PutObjectCommand({ Bucket: "inspect-repo", Key: "main/data/a.csv", Body: "a,b\n" + "1,2\n".repeat(10), Metadata: { team: "data" }, ChecksumAlgorithm: "SHA256" }));
  await client.send(new PutObjectCommand({ Bucket: "inspect-repo", Key: "main/data/sub/b.json", Body: "{}" }));
  await client.send(new PutObjectCommand({ Bucket: "inspect-repo", Key: "main/readme.txt", Body: "hello" }));
  await client.send(new PutObjectCommand({ Bucket: "inspect-repo", Key: "main/data/big.bin", Body: Buffer.alloc(100 * 1024, 1) }));
  await client.send(new CreateMultipartUploadCommand({ Bucket: "inspect-repo", Key: "main/pending.bin" }));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-inspect-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function checks(dataDir: string) {
  return async () => {
    const summary = await inspect(dataDir, "--json");
    expect(summary.code).toBe(0);
    const s = JSON.parse(summary.stdout);
    expect(s).toMatchObject({ repositories: 1, branches: 1, objects: 4, uploadsInProgress: 1, orphanedBlobs: 0 });
    expect(s.blobFiles).toBe(2); // a.csv in the metadata store, big.bin a file; the tiny two are their blob ids

    const human = await inspect(dataDir);
    expect(human.stdout).toMatch(/repositories\s+1/);

    const repos = await inspect(dataDir, "repos");
    expect(repos.stdout).toMatch(/inspect-repo\s+main\s+1/);
    const branches = await inspect(dataDir, "branches", "inspect-repo", "--json");
    expect(JSON.parse(branches.stdout)[0]).toMatchObject({ name: "main", uncommittedChanges: 4 });

    const ls = await inspect(dataDir, "ls", "inspect-repo/main/");
    expect(ls.stdout).toContain("PRE");
    expect(ls.stdout).toContain("data/");
    expect(ls.stdout).toContain("readme.txt");
    const lsr = await inspect(dataDir, "ls", "inspect-repo/main/data/", "--recursive", "--json");
    expect(JSON.parse(lsr.stdout).objects.map((o: { key: string }) => o.key)).toEqual(["data/a.csv", "data/big.bin", "data/sub/b.json"]);
    const tree = await inspect(dataDir, "ls", "inspect-repo/main/", "--tree");
    expect(tree.stdout).toMatch(/data\/\n\s+a\.csv/);

    const stat = await inspect(dataDir, "stat", "inspect-repo/main/data/a.csv", "--json");
    const st = JSON.parse(stat.stdout);
    expect(st.userMeta).toEqual({ team: "data" });
    expect(st.checksum.algorithm).toBe("SHA256");
    expect(st.blobs[0].file).toBe("(inline in the metadata store)"); // small objects skip the file system
    const tiny = JSON.parse((await inspect(dataDir, "stat", "inspect-repo/main/readme.txt", "--json")).stdout);
    expect(tiny.blobs[0].file).toBe("(in the record, as its id)"); // tiny ones (at most 32 bytes) the metadata store too
    const big = JSON.parse((await inspect(dataDir, "stat", "inspect-repo/main/data/big.bin", "--json")).stdout);
    expect(big.blobs[0].file.startsWith(dataDir)).toBe(true);
    expect(st.state).toBe("uncommitted");

    const uploads = await inspect(dataDir, "uploads");
    expect(uploads.stdout).toContain("inspect-repo");

    const missing = await inspect(dataDir, "stat", "inspect-repo/main/nope");
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    const usage = await inspect(dataDir, "stat", "inspect-repo");
    expect(usage.code).toBe(2);
    const unknownRepo = await inspect(dataDir, "branches", "nope-repo");
    expect(unknownRepo.code).toBe(1);
  };
}

describe("lakes3 inspect", () => {
  it("reads a data dir no server holds", async () => {
    const dataDir = path.join(dir, "closed");
    const server = await startServer({ port: 0, dataDir, repos: ["inspect-repo"] });
    const client = new S3Client({ ...server.s3ClientConfig, maxAttempts: 1 });
    await populate(client);
    client.destroy();
    await server.close();
    await checks(dataDir)();
    const requests = await inspect(dataDir, "requests", "--json");
    expect(JSON.parse(requests.stdout).some((e: { operation: string }) => e.operation === "PutObject")).toBe(true);
  });

  it("asks the running server when one holds the data dir", async () => {
    const dataDir = path.join(dir, "open");
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--data-dir", dataDir, "--repo", "inspect-repo", "--no-tui", "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.once("data", (d: Buffer) => resolve(d.toString().split("\n")[0]!.split(" ").at(-1)!));
        child.once("exit", () => reject(new Error("server exited")));
      });
      const client = new S3Client({ endpoint: url, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" } });
      await populate(client);
      await checks(dataDir)();
      // two failed GETs with a moment between them, and successes around them
      const missing = (key: string) => client.send(new GetObjectCommand({ Bucket: "inspect-repo", Key: `main/${key}` })).then(() => expect.unreachable(), () => undefined);
      await missing("before-mark.txt");
      const beforeEnded = Date.now();
      await waitFor(() => Date.now() > beforeEnded + 2); // the mark is a later millisecond than every request so far
      const mark = new Date().toISOString();
      await waitFor(() => Date.now() > Date.parse(mark) + 2);
      await missing("after-mark.txt");
      await client.send(new PutObjectCommand({ Bucket: "inspect-repo", Key: "main/after-mark-ok.txt", Body: "ok" }));
      client.destroy();
      type Logged = { status: number; path?: string; operation: string };
      const query = async (...args: string[]) => JSON.parse((await inspect(dataDir, "requests", ...args, "--json")).stdout) as Logged[];
      // the request log is flushed in batches: wait until the last request is in
      await waitFor(async () => (await query()).some((e) => e.path === "after-mark-ok.txt"), { message: "the request log to be flushed" });
      const errors = await query("--errors");
      expect(errors.length).toBeGreaterThanOrEqual(2);
      expect(errors.every((e) => e.status >= 400)).toBe(true);
      expect(errors.map((e) => e.path)).toEqual(expect.arrayContaining(["before-mark.txt", "after-mark.txt"]));
      const since = await query("--errors", "--since", mark);
      expect(since.map((e) => [e.path, e.status])).toEqual([["after-mark.txt", 404]]);
      const recent = await query("--since", "10m");
      expect(recent.some((e) => e.operation === "PutObject" && e.status === 200)).toBe(true);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });

  it("explains a missing data dir in one line", async () => {
    const r = await inspect(path.join(dir, "nothing-here"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no lakes3 data/);
  });
});
