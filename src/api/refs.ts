/**
 * Branches, tags, commits, log, diff, merge, revert and reset: thin mappings from lakeFS's REST
 * shapes onto the Catalog. The catalog throws VersioningError (rendered by the router); staged
 * blobs that a reset or a branch deletion hands back are reclaimed here.
 */
import { compareKeys } from "../storage/keys.js";
import type { CommitOverrides, DiffEntry, MergeStrategy } from "../versioning/catalog.js";
import { VersioningError } from "../versioning/errors.js";
import { ApiError, badRequest, field, noContent, notFound, ok, pageParams, queryBool, repoRoute, USER_ID, type RepoContext, type Route } from "./router.js";
import * as shapes from "./shapes.js";

/** `commit_overrides: {message?, metadata?}` of a revert or cherry-pick body. */
function commitOverrides(body: Record<string, unknown>): CommitOverrides {
  const raw = body["commit_overrides"];
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw badRequest("commit_overrides must be an object");
  const overrides = raw as Record<string, unknown>;
  return { message: field.optString(overrides, "message"), metadata: field.optStringMap(overrides, "metadata") };
}

async function commitIdOf(ctx: RepoContext, ref: string): Promise<string> {
  const view = await ctx.services.catalog.resolve(ctx.repo.name, ref);
  if (!view?.commitId) throw notFound(`ref ${ref} not found`);
  return view.commitId;
}

/**
 * One page of a diff, grouped at `delimiter` into `prefix_changed` entries, filtered by `prefix`
 * and strictly after `after` (diffs come in path order).
 */
async function diffPage(ctx: RepoContext, entries: AsyncIterable<DiffEntry>) {
  const { prefix, after, amount } = pageParams(ctx.query);
  const delimiter = ctx.query.get("delimiter") ?? "";
  const results: shapes.Diff[] = [];
  let lastPrefix: string | undefined;
  for await (const e of entries) {
    if (!e.path.startsWith(prefix)) continue;
    const at = delimiter ? e.path.indexOf(delimiter, prefix.length) : -1;
    let item: shapes.Diff;
    if (at >= 0) {
      const common = e.path.slice(0, at + delimiter.length);
      if (common === lastPrefix) continue;
      lastPrefix = common;
      item = { type: "prefix_changed", path: common, path_type: "common_prefix" };
    } else item = shapes.diff(e);
    if (after && compareKeys(item.path, after) <= 0) continue;
    if (results.length === amount) return ok(shapes.list(results, true, (d) => d.path));
    results.push(item);
  }
  return ok(shapes.list(results, false, (d) => d.path));
}

const branchRoutes: Route[] = [
  repoRoute("GET", "/repositories/{repository}/branches", "listBranches", async (ctx) => {
    const { prefix, after, amount } = pageParams(ctx.query);
    const { branches, hasMore } = await ctx.services.catalog.listBranches(ctx.repo.name, { prefix, after: after || undefined, limit: amount });
    return ok(shapes.list(branches.map((b) => shapes.ref(b.name, b.head)), hasMore, (r) => r.id));
  }),

  // 201 with the new branch's commit id as a text/html body, as lakeFS answers.
  repoRoute("POST", "/repositories/{repository}/branches", "createBranch", async (ctx) => {
    const body = await ctx.json();
    const name = field.string(body, "name");
    const source = field.string(body, "source");
    ctx.event.ref = name;
    const branch = await ctx.services.catalog.createBranch(ctx.repo.name, name, source);
    return { status: 201, text: { contentType: "text/html", value: branch.head } };
  }),

  repoRoute("GET", "/repositories/{repository}/branches/{branch}", "getBranch", async (ctx) => {
    const branch = await ctx.services.catalog.getBranch(ctx.repo.name, ctx.params["branch"]!);
    if (!branch) throw notFound(`branch ${ctx.params["branch"]} not found`);
    return ok(shapes.ref(branch.name, branch.head));
  }),

  repoRoute("DELETE", "/repositories/{repository}/branches/{branch}", "deleteBranch", async (ctx) => {
    ctx.services.reclaimer.reclaim(await ctx.services.catalog.deleteBranch(ctx.repo.name, ctx.params["branch"]!));
    return noContent();
  }),

  // Discard uncommitted changes: all of them, one object, or a prefix.
  repoRoute("PUT", "/repositories/{repository}/branches/{branch}", "resetBranch", async (ctx) => {
    const body = await ctx.json();
    const type = field.string(body, "type");
    let scope: Parameters<typeof ctx.services.catalog.resetBranch>[2];
    if (type === "reset") scope = { type };
    else if (type === "object" || type === "common_prefix") scope = { type, path: field.string(body, "path") };
    else throw badRequest(`type must be one of reset, object, common_prefix`);
    ctx.services.reclaimer.reclaim(await ctx.services.catalog.resetBranch(ctx.repo.name, ctx.params["branch"]!, scope));
    return noContent();
  }),

  repoRoute("POST", "/repositories/{repository}/branches/{branch}/revert", "revertBranch", async (ctx) => {
    const body = await ctx.json();
    const ref = field.string(body, "ref");
    const parentNumber = field.integer(body, "parent_number");
    await ctx.services.catalog.revert(ctx.repo.name, ctx.params["branch"]!, ref, parentNumber, commitOverrides(body));
    return noContent();
  }),

  repoRoute("POST", "/repositories/{repository}/branches/{branch}/cherry-pick", "cherryPick", async (ctx) => {
    const body = await ctx.json();
    const ref = field.string(body, "ref");
    const parentNumber = body["parent_number"] === undefined ? 1 : field.integer(body, "parent_number");
    const commit = await ctx.services.catalog.cherryPick(ctx.repo.name, ctx.params["branch"]!, ref, parentNumber, commitOverrides(body));
    return ok(shapes.commit(commit), 201);
  }),

  repoRoute("GET", "/repositories/{repository}/branches/{branch}/diff", "diffBranch", async (ctx) => {
    const { prefix } = pageParams(ctx.query);
    return diffPage(ctx, ctx.services.catalog.diffBranch(ctx.repo.name, ctx.params["branch"]!, prefix));
  }),
];

const commitRoutes: Route[] = [
  repoRoute("POST", "/repositories/{repository}/branches/{branch}/commits", "commit", async (ctx) => {
    const body = await ctx.json();
    // `date` (Unix seconds) dates the commit, as lakeFS's graveler Commit does.
    const seconds = field.optInteger(body, "date");
    const date = seconds === undefined ? undefined : new Date(seconds * 1000);
    if (date && Number.isNaN(date.getTime())) throw badRequest("date is out of range");
    const commit = await ctx.services.catalog.commit(ctx.repo.name, ctx.params["branch"]!, {
      message: field.string(body, "message"),
      metadata: field.optStringMap(body, "metadata"),
      allowEmpty: field.optBool(body, "allow_empty"),
      committer: USER_ID,
      date,
    });
    return ok(shapes.commit(commit), 201);
  }),

  // lakeFS dereferences any ref here (the Python SDK asks for a branch's commit this way).
  repoRoute("GET", "/repositories/{repository}/commits/{commitId}", "getCommit", async (ctx) => {
    const id = await commitIdOf(ctx, ctx.params["commitId"]!);
    return ok(shapes.commit((await ctx.services.catalog.getCommit(ctx.repo.name, id))!));
  }),

  repoRoute("GET", "/repositories/{repository}/refs/{ref}/commits", "logCommits", async (ctx) => {
    const { after, amount } = pageParams(ctx.query);
    const sinceText = ctx.query.get("since");
    const since = sinceText ? new Date(sinceText) : undefined;
    if (since && Number.isNaN(since.getTime())) throw badRequest("since must be a date-time");
    const { commits, hasMore } = await ctx.services.catalog.log(ctx.repo.name, ctx.params["ref"]!, {
      after: after || undefined,
      amount,
      firstParent: queryBool(ctx.query, "first_parent", false),
      objects: ctx.query.getAll("objects").filter((p) => p !== ""),
      prefixes: ctx.query.getAll("prefixes").filter((p) => p !== ""),
      since,
      stopAt: ctx.query.get("stop_at") || undefined,
    });
    // `limit`: at most `amount`, "without further indication on actual number of items"
    return ok(shapes.list(commits.map(shapes.commit), hasMore && !queryBool(ctx.query, "limit", false), (c) => c.id));
  }),

  repoRoute("GET", "/repositories/{repository}/refs/{leftRef}/diff/{rightRef}", "diffRefs", async (ctx) => {
    const type = ctx.query.get("type") || "three_dot";
    if (type !== "two_dot" && type !== "three_dot") throw badRequest("type must be two_dot or three_dot");
    return diffPage(ctx, ctx.services.catalog.diffRefs(ctx.repo.name, ctx.params["leftRef"]!, ctx.params["rightRef"]!, type));
  }),

  repoRoute("GET", "/repositories/{repository}/refs/{sourceRef}/merge/{destinationBranch}", "findMergeBase", async (ctx) => {
    const source = await commitIdOf(ctx, ctx.params["sourceRef"]!);
    const destination = await commitIdOf(ctx, ctx.params["destinationBranch"]!);
    const base = await ctx.services.catalog.mergeBase(ctx.repo.name, destination, source);
    if (!base) throw notFound("no merge base found");
    return ok({ source_commit_id: source, destination_commit_id: destination, base_commit_id: base.id });
  }),
  repoRoute("POST", "/repositories/{repository}/refs/{sourceRef}/merge/{destinationBranch}", "mergeIntoBranch", async (ctx) => {
    const body = await ctx.json();
    const strategy = field.optString(body, "strategy") || undefined;
    if (strategy !== undefined && strategy !== "dest-wins" && strategy !== "source-wins") throw badRequest("strategy must be dest-wins or source-wins");
    try {
      const reference = await ctx.services.catalog.merge(ctx.repo.name, ctx.params["sourceRef"]!, ctx.params["destinationBranch"]!, {
        strategy: strategy as MergeStrategy | undefined,
        message: field.optString(body, "message"),
        metadata: field.optStringMap(body, "metadata"),
        committer: USER_ID,
        squash: field.optBool(body, "squash_merge") ?? false,
        fastForward: () => ctx.diverge("merge-fast-forward"),
      });
      return ok({ reference });
    } catch (err) {
      // lakeFS answers a conflict with a MergeResult body (empty reference); keep the message too.
      if (err instanceof VersioningError && err.kind === "conflict") throw new ApiError(409, err.message, { fields: { reference: "" } });
      throw err;
    }
  }),
];

const tagRoutes: Route[] = [
  repoRoute("GET", "/repositories/{repository}/tags", "listTags", async (ctx) => {
    const { prefix, after, amount } = pageParams(ctx.query);
    const { tags, hasMore } = await ctx.services.catalog.listTags(ctx.repo.name, { prefix, after: after || undefined, limit: amount });
    return ok(shapes.list(tags.map((t) => shapes.ref(t.id, t.commitId)), hasMore, (r) => r.id));
  }),

  repoRoute("POST", "/repositories/{repository}/tags", "createTag", async (ctx) => {
    const body = await ctx.json();
    const id = field.string(body, "id");
    const ref = field.string(body, "ref");
    ctx.event.ref = id;
    const { catalog } = ctx.services;
    if (field.optBool(body, "force") && (await catalog.getTag(ctx.repo.name, id))) await catalog.deleteTag(ctx.repo.name, id);
    const tag = await catalog.createTag(ctx.repo.name, id, ref);
    return ok(shapes.ref(tag.id, tag.commitId), 201);
  }),

  repoRoute("GET", "/repositories/{repository}/tags/{tag}", "getTag", async (ctx) => {
    const tag = await ctx.services.catalog.getTag(ctx.repo.name, ctx.params["tag"]!);
    if (!tag) throw notFound(`tag ${ctx.params["tag"]} not found`);
    return ok(shapes.ref(tag.id, tag.commitId));
  }),

  repoRoute("DELETE", "/repositories/{repository}/tags/{tag}", "deleteTag", async (ctx) => {
    await ctx.services.catalog.deleteTag(ctx.repo.name, ctx.params["tag"]!);
    return noContent();
  }),
];

export const refRoutes: Route[] = [...branchRoutes, ...commitRoutes, ...tagRoutes];
