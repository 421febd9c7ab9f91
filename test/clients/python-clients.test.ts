/** Smoke tests with the Python clients on the machine image: boto3 and the aws CLI. */
import { execFile } from "node:child_process";
import { randomBytes, createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { itWithTool, runs } from "../helpers/tools.js";

const exec = promisify(execFile);
let t: TestServer;

// boto3 may live in Debian's python3 (python3-boto3) while another python3 comes first on PATH.
const python = ["python3", "/usr/bin/python3"].find((py) => runs(py, ["-c", "import boto3"]));
const hasAws = runs("aws", ["--version"]);
const withBoto3 = itWithTool(python !== undefined, "boto3 smoke test: python3 with boto3 is not installed (apt-get install python3-boto3)");
const withAws = itWithTool(hasAws, "aws CLI smoke test: the aws CLI is not installed (apt-get install awscli)");

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

function env() {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: t.server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: t.server.secretAccessKey,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

describe("python clients", () => {
  withBoto3("boto3: objects, listing, ranges, conditionals, multipart upload_file/download_file", async () => {
    const { stdout } = await exec(python!, [path.join(import.meta.dirname, "boto3_smoke.py"), t.url, "test-repo"], { env: env() });
    expect(stdout).toContain("boto3 smoke OK");
  }, 120_000);

  withAws("aws CLI: cp (multipart at 50 MiB), ls, cp back, rm", async () => {
    const src = path.join(t.dataDir, "cli-src.bin");
    const dst = path.join(t.dataDir, "cli-dst.bin");
    const data = randomBytes(50 * 1024 * 1024);
    await writeFile(src, data);
    const aws = (...args: string[]) => exec("aws", ["--endpoint-url", t.url, ...args], { env: env(), maxBuffer: 1 << 24 });
    await aws("s3", "cp", src, "s3://test-repo/main/cli/big.bin");
    const ls = await aws("s3", "ls", "s3://test-repo/main/cli/");
    expect(ls.stdout).toContain("big.bin");
    expect(ls.stdout).toContain(String(data.length));
    const branches = await aws("s3", "ls", "s3://test-repo/");
    expect(branches.stdout).toContain("PRE main/");
    await aws("s3", "cp", "s3://test-repo/main/cli/big.bin", dst);
    const back = await readFile(dst);
    expect(createHash("sha256").update(back).digest("hex")).toBe(createHash("sha256").update(data).digest("hex"));
    const head = await aws("s3api", "head-object", "--bucket", "test-repo", "--key", "main/cli/big.bin");
    expect(JSON.parse(head.stdout).ETag).toMatch(/-\d+"$/);
    await aws("s3", "rm", "s3://test-repo/main/cli/big.bin");
    // `aws s3 ls` of a prefix with nothing under it exits 1 with no output: only that failure counts as "gone".
    const after = await aws("s3", "ls", "s3://test-repo/main/cli/").catch((e: { code?: number; stdout: string; stderr: string }) => {
      expect(e.code, e.stderr).toBe(1);
      expect(e.stderr).toBe("");
      return e;
    });
    expect(after.stdout).not.toContain("big.bin");
    expect((await t.raw({ method: "HEAD", path: "/test-repo/main/cli/big.bin" })).status).toBe(404);
  }, 180_000);
});
