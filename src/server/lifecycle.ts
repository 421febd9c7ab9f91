/**
 * Server lifecycle: open the stores (LevelDB lock, blob directory), sweep orphaned blobs, ensure
 * configured repositories, listen with node:http (GET /_health answers 503 from here on), load and
 * watch the fixtures directory, then flip to ready (200); close cleanly. Used by `lakes3 serve` and
 * exported as the programmatic API (`startServer`).
 */
import http from "node:http";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { ConfigError, DEFAULTS, resolveConfig, SERVER_FILE, type Config, type Mode } from "./config.js";
import { RequestLog } from "../log/events.js";
import type { FixtureWatcher } from "../fixtures/fixtures.js";
import { createGateway, lingerOnClose } from "./gateway.js";
import { answerClientError } from "./client-error.js";
import type { Services } from "../operations/types.js";
import { FsBlobStore, QUARANTINE_DIR } from "../storage/blob-store.js";
import { writeFileAtomically } from "../storage/durable-file.js";
import { clearDamage, markStarted, readCleanState, readDamage, recordCleanState, recordDamage, storeExists } from "../storage/recovery.js";
import { MetadataStore } from "../storage/metadata-store.js";
import { Catalog } from "../versioning/catalog.js";
import { RequestStore } from "../log/request-store.js";
import { Reclaimer } from "../storage/reclaimer.js";
import { FaultInjector, MAX_FAULT_SEED, type FaultControl } from "../faults/injector.js";
import { FaultRuleError, type FaultRuleInput } from "../faults/rule.js";
import { OPERATION_IDS } from "../protocol/route.js";
import { API_OPERATION_IDS } from "../api/operations.js";

export interface StartOptions {
  port?: number;
  host?: string;
  /** Data directory; without it, a fresh temporary one (see `ephemeral`). */
  dataDir?: string;
  /** Use a fresh temporary data dir, removed on close (the default when no `dataDir` is given). */
  ephemeral?: boolean;
  repos?: string[];
  credentials?: { accessKeyId: string; secretAccessKey: string };
  region?: string;
  domains?: string[];
  mode?: Mode;
  /** Browser origins allowed besides loopback ones; `*` allows any (without credentials). */
  corsOrigins?: string[];
  /**
   * Answer exactly as lakeFS wherever lakes3 is more permissive (mode lakefs only); without it,
   * such requests carry a portability warning (`divergence` on the request event).
   */
  strict?: boolean;
  /**
   * How long a client may take to send a request's head (default 60 s), and how long a connection
   * may stay silent, mid-request or between requests (default 120 s).
   */
  timeouts?: { headersMs?: number; idleMs?: number };
  /**
   * A directory laid out as `<repo>/<branch>/<path...>`: loaded as objects before the server is
   * ready, then watched (changes show up within a second). Also re-loaded by `reset()`.
   */
  fixtures?: string;
  /**
   * Warnings (skipped fixture paths, start-up findings, public keys beyond loopback), one line each
   * (default: written to stderr). They are also kept in the request log (`log.warn`) and written
   * to requests.log, whatever this does.
   */
  onWarning?: (message: string) => void;
  /** Called once the port is bound, before fixtures load (the CLI prints its first line here). */
  onListening?: (info: { endpoint: string; port: number; dataDir: string }) => void;
  /** Share a request log (the CLI attaches its sinks before start). */
  log?: RequestLog;
  /**
   * Start even though the metadata store is damaged (LevelDB dropped records, or it is missing
   * beside existing blobs): serve what is left, and move every unreferenced blob to lost+found/.
   */
  acceptDamage?: boolean;
  /**
   * Fault rules (see README "Fault and latency injection"): rule strings in the `--fault` grammar
   * or objects of the same keys. Change them at run time with `server.faults`.
   */
  faults?: FaultRuleInput[];
  /** Seed of the rules' `rate` draws and delay ranges (default: random; `server.faults.seed`). */
  faultSeed?: number;
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
  /** The fixtures directory (absolute), when one is loaded. */
  fixtures?: string;
  log: RequestLog;
  /** The fault rules: `add(rule)`, `clear()`, `list()`, and the `seed` in use. */
  faults: FaultControl & { readonly seed: number };
  /** Ready-made configuration for @aws-sdk/client-s3's `new S3Client(...)`. */
  s3ClientConfig: {
    endpoint: string;
    region: string;
    forcePathStyle: true;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /**
   * Stop watching fixtures, stop listening, release the port and the data dir lock (and remove an
   * ephemeral dir).
   */
  close(): Promise<void>;
  /**
   * Empty all data (repositories, objects, blobs), then re-create the configured repositories and
   * re-load the fixtures. /_health answers 503 meanwhile.
   */
  reset(): Promise<void>;
}

/** Every option startServer takes (the compiler checks it against StartOptions). */
const START_OPTIONS = Object.keys({
  port: true, host: true, dataDir: true, ephemeral: true, repos: true, credentials: true, region: true, domains: true, mode: true, corsOrigins: true, strict: true,
  timeouts: true, fixtures: true, onWarning: true, onListening: true, log: true, acceptDamage: true, faults: true, faultSeed: true,
} satisfies Record<keyof StartOptions, true>) as (keyof StartOptions)[];

/**
 * Start a server. Without `dataDir` it uses a fresh temporary data dir, removed on close (as with
 * `ephemeral: true`), so a test never writes into its working directory by accident.
 */
export async function startServer(options: StartOptions = {}): Promise<LakeS3Server> {
  const unknown = Object.keys(options).filter((k) => !START_OPTIONS.includes(k as keyof StartOptions));
  if (unknown.length > 0) throw new ConfigError(`startServer: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")} (known: ${START_OPTIONS.join(", ")})`);
  if (options.ephemeral && options.dataDir !== undefined) throw new ConfigError("startServer: ephemeral uses a temporary data dir and dataDir names one: pass one of them");
  options = { ...options, ephemeral: options.ephemeral ?? options.dataDir === undefined };
  const fixtures = options.fixtures === undefined ? undefined : await fixturesDir(options.fixtures);
  const input = {
    port: options.port,
    host: options.host,
    dataDir: options.dataDir,
    accessKeyId: options.credentials?.accessKeyId,
    secretAccessKey: options.credentials?.secretAccessKey,
    region: options.region,
    domains: options.domains,
    repos: options.repos,
    mode: options.mode,
    corsOrigins: options.corsOrigins,
    strict: options.strict,
  };
  const resolved = resolveConfig(input); // before creating an ephemeral dir, so a mistake leaves nothing behind
  const faults = faultInjector(options.faults ?? [], options.faultSeed);
  const config = options.ephemeral ? { ...resolved, dataDir: await mkdtemp(path.join(os.tmpdir(), "lakes3-")) } : resolved;
  try {
    return await start(config, options.log ?? new RequestLog(), faults, { ...options, fixtures });
  } catch (err) {
    if (options.ephemeral) await rm(config.dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** The server's fault rules, checked before anything starts (a bad rule is one ConfigError line). */
function faultInjector(rules: readonly FaultRuleInput[], seed: number | undefined): FaultInjector {
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= MAX_FAULT_SEED)) throw new ConfigError(`invalid fault seed ${JSON.stringify(seed)}: expected an integer 0-${MAX_FAULT_SEED}`);
  if (!Array.isArray(rules)) throw new ConfigError("startServer: faults must be a list of rules");
  const faults = new FaultInjector([...OPERATION_IDS, ...API_OPERATION_IDS], seed);
  try {
    faults.addAll(rules);
  } catch (err) {
    throw err instanceof FaultRuleError ? new ConfigError(err.message) : err;
  }
  return faults;
}

async function fixturesDir(dir: string): Promise<string> {
  const absolute = path.resolve(dir);
  const st = await stat(absolute).catch(() => undefined);
  if (!st?.isDirectory()) throw new ConfigError(`fixtures directory ${absolute} ${st ? "is not a directory" : "does not exist"}`);
  return absolute;
}

const DEFAULT_TIMEOUTS = { headersMs: 60_000, idleMs: 120_000 };

const warnToStderr = (message: string) => void process.stderr.write(`lakes3: ${message}\n`);

async function start(config: Config, log: RequestLog, faults: FaultInjector, options: StartOptions): Promise<LakeS3Server> {
  const ephemeral = options.ephemeral ?? false;
  const print = options.onWarning ?? warnToStderr;
  const warn = (message: string): void => {
    log.warn(message);
    print(message);
  };
  await prepareDataDir(config.dataDir);
  const location = path.join(config.dataDir, "metadata");
  const hadStore = storeExists(location);
  const store = new MetadataStore(location, config.dataDir);
  await store.open();
  const blobs = new FsBlobStore(config.dataDir, store.inlineBlobs);
  let server: http.Server | undefined;
  let fixtures: FixtureWatcher | undefined;
  let requestStore: RequestStore | undefined;
  try {
    await blobs.init();
    const catalog = new Catalog(store);
    await sweepAtStart({ dataDir: config.dataDir, location, hadStore, store, blobs, catalog, acceptDamage: options.acceptDamage ?? false, warn });
    await store.pruneCompletedUploads(24 * 60 * 60 * 1000);
    await catalog.dropSealedStaging();
    await ensureRepos(catalog, config.repos);
    const services: Services = { config, store, catalog, blobs, reclaimer: new Reclaimer(blobs) };
    let ready = false;
    const handler = createGateway({ services, log, isReady: () => ready, faults });
    // A missing Host is answered by the gateway as S3 error XML (and logged), not by Node's bare 400.
    // Slow clients cannot hold the server: the request head must arrive within `headersMs`, and a
    // connection silent for `idleMs` is closed. There is no limit on a whole request, so a large
    // upload streams for as long as it keeps moving.
    const { headersMs, idleMs } = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    server = http.createServer(
      { requestTimeout: 0, headersTimeout: headersMs, keepAliveTimeout: 65_000, connectionsCheckingInterval: Math.min(5000, Math.max(100, headersMs / 4)), requireHostHeader: false },
      (req, res) => handler(req, res),
    );
    // (server.timeout is not applied to connections that never send a byte once headersTimeout
    // is set, so each connection gets its own idle timer.)
    server.on("connection", (socket: Socket) => {
      socket.setTimeout(idleMs, () => socket.destroy());
      lingerOnClose(socket);
    });
    server.on("checkContinue", (req, res) => handler(req, res, true));
    // S3 ignores an expectation it does not know (`Expect: 200`, an empty `Expect:`); Node would
    // answer 417 before lakes3 sees the request.
    server.on("checkExpectation", (req, res) => handler(req, res));
    server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, config.region, log));
    const exposed = exposureWarning(config);
    if (exposed) warn(exposed);
    // Recording starts before the first request can arrive.
    const requests = new RequestStore(config.dataDir);
    requestStore = requests;
    requests.attach(log);
    const port = await listen(server, config);
    const endpoint = `http://${publicHost(config.host)}:${port}`;
    // How `lakes3 inspect` finds this server while it holds the data dir's lock.
    await writeFileAtomically(path.join(config.dataDir, SERVER_FILE), JSON.stringify({ url: endpoint, pid: process.pid }));
    options.onListening?.({ endpoint, port, dataDir: config.dataDir });
    if (options.fixtures) {
      // Loaded only when used: most servers run without fixtures.
      const { startFixtures } = await import("../fixtures/fixtures.js");
      fixtures = await startFixtures({ dir: options.fixtures, services, log, onWarning: warn });
    }
    ready = true;
    const watcher = fixtures;
    const clear = async () => {
      await catalog.idle();
      await store.clear();
      catalog.forgetCaches();
      services.reclaimer.forget();
      await blobs.sweep(() => false);
      await ensureRepos(catalog, config.repos);
    };
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
      fixtures: options.fixtures,
      log,
      faults,
      s3ClientConfig: { endpoint, region: config.region, forcePathStyle: true, credentials },
      close() {
        closing ??= (async () => {
          ready = false;
          await watcher?.close();
          await new Promise<void>((resolve) => {
            srv.close(() => resolve());
            srv.closeAllConnections();
          });
          await catalog.idle();
          const reclaimed = await services.reclaimer.flush();
          await requests.close();
          await rm(path.join(config.dataDir, SERVER_FILE), { force: true });
          const healthy = (await store.health()).ok;
          await store.close();
          if (ephemeral) await rm(config.dataDir, { recursive: true, force: true });
          // Every blob written so far is now accounted for by a record or was reclaimed (settled:
          // the next start need not look for orphans), or, if a reclaim failed, may be an orphan.
          else if (healthy) await recordCleanState(config.dataDir, reclaimed);
        })();
        return closing;
      },
      async reset() {
        ready = false;
        if (watcher) await watcher.reload(clear);
        else await clear();
        ready = closing === undefined;
      },
    };
  } catch (err) {
    await fixtures?.close();
    server?.close();
    server?.closeAllConnections();
    await requestStore?.close();
    await rm(path.join(config.dataDir, SERVER_FILE), { force: true });
    await store.close();
    throw err;
  }
}

/** The data dir exists and is a directory, or one clear line says why not. */
async function prepareDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "EEXIST" || code === "ENOTDIR"
        ? "it (or a folder on its path) is a file, not a directory"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "EROFS"
            ? "the file system is read-only"
            : (err as Error).message;
    throw new ConfigError(`cannot use data dir ${path.resolve(dir)}: ${why} (pass another --data-dir)`);
  }
}

/**
 * The startup sweep, made safe: blobs that no record references are deleted only when the store
 * can account for them (written since its last clean close: unfinished writes, or replaced blobs
 * whose reclaim a crash cut short). Older unreferenced blobs go to lost+found/, and none at all is
 * deleted while the metadata is damaged (LevelDB dropped records while opening it), missing or
 * empty beside existing blobs: lakes3 then refuses to start until told --accept-damage, and with
 * it moves every unreferenced blob to lost+found/.
 *
 * After a settled clean close (every blob then accounted for, and no run since) there is nothing
 * to look for but tmp/, so the sweep reads no record and lists no blob: a restart costs the same
 * at any store size. Only a start after a crash (or a close that left blobs to reclaim) walks the
 * store. Either way the start is recorded before any write, so a crash from here on is seen as one.
 */
async function sweepAtStart(s: {
  dataDir: string;
  location: string;
  hadStore: boolean;
  store: MetadataStore;
  blobs: FsBlobStore;
  catalog: Catalog;
  acceptDamage: boolean;
  warn: (message: string) => void;
}): Promise<void> {
  const lostFound = path.join(s.dataDir, QUARANTINE_DIR) + path.sep;
  // What LevelDB dropped while opening is recorded by the store itself (MetadataStore.open).
  let found: string | undefined;
  const blobsDir = path.join(s.dataDir, "blobs");
  const anyBlobFile = (await s.blobs.countFiles(1)) > 0;
  if (!s.hadStore && anyBlobFile) found = `the metadata store ${s.location} is missing but ${blobsDir} holds ${await s.blobs.countFiles()} object files`;
  else if (anyBlobFile && (await s.catalog.listRepositories({ limit: 1 })).repos.length === 0 && !(await s.store.hasUploads())) {
    found = `the metadata store ${s.location} holds no repositories but ${blobsDir} holds ${await s.blobs.countFiles()} object files`;
  }
  let damage = found ? await recordDamage(s.dataDir, found) : await readDamage(s.dataDir);
  const clean = await readCleanState(s.dataDir);
  if (clean) await markStarted(s.dataDir, clean.closedAt);
  // A store created just now (nothing in it references a blob) beside no blob file: nothing to
  // look for but tmp/ (the first start of a data dir costs no more than a settled restart).
  if (!damage && (clean?.settled || (!s.hadStore && !anyBlobFile))) {
    await s.blobs.sweepTmp();
    return;
  }
  // A committed range that cannot be read hides the blobs it references: damage, like a record
  // LevelDB dropped.
  const unreadable: string[] = [];
  const live = await s.catalog.liveBlobIds((err) => unreadable.push(err.message));
  if (unreadable.length > 0 && !damage) damage = await recordDamage(s.dataDir, unreadable[0]! + (unreadable.length > 1 ? ` (and ${unreadable.length - 1} more unreadable ranges)` : ""));
  if (damage) {
    if (!s.acceptDamage) {
      throw new DamagedStoreError(
        `${damage.reason}. lakes3 will not start on it, so that nothing is deleted: see what is left with \`lakes3 doctor --data-dir ${s.dataDir}\`, then start with --accept-damage to serve it (object files no record references are moved to ${lostFound}, never deleted)`,
      );
    }
    const { quarantined } = await s.blobs.sweep((id) => live.has(id), { quarantineBefore: Infinity });
    await clearDamage(s.dataDir);
    s.warn(`started on damaged metadata (--accept-damage): ${damage.reason}; moved ${quarantined} object files no record references to ${lostFound}`);
    return;
  }
  const { quarantined } = await s.blobs.sweep((id) => live.has(id), { quarantineBefore: clean?.closedAt });
  if (quarantined > 0) {
    s.warn(`moved ${quarantined} object files that no record references and that predate the last clean shutdown to ${lostFound} (nothing was deleted; \`lakes3 doctor\` lists them)`);
  }
}

/** The metadata store is damaged and lakes3 was not told to start on it anyway. */
export class DamagedStoreError extends Error {}

async function ensureRepos(catalog: Catalog, repos: readonly string[]): Promise<void> {
  for (const repo of repos) await catalog.createRepository(repo);
}

export class ListenError extends Error {}

function listen(server: http.Server, config: Config): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${config.host}:${config.port}`;
      if (err.code === "EADDRINUSE") reject(new ListenError(`port ${config.port} is already in use on ${config.host} (pick another, or port 0 for any free one)`));
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

/** A warning when the server is reachable beyond this machine with the public quickstart keys. */
export function exposureWarning(config: Pick<Config, "host" | "port" | "accessKeyId" | "secretAccessKey">): string | undefined {
  if (isLoopbackHost(config.host) || config.accessKeyId !== DEFAULTS.accessKeyId || config.secretAccessKey !== DEFAULTS.secretAccessKey) return undefined;
  return `binding ${config.host}, beyond this machine, with the public lakeFS quickstart keys: anyone who can reach this port can read and write every repository. Set --access-key-id and --secret-access-key (or bind 127.0.0.1)`;
}

/** Whether a bind address is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The host to put in URLs: never the wildcard bind address. */
function publicHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

