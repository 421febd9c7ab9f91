/**
 * lakectl-style conveniences: `lakes3 repo create|list`, `lakes3 branch create|list`,
 * `lakes3 commit`, `lakes3 log`, `lakes3 diff`. They work whether or not a server runs on the data dir: with no
 * server they open the store and use the Catalog; when a server holds the store's lock they call
 * its lakeFS REST API (/api/v1, Basic auth with the configured key pair), found through
 * <dataDir>/server.json.
 */
import path from "node:path";
import type { Command } from "commander";
import { REPOSITORY_NAME } from "../versioning/names.js";
import { USER_ID } from "../api/router.js";
import { printAnswer, splitAddress, withServerFlags, type ServerFlags } from "./command-flags.js";
import { CliExit } from "./exit.js";
import { openDataDir, recordedServerUrl } from "./inspect-commands.js";
import { restClient, RestError, type RestCall } from "./rest.js";
import { Catalog } from "../versioning/catalog.js";
import { VersioningError } from "../versioning/errors.js";

interface Repo {
  name: string;
  defaultBranch: string;
  createdAt: string;
}
interface Branch {
  name: string;
  commitId: string;
}
interface Change {
  type: string;
  path: string;
}
interface Commit {
  id: string;
  message: string;
  committer: string;
  createdAt: string;
  metadata: Record<string, string>;
  parents: string[];
}

/** What the commands need, from the store directly or from a running server. */
interface Backend {
  createRepo(name: string, defaultBranch: string): Promise<Repo>;
  listRepos(): Promise<Repo[]>;
  createBranch(repo: string, name: string, source: string): Promise<Branch>;
  listBranches(repo: string): Promise<Branch[]>;
  commit(repo: string, branch: string, message: string, metadata: Record<string, string>): Promise<Commit>;
  log(repo: string, ref: string, amount: number): Promise<Commit[]>;
  diff(repo: string, left: string, right: string, type: DiffType): Promise<Change[]>;
  close(): Promise<void>;
}


type DiffType = "two_dot" | "three_dot";

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

async function directBackend(dir: string, create: boolean): Promise<Backend | "locked"> {
  const store = await openDataDir(dir, { create });
  if (store === "locked") return "locked";
  const catalog = new Catalog(store);
  const toCommit = (c: Commit): Commit => ({
    id: c.id,
    message: c.message,
    committer: c.committer,
    createdAt: c.createdAt,
    metadata: c.metadata,
    parents: c.parents,
  });
  return {
    async createRepo(name, defaultBranch) {
      if (!(await catalog.createRepository(name, { defaultBranch }))) throw new VersioningError("conflict", "error creating repository: not unique");
      const r = (await catalog.getRepository(name))!;
      return { name: r.name, defaultBranch: r.defaultBranch, createdAt: r.createdAt };
    },
    async listRepos() {
      return (await catalog.listRepositories({ limit: 100_000 })).repos.map((r) => ({ name: r.name, defaultBranch: r.defaultBranch, createdAt: r.createdAt }));
    },
    async createBranch(repo, name, source) {
      await requireRepo(catalog, repo);
      const b = await catalog.createBranch(repo, name, source);
      return { name: b.name, commitId: b.head };
    },
    async listBranches(repo) {
      await requireRepo(catalog, repo);
      return (await catalog.listBranches(repo, { limit: 100_000 })).branches.map((b) => ({ name: b.name, commitId: b.head }));
    },
    async commit(repo, branch, message, metadata) {
      await requireRepo(catalog, repo);
      return toCommit(await catalog.commit(repo, branch, { message, metadata, committer: USER_ID }));
    },
    async log(repo, ref, amount) {
      await requireRepo(catalog, repo);
      return (await catalog.log(repo, ref, { amount })).commits.map(toCommit);
    },
    async diff(repo, left, right, type) {
      await requireRepo(catalog, repo);
      const changes: Change[] = [];
      for await (const d of catalog.diffRefs(repo, left, right, type)) changes.push({ type: d.type, path: d.path });
      return changes;
    },
    close: () => store.close(),
  };
}

async function requireRepo(catalog: Catalog, repo: string): Promise<void> {
  if (!(await catalog.getRepository(repo))) throw new VersioningError("not_found", "repository not found");
}

async function apiBackend(url: string, flags: ServerFlags, where: string): Promise<Backend> {
  const rest = restClient(url, flags, where);
  const call: RestCall = (method, p, body) =>
    rest(method, p, body).catch((err: unknown) => {
      if (!(err instanceof RestError)) throw err;
      throw new VersioningError(err.status === 404 ? "not_found" : err.status === 409 ? "conflict" : "bad_request", err.message);
    });
  type ApiRepo = { id: string; default_branch: string; creation_date: number };
  type ApiCommit = { id: string; message: string; committer: string; creation_date: number; metadata?: Record<string, string>; parents: string[] };
  const repo = (r: ApiRepo): Repo => ({ name: r.id, defaultBranch: r.default_branch, createdAt: iso(r.creation_date) });
  const commit = (c: ApiCommit): Commit => ({ id: c.id, message: c.message, committer: c.committer, createdAt: iso(c.creation_date), metadata: c.metadata ?? {}, parents: c.parents });
  const e = encodeURIComponent;
  return {
    createRepo: async (name, defaultBranch) => repo((await call("POST", "/repositories", { name, storage_namespace: `local://${name}`, default_branch: defaultBranch })) as ApiRepo),
    listRepos: async () => ((await call("GET", "/repositories?amount=1000")) as { results: ApiRepo[] }).results.map(repo),
    createBranch: async (r, name, source) => ({ name, commitId: String(await call("POST", `/repositories/${e(r)}/branches`, { name, source })).trim() }),
    listBranches: async (r) =>
      ((await call("GET", `/repositories/${e(r)}/branches?amount=1000`)) as { results: { id: string; commit_id: string }[] }).results.map((b) => ({ name: b.id, commitId: b.commit_id })),
    commit: async (r, b, message, metadata) => commit((await call("POST", `/repositories/${e(r)}/branches/${e(b)}/commits`, { message, metadata })) as ApiCommit),
    log: async (r, ref, amount) => ((await call("GET", `/repositories/${e(r)}/refs/${e(ref)}/commits?amount=${amount}`)) as { results: ApiCommit[] }).results.map(commit),
    async diff(r, left, right, type) {
      const changes: Change[] = [];
      for (let after = ""; ; ) {
        const page = (await call("GET", `/repositories/${e(r)}/refs/${e(left)}/diff/${e(right)}?type=${type}&amount=1000&after=${e(after)}`)) as {
          results: Change[];
          pagination: { has_more: boolean; next_offset: string };
        };
        changes.push(...page.results.map((d) => ({ type: d.type, path: d.path })));
        if (!page.pagination.has_more) return changes;
        after = page.pagination.next_offset;
      }
    },
    close: async () => undefined,
  };
}

/** Run one command against the data dir, through whichever backend is available. */
async function withBackend<T>(flags: ServerFlags, create: boolean, fn: (b: Backend) => Promise<T>): Promise<T> {
  const dir = path.resolve(flags.dataDir);
  const url = flags.url || process.env["LAKES3_URL"];
  const direct = url ? "locked" : await directBackend(dir, create);
  const backend = direct !== "locked" ? direct : url ? await apiBackend(url, flags, "--url") : await apiBackend(await recordedServerUrl(dir), flags, `recorded by the server holding ${dir}`);
  try {
    return await fn(backend);
  } catch (err) {
    if (err instanceof VersioningError) throw new CliExit(1, err.message);
    throw err;
  } finally {
    await backend.close();
  }
}

function parseMetadata(pairs: string[]): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const p of pairs) {
    const at = p.indexOf("=");
    if (at <= 0) throw new CliExit(2, `--meta expects key=value, got ${JSON.stringify(p)}`);
    meta[p.slice(0, at)] = p.slice(at + 1);
  }
  return meta;
}

/** `REPO/REF` → parts. */
function refAddress(value: string): { repo: string; ref: string } {
  const { repo, name } = splitAddress(value);
  return { repo, ref: name };
}

/** lakectl's words for each kind of change. */
const DIFF_ACTION: Record<string, string> = { added: "+ added", removed: "- removed", changed: "~ modified", conflict: "* conflict" };

export function registerRepoCommands(program: Command): void {
  const repo = program.command("repo").description("repositories");
  withServerFlags(repo.command("create <name>").description("create a repository (default branch main, with an initial commit)"), `lakes3 repo create my-repo`)
    .option("--default-branch <branch>", "name of the default branch", "main")
    .action(async (name: string, o: ServerFlags & { defaultBranch: string }) => {
      if (!REPOSITORY_NAME.test(name)) throw new CliExit(2, `invalid repository name ${JSON.stringify(name)}: use 3-63 characters a-z, 0-9 and '-'`);
      const r = await withBackend(o, true, (b) => b.createRepo(name, o.defaultBranch));
      printAnswer(o, r, `created repository ${r.name} (default branch ${r.defaultBranch})`);
    });
  withServerFlags(repo.command("list").description("list repositories"), `lakes3 repo list --json`).action(async (o: ServerFlags) => {
    const repos = await withBackend(o, false, (b) => b.listRepos());
    printAnswer(o, repos, repos.length === 0 ? "(no repositories)" : repos.map((r) => `${r.name.padEnd(30)} ${r.defaultBranch.padEnd(12)} ${r.createdAt}`).join("\n"));
  });

  const branch = program.command("branch").description("branches");
  withServerFlags(branch.command("create <repo/branch>").description("create a branch (zero-copy) from a ref"), `lakes3 branch create my-repo/dev --source main`)
    .requiredOption("-s, --source <ref>", "the ref to branch from (branch, tag, commit id, main~1, …)")
    .action(async (address: string, o: ServerFlags & { source: string }) => {
      const { repo: r, ref } = refAddress(address);
      const b = await withBackend(o, false, (be) => be.createBranch(r, ref, o.source));
      printAnswer(o, b, `created branch ${b.name} at ${b.commitId}`);
    });
  withServerFlags(branch.command("list <repo>").description("list branches"), `lakes3 branch list my-repo`).action(async (r: string, o: ServerFlags) => {
    const list = await withBackend(o, false, (b) => b.listBranches(r));
    printAnswer(o, list, list.map((b) => `${b.name.padEnd(30)} ${b.commitId}`).join("\n"));
  });

  withServerFlags(program.command("commit <repo/branch>").description("commit a branch's uncommitted changes"), `lakes3 commit my-repo/dev -m "load raw data" --meta run=42`)
    .requiredOption("-m, --message <message>", "commit message")
    .option("--meta <key=value...>", "commit metadata (repeatable)", [])
    .action(async (address: string, o: ServerFlags & { message: string; meta: string[] }) => {
      const { repo: r, ref } = refAddress(address);
      const c = await withBackend(o, false, (b) => b.commit(r, ref, o.message, parseMetadata(o.meta)));
      printAnswer(o, c, `committed ${c.id} on ${ref}: ${c.message}`);
    });

  // As `lakectl diff`: three-dot by default (what merging right into left would change, with
  // conflicts), `--two-way` for the plain difference; lines as lakectl's (pkg/diff/diff.go Fmt).
  withServerFlags(program.command("diff <repo/left> <repo/right>").description("committed changes between two refs (three-dot; --two-way: two-dot)"), `lakes3 diff my-repo/main my-repo/dev`)
    .option("--two-way", "the plain difference between the two refs, regardless of their common ancestor")
    .action(async (leftAddress: string, rightAddress: string, o: ServerFlags & { twoWay?: boolean }) => {
      const left = refAddress(leftAddress);
      const right = refAddress(rightAddress);
      if (left.repo !== right.repo) throw new CliExit(2, "both references must belong to the same repository");
      const changes = await withBackend(o, false, (b) => b.diff(left.repo, left.ref, right.ref, o.twoWay ? "two_dot" : "three_dot"));
      printAnswer(o, changes, changes.map((c) => `${DIFF_ACTION[c.type] ?? c.type} ${c.path}`).join("\n"));
    });

  withServerFlags(program.command("log <repo/ref>").description("commits reachable from a ref, newest first"), `lakes3 log my-repo/main -n 5`)
    .option("-n, --amount <n>", "how many commits", "20")
    .action(async (address: string, o: ServerFlags & { amount: string }) => {
      const { repo: r, ref } = refAddress(address);
      const commits = await withBackend(o, false, (b) => b.log(r, ref, Math.max(1, Math.min(1000, Number(o.amount) || 20))));
      printAnswer(
        o,
        commits,
        commits.map((c) => [`commit ${c.id}`, `Date:   ${c.createdAt}`, ...(c.committer ? [`Author: ${c.committer}`] : []), ...Object.entries(c.metadata).map(([k, v]) => `Meta:   ${k}=${v}`), "", `    ${c.message}`, ""].join("\n")).join("\n"),
      );
    });
}
