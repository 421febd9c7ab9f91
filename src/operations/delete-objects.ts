/**
 * DeleteObjects: `POST /repo?delete` with up to 1000 keys. Per-key outcomes as lakeFS reports
 * them: a missing key (or an empty path, which Spark sends) is a success; a key whose ref cannot be
 * written gets an Error entry. Keys on the same branch are deleted in one batch.
 */
import { BRANCH_NAME } from "../versioning/names.js";
import { S3Error } from "../protocol/errors.js";
import { asArray, text } from "../protocol/xml.js";
import type { BranchTarget } from "../versioning/catalog.js";
import { isLakefs } from "./address.js";
import { readXmlBody } from "./body.js";
import type { Operation } from "./types.js";

const MAX_KEYS = 1000;
const MAX_BODY = 8 * 1024 * 1024; // 1000 keys of up to 1024 bytes, XML-escaped

interface KeyError {
  Key: string;
  Code: string;
  Message: string;
}

const DeleteObjects: Operation = {
  level: "bucket",
  async handle(ctx) {
    const repo = ctx.repo!;
    // Content-MD5 / x-amz-checksum-* are verified when sent (lakeFS does not require them).
    const doc = await readXmlBody(ctx, MAX_BODY);
    const del = doc["Delete"] as Record<string, unknown> | undefined;
    if (!del || typeof del !== "object") throw new S3Error("MalformedXML");
    const quiet = text(del["Quiet"])?.trim().toLowerCase() === "true";
    const keys = asArray(del["Object"] as unknown).map((o) => text((o as Record<string, unknown>)?.["Key"]));
    if (keys.length === 0 || keys.length > MAX_KEYS || keys.some((k) => k === undefined)) throw new S3Error("MalformedXML");

    const deleted: string[] = [];
    const errors: KeyError[] = [];
    const byBranch = new Map<string, { target: BranchTarget; paths: string[]; keys: string[] }>();
    for (const key of keys as string[]) {
      let branch = repo.defaultBranch;
      let path = key;
      if (isLakefs(ctx)) {
        const slash = key.indexOf("/");
        branch = slash < 0 ? key : key.slice(0, slash);
        path = slash < 0 ? "" : key.slice(slash + 1);
        if (!BRANCH_NAME.test(branch)) {
          errors.push({ Key: key, Code: "ErrDeletingKey", Message: `error deleting object: "${branch}" is not a branch` });
          continue;
        }
        if (path === "" || !(await ctx.services.catalog.getBranch(repo.name, branch))) {
          deleted.push(key); // nothing to delete: lakeFS reports success
          continue;
        }
      }
      const group = byBranch.get(branch) ?? { target: { repo: repo.name, branch }, paths: [], keys: [] };
      group.paths.push(path);
      group.keys.push(key);
      byBranch.set(branch, group);
    }
    for (const group of byBranch.values()) {
      const removed = await ctx.services.catalog.deleteObjects(group.target, group.paths);
      for (const r of removed) ctx.services.reclaimer.reclaim(r.parts);
      deleted.push(...group.keys);
    }
    return {
      xml: {
        root: "DeleteResult",
        namespace: true,
        content: {
          Deleted: quiet ? [] : deleted.map((Key) => ({ Key })),
          Error: errors,
        },
      },
    };
  },
};

export const deleteObjectsOperations = { DeleteObjects };
