/**
 * The addressing ladder shared by operations: how a path at a ref is shown to the client (lakeFS
 * puts the ref in front of every key), what an error's Resource says, and the lookups "the object
 * at this address" (read) and "the branch behind this address" (write).
 */
import { BRANCH_NAME } from "../versioning/names.js";
import { S3Error } from "../protocol/errors.js";
import type { ObjectRecord } from "../storage/metadata-store.js";
import type { BranchTarget } from "../versioning/catalog.js";
import type { ObjectContext, OperationContext } from "./types.js";

/** The one owner every listing names (lakes3 has a single key pair). */
export const OWNER = { ID: "lakes3", DisplayName: "lakes3" };

export const isLakefs = (ctx: OperationContext) => ctx.services.config.mode === "lakefs";

/** The key as the client sees it: `ref/path` in lakefs mode, `path` in s3 mode. */
export function clientKey(ctx: OperationContext, ref: string, path: string): string {
  return isLakefs(ctx) ? `${ref}/${path}` : path;
}

export function objectErrorContext(ctx: ObjectContext) {
  return isLakefs(ctx)
    ? { bucket: ctx.repo.name, key: ctx.path, resource: `${ctx.ref}@${ctx.repo.name}` }
    : { bucket: ctx.repo.name, key: ctx.path, resource: `/${ctx.repo.name}/${ctx.path}` };
}

/** The object visible at (repo, ref, path) — any readable ref — if there is one. */
export async function findObject(ctx: ObjectContext, repo = ctx.repo.name, ref = ctx.ref, path = ctx.path): Promise<ObjectRecord | undefined> {
  const view = await ctx.services.catalog.resolve(repo, ref);
  return view && (await ctx.services.catalog.getObject(view, path));
}

/** The object at (repo, ref, path), or NoSuchKey (saying so when the ref is no ref at all). */
export async function readObject(ctx: ObjectContext, repo = ctx.repo.name, ref = ctx.ref, path = ctx.path): Promise<ObjectRecord> {
  const view = await ctx.services.catalog.resolve(repo, ref);
  const record = view && (await ctx.services.catalog.getObject(view, path));
  if (record) return record;
  if (view || !isLakefs(ctx)) throw new S3Error("NoSuchKey");
  throw new S3Error("NoSuchKey", `The specified key does not exist: "${ref}" is not a branch, tag or commit of repository ${repo}${await branchList(ctx, repo)}. ${addressing(ctx, repo, ref, path)}`);
}

/**
 * The branch a write at this address goes to. lakeFS answers 404 NoSuchBucket for a valid branch
 * name that is not a branch (a tag, a commit id, a missing branch); for a ref that cannot be a
 * branch name at all (`main~1`, `v1.0`, `main@`) lakeFS answers 500 — lakes3 answers 400
 * InvalidArgument instead. The codes are lakeFS's; the messages say what the ref is and how
 * lakeFS addresses objects.
 */
export async function writeTarget(ctx: ObjectContext): Promise<BranchTarget> {
  const { catalog } = ctx.services;
  const repo = ctx.repo.name;
  const target = BRANCH_NAME.test(ctx.ref) ? await catalog.branchTarget(repo, ctx.ref) : undefined;
  if (target) return target;
  const view = await catalog.resolve(repo, ctx.ref);
  let why: string;
  if (view) {
    const kind = (await catalog.getTag(repo, ctx.ref)) ? "a tag" : "a commit";
    why = `"${ctx.ref}" is ${kind} of repository ${repo}, and tags and commits are read-only: write to a branch${await branchList(ctx, repo)}`;
  } else if (BRANCH_NAME.test(ctx.ref)) {
    why = `branch "${ctx.ref}" does not exist in repository ${repo}${await branchList(ctx, repo)}. Create it first (lakectl branch create, or POST /api/v1/repositories/${repo}/branches), or ${addressing(ctx, repo, ctx.ref, ctx.path)}`;
  } else {
    why = `writes need a branch, and "${ctx.ref}" is not a valid branch name${await branchList(ctx, repo)}. ${addressing(ctx, repo, ctx.ref, ctx.path)}`;
  }
  if (!BRANCH_NAME.test(ctx.ref)) throw new S3Error("InvalidArgument", { message: why });
  throw new S3Error("NoSuchBucket", { bucket: repo, resource: repo, message: why });
}

/** " (its branches: main, dev, …)" for a message. */
async function branchList(ctx: OperationContext, repo: string): Promise<string> {
  const { branches, hasMore } = await ctx.services.catalog.listBranches(repo, { limit: 5 });
  return branches.length === 0 ? "" : ` (its branches: ${branches.map((b) => b.name).join(", ")}${hasMore ? ", …" : ""})`;
}

/** How lakeFS addresses objects, with the key the client probably meant (the ref taken as a folder). */
function addressing(ctx: OperationContext, repo: string, ref: string, path: string): string {
  const branch = ctx.repo?.defaultBranch ?? "main";
  return `lakeFS addresses objects as s3://${repo}/<branch or ref>/<path>, e.g. s3://${repo}/${branch}/${path ? `${ref}/${path}` : ref}`;
}

/** NoSuchKey for an address with a ref but no key (`s3://repo/data.csv`: "data.csv" is taken as the ref). */
export function emptyKeyError(ctx: ObjectContext): S3Error {
  const resource = { bucket: ctx.repo.name, resource: `${ctx.ref}@${ctx.repo.name}` };
  if (!isLakefs(ctx)) return new S3Error("NoSuchKey", resource);
  return new S3Error("NoSuchKey", { ...resource, message: `The specified key does not exist: the key is empty, and "${ctx.ref}" is taken as the ref. ${addressing(ctx, ctx.repo.name, ctx.ref, "")}` });
}

export const MAX_KEY_BYTES = 1024;

export function checkKeyLength(path: string): void {
  if (Buffer.byteLength(path) > MAX_KEY_BYTES) throw new S3Error("KeyTooLongError");
}
