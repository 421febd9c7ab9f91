/**
 * Fault rules' semantics through a real server: after/times, seeded rates that repeat, bandwidth
 * limits on both bodies, resets of a response, faults in the REST API, the loopback endpoint
 * /_lakes3/faults, and startServer's validation. Plus the YAML subset of `--faults FILE`, checked
 * against a full YAML parser.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ROUTES } from "../../src/api/index.js";
import { API_OPERATIONS } from "../../src/api/operations.js";
import { readFaultFile } from "../../src/faults/file.js";
import { startServer } from "../../src/server/lifecycle.js";
import { apiClient } from "../api/helpers.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { signV4 } from "../reliability/lib/s3raw.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ faultSeed: 42 });
  await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/a.txt", Body: "a" }));
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => t.server.faults.clear());

const head = async (key = "a.txt") => (await t.raw({ method: "HEAD", path: `/test-repo/main/${key}` })).status;

async function statuses(n: number, key?: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await head(key));
  return out;
}

describe("when a rule fires", () => {
  it("after=N lets N matching requests through; times=N stops after N faults", async () => {
    t.server.faults.add("op=HeadObject,error=InternalError,after=2,times=2");
    expect(await statuses(6)).toEqual([200, 200, 500, 500, 200, 200]);
    expect(t.server.faults.list()).toEqual([{ name: "op=HeadObject,error=InternalError,after=2,times=2", rule: "op=HeadObject,error=InternalError,after=2,times=2", seen: 6, fired: 2 }]);
  });

  it("rate= draws from a seeded PRNG: the same seed repeats the same faults, on a re-added rule and on another server", async () => {
    t.server.faults.add("op=HeadObject,error=SlowDown,rate=0.5");
    const first = await statuses(24);
    expect(first).toContain(503);
    expect(first).toContain(200);
    t.server.faults.clear();
    t.server.faults.add("op=HeadObject,error=SlowDown,rate=0.5");
    expect(await statuses(24)).toEqual(first);

    const other = await startTestServer({ faultSeed: 42, faults: ["op=HeadObject,error=SlowDown,rate=0.5"] });
    try {
      await other.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/a.txt", Body: "a" }));
      const seq: number[] = [];
      for (let i = 0; i < 24; i++) seq.push((await other.raw({ method: "HEAD", path: "/test-repo/main/a.txt" })).status);
      expect(seq).toEqual(first);
      expect(other.server.faults.seed).toBe(42);
    } finally {
      await other.close();
    }
  });

  it("the first rule that fires decides; rules match repo, ref, key globs, method and source", async () => {
    t.server.faults.add({ op: "HeadObject", ref: "ma?n", key: "*.txt", method: "HEAD", source: "s3", error: "ServiceUnavailable", times: 1 });
    t.server.faults.add("repo=test-*,error=InternalError");
    t.server.faults.add("repo=other-repo,error=SlowDown");
    expect(await statuses(2)).toEqual([503, 500]);
    expect(t.server.faults.list().map((r) => r.seen)).toEqual([2, 1, 0]);
  });
});

describe("bandwidth and resets", () => {
  it("bandwidth= paces a response and a request body, which arrive intact", async () => {
    const body = Buffer.alloc(384 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32BE(i, i);
    t.server.faults.add("op=PutObject|GetObject,key=paced.bin,bandwidth=512KiB/s");
    let start = performance.now();
    await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/paced.bin", Body: body }));
    const put = performance.now() - start;
    start = performance.now();
    const got = await t.client.send(new GetObjectCommand({ Bucket: "test-repo", Key: "main/paced.bin" }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    const get = performance.now() - start;
    expect(bytes.equals(body)).toBe(true);
    // 384 KiB at 512 KiB/s: at least ~0.75 s each (minus the one slice sent at once)
    expect(put).toBeGreaterThanOrEqual(600);
    expect(get).toBeGreaterThanOrEqual(600);
  });

  it("a paced upload holds the client back (backpressure) rather than reading its body into memory", async () => {
    t.server.faults.add("op=PutObject,key=flood.bin,bandwidth=1MiB/s");
    const total = 64 * 1024 * 1024;
    const ep = { port: t.server.port, region: t.server.region, accessKeyId: t.server.accessKeyId, secretAccessKey: t.server.secretAccessKey };
    const headers = signV4(ep, "PUT", "/test-repo/main/flood.bin", { "content-length": String(total) });
    const req = http.request({ host: "127.0.0.1", port: t.server.port, method: "PUT", path: "/test-repo/main/flood.bin", headers });
    req.on("error", () => undefined);
    let flushed = 0;
    const chunk = Buffer.alloc(256 * 1024, 9);
    const started = performance.now();
    // Write as fast as the connection takes it, for 1.5 s.
    while (performance.now() - started < 1500 && flushed < total) {
      if (!req.write(chunk, () => (flushed += chunk.length))) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const sent = flushed;
    req.destroy();
    // Read at 1 MiB/s, the server took ~1.5 MiB; the rest of what was sent sits in socket buffers
    // (a few MiB; without backpressure the server reads as fast as it stores, 18 MiB here).
    expect(sent).toBeLessThan(12 * 1024 * 1024);
    await waitFor(() => t.server.log.getSnapshot().finished.find((e) => e.path === "flood.bin"));
    expect(await head("flood.bin")).toBe(404);
  });

  it("reset= on a read cuts the response after about N bytes, and the log says so", async () => {
    await t.client.send(new PutObjectCommand({ Bucket: "test-repo", Key: "main/long.bin", Body: Buffer.alloc(2 * 1024 * 1024, 1) }));
    t.server.faults.add("op=GetObject,key=long.bin,reset=after:256KiB");
    const ended: { fault?: unknown; status?: number }[] = [];
    const unsubscribe = t.server.log.subscribe((e, phase) => void (phase === "end" && e.path === "long.bin" && e.operation === "GetObject" && ended.push(e)));
    try {
      // A reset discards what the client had not read yet: it may fail before or after the headers.
      const read = async () => (await t.client.send(new GetObjectCommand({ Bucket: "test-repo", Key: "main/long.bin" }))).Body!.transformToByteArray();
      await expect(read()).rejects.toThrow();
      const event = await waitFor(() => ended[0]);
      expect(event).toMatchObject({ status: 499, fault: { action: "reset=after:256KiB" } });
    } finally {
      unsubscribe();
    }
  });
});

describe("the REST API", () => {
  it("gets injected faults by its operation ids (api:<operationId>)", async () => {
    const api = apiClient(t);
    t.server.faults.add("op=api:commit,error=ServiceUnavailable,times=1");
    const failed = await api("POST", "/repositories/test-repo/branches/main/commits", { json: { message: "m" } });
    expect(failed.status).toBe(503);
    expect(failed.json.message).toBeTruthy();
    expect((await api("POST", "/repositories/test-repo/branches/main/commits", { json: { message: "m" } })).status).toBe(201);
    const event = await waitFor(() => t.server.log.getSnapshot().finished.find((e) => e.operation === "api:commit" && e.fault));
    expect(event.fault).toEqual({ rule: "op=api:commit,error=ServiceUnavailable,times=1", action: "error=ServiceUnavailable" });
  });

  it("rules may name exactly the operation ids of the REST routes (listed apart, so the API loads on first use)", () => {
    expect(new Set(ROUTES.map((r) => r.operation))).toEqual(new Set(API_OPERATIONS));
    expect(() => t.server.faults.add("op=api:noSuchOperation,error=SlowDown")).toThrow(/unknown operation/);
  });

  it("reset= reaches a JSON request body (a commit cut after 8 bytes of it does not happen) and bandwidth= paces it", async () => {
    const api = apiClient(t);
    const commits = async () => ((await api("GET", "/repositories/test-repo/refs/main/commits?amount=1000")).json as { results: unknown[] }).results.length;
    const before = await commits();
    t.server.faults.add("op=api:commit,reset=after:8,times=1");
    await expect(api("POST", "/repositories/test-repo/branches/main/commits", { json: { message: "never made" } })).rejects.toThrow();
    const event = await waitFor(() => t.server.log.getSnapshot().finished.find((e) => e.operation === "api:commit" && e.fault?.action === "reset=after:8"));
    expect(event).toMatchObject({ status: 400, errorMessage: expect.stringMatching(/reset by a fault rule .* before the body ended/) });
    expect(await commits()).toBe(before);
    // 64 bytes at 128 B/s: about half a second (the request body alone is paced: the answer is small).
    t.server.faults.add("op=api:createBranch,bandwidth=128B/s,times=1");
    const started = performance.now();
    const created = await api("POST", "/repositories/test-repo/branches", { json: { name: "paced", source: "main", pad: "x".repeat(20) } });
    expect(created.status).toBe(201);
    expect(performance.now() - started).toBeGreaterThan(250);
  });

  it("reset= reaches a JSON answer too: the client gets a cut connection, not the document", async () => {
    const api = apiClient(t);
    t.server.faults.add("op=api:listBranches,reset=after:16,times=1");
    await expect(api("GET", "/repositories/test-repo/branches")).rejects.toThrow();
    expect((await api("GET", "/repositories/test-repo/branches")).status).toBe(200);
  });

  it("REST object uploads are reset mid-body too, and leave nothing behind", async () => {
    const api = apiClient(t);
    t.server.faults.add("op=api:uploadObject,key=rest/*,reset=after:64KiB");
    await expect(api("POST", "/repositories/test-repo/branches/main/objects?path=rest/cut.bin", { body: Buffer.alloc(1024 * 1024, 3), headers: { "content-type": "application/octet-stream" } })).rejects.toThrow();
    expect((await api("GET", "/repositories/test-repo/refs/main/objects/stat?path=rest/cut.bin")).status).toBe(404);
  });
});

describe("/_lakes3/faults", () => {
  const faults = (method: string, body?: string, type = "text/plain", host?: string) =>
    fetch(`${t.url}/_lakes3/faults`, { method, body, headers: { "content-type": type, ...(host ? { host } : {}) } });

  it("adds (a rule string, JSON rules), lists and clears the server's rules", async () => {
    expect((await faults("POST", "op=GetObject,delay=10ms\n# comment\nop=PutObject,error=SlowDown,name=put-throttle")).status).toBe(201);
    const added = await faults("POST", JSON.stringify([{ op: "HeadObject", error: "InternalError", times: 1 }]), "application/json");
    expect(await added.json()).toEqual({ added: [{ name: "op=HeadObject,error=InternalError,times=1", rule: "op=HeadObject,error=InternalError,times=1", seen: 0, fired: 0 }] });
    expect(await head()).toBe(500);
    const listed = (await (await faults("GET")).json()) as { seed: number; rules: { name: string; fired: number }[] };
    expect(listed.seed).toBe(42);
    expect(listed.rules.map((r) => [r.name, r.fired])).toEqual([["op=GetObject,delay=10ms", 0], ["put-throttle", 0], ["op=HeadObject,error=InternalError,times=1", 1]]);
    expect(await (await faults("DELETE")).json()).toEqual({ cleared: 3 });
    expect(t.server.faults.list()).toEqual([]);
  });

  it("refuses a bad rule (400, nothing added) and answers loopback hosts only", async () => {
    const bad = await faults("POST", JSON.stringify(["op=GetObject,delay=10ms", { op: "GetObject" }]), "application/json");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/no action/);
    expect(t.server.faults.list()).toEqual([]);
    expect((await faults("PUT", "x")).status).toBe(405);
    const rebound = await import("node:http").then(
      (http) =>
        new Promise<number>((resolve, reject) => {
          const req = http.request({ host: "127.0.0.1", port: t.server.port, path: "/_lakes3/faults", method: "POST", headers: { host: "evil.example" } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on("error", reject);
          req.end("op=GetObject,error=SlowDown");
        }),
    );
    expect(rebound).toBe(403);
    expect(t.server.faults.list()).toEqual([]);
  });
});

describe("startServer({ faults, faultSeed })", () => {
  it("refuses a bad rule or seed with one line, before anything starts", async () => {
    await expect(startServer({ port: 0, faults: ["op=GetObject,delay=fast"] })).rejects.toThrow(/^fault rule op=GetObject,delay=fast: delay "fast": expected a duration/);
    await expect(startServer({ port: 0, faults: [{ op: "GetObject", error: "SlowDown", times: 0 }] })).rejects.toThrow(/times "0": expected an integer ≥ 1/);
    await expect(startServer({ port: 0, faultSeed: -1 })).rejects.toThrow(/invalid fault seed -1/);
    await expect(startServer({ port: 0, faultSeed: 2 ** 32 })).rejects.toThrow(/invalid fault seed 4294967296: expected an integer 0-4294967295/);
    expect(() => t.server.faults.add("op=GetObject")).toThrow(/no action/);
  });
});

describe("--faults FILE formats", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-fault-files-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the YAML subset as a YAML parser does", async () => {
    const text = [
      "# throttling for the retry tests",
      "- op: PutObject   # writes",
      "  key: 'raw/*'",
      '  error: "SlowDown"',
      "  times: 2",
      "-   op: GetObject",
      "    delay: 50ms..400ms",
      '- "op=HeadObject,error=InternalError"',
      "- op=UploadPart,reset=after:1MiB",
      "",
    ].join("\n");
    const file = path.join(dir, "rules.yml");
    await writeFile(file, text);
    const expected = (parseYaml(text) as unknown[]).map((r) => (typeof r === "object" ? Object.fromEntries(Object.entries(r as object).map(([k, v]) => [k, String(v)])) : r));
    expect(await readFaultFile(file)).toEqual(expected);
  });

  it("reads any other file as one rule per line", async () => {
    const file = path.join(dir, "rules.txt");
    await writeFile(file, "# CI faults\nop=PutObject,error=SlowDown,times=2\n\nop=GetObject,delay=1s\n");
    expect(await readFaultFile(file)).toEqual(["op=PutObject,error=SlowDown,times=2", "op=GetObject,delay=1s"]);
  });
});

