/**
 * Makes V8's code cache for the bundled CLI (dist/bundle/cli.cjs.cache; see bin/load.js): runs
 * `lakes3 serve` in this process on an ephemeral data dir, answers a signed HeadBucket (what a
 * client waiting for the server asks first) and a client's first object requests, then writes what
 * V8 compiled for the script so far,
 * and checks that a fresh process accepts it. Run by src/build/bundle.mjs.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import { CACHE, loadCli } from "../../bin/load.js";
import { ALGORITHM, canonicalRequest, credentialScope, deriveSigningKey, formatAmzDate, hmacHex, sha256Hex, stringToSign } from "../../dist/auth/sigv4.js";
import { DEFAULTS } from "../../dist/server/config.js";

const tmp = await mkdtemp(path.join(os.tmpdir(), "lakes3-code-cache-"));
const readyFile = path.join(tmp, "url");
const { main, script } = loadCli();
await main([process.argv[0], "lakes3", "serve", "--port", "0", "--host", "127.0.0.1", "--ephemeral", "--repo", "bench", "--ready-file", readyFile, "--quiet", "--no-tui"]);
const url = new URL(await readFile(readyFile, "utf8"));
// What a client does first, compiled now rather than on a user's first requests (a fresh server
// took ~18 ms for its first PutObject against ~9 for the next, ~10 for its first HeadObject
// against ~3): HeadBucket, then an object written, read and listed.
for (const [method, pathname, body, expected] of [
  ["HEAD", "/bench", undefined, 200],
  ["PUT", "/bench/main/code-cache/object.txt", "lakes3", 200],
  ["HEAD", "/bench/main/code-cache/object.txt", undefined, 200],
  ["GET", "/bench/main/code-cache/object.txt", undefined, 200],
  ["GET", "/bench?list-type=2&prefix=main/code-cache/", undefined, 200],
]) {
  const target = new URL(pathname, url);
  const res = await fetch(target, { method, body, headers: sign(url.host, target.pathname, target.search.slice(1), method, body) });
  await res.arrayBuffer();
  if (res.status !== expected) throw new Error(`code-cache: ${method} ${pathname} answered ${res.status}`);
}

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

/** SigV4 headers for a request with the key pair `lakes3 serve` uses by default (the server's own SigV4, tsc's dist/auth). */
function sign(host, pathname, query, method, body = "") {
  const { accessKeyId, secretAccessKey, region } = DEFAULTS;
  const date = formatAmzDate(new Date());
  const day = date.slice(0, 8);
  const payloadHash = sha256Hex(body);
  const headers = { host: [host], "x-amz-content-sha256": [payloadHash], "x-amz-date": [date] };
  const signedHeaders = Object.keys(headers);
  const scope = credentialScope(day, region, "s3");
  const request = canonicalRequest({ method, rawPath: pathname, rawQuery: query, headers, signedHeaders, payloadHash });
  const signature = hmacHex(deriveSigningKey(secretAccessKey, day, region, "s3"), stringToSign(date, scope, request));
  return { "x-amz-date": date, "x-amz-content-sha256": payloadHash, authorization: `${ALGORITHM} Credential=${accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}` };
}
