/**
 * Makes V8's code cache for the bundled CLI (dist/bundle/cli.cjs.cache; see bin/load.js): runs
 * `lakes3 serve` in this process on an ephemeral data dir, answers one signed HeadBucket (what a
 * client waiting for the server asks first), then writes what V8 compiled for the script so far,
 * and checks that a fresh process accepts it. Run by src/build/bundle.mjs.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import { CACHE, loadCli } from "../../bin/load.js";
import { ALGORITHM, EMPTY_SHA256, canonicalRequest, credentialScope, deriveSigningKey, formatAmzDate, hmacHex, stringToSign } from "../../dist/auth/sigv4.js";
import { DEFAULTS } from "../../dist/server/config.js";

const tmp = await mkdtemp(path.join(os.tmpdir(), "lakes3-code-cache-"));
const readyFile = path.join(tmp, "url");
const { main, script } = loadCli();
await main([process.argv[0], "lakes3", "serve", "--port", "0", "--host", "127.0.0.1", "--ephemeral", "--repo", "bench", "--ready-file", readyFile, "--quiet", "--no-tui"]);
const url = new URL(await readFile(readyFile, "utf8"));
const res = await fetch(new URL("/bench", url), { method: "HEAD", headers: sign(url.host, "/bench") });
if (res.status !== 200) throw new Error(`code-cache: HeadBucket answered ${res.status}`);

// `serve` sets three V8 flags (src/cli/heap.ts); a cache is valid only under the flags it was made
// with, and a new process starts with V8's defaults.
v8.setFlagsFromString("--heap-growing-percent=0");
v8.setFlagsFromString("--semi-space-growth-factor=2");
v8.setFlagsFromString("--no-expose-gc");
writeFileSync(CACHE, script.createCachedData());
process.once("exit", () => {
  const check = spawnSync(process.execPath, ["--input-type=module", "-e", `import { loadCli } from ${JSON.stringify(path.resolve(import.meta.dirname, "../../bin/load.js"))}; console.log(loadCli().cacheRejected);`], { encoding: "utf8" });
  if (check.stdout.trim() !== "false") {
    process.stderr.write(`code-cache: a new process does not take the cache (${check.stdout.trim() || check.stderr.trim()}); check the V8 flags reset above\n`);
    process.exitCode = 1;
  }
  rmSync(tmp, { recursive: true, force: true }); // synchronously: nothing asynchronous runs once the process exits
});
process.kill(process.pid, "SIGTERM"); // the server stops as on Ctrl-C

/** SigV4 headers for a HEAD with the key pair `lakes3 serve` uses by default (the server's own SigV4, tsc's dist/auth). */
function sign(host, pathname) {
  const { accessKeyId, secretAccessKey, region } = DEFAULTS;
  const date = formatAmzDate(new Date());
  const day = date.slice(0, 8);
  const headers = { host: [host], "x-amz-content-sha256": [EMPTY_SHA256], "x-amz-date": [date] };
  const signedHeaders = Object.keys(headers);
  const scope = credentialScope(day, region, "s3");
  const request = canonicalRequest({ method: "HEAD", rawPath: pathname, rawQuery: "", headers, signedHeaders, payloadHash: EMPTY_SHA256 });
  const signature = hmacHex(deriveSigningKey(secretAccessKey, day, region, "s3"), stringToSign(date, scope, request));
  return { "x-amz-date": date, "x-amz-content-sha256": EMPTY_SHA256, authorization: `${ALGORITHM} Credential=${accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}` };
}
