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

/** The object at (repo, ref, path), or NoSuchKey. */
export async function readObject(ctx: ObjectContext, repo = ctx.repo.name, ref = ctx.ref, path = ctx.path): Promise<ObjectRecord> {
  const record = await findObject(ctx, repo, ref, path);
  if (!record) throw new S3Error("NoSuchKey");
  return record;
}

/**
 * The branch a write at this address goes to. lakeFS answers 404 NoSuchBucket for a valid branch
 * name that is not a branch (a tag, a commit id, a missing branch); for a ref that cannot be a
 * branch name at all (`main~1`, `v1.0`, `main@`) lakeFS answers 500 — lakes3 answers 400
 * InvalidArgument instead.
 */
export async function writeTarget(ctx: ObjectContext): Promise<BranchTarget> {
  if (!BRANCH_NAME.test(ctx.ref)) {
    throw new S3Error("InvalidArgument", { message: `Writes need a branch; "${ctx.ref}" is not a valid branch name.` });
  }
  const target = await ctx.services.catalog.branchTarget(ctx.repo.name, ctx.ref);
  if (!target) throw new S3Error("NoSuchBucket", { bucket: ctx.repo.name, resource: ctx.repo.name });
  return target;
}

export const MAX_KEY_BYTES = 1024;

export function checkKeyLength(path: string): void {
  if (Buffer.byteLength(path) > MAX_KEY_BYTES) throw new S3Error("KeyTooLongError");
}
