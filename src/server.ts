/**
 * Server lifecycle: open the stores (LevelDB lock, blob directory), sweep orphaned blobs, ensure
 * configured repositories, listen with node:http, and close cleanly. Used by `lakes3 serve` and
 * exported as the programmatic API (`startServer`).
 */
import http from "node:http";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveConfig, type Config, type Mode } from "./config.js";
import { RequestLog } from "./events.js";
import { createGateway } from "./gateway.js";
import type { Services } from "./operations/types.js";
import { FsBlobStore } from "./storage/blob-store.js";
import { MetadataStore } from "./storage/metadata-store.js";
import { Reclaimer } from "./storage/reclaimer.js";

export interface StartOptions {
  port?: number;
  host?: string;
  /** Data directory (default ./.lakes3); ignored when `ephemeral` is set. */
  dataDir?: string;
  /** Use a fresh temporary data dir, removed on close. */
  ephemeral?: boolean;
  repos?: string[];
  credentials?: { accessKeyId: string; secretAccessKey: string };
  region?: string;
  domains?: string[];
  mode?: Mode;
  /** Share a request log (the CLI attaches its sinks before start). */
  log?: RequestLog;
}

export interface LakeS3Server {
  endpoint: string;
  port: number;
  host: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  dataDir: string;
  mode: Mode;
  log: RequestLog;
  /** Ready-made configuration for @aws-sdk/client-s3's `new S3Client(...)`. */
  s3ClientConfig: {
    endpoint: string;
    region: string;
    forcePathStyle: true;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** Stop listening, release the port and the data dir lock (and remove an ephemeral dir). */
  close(): Promise<void>;
  /** Empty all data (repositories, objects, blobs), then re-create the configured repositories. */
  reset(): Promise<void>;
}

export async function startServer(options: StartOptions = {}): Promise<LakeS3Server> {
  const dataDir = options.ephemeral ? await mkdtemp(path.join(os.tmpdir(), "lakes3-")) : options.dataDir;
  const config = resolveConfig({
    port: options.port,
    host: options.host,
    dataDir,
    accessKeyId: options.credentials?.accessKeyId,
    secretAccessKey: options.credentials?.secretAccessKey,
    region: options.region,
    domains: options.domains,
    repos: options.repos,
    mode: options.mode,
  });
  try {
    return await start(config, options.log ?? new RequestLog(), options.ephemeral ?? false);
  } catch (err) {
    if (options.ephemeral) await rm(config.dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function start(config: Config, log: RequestLog, ephemeral: boolean): Promise<LakeS3Server> {
  await mkdir(config.dataDir, { recursive: true });
  const store = new MetadataStore(path.join(config.dataDir, "metadata"), config.dataDir);
  await store.open();
  const blobs = new FsBlobStore(config.dataDir);
  let server: http.Server | undefined;
  try {
    await blobs.init();
    const live = await store.liveBlobIds();
    await blobs.sweep((id) => live.has(id));
    await ensureRepos(store, config.repos);
    const services: Services = { config, store, blobs, reclaimer: new Reclaimer(blobs) };
    let ready = false;
    const handler = createGateway({ services, log, isReady: () => ready });
    server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, (req, res) => handler(req, res));
    server.on("checkContinue", (req, res) => handler(req, res, true));
    server.on("clientError", (err, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      else socket.destroy(err);
    });
    const port = await listen(server, config);
    ready = true;
    const endpoint = `http://${publicHost(config.host)}:${port}`;
    const credentials = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };
    const srv = server;
    let closing: Promise<void> | undefined;
    return {
      endpoint,
      port,
      host: config.host,
      ...credentials,
      region: config.region,
      dataDir: config.dataDir,
      mode: config.mode,
      log,
      s3ClientConfig: { endpoint, region: config.region, forcePathStyle: true, credentials },
      close() {
        closing ??= (async () => {
          ready = false;
          await new Promise<void>((resolve) => {
            srv.close(() => resolve());
            srv.closeAllConnections();
          });
          await services.reclaimer.flush();
          await store.close();
          if (ephemeral) await rm(config.dataDir, { recursive: true, force: true });
        })();
        return closing;
      },
      async reset() {
        await store.clear();
        services.reclaimer.forget();
        await blobs.sweep(() => false);
        await ensureRepos(store, config.repos);
      },
    };
  } catch (err) {
    server?.close();
    await store.close();
    throw err;
  }
}

async function ensureRepos(store: MetadataStore, repos: readonly string[]): Promise<void> {
  for (const repo of repos) await store.createRepository(repo);
}

export class ListenError extends Error {}

function listen(server: http.Server, config: Config): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${config.host}:${config.port}`;
      if (err.code === "EADDRINUSE") reject(new ListenError(`port ${config.port} is already in use on ${config.host} (try --port 0 for any free port)`));
      else if (err.code === "EACCES") reject(new ListenError(`no permission to listen on ${where}`));
      else reject(new ListenError(`cannot listen on ${where}: ${err.message}`));
    };
    server.once("error", onError);
    server.listen(config.port, config.host, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : config.port);
    });
  });
}

/** The host to put in URLs: never the wildcard bind address. */
function publicHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
