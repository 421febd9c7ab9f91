/**
 * The rest of lakectl's versioning workflow from the shell: `tag create|list|delete`, `branch
 * delete|reset|revert`, `merge`, `cherry-pick` and `show`. Each is one call of the lakeFS REST API
 * (/api/v1): of the server at `--url` (LAKES3_URL), else of the server that holds the data dir, else
 * of one started in-process on the data dir for the length of the command. One code path, and the
 * same answers (and `--json` shapes) as lakeFS's API.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { startServer } from "../server/lifecycle.js";
import { printAnswer, splitAddress, withServerFlags, type ServerFlags } from "./command-flags.js";
import { CliExit } from "./exit.js";
import { recordedServerUrl } from "./inspect-commands.js";
import { restClient, RestError, type RestCall } from "./rest.js";
import { StoreLockedError } from "../storage/metadata-store.js";


interface Session {
  call: RestCall;
  close(): Promise<void>;
}

/** The REST API to talk to (see the file comment). */
async function open(flags: ServerFlags): Promise<Session> {
  let url = flags.url ?? process.env["LAKES3_URL"];
  let close = async () => {};
  if (!url) {
    const dir = path.resolve(flags.dataDir);
    if (!existsSync(path.join(dir, "metadata"))) throw new CliExit(1, `no lakes3 data in ${dir} (pass --data-dir, or --url of a running server)`);
    try {
      const server = await startServer({ dataDir: dir, port: 0, credentials: { accessKeyId: flags.accessKeyId, secretAccessKey: flags.secretAccessKey }, onWarning: (m) => process.stderr.write(`lakes3: ${m}\n`) });
      url = server.endpoint;
      close = () => server.close();
    } catch (err) {
      if (!(err instanceof StoreLockedError)) throw err;
      url = await recordedServerUrl(dir);
    }
  }
  const rest = restClient(url, flags);
  return {
    call: (method, apiPath, body) =>
      rest(method, apiPath, body).catch((err: unknown) => {
        if (err instanceof RestError) throw new CliExit(1, `${err.message} (HTTP ${err.status})`);
        throw err;
      }),
    close,
  };
}

async function run(flags: ServerFlags, fn: (s: Session) => Promise<{ data: unknown; human: string }>): Promise<void> {
  const s = await open(flags);
  try {
    const { data, human } = await fn(s);
    printAnswer(flags, data, human);
  } finally {
    await s.close();
  }
}

const e = encodeURIComponent;
const parentNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CliExit(2, `--parent-number expects a whole number, got ${JSON.stringify(v)}`);
  return n;
};

interface ApiCommit {
  id: string;
  parents: string[];
  committer: string;
  message: string;
  creation_date: number;
  metadata?: Record<string, string>;
}

export function registerVersioningCommands(program: Command): void {
  const tag = program.command("tag").description("tags (read-only names for commits)");
  withServerFlags(tag.command("create <repo/tag> <ref>").description("tag the commit a ref points at"), "lakes3 tag create my-repo/v1.0 main").action(
    async (at: string, ref: string, o: ServerFlags) => {
      const { repo, name } = splitAddress(at, "REPO/TAG");
      await run(o, async (s) => {
        const t = (await s.call("POST", `/repositories/${e(repo)}/tags`, { id: name, ref })) as { id: string; commit_id: string };
        return { data: t, human: `created tag ${t.id} at ${t.commit_id}` };
      });
    },
  );
  withServerFlags(tag.command("list <repo>").description("list tags"), "lakes3 tag list my-repo").action(async (repo: string, o: ServerFlags) => {
    await run(o, async (s) => {
      const { results } = (await s.call("GET", `/repositories/${e(repo)}/tags?amount=1000`)) as { results: { id: string; commit_id: string }[] };
      return { data: results, human: results.length === 0 ? "(no tags)" : results.map((t) => `${t.id.padEnd(30)} ${t.commit_id}`).join("\n") };
    });
  });
  withServerFlags(tag.command("delete <repo/tag>").description("delete a tag"), "lakes3 tag delete my-repo/v1.0").action(async (at: string, o: ServerFlags) => {
    const { repo, name } = splitAddress(at, "REPO/TAG");
    await run(o, async (s) => {
      await s.call("DELETE", `/repositories/${e(repo)}/tags/${e(name)}`);
      return { data: { deleted: name }, human: `deleted tag ${name}` };
    });
  });

  const branch = program.commands.find((c) => c.name() === "branch") ?? program.command("branch").description("branches");
  withServerFlags(branch.command("delete <repo/branch>").description("delete a branch and its uncommitted changes"), "lakes3 branch delete my-repo/dev").action(
    async (at: string, o: ServerFlags) => {
      const { repo, name } = splitAddress(at, "REPO/BRANCH");
      await run(o, async (s) => {
        await s.call("DELETE", `/repositories/${e(repo)}/branches/${e(name)}`);
        return { data: { deleted: name }, human: `deleted branch ${name}` };
      });
    },
  );
  withServerFlags(branch.command("reset <repo/branch>").description("discard uncommitted changes: all of them, one object, or a prefix"), "lakes3 branch reset my-repo/dev --prefix raw/")
    .option("--object <path>", "only this object")
    .option("--prefix <prefix>", "only objects under this prefix")
    .action(async (at: string, o: ServerFlags & { object?: string; prefix?: string }) => {
      const { repo, name } = splitAddress(at, "REPO/BRANCH");
      if (o.object !== undefined && o.prefix !== undefined) throw new CliExit(2, "--object and --prefix: choose one");
      const body = o.object !== undefined ? { type: "object", path: o.object } : o.prefix !== undefined ? { type: "common_prefix", path: o.prefix } : { type: "reset" };
      await run(o, async (s) => {
        await s.call("PUT", `/repositories/${e(repo)}/branches/${e(name)}`, body);
        return { data: body, human: `reset ${name}${o.object !== undefined ? ` (object ${o.object})` : o.prefix !== undefined ? ` (prefix ${o.prefix})` : ""}` };
      });
    });
  withServerFlags(branch.command("revert <repo/branch> <ref>").description("undo a commit's changes on a branch with a new commit"), "lakes3 branch revert my-repo/main main~1")
    .option("--parent-number <n>", "for a merge commit: the parent to revert to", "0")
    .action(async (at: string, ref: string, o: ServerFlags & { parentNumber: string }) => {
      const { repo, name } = splitAddress(at, "REPO/BRANCH");
      await run(o, async (s) => {
        await s.call("POST", `/repositories/${e(repo)}/branches/${e(name)}/revert`, { ref, parent_number: parentNumber(o.parentNumber) });
        const head = (await s.call("GET", `/repositories/${e(repo)}/commits/${e(name)}`)) as ApiCommit;
        return { data: head, human: `reverted ${ref} on ${name}: ${head.id}` };
      });
    });

  withServerFlags(program.command("merge <repo/source> <repo/destination>").description("merge a ref into a branch"), "lakes3 merge my-repo/dev my-repo/main")
    .option("-m, --message <message>", "the merge commit's message")
    .addOption(new Option("--strategy <strategy>", "how conflicts resolve").choices(["dest-wins", "source-wins"]))
    .action(async (source: string, dest: string, o: ServerFlags & { message?: string; strategy?: string }) => {
      const src = splitAddress(source);
      const dst = splitAddress(dest, "REPO/BRANCH");
      if (src.repo !== dst.repo) throw new CliExit(2, `source and destination must be in one repository (${src.repo}, ${dst.repo})`);
      await run(o, async (s) => {
        const r = (await s.call("POST", `/repositories/${e(src.repo)}/refs/${e(src.name)}/merge/${e(dst.name)}`, { message: o.message, strategy: o.strategy })) as { reference: string };
        return { data: r, human: `merged ${src.name} into ${dst.name}: ${r.reference}` };
      });
    });

  withServerFlags(program.command("cherry-pick <repo/ref> <repo/branch>").description("apply a commit's changes to a branch as a new commit"), "lakes3 cherry-pick my-repo/dev my-repo/main")
    .option("--parent-number <n>", "for a merge commit: the parent to diff against", "0")
    .action(async (from: string, onto: string, o: ServerFlags & { parentNumber: string }) => {
      const ref = splitAddress(from);
      const br = splitAddress(onto, "REPO/BRANCH");
      await run(o, async (s) => {
        const c = (await s.call("POST", `/repositories/${e(br.repo)}/branches/${e(br.name)}/cherry-pick`, { ref: ref.name, parent_number: parentNumber(o.parentNumber) })) as ApiCommit;
        return { data: c, human: `cherry-picked ${ref.name} onto ${br.name}: ${c.id}` };
      });
    });

  withServerFlags(program.command("show <repo/ref>").description("the commit a ref points at"), "lakes3 show my-repo/main~1").action(async (at: string, o: ServerFlags) => {
    const { repo, name } = splitAddress(at);
    await run(o, async (s) => {
      const c = (await s.call("GET", `/repositories/${e(repo)}/commits/${e(name)}`)) as ApiCommit;
      const lines = [
        `commit ${c.id}`,
        ...(c.parents.length > 1 ? [`Merge:  ${c.parents.map((p) => p.slice(0, 12)).join(" ")}`] : []),
        `Date:   ${new Date(c.creation_date * 1000).toISOString()}`,
        ...(c.committer ? [`Author: ${c.committer}`] : []),
        ...Object.entries(c.metadata ?? {}).map(([k, v]) => `Meta:   ${k}=${v}`),
        "",
        `    ${c.message}`,
      ];
      return { data: c, human: lines.join("\n") };
    });
  });
}
