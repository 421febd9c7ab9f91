/**
 * Test fixture: an in-process lakes3 on 127.0.0.1:0 with a temporary data dir, an S3Client
 * configured for it, and a raw signed-request helper for protocol edge cases.
 */
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { S3Client, type S3ClientConfig, type S3ServiceException } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "./sha256.js";
import { startServer, type LakeS3Server, type StartOptions } from "../../src/server/lifecycle.js";

export interface TestServer {
  server: LakeS3Server;
  client: S3Client;
  /** A client in virtual-host style (`repo.s3.local.lakefs.io` resolved to 127.0.0.1). */
  vhostClient: S3Client;
  dataDir: string;
  url: string;
  raw: (req: RawRequest) => Promise<RawResponse>;
  restart: () => Promise<void>;
  close: () => Promise<void>;
}

export interface RawRequest {
  method: string;
  path: string; // raw, already encoded, may include ?query
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Sign with SigV4 (default true). */
  sign?: boolean;
  /** Override the signing secret. */
  secret?: string;
  /** Payload hash header value; default UNSIGNED-PAYLOAD. */
  contentSha256?: string;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), "lakes3-test-")));
  const start = () => startServer({ port: 0, repos: ["test-repo"], ...options, dataDir });
  // A server that refuses to start (a test of its refusal) leaves no temp dir behind.
  let server = await start().catch(async (err: unknown) => {
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  const t: TestServer = {
    server,
    client: makeClient(server),
    vhostClient: makeClient(server, true),
    dataDir,
    url: server.endpoint,
    raw: (req) => rawRequest(t.server, req),
    async restart() {
      await t.server.close();
      server = await startServer({ port: t.server.port, repos: ["test-repo"], ...options, dataDir });
      t.server = server;
      t.client.destroy();
      t.client = makeClient(server);
    },
    async close() {
      t.client.destroy();
      t.vhostClient.destroy();
      await t.server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

export function makeClient(server: LakeS3Server, vhost = false, extra: Partial<S3ClientConfig> = {}): S3Client {
  if (!vhost) return new S3Client({ ...server.s3ClientConfig, maxAttempts: 1, ...extra });
  const agent = new http.Agent({
    keepAlive: true,
    lookup: (_host, opts, cb) => {
      if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: "127.0.0.1", family: 4 }]);
      else cb(null, "127.0.0.1", 4);
    },
  });
  return new S3Client({
    ...server.s3ClientConfig,
    endpoint: `http://s3.local.lakefs.io:${server.port}`,
    forcePathStyle: false,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: agent }),
    ...extra,
  });
}

export async function rawRequest(server: LakeS3Server, req: RawRequest): Promise<RawResponse> {
  const url = new URL(server.endpoint + req.path);
  const headers: Record<string, string> = { host: url.host, ...(req.headers ?? {}) };
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  if (body !== undefined && headers["content-length"] === undefined && headers["transfer-encoding"] === undefined) headers["content-length"] = String(body.length);
  if (req.sign !== false) {
    if (!Object.keys(headers).some((k) => k.toLowerCase() === "x-amz-content-sha256")) headers["x-amz-content-sha256"] = req.contentSha256 ?? "UNSIGNED-PAYLOAD";
    const signer = new SignatureV4({
      service: "s3",
      region: server.region,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: req.secret ?? server.secretAccessKey },
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const signed = await signer.sign({
      method: req.method,
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers,
    });
    Object.assign(headers, signed.headers);
  }
  return new Promise((resolve, reject) => {
    const r = http.request({ host: "127.0.0.1", port: server.port, method: req.method, path: req.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    r.on("error", reject);
    r.end(body);
  });
}

/** The error a request failed with (the test fails if it did not). */
export async function s3Error(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (err) {
    return err as S3ServiceException;
  }
  throw new Error("expected the request to fail");
}

/** The <Code> of an S3 error body. */
export function errorCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}
