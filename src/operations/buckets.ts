/**
 * CreateBucket and DeleteBucket. A bucket is a repository. In lakefs mode CreateBucket on an
 * existing repository answers 409 BucketAlreadyExists as lakeFS does, and creates a new one
 * (lakes3 extension: lakeFS answers 501 and wants the REST API); DeleteBucket is not supported
 * (405). In s3 mode they are plain S3 operations on repositories.
 */
import { REPOSITORY_NAME } from "../config.js";
import { S3Error } from "../protocol/errors.js";
import { isLakefs } from "./address.js";
import type { Operation } from "./types.js";

const CreateBucket: Operation = {
  level: "bucket",
  async handle(ctx) {
    const name = ctx.req.bucket!;
    ctx.body().resume(); // an optional CreateBucketConfiguration; the region is fixed
    if (!REPOSITORY_NAME.test(name)) throw new S3Error("InvalidBucketName", { bucket: name, resource: name });
    const created = await ctx.services.store.createRepository(name);
    if (!created) throw new S3Error(isLakefs(ctx) ? "BucketAlreadyExists" : "BucketAlreadyOwnedByYou", { bucket: name, resource: name });
    return { headers: { Location: `/${name}` } };
  },
};

const DeleteBucket: Operation = {
  level: "bucket",
  async handle(ctx) {
    if (isLakefs(ctx)) throw new S3Error("ERRLakeFSNotSupported");
    const repo = ctx.repo!;
    const branches = await ctx.services.store.listBranches(repo.name, { limit: 1000 });
    for (const b of branches.branches) {
      if (await ctx.services.store.hasObjects({ repo: repo.name, branch: b.name })) {
        throw new S3Error("BucketNotEmpty", { bucket: repo.name, resource: repo.name });
      }
    }
    const blobs = await ctx.services.store.deleteRepository(repo.name);
    ctx.services.reclaimer.reclaim(blobs);
    return { status: 204 };
  },
};

export const bucketOperations = { CreateBucket, DeleteBucket };
