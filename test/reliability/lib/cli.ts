/**
 * The real `lakes3 serve` (built dist) as a child process: started on 127.0.0.1:0, waited for until
 * /_health answers 200, killed by its own pid. Every spawned server is tracked so a test file can
 * kill leftovers in afterAll.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export const BIN = path.resolve(import.meta.dirname, "../../../bin/lakes3.js");

export interface SpawnedServer {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  /** Everything written to stdout and stderr so far (all of it once `exited` has resolved). */
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (clean shutdown) and wait for the exit; resolves the exit code. */
  stop(): Promise<number | null>;
}

const live = new Set<ChildProcess>();

/** Kill every server this module started that is still running (afterAll). */
export function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}

export async function spawnServer(args: string[], options: { env?: Record<string, string>; timeoutMs?: number; uid?: number; gid?: number } = {}): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--no-tui", ...args], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    uid: options.uid,
    gid: options.gid,
  });
  live.add(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  // "close", not "exit": it comes once stdout and stderr are drained, so stdout()/stderr() are complete.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let url: string | undefined;
  while (url === undefined) {
    const m = /^lakes3 listening on (http:\/\/\S+)$/m.exec(out);
    if (m) url = m[1];
    else if (child.exitCode !== null || child.signalCode !== null) throw new Error(`lakes3 exited before listening: ${err || out}`);
    else if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`lakes3 did not start: ${err || out}`);
    } else await sleep(5);
  }
  // The first line comes once the port is bound; /_health is 200 once the store is ready.
  for (;;) {
    const status = await fetch(`${url}/_health`).then((r) => r.status, () => 0);
    if (status === 200) break;
    if (Date.now() > deadline) throw new Error(`lakes3 never became healthy: ${err || out}`);
    await sleep(5);
  }
  const server: SpawnedServer = {
    child,
    pid: child.pid!,
    url,
    port: Number(new URL(url).port),
    stdout: () => out,
    stderr: () => err,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return (await exited).code;
    },
  };
  return server;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
