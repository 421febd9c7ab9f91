/**
 * The addressing ladder shared by operations: how a path at a ref is shown to the client (lakeFS
 * puts the ref in front of every key), what an error's Resource says, and the lookups "the object
 * at this address" (read) and "the branch behind this address" (write).
 */
import { S3Error } from "../protocol/errors.js";
import type { BranchTarget, ObjectRecord } from "../storage/metadata-store.js";
import { resolveBranch, resolveRef } from "../versioning/refs.js";
import type { ObjectContext, OperationContext } from "./types.js";

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

/** The object at (repo, ref, path) or NoSuchKey. */
export async function readObject(ctx: ObjectContext, repo = ctx.repo.name, ref = ctx.ref, path = ctx.path): Promise<{ record: ObjectRecord; target: BranchTarget }> {
  const resolved = await resolveRef(ctx.services.store, repo, ref);
  const record = resolved && (await ctx.services.store.getObject(resolved.target, path));
  if (!resolved || !record) throw new S3Error("NoSuchKey");
  return { record, target: resolved.target };
}

/** The branch a write at this address goes to (fails as lakeFS does for non-branch refs). */
export function writeTarget(ctx: ObjectContext): Promise<BranchTarget> {
  return resolveBranch(ctx.services.store, ctx.repo.name, ctx.ref);
}

const MAX_KEY_BYTES = 1024;

export function checkKeyLength(path: string): void {
  if (Buffer.byteLength(path) > MAX_KEY_BYTES) throw new S3Error("KeyTooLongError");
}
