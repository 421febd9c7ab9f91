/**
 * Makes V8's code cache for the bundled CLI (dist/bundle/cli.cjs.cache; see bin/load.js): runs
 * `lakes3 serve` in this process on an ephemeral data dir, answers one signed HeadBucket (what a
 * client waiting for the server asks first), then writes what V8 compiled for the script so far,
 * and checks that a fresh process accepts it. Run by src/build/bundle.mjs.
 */
import { spawnSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import { CACHE, loadCli } from "../../bin/load.js";

const tmp = await mkdtemp(path.join(os.tmpdir(), "lakes3-code-cache-"));
const readyFile = path.join(tmp, "url");
const { main, script } = loadCli();
await main([process.argv[0], "lakes3", "serve", "--port", "0", "--host", "127.0.0.1", "--ephemeral", "--repo", "bench", "--ready-file", readyFile, "--quiet", "--no-tui"]);
const url = new URL(await readFile(readyFile, "utf8"));
const res = await fetch(new URL("/bench", url), { method: "HEAD", headers: sign(url.host, "/bench") });
if (res.status !== 200) throw new Error(`code-cache: HeadBucket answered ${res.status}`);

// `serve` tunes two V8 flags (src/cli/heap.ts); a cache is valid only under the flags it was made
// with, and a new process starts with V8's defaults.
v8.setFlagsFromString("--heap-growing-percent=0");
v8.setFlagsFromString("--semi-space-growth-factor=2");
writeFileSync(CACHE, script.createCachedData());
process.once("exit", () => {
  const check = spawnSync(process.execPath, ["--input-type=module", "-e", `import { loadCli } from ${JSON.stringify(path.resolve(import.meta.dirname, "../../bin/load.js"))}; console.log(loadCli().cacheRejected);`], { encoding: "utf8" });
  if (check.stdout.trim() !== "false") {
    process.stderr.write(`code-cache: a new process does not take the cache (${check.stdout.trim() || check.stderr.trim()}); check the V8 flags reset above\n`);
    process.exitCode = 1;
  }
  void rm(tmp, { recursive: true, force: true });
});
process.kill(process.pid, "SIGTERM"); // the server stops as on Ctrl-C

/** SigV4 headers for a HEAD with the quickstart keys `lakes3 serve` uses by default. */
function sign(host, pathname) {
  const [accessKeyId, secret, region] = ["AKIAIOSFOLQUICKSTART", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"];
  const date = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
  const day = date.slice(0, 8);
  const payload = createHash("sha256").update("").digest("hex");
  const canonical = ["HEAD", pathname, "", `host:${host}`, `x-amz-content-sha256:${payload}`, `x-amz-date:${date}`, "", "host;x-amz-content-sha256;x-amz-date", payload].join("\n");
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", date, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  const key = [day, region, "s3", "aws4_request"].reduce((k, part) => createHmac("sha256", k).update(part).digest(), Buffer.from(`AWS4${secret}`));
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return { "x-amz-date": date, "x-amz-content-sha256": payload, authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}` };
}
