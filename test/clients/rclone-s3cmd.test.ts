/**
 * Smoke tests with rclone (Go SDK) and s3cmd (SigV4 and SigV2), from Debian's packages: copy up
 * (single and multipart), list (branches at the root), copy down byte for byte, delete. Skipped,
 * with a printed reason, where a client is not installed; .ci/run installs both and sets
 * LAKES3_REQUIRE_CLIENTS=1, which turns a missing client into a failure.
 * (`s3cmd info` is left out: it reads the object ACL, which lakeFS answers with 405, as lakes3 does.)
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { itWithTool, runs } from "../helpers/tools.js";

const exec = promisify(execFile);
let t: TestServer;

const withRclone = itWithTool(runs("rclone", ["--version"]), "rclone smoke test: rclone is not installed (apt-get install rclone)");
const withS3cmd = itWithTool(runs("s3cmd", ["--version"]), "s3cmd smoke test: s3cmd is not installed (apt-get install s3cmd)");

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

describe("Go and Python command-line clients", () => {
  withRclone("rclone: copy (multipart above its cutoff), ls, lsd, check, copy back, delete", async () => {
    const dir = path.join(t.dataDir, "rclone");
    await mkdir(path.join(dir, "tree/sub"), { recursive: true });
    const big = randomBytes(12 * 1024 * 1024);
    await writeFile(path.join(dir, "big.bin"), big);
    await writeFile(path.join(dir, "tree/a.txt"), "a");
    await writeFile(path.join(dir, "tree/sub/b.txt"), "b");
    const env: Record<string, string | undefined> = {
      ...process.env,
      AWS_CA_BUNDLE: undefined, // rclone refuses a CA bundle for a plain-http endpoint
      RCLONE_CONFIG: "/dev/null",
      RCLONE_CONFIG_L_TYPE: "s3",
      RCLONE_CONFIG_L_PROVIDER: "Other",
      RCLONE_CONFIG_L_ACCESS_KEY_ID: t.server.accessKeyId,
      RCLONE_CONFIG_L_SECRET_ACCESS_KEY: t.server.secretAccessKey,
      RCLONE_CONFIG_L_ENDPOINT: t.url,
      RCLONE_CONFIG_L_REGION: "us-east-1",
      RCLONE_CONFIG_L_FORCE_PATH_STYLE: "true",
      RCLONE_S3_UPLOAD_CUTOFF: "5M",
      RCLONE_S3_CHUNK_SIZE: "5M",
    };
    const rclone = (...args: string[]) => exec("rclone", args, { env: env as NodeJS.ProcessEnv, maxBuffer: 1 << 24 });
    await rclone("copy", path.join(dir, "big.bin"), "L:test-repo/main/rclone/");
    await rclone("sync", path.join(dir, "tree"), "L:test-repo/main/rclone/tree");
    const ls = await rclone("ls", "L:test-repo/main/rclone/");
    expect(ls.stdout).toMatch(new RegExp(`${big.length} big\\.bin`));
    expect(ls.stdout).toContain("tree/sub/b.txt");
    const lsd = await rclone("lsd", "L:test-repo");
    expect(lsd.stdout).toMatch(/ main\n/);
    await rclone("check", path.join(dir, "tree"), "L:test-repo/main/rclone/tree");
    await rclone("copy", "L:test-repo/main/rclone/big.bin", path.join(dir, "back"));
    expect((await readFile(path.join(dir, "back/big.bin"))).equals(big)).toBe(true);
    await rclone("delete", "L:test-repo/main/rclone/tree");
    expect((await rclone("ls", "L:test-repo/main/rclone/")).stdout).not.toContain("tree/");
  }, 120_000);

  for (const v2 of [false, true]) {
    withS3cmd(`s3cmd (${v2 ? "SigV2" : "SigV4"}): put (multipart), ls, get, del`, async () => {
      const dir = path.join(t.dataDir, `s3cmd-${v2 ? "v2" : "v4"}`);
      await mkdir(dir, { recursive: true });
      const host = new URL(t.url).host;
      const cfg = path.join(dir, "s3cfg");
      await writeFile(
        cfg,
        [
          "[default]",
          `access_key = ${t.server.accessKeyId}`,
          `secret_key = ${t.server.secretAccessKey}`,
          `host_base = ${host}`,
          `host_bucket = ${host}`,
          "use_https = False",
          `signature_v2 = ${v2 ? "True" : "False"}`,
          "multipart_chunk_size_mb = 5",
          "",
        ].join("\n"),
      );
      const big = randomBytes(11 * 1024 * 1024);
      await writeFile(path.join(dir, "big.bin"), big);
      const s3cmd = (...args: string[]) => exec("s3cmd", ["-c", cfg, ...args], { maxBuffer: 1 << 24 });
      const prefix = `s3://test-repo/main/s3cmd-${v2 ? "v2" : "v4"}`;
      await s3cmd("put", path.join(dir, "big.bin"), `${prefix}/big.bin`);
      expect((await s3cmd("ls", `${prefix}/`)).stdout).toContain(`${big.length}  ${prefix}/big.bin`);
      expect((await s3cmd("ls", "s3://test-repo/")).stdout).toContain("DIR  s3://test-repo/main/");
      await s3cmd("get", "--force", `${prefix}/big.bin`, path.join(dir, "back.bin"));
      expect((await readFile(path.join(dir, "back.bin"))).equals(big)).toBe(true);
      const acl = await s3cmd("info", `${prefix}/big.bin`).catch((e: { stderr: string }) => e);
      expect(acl.stderr).toContain("ERRLakeFSNotSupported"); // ?acl, as lakeFS answers
      await s3cmd("del", `${prefix}/big.bin`);
      expect((await s3cmd("ls", `${prefix}/`)).stdout).not.toContain("big.bin");
    }, 120_000);
  }
});
