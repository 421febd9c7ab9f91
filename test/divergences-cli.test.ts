/**
 * Portability warnings through `lakes3 serve` (a spawned process): the JSON log's `divergence`
 * field, `inspect requests --divergent`, the one shutdown summary line, and LAKES3_STRICT.
 * Requests are raw SigV4 calls to 127.0.0.1 (test/helpers/server.ts rawRequest).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest } from "./helpers/server.js";
import { waitFor } from "./helpers/wait.js";
import { BIN, killAll, spawnServer, type SpawnedServer } from "./reliability/lib/cli.js";
import type { LakeS3Server } from "../src/server/lifecycle.js";

const exec = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-divergent-"));
});
afterAll(async () => {
  killAll();
  await rm(dir, { recursive: true, force: true });
});

/** What rawRequest needs of a server, for a spawned one on the default keys. */
function endpoint(s: SpawnedServer): LakeS3Server {
  return { endpoint: s.url, port: s.port, region: "us-east-1", accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" } as LakeS3Server;
}

describe("lakes3 serve", () => {
  it("marks divergent requests in the JSON log and inspect --divergent, and sums them up once on shutdown", async () => {
    const dataDir = path.join(dir, "warn");
    const s = await spawnServer(["--data-dir", dataDir, "--repo", "warn-repo", "--log-format", "json"]);
    const ep = endpoint(s);
    expect((await rawRequest(ep, { method: "PUT", path: "/created-by-s3" })).status).toBe(200);
    expect((await rawRequest(ep, { method: "GET", path: "/warn-repo?uploads" })).status).toBe(200);
    expect((await rawRequest(ep, { method: "GET", path: "/warn-repo?list-type=2&prefix=main/" })).status).toBe(200);
    const lines = await waitFor(() => {
      const l = s.stdout().split("\n").filter((x) => x.startsWith("{")).map((x) => JSON.parse(x) as { operation?: string; divergence?: unknown })
        .filter((x) => x.operation !== undefined); // not the /_health probes
      return l.length >= 3 && l;
    });
    expect(lines.map((l) => [l.operation, l.divergence])).toEqual([
      ["CreateBucket", { id: "create-bucket", lakefs: "501 NotImplemented" }],
      ["ListMultipartUploads", { id: "list-uploads-local", lakefs: "501 NotImplemented" }],
      ["ListObjectsV2", undefined],
    ]);
    const listed = await waitFor(async () => {
      const { stdout } = await exec(process.execPath, [BIN, "inspect", "requests", "--divergent", "--json", "--data-dir", dataDir]);
      const events = JSON.parse(stdout) as { operation: string }[];
      return events.length === 2 && events;
    });
    expect(listed.map((e) => e.operation)).toEqual(["CreateBucket", "ListMultipartUploads"]);
    expect(await s.stop()).toBe(0);
    const summary = s.stdout().split("\n").filter((l) => l.includes("relied on behaviour lakeFS does not have"));
    expect(summary).toEqual(["lakes3: 2 requests relied on behaviour lakeFS does not have; see inspect requests --divergent"]);
  });

  it("LAKES3_STRICT=true answers as lakeFS and prints no summary", async () => {
    const s = await spawnServer(["--ephemeral", "--repo", "strict-repo"], { env: { LAKES3_STRICT: "true" } });
    const res = await rawRequest(endpoint(s), { method: "PUT", path: "/not-created" });
    expect(res.status).toBe(501);
    expect(await s.stop()).toBe(0);
    expect(s.stdout()).not.toContain("relied on behaviour");
  });

  it("--strict with --mode s3 is one line and a non-zero exit", async () => {
    const run = exec(process.execPath, [BIN, "serve", "--port", "0", "--ephemeral", "--mode", "s3", "--strict"]);
    const err = (await run.catch((e: { code: number; stderr: string }) => e)) as { code: number; stderr: string };
    expect(err.code).not.toBe(0);
    expect(err.stderr.trim()).toBe("lakes3: --strict answers as lakeFS and applies to --mode lakefs only (--mode s3 is plain S3)");
  });
});
