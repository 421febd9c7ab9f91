/**
 * `lakes3 inspect`: read-only views of a data dir. When no server holds the data dir the store is
 * opened directly; when a server does (LevelDB lock), the same queries are asked of it over its
 * loopback admin route, found through <dataDir>/server.json. Human tables by default, --json for
 * scripts. Exit codes: 0 found, 1 not found (or unreachable), 2 usage.
 */
import { cp, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { existsSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { DEFAULTS, SERVER_FILE } from "../server/config.js";
import { formatBytes, textLine } from "../log/sinks.js";
import type { RequestEvent } from "../log/events.js";
import { FsBlobStore } from "../storage/blob-store.js";
import { MetadataStore, StoreLockedError, StoreOpenError } from "../storage/metadata-store.js";
import { Catalog } from "../versioning/catalog.js";
import { answer, NotFound, type ListedObject, type Summary } from "../inspect/queries.js";
import { hasProblems, type DoctorReport } from "../inspect/doctor.js";
import { CliExit } from "./exit.js";

interface InspectFlags {
  dataDir: string;
  json?: boolean;
}

/**
 * A CLI command's way into a data dir: its store opened directly, or "locked" when a server holds
 * it (the command then goes through that server). Without `create`, a dir with no data is exit 1.
 */
export async function openDataDir(dir: string, options: { create?: boolean } = {}): Promise<MetadataStore | "locked"> {
  if (options.create) await mkdir(dir, { recursive: true });
  else if (!existsSync(path.join(dir, "metadata"))) throw new CliExit(1, `no lakes3 data in ${dir}`);
  const store = new MetadataStore(path.join(dir, "metadata"), dir);
  try {
    await store.open();
  } catch (err) {
    if (err instanceof StoreLockedError) return "locked";
    throw err;
  }
  return store;
}

/** The URL of the server holding a locked data dir, as it recorded it. */
export async function recordedServerUrl(dir: string): Promise<string> {
  try {
    return (JSON.parse(await readFile(path.join(dir, SERVER_FILE), "utf8")) as { url: string }).url;
  } catch {
    throw new CliExit(1, `data dir ${dir} is locked by another process, but it left no ${SERVER_FILE}: is an older lakes3 or another tool using it?`);
  }
}

/** Ask a query of the data dir: directly, or through the server that holds it. */
export async function ask(dataDir: string, query: string, params: Record<string, string | undefined>): Promise<unknown> {
  const dir = path.resolve(dataDir);
  let copy: string | undefined;
  let store: MetadataStore | "locked";
  try {
    store = await openDataDir(dir);
  } catch (err) {
    // LevelDB must write to open a store (its lock, its log): a read-only data dir (a mounted
    // artifact, a CI cache) is inspected from a copy of its metadata instead.
    if (!(err instanceof StoreOpenError) || !/read-only file system|permission denied/i.test(err.message)) throw err;
    copy = await mkdtemp(path.join(os.tmpdir(), "lakes3-inspect-"));
    process.stderr.write(`lakes3: ${dir} cannot be written, so this reads a copy of its metadata\n`);
    await cp(path.join(dir, "metadata"), path.join(copy, "metadata"), { recursive: true });
    store = new MetadataStore(path.join(copy, "metadata"), copy);
    await store.open();
  }
  if (store === "locked") return askServer(dir, query, params);
  try {
    return await answer({ catalog: new Catalog(store), blobs: new FsBlobStore(dir, store.inlineBlobs), dataDir: dir }, query, params);
  } catch (err) {
    if (err instanceof NotFound) throw new CliExit(1, err.message);
    throw err;
  } finally {
    await store.close();
    if (copy) await rm(copy, { recursive: true, force: true });
  }
}

async function askServer(dir: string, query: string, params: Record<string, string | undefined>): Promise<unknown> {
  const url = await recordedServerUrl(dir);
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  let res: Response;
  try {
    res = await fetch(`${url}/_lakes3/inspect/${query}?${q}`);
  } catch {
    throw new CliExit(1, `data dir ${dir} is locked, but the lakes3 server recorded at ${url} does not answer (stale lock? stop the process holding ${path.join(dir, "metadata", "LOCK")})`);
  }
  const body = (await res.json()) as { error?: string };
  if (res.status === 404) throw new CliExit(1, body.error ?? "not found");
  if (!res.ok) throw new CliExit(1, body.error ?? `server answered ${res.status}`);
  return body;
}

/** `REPO/REF[/PATH]` → parts. */
function address(value: string, needPath: boolean): { repo: string; ref: string; rest: string } {
  const [repo, ref, ...rest] = value.split("/");
  if (!repo || !ref || (needPath && rest.join("/") === "")) {
    throw new CliExit(2, `expected ${needPath ? "REPO/REF/PATH" : "REPO/REF[/PREFIX]"}, got ${JSON.stringify(value)}`);
  }
  return { repo, ref, rest: rest.join("/") };
}

function parseSince(value: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(value);
  if (m) return Date.now() - Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as "s" | "m" | "h" | "d"];
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new CliExit(2, `--since: expected a duration like 10m or a date, got ${JSON.stringify(value)}`);
  return t;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}

const date = (iso: string) => iso.replace("T", " ").slice(0, 19);

function print(flags: InspectFlags, data: unknown, human: () => string): void {
  process.stdout.write((flags.json ? JSON.stringify(data, null, 2) : human()) + "\n");
}

export function registerInspect(program: Command): void {
  const inspect = program
    .command("inspect")
    .description("read-only views of a data dir (works with or without a running server)")
    .addOption(new Option("-d, --data-dir <dir>", "the data dir").env("LAKES3_DATA_DIR").default(DEFAULTS.dataDir))
    .option("--json", "JSON output for scripts")
    .action(async (flags: InspectFlags) => {
      const s = (await ask(flags.dataDir, "summary", {})) as Summary;
      print(flags, s, () =>
        table([
          ["data dir", s.dataDir],
          ["repositories", String(s.repositories)],
          ["branches", String(s.branches)],
          ["commits", String(s.commits)],
          ["objects", `${s.objects} (${formatBytes(s.bytes)} on default branches)`],
          ["blob files", `${s.blobFiles} (${formatBytes(s.blobBytes)})`],
          ["orphaned", `${s.orphanedBlobs} files (${formatBytes(s.orphanedBytes)})`],
          ["uploads", `${s.uploadsInProgress} in progress`],
        ]),
      );
    });
  const flagsOf = (cmd: Command) => cmd.optsWithGlobals() as InspectFlags;

  inspect
    .command("repos")
    .description("repositories")
    .action(async (_o, cmd: Command) => {
      const flags = flagsOf(cmd);
      const repos = (await ask(flags.dataDir, "repos", {})) as { name: string; defaultBranch: string; branches: number; createdAt: string }[];
      print(flags, repos, () => table([["NAME", "DEFAULT", "BRANCHES", "CREATED"], ...repos.map((r) => [r.name, r.defaultBranch, String(r.branches), date(r.createdAt)])]));
    });

  inspect
    .command("branches <repo>")
    .description("branches of a repository")
    .action(async (repo: string, _o, cmd: Command) => {
      const flags = flagsOf(cmd);
      const list = (await ask(flags.dataDir, "branches", { repo })) as { name: string; head: string; headMessage: string; uncommittedChanges: number; createdAt: string }[];
      print(flags, list, () =>
        table([["BRANCH", "HEAD", "UNCOMMITTED", "CREATED", "MESSAGE"], ...list.map((b) => [b.name, b.head.slice(0, 12), String(b.uncommittedChanges), date(b.createdAt), b.headMessage])]),
      );
    });

  inspect
    .command("ls <address>")
    .description("objects at REPO/REF[/PREFIX]")
    .option("-r, --recursive", "everything under the prefix, not one level")
    .option("-t, --tree", "draw the objects under the prefix as a tree")
    .action(async (value: string, o: { recursive?: boolean; tree?: boolean }, cmd: Command) => {
      const flags = flagsOf(cmd);
      const { repo, ref, rest } = address(value, false);
      const result = (await ask(flags.dataDir, "ls", { repo, ref, prefix: rest, recursive: String(Boolean(o.recursive || o.tree)) })) as { prefixes: string[]; objects: ListedObject[]; truncated: boolean };
      print(flags, result, () => {
        if (o.tree) return tree(rest, result.objects);
        const rows = [
          ["MODIFIED", "SIZE", "ETAG", "CONTENT-TYPE", "KEY"],
          ...result.prefixes.map((p) => ["", "PRE", "", "", p]),
          ...result.objects.map((x) => [date(x.lastModified), formatBytes(x.size), x.etag, x.contentType, x.key]),
        ];
        return rows.length === 1 ? "(empty)" : table(rows) + (result.truncated ? "\n… (truncated)" : "");
      });
    });

  inspect
    .command("stat <address>")
    .description("all metadata of REPO/REF/PATH, incl. checksums and blob files")
    .action(async (value: string, _o, cmd: Command) => {
      const flags = flagsOf(cmd);
      const { repo, ref, rest } = address(value, true);
      const s = (await ask(flags.dataDir, "stat", { repo, ref, path: rest })) as Record<string, unknown> & { blobs: { blobId: string; size: number; file: string }[] };
      print(flags, s, () => {
        const rows: string[][] = [];
        for (const [k, v] of Object.entries(s)) {
          if (k === "parts" || k === "blobs" || v === undefined) continue;
          rows.push([k, typeof v === "object" ? JSON.stringify(v) : String(v)]);
        }
        s.blobs.forEach((b, i) => rows.push([`blob ${i + 1}`, `${b.blobId} ${formatBytes(b.size)} ${b.file}`]));
        return table(rows);
      });
    });

  inspect
    .command("uploads")
    .description("multipart uploads in progress")
    .action(async (_o, cmd: Command) => {
      const flags = flagsOf(cmd);
      const list = (await ask(flags.dataDir, "uploads", {})) as { uploadId: string; repo: string; key: string; initiated: string; parts: number; bytes: number }[];
      print(flags, list, () =>
        list.length === 0 ? "(no uploads in progress)" : table([["UPLOAD ID", "REPO", "KEY", "PARTS", "BYTES", "INITIATED"], ...list.map((u) => [u.uploadId, u.repo, u.key, String(u.parts), formatBytes(u.bytes), date(u.initiated)])]),
      );
    });

  inspect
    .command("requests")
    .description("the persisted request log (last 10,000 requests)")
    .option("--errors", "only failed requests")
    .option("--divergent", "only requests whose answer relied on behaviour lakeFS does not have (see the README)")
    .option("--faults", "only requests a fault rule (--fault) injected a fault into")
    .option("--since <when>", "only requests since a duration ago (10m, 2h) or a date")
    .action(async (o: { errors?: boolean; divergent?: boolean; faults?: boolean; since?: string }, cmd: Command) => {
      const flags = flagsOf(cmd);
      const since = o.since === undefined ? undefined : String(parseSince(o.since));
      const events = (await ask(flags.dataDir, "requests", { errors: String(Boolean(o.errors)), divergent: String(Boolean(o.divergent)), faults: String(Boolean(o.faults)), since })) as RequestEvent[];
      print(flags, events, () => (events.length === 0 ? "(no requests)" : events.map(textLine).join("\n")));
    });
}

/** `lakes3 doctor`: exit 0 when every record has its bytes, 1 with the list of what is wrong. */
export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("check that every object's data is in the data dir with its recorded size (and MD5 with --verify); list damage and lost+found/")
    .addOption(new Option("-d, --data-dir <dir>", "the data dir").env("LAKES3_DATA_DIR").default(DEFAULTS.dataDir))
    .option("--verify", "also read every blob and check its MD5 against the ETag")
    .option("--json", "JSON output for scripts")
    .action(async (flags: InspectFlags & { verify?: boolean }) => {
      const r = (await ask(flags.dataDir, "doctor", { verify: String(Boolean(flags.verify)) })) as DoctorReport;
      print(flags, r, () => {
        const lines = [
          table([
            ["data dir", r.dataDir],
            ["checked", `${r.records} records, ${r.blobs} blobs (${r.verified ? "sizes and MD5" : "sizes; --verify also checks MD5"})`],
            ...(r.damage ? [["damage", r.damage]] : []),
          ]),
        ];
        if (r.problems.length > 0) lines.push(`\n${r.problems.length} object(s) without their data:`, ...r.problems.map((p) => `  ${p.where}: ${p.problem}`));
        if (r.quarantined.length > 0) {
          lines.push(`\n${r.quarantined.length} file(s) in lost+found/ (object data no record referenced at start; look, then remove them):`, ...r.quarantined.map((q) => `  ${q.file}  ${formatBytes(q.size)}`));
        }
        if (!hasProblems(r)) lines.push("ok: every record has its data");
        return lines.join("\n");
      });
      if (hasProblems(r)) throw new CliExit(1, `doctor: problems found in ${r.dataDir}`);
    });
}

/** A tree drawing of keys under a prefix. */
function tree(prefix: string, objects: ListedObject[]): string {
  const lines: string[] = [prefix || "/"];
  let previous: string[] = [];
  for (const o of objects) {
    const parts = o.key.slice(prefix.length).split("/");
    let shared = 0;
    while (shared < parts.length - 1 && shared < previous.length - 1 && parts[shared] === previous[shared]) shared++;
    for (let d = shared; d < parts.length - 1; d++) lines.push(`${"  ".repeat(d + 1)}${parts[d]}/`);
    lines.push(`${"  ".repeat(parts.length)}${parts.at(-1)}  ${formatBytes(o.size)}`);
    previous = parts;
  }
  return lines.join("\n");
}
