/**
 * Fault rules from the command line (`--fault`, `--faults FILE`, `--fault-seed`), as a CI job
 * would run lakes3: the faults happen, the JSON log and `inspect requests --faults` show them, and
 * a bad rule is one line and a non-zero exit. Needs the build (`npm test` builds first).
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3Error } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { BIN, killAll, spawnServer as serve } from "../reliability/lib/cli.js";

const KEYS = { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-faults-cli-"));
});
afterAll(async () => {
  killAll();
  await rm(dir, { recursive: true, force: true });
});

const client = (url: string) => new S3Client({ endpoint: url, region: "us-east-1", forcePathStyle: true, credentials: KEYS, maxAttempts: 1 });

describe("lakes3 serve --fault / --faults / --fault-seed", () => {
  it("injects the rules of both, logs each fault as JSON, and inspect requests --faults lists them", async () => {
    const dataDir = path.join(dir, "data");
    const rules = path.join(dir, "rules.yaml");
    await writeFile(rules, ["# slow reads", "- op: GetObject", "  key: cli/*", "  delay: 5ms..20ms", "  name: slow-get", '- "op=HeadObject,error=InternalError"', ""].join("\n"));
    const s = await serve(["--data-dir", dataDir, "--repo", "cli-repo", "--log-format", "json", "--fault-seed", "7", "--fault", "op=PutObject,key=cli/*,error=SlowDown,times=1", "--faults", rules]);
    const s3 = client(s.url);
    try {
      expect(s.stdout()).toContain("faults        3 rules, seed 7");
      const err = await s3Error(s3.send(new PutObjectCommand({ Bucket: "cli-repo", Key: "main/cli/a.txt", Body: "a" })));
      expect(err.name).toBe("SlowDown");
      await s3.send(new PutObjectCommand({ Bucket: "cli-repo", Key: "main/cli/a.txt", Body: "a" }));
      const got = await s3.send(new GetObjectCommand({ Bucket: "cli-repo", Key: "main/cli/a.txt" }));
      expect(await got.Body!.transformToString()).toBe("a");
      const listed = (await (await fetch(`${s.url}/_lakes3/faults`)).json()) as { seed: number; rules: { name: string; fired: number }[] };
      expect(listed.seed).toBe(7);
      expect(listed.rules.map((r) => [r.name, r.fired])).toEqual([["slow-get", 1], ["op=HeadObject,error=InternalError", 0], ["op=PutObject,key=cli/*,error=SlowDown,times=1", 1]]);
      const events = () => s.stdout().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { operation?: string; status: number; fault?: { rule: string; action: string } });
      const faulted = await waitFor(() => events().filter((e) => e.fault).length === 2 && events().filter((e) => e.fault));
      expect(faulted[0]).toMatchObject({ operation: "PutObject", status: 503, fault: { rule: "op=PutObject,key=cli/*,error=SlowDown,times=1", action: "error=SlowDown" } });
      expect(faulted[1]).toMatchObject({ operation: "GetObject", status: 200, fault: { rule: "slow-get" } });
      expect(faulted[1]!.fault!.action).toMatch(/^delay=\d+ms$/);
    } finally {
      s3.destroy();
    }
    expect(await s.stop()).toBe(0);
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, "inspect", "requests", "--faults", "--data-dir", dataDir]);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/503 PUT .*SlowDown: .* \[fault error=SlowDown\]$/);
    expect(lines[1]).toMatch(/200 GET .* \[fault delay=\d+ms\]$/);
  });

  it("reads a JSON rule file, and rules from LAKES3_FAULT (`;`-separated) after it", async () => {
    const rules = path.join(dir, "rules.json");
    await writeFile(rules, JSON.stringify([{ op: ["PutObject", "UploadPart"], error: "SlowDown", rate: 0.5 }, "op=GetObject,bandwidth=1MiB/s"]));
    const s = await serve(["--ephemeral", "--quiet", "--faults", rules], { env: { LAKES3_FAULT: "op=HeadObject,delay=1ms; op=ListObjectsV2,error=InternalError" } });
    const listed = (await (await fetch(`${s.url}/_lakes3/faults`)).json()) as { rules: { rule: string }[] };
    expect(listed.rules.map((r) => r.rule)).toEqual([
      "op=PutObject|UploadPart,error=SlowDown,rate=0.5",
      "op=GetObject,bandwidth=1MiB/s",
      "op=HeadObject,delay=1ms",
      "op=ListObjectsV2,error=InternalError",
    ]);
    expect(await s.stop()).toBe(0);
  });

  it("refuses a bad rule, file or seed with one line and a non-zero exit", async () => {
    const badYaml = path.join(dir, "bad.yaml");
    await writeFile(badYaml, "- op: PutObject\n  error: SlowDown\n  times: [1, 2]\n");
    const cases: [string[], number, RegExp][] = [
      [["--fault", "op=PutObjet,error=SlowDown"], 1, /^lakes3: fault rule op=PutObjet,error=SlowDown: unknown operation "PutObjet"/],
      [["--fault", "op=PutObject,error=Slow"], 1, /error "Slow": not an S3 error code/],
      [["--fault", "op=PutObject,delay=5ms,error=SlowDown"], 1, /one action per rule, got error and delay/],
      [["--fault", "op=GetObject,delay=400ms..50ms"], 1, /delay "400ms..50ms": expected a duration/],
      [["--fault", "op=PutObject,reset=1MiB"], 1, /reset "1MiB": expected after:SIZE/],
      [["--fault", "op=PutObject,error=SlowDown,rate=2"], 1, /rate "2": expected a probability/],
      [["--fault", "op=PutObject,error=SlowDown,colour=red"], 1, /unknown key "colour"/],
      [["--faults", badYaml], 1, /^lakes3: fault file .*bad\.yaml:3: unsupported YAML value \[1, 2\]/],
      [["--faults", path.join(dir, "missing.json")], 1, /^lakes3: cannot read fault file .*missing\.json: no such file/],
      [["--fault-seed", "x"], 2, /--fault-seed.*'x' is invalid/],
    ];
    for (const [args, code, says] of cases) {
      const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--ephemeral", ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const exit = await new Promise<number | null>((resolve) => child.once("close", resolve));
      expect(exit, args.join(" ")).toBe(code);
      const lines = stderr.trim().split("\n");
      expect(lines, args.join(" ")).toHaveLength(1);
      expect(lines[0], args.join(" ")).toMatch(says);
    }
  });
});
