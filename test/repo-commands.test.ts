/** `lakes3 repo|branch|commit|log` with no server on the data dir, and through a running server. */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, "../bin/lakes3.js");
let dir: string;

async function cli(dataDir: string, ...args: string[]) {
  try {
    const { stdout } = await exec(process.execPath, [BIN, ...args, "--data-dir", dataDir]);
    return { code: 0, stdout, stderr: "" };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-repo-cmd-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function workflow(dataDir: string, client: () => S3Client) {
  expect((await cli(dataDir, "repo", "create", "cli-repo")).code).toBe(0);
  expect((await cli(dataDir, "repo", "create", "cli-repo")).code).toBe(1); // exists
  expect((await cli(dataDir, "repo", "create", "Bad_Name")).code).toBe(2);
  const repos = JSON.parse((await cli(dataDir, "repo", "list", "--json")).stdout);
  expect(repos.map((r: { name: string }) => r.name)).toContain("cli-repo");
  return async (afterWrite: () => Promise<void>) => {
    await afterWrite();
    const c = await cli(dataDir, "commit", "cli-repo/main", "-m", "add data", "--meta", "run=7", "--json");
    expect(c.code).toBe(0);
    const commit = JSON.parse(c.stdout);
    expect(commit.metadata).toEqual({ run: "7" });
    expect((await cli(dataDir, "branch", "create", "cli-repo/dev", "--source", "main")).code).toBe(0);
    const branches = JSON.parse((await cli(dataDir, "branch", "list", "cli-repo", "--json")).stdout);
    expect(branches).toEqual(expect.arrayContaining([{ name: "dev", commitId: commit.id }, { name: "main", commitId: commit.id }]));
    const log = JSON.parse((await cli(dataDir, "log", "cli-repo/dev", "--json")).stdout);
    expect(log.map((x: { message: string }) => x.message)).toEqual(["add data", "Repository created"]);
    const human = await cli(dataDir, "log", "cli-repo/main");
    expect(human.stdout).toContain(`commit ${commit.id}`);
    expect((await cli(dataDir, "commit", "cli-repo/main", "-m", "nothing")).code).toBe(1);
    expect((await cli(dataDir, "log", "nope-repo/main")).code).toBe(1);
    return { commit, client };
  };
}

describe("repository commands", () => {
  it("work on a data dir no server holds", async () => {
    const dataDir = path.join(dir, "direct");
    const step = await workflow(dataDir, () => {
      throw new Error("no server");
    });
    await step(async () => {
      const { startServer } = await import("../src/server/lifecycle.js");
      const server = await startServer({ port: 0, dataDir });
      const s3 = new S3Client({ ...server.s3ClientConfig, maxAttempts: 1 });
      await s3.send(new PutObjectCommand({ Bucket: "cli-repo", Key: "main/data.csv", Body: "x,y\n" }));
      s3.destroy();
      await server.close();
    });
  });

  it("work through the REST API of a running server", async () => {
    const dataDir = path.join(dir, "served");
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--data-dir", dataDir, "--no-tui", "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.once("data", (d: Buffer) => resolve(d.toString().split("\n")[0]!.split(" ").at(-1)!));
        child.once("exit", () => reject(new Error("server exited")));
      });
      const s3 = new S3Client({ endpoint: url, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" } });
      const step = await workflow(dataDir, () => s3);
      const { commit } = await step(async () => {
        await s3.send(new PutObjectCommand({ Bucket: "cli-repo", Key: "main/data.csv", Body: "x,y\n" }));
      });
      const got = await s3.send(new GetObjectCommand({ Bucket: "cli-repo", Key: `${commit.id}/data.csv` }));
      expect(await got.Body!.transformToString()).toBe("x,y\n");
      s3.destroy();
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});

// `lakes3 diff` as `lakectl diff` (lakeFS cmd/lakectl/cmd/diff.go, pkg/diff/diff.go Fmt): three-dot
// by default through the merge base (pkg/graveler/committed/compare_iterator.go), --two-way for
// the plain difference; the same answer from the store and through a running server.
describe("lakes3 diff", () => {
  it("shows three-dot changes with conflicts, or the two-way difference, directly and through the server", async () => {
    const dataDir = path.join(dir, "diff");
    const { startServer } = await import("../src/server/lifecycle.js");
    const write = async (puts: [string, string][]) => {
      const server = await startServer({ port: 0, dataDir, repos: ["diff-repo"] });
      const s3 = new S3Client({ ...server.s3ClientConfig, maxAttempts: 1 });
      for (const [Key, Body] of puts) await s3.send(new PutObjectCommand({ Bucket: "diff-repo", Key, Body }));
      s3.destroy();
      await server.close();
    };
    await write([["main/base", "base"]]);
    expect((await cli(dataDir, "commit", "diff-repo/main", "-m", "base")).code).toBe(0);
    expect((await cli(dataDir, "branch", "create", "diff-repo/dev", "--source", "main")).code).toBe(0);
    await write([["main/same", "identical"], ["dev/same", "identical"], ["main/both", "main's"], ["dev/both", "dev's"], ["dev/new", "dev only"], ["main/mine", "main only"]]);
    expect((await cli(dataDir, "commit", "diff-repo/main", "-m", "main")).code).toBe(0);
    expect((await cli(dataDir, "commit", "diff-repo/dev", "-m", "dev")).code).toBe(0);

    const threeDot = "* conflict both\n+ added new\n";
    const twoWay = "~ modified both\n- removed mine\n+ added new\n";
    expect((await cli(dataDir, "diff", "diff-repo/main", "diff-repo/dev")).stdout).toBe(threeDot);
    expect((await cli(dataDir, "diff", "diff-repo/main", "diff-repo/dev", "--two-way")).stdout).toBe(twoWay);
    expect(JSON.parse((await cli(dataDir, "diff", "diff-repo/main", "diff-repo/dev", "--json")).stdout)).toEqual([
      { type: "conflict", path: "both" },
      { type: "added", path: "new" },
    ]);
    expect((await cli(dataDir, "diff", "diff-repo/main", "other-repo/dev")).code).toBe(2);

    const server = await startServer({ port: 0, dataDir });
    try {
      expect((await cli(dataDir, "diff", "diff-repo/main", "diff-repo/dev")).stdout).toBe(threeDot);
      expect((await cli(dataDir, "diff", "diff-repo/main", "diff-repo/dev", "--two-way")).stdout).toBe(twoWay);
      const missing = await cli(dataDir, "diff", "nope-repo/main", "nope-repo/dev");
      expect([missing.code, missing.stderr.trim()]).toEqual([1, expect.stringContaining("repository not found")]);
    } finally {
      await server.close();
    }
  });
});
