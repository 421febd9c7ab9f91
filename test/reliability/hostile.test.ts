/**
 * Hostile and broken clients (issue 12): bodies abandoned before they start, error responses that
 * must reach a client still connected, requests Node itself would answer without S3 XML, slow
 * clients that must not hold the server, and memory bounded by bytes.
 */
import net from "node:net";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHashThread } from "../../src/protocol/body-hash.js";
import { startServer, type LakeS3Server } from "../../src/server/lifecycle.js";
import type { RequestEvent } from "../../src/log/events.js";
import { waitFor } from "../helpers/wait.js";
import { errorCode, rawStatus, send, signV4, type Endpoint } from "./lib/s3raw.js";

const REPO = "hostile-repo";
let dir: string;
let server: LakeS3Server;
let ep: Endpoint;
const started: RequestEvent[] = [];
const ended: RequestEvent[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-hostile-"));
  server = await startServer({ port: 0, dataDir: path.join(dir, "data"), repos: [REPO] });
  server.log.subscribe((e, phase) => (phase === "end" ? ended : started).push(e));
  ep = { port: server.port, region: server.region, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const openFds = async () => (await readdir("/proc/self/fd")).length;

/** Send a signed request's head (no body) on a fresh socket and close it at once. */
function headThenClose(method: string, pathAndQuery: string, headers: Record<string, string>): Promise<void> {
  const signed = signV4(ep, method, pathAndQuery, { "x-amz-content-sha256": "UNSIGNED-PAYLOAD", ...headers });
  const head = `${method} ${pathAndQuery} HTTP/1.1\r\n${Object.entries(signed)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
  return new Promise((resolve) => {
    const sock = net.connect(ep.port, "127.0.0.1", () => {
      sock.write(head, () => {
        sock.destroy();
        resolve();
      });
    });
    sock.on("error", () => resolve());
  });
}

/** Send raw bytes, read the whole answer (until the server closes or `waitMs`). */
function exchange(data: string | Buffer, waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(ep.port, "127.0.0.1");
    const chunks: Buffer[] = [];
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    sock.on("error", () => undefined);
    sock.write(data);
    setTimeout(() => sock.destroy(), waitMs).unref();
  });
}

describe("a client that disconnects before its body", () => {
  it("every request is answered or logged as aborted, and frees its temp file and fds at once (500 aborted uploads)", async () => {
    const create = await send(ep, { method: "POST", path: `/${REPO}/main/aborted/mpu?uploads` });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(create.text)![1]!;
    // The first body starts the hashing thread (protocol/body-hash.ts), whose fds are its own: it
    // runs before they are counted.
    expect((await send(ep, { method: "PUT", path: `/${REPO}/main/first.txt`, body: "x" })).status).toBe(200);
    expect(await startHashThread()).toBe(true);
    const fdsBefore = await openFds();
    const startedBefore = started.length;
    const endedBefore = ended.length;
    const N = 500;
    for (let i = 0; i < N; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, (_, j) =>
          (i + j) % 2 === 0
            ? headThenClose("PUT", `/${REPO}/main/aborted/mpu?partNumber=${((i + j) % 100) + 1}&uploadId=${uploadId}`, { "content-length": String(1 << 20) })
            : headThenClose("PUT", `/${REPO}/main/aborted/put-${i + j}`, { "content-length": String(1 << 20), "if-none-match": "*" }),
        ),
      );
    }
    await waitFor(() => started.length - startedBefore >= N, { message: "every aborted request to reach the server" });
    await waitFor(() => ended.length - endedBefore === started.length - startedBefore, {
      timeoutMs: 10_000,
      message: `every started request to end (started ${started.length - startedBefore}, ended ${ended.length - endedBefore})`,
    });
    const aborted = ended.slice(endedBefore);
    const codes = new Map<string, number>();
    for (const e of aborted) codes.set(`${e.status} ${e.errorCode}`, (codes.get(`${e.status} ${e.errorCode}`) ?? 0) + 1);
    // Logged as what happened: the body never came (IncompleteBody), or the answer could not be
    // delivered (499 ClientDisconnected).
    expect([...codes.keys()].every((k) => /^(400 IncompleteBody|499 ClientDisconnected)$/.test(k)), JSON.stringify([...codes])).toBe(true);
    await waitFor(async () => (await readdir(path.join(dir, "data", "tmp"))).length === 0, { message: "tmp/ to empty" });
    await waitFor(async () => (await openFds()) <= fdsBefore + 2, { message: "fds to return to baseline" });
    // Nothing half-written became an object, and the server still answers.
    const listed = await send(ep, { method: "GET", path: `/${REPO}?list-type=2&prefix=main/aborted/` });
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain("<Key>main/aborted/put-");
  });
});

describe("a client still connected always gets the S3 error XML the log records", () => {
  const lastEnded = () => ended.at(-1)!;

  /**
   * Write a request with an 8 MiB body whole, then read the answer. A server that answers early and
   * closes while the body still arrives makes the client's kernel reset the connection, and a reset
   * drops the answer the client had not read yet: the client sees ECONNRESET or EPIPE, never the
   * error (what the disk-full test saw on a loaded machine).
   */
  function writeWholeThenRead(head: string, bodyBytes: number): Promise<{ answer: string; error?: string }> {
    return new Promise((resolve) => {
      const sock = net.connect(ep.port, "127.0.0.1");
      let error: string | undefined;
      const chunks: Buffer[] = [];
      sock.on("error", (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
      sock.on("close", () => resolve({ answer: Buffer.concat(chunks).toString("latin1"), error }));
      sock.pause(); // nothing is read until the whole body is written
      const chunk = Buffer.alloc(64 << 10, 7);
      let sent = 0;
      const pump = (): void => {
        while (sent < bodyBytes && !sock.destroyed) {
          sent += chunk.length;
          if (!sock.write(chunk)) return void sock.once("drain", pump);
        }
        sock.on("data", (d: Buffer) => chunks.push(d));
        sock.resume();
        setTimeout(() => sock.destroy(), 3000).unref();
      };
      sock.write(head, pump);
    });
  }

  it("a refused body the client writes whole before it reads: the client gets the error XML, not a reset (the server reads and drops it)", async () => {
    const key = `/${REPO}/main/refused-body`;
    const signed = signV4({ ...ep, secretAccessKey: "not-the-secret" }, "PUT", key, { "content-length": String(8 << 20), "x-amz-content-sha256": "UNSIGNED-PAYLOAD" });
    const head = `PUT ${key} HTTP/1.1\r\n${Object.entries(signed).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
    const { answer, error } = await writeWholeThenRead(head, 8 << 20);
    expect(rawStatus(answer), `the client got ${error ?? "nothing"} instead of the answer`).toBe(403);
    expect(errorCode(answer)).toBe("SignatureDoesNotMatch");
  });

  it("an HTTP/1.1 request without Host: S3 error XML, logged (not Node's bare 400)", async () => {
    const before = ended.length;
    const out = await exchange(`GET /${REPO}/main/x HTTP/1.1\r\nConnection: close\r\n\r\n`);
    expect(rawStatus(out)).toBe(400);
    expect(errorCode(out)).toBe("InvalidRequest");
    expect(out).toContain("Missing required header for this request: Host");
    await waitFor(() => ended.length > before);
    expect(lastEnded()).toMatchObject({ status: 400, errorCode: "InvalidRequest" });
  });

  for (const expectValue of ["200", ""]) {
    it(`an unknown expectation (Expect: ${JSON.stringify(expectValue)}) is ignored, as S3 does`, async () => {
      const body = "expectation ignored";
      const headers = signV4(ep, "PUT", `/${REPO}/main/expect-${expectValue || "empty"}`, { "content-length": String(body.length), expect: expectValue });
      const out = await exchange(`PUT /${REPO}/main/expect-${expectValue || "empty"} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}connection: close\r\n\r\n${body}`);
      expect(rawStatus(out), out).toBe(200);
    });
  }

  it("a body longer than its Content-Length: the client receives the BadDigest the log records, then the connection closes", async () => {
    const full = Buffer.from("twenty bytes of body");
    const md5 = (await import("node:crypto")).createHash("md5").update(full).digest("base64");
    const headers = signV4(ep, "PUT", `/${REPO}/main/too-long`, { "content-length": "10", "content-md5": md5 });
    const before = ended.length;
    const out = await exchange(Buffer.concat([Buffer.from(`PUT /${REPO}/main/too-long HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`), full]));
    expect(rawStatus(out), out).toBe(400);
    expect(errorCode(out)).toBe("BadDigest");
    expect(out.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    await waitFor(() => ended.length > before);
    expect(ended.slice(before).map((e) => e.errorCode)).toContain("BadDigest");
  });
});

describe("--host beyond loopback with the default keys", () => {
  it("warns, naming the risk (decided before binding; the check itself never binds beyond loopback)", async () => {
    const { exposureWarning } = await import("../../src/server/lifecycle.js");
    const keys = { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", port: 8000 };
    for (const host of ["0.0.0.0", "::", "192.168.1.10"]) expect(exposureWarning({ ...keys, host }), host).toMatch(/public lakeFS quickstart keys: anyone who can reach this port can read and write/);
    for (const host of ["127.0.0.1", "127.0.0.2", "::1", "localhost"]) expect(exposureWarning({ ...keys, host }), host).toBeUndefined();
    expect(exposureWarning({ ...keys, host: "0.0.0.0", secretAccessKey: "my-own-secret" })).toBeUndefined();
  });

  it("`lakes3 serve --host` prints the warning on stderr before it binds", async () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface of this machine: the bind fails locally, nothing is sent.
    const { spawnSync } = await import("node:child_process");
    const { BIN } = await import("./lib/cli.js");
    const r = spawnSync(process.execPath, [BIN, "serve", "--port", "0", "--no-tui", "--ephemeral", "--host", "192.0.2.1"], { encoding: "utf8", timeout: 20_000 });
    expect(r.stderr).toMatch(/^lakes3: binding 192\.0\.2\.1, beyond this machine, with the public lakeFS quickstart keys/m);
    expect(r.status).not.toBe(0);
  });
});

describe("slow clients", () => {
  it("slow-loris heads and silent connections are closed, and never stop the server from answering others; a slow but steady upload still works", async () => {
    const slow = await startServer({ port: 0, dataDir: path.join(dir, "slow"), repos: [REPO], timeouts: { headersMs: 1000, idleMs: 1500 } });
    const sockets: net.Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    try {
      const closed: Promise<void>[] = [];
      const open = (dribble: boolean) => {
        const sock = net.connect(slow.port, "127.0.0.1");
        sock.on("error", () => undefined);
        sock.resume(); // read what comes, so the server's close is seen
        sockets.push(sock);
        closed.push(new Promise((resolve) => sock.once("close", () => resolve())));
        if (dribble) {
          const head = `GET /${REPO}/main/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${"a".repeat(1000)}`;
          let i = 0;
          const t = setInterval(() => {
            if (sock.destroyed || i >= head.length) return clearInterval(t);
            sock.write(head[i++]!);
          }, 100);
          timers.push(t);
        }
      };
      for (let i = 0; i < 300; i++) open(true);
      for (let i = 0; i < 50; i++) open(false);
      const sep: Endpoint = { port: slow.port, region: slow.region, accessKeyId: slow.accessKeyId, secretAccessKey: slow.secretAccessKey };
      // Others are answered meanwhile.
      const t0 = Date.now();
      expect((await send(sep, { method: "PUT", path: `/${REPO}/main/meanwhile`, body: "ok" })).status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(1000);
      // A slow but steady upload: a byte every 300 ms for 3 s, longer than the head timeout.
      const steady = await new Promise<string>((resolve) => {
        const body = "steady-body";
        const headers = signV4(sep, "PUT", `/${REPO}/main/steady`, { "content-length": String(body.length) });
        const sock = net.connect(slow.port, "127.0.0.1");
        let out = "";
        sock.on("data", (d: Buffer) => (out += d.toString()));
        sock.on("close", () => resolve(out));
        sock.on("error", () => undefined);
        sock.write(`PUT /${REPO}/main/steady HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}connection: close\r\n\r\n`);
        let i = 0;
        const t = setInterval(() => {
          sock.write(body[i++]!);
          if (i === body.length) clearInterval(t);
        }, 300);
        timers.push(t);
      });
      expect(rawStatus(steady), steady).toBe(200);
      // A body that stalls half-way is cut after the idle timeout.
      const stalledHeaders = signV4(sep, "PUT", `/${REPO}/main/stalled`, { "content-length": "100" });
      const stalled = net.connect(slow.port, "127.0.0.1");
      stalled.on("error", () => undefined);
      stalled.resume();
      sockets.push(stalled);
      closed.push(new Promise((resolve) => stalled.once("close", () => resolve())));
      stalled.write(`PUT /${REPO}/main/stalled HTTP/1.1\r\n${Object.entries(stalledHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n0123456789`);
      await Promise.race([
        Promise.all(closed),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`slow connections still open: ${sockets.filter((s) => !s.destroyed).length}`)), 10_000)),
      ]);
    } finally {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await slow.close();
    }
  });
});
