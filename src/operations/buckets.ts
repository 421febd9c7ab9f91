/**
 * CreateBucket and DeleteBucket. A bucket is a repository. In lakefs mode CreateBucket on an
 * existing repository answers 409 BucketAlreadyExists as lakeFS does, and creates a new one
 * (lakes3 extension: lakeFS answers 501 and wants the REST API); DeleteBucket is not supported
 * (405). In s3 mode they are plain S3 operations on repositories.
 */
import { REPOSITORY_NAME } from "../versioning/names.js";
import { S3Error } from "../protocol/errors.js";
import { isLakefs } from "./address.js";
import type { Operation } from "./types.js";

/**
 * S3's naming rules beyond a lakeFS repository name's (mode s3): end with a letter or digit, and
 * none of AWS's reserved prefixes and suffixes. lakeFS itself accepts e.g. a trailing '-'.
 */
const S3_RESERVED_NAME = /-$|^xn--|^sthree-|^amzn-s3-demo-|-s3alias$|--ol-s3$|--x-s3$|--table-s3$/;

const CreateBucket: Operation = {
  level: "bucket",
  async handle(ctx) {
    const name = ctx.req.bucket!;
    ctx.body().resume(); // an optional CreateBucketConfiguration; the region is fixed
    if (!REPOSITORY_NAME.test(name) || (!isLakefs(ctx) && S3_RESERVED_NAME.test(name))) {
      throw new S3Error("InvalidBucketName", { bucket: name, resource: name });
    }
    if (isLakefs(ctx) && !ctx.repo) ctx.diverge("create-bucket");
    const created = await ctx.services.catalog.createRepository(name);
    if (!created) throw new S3Error(isLakefs(ctx) ? "BucketAlreadyExists" : "BucketAlreadyOwnedByYou", { bucket: name, resource: name });
    return { headers: { Location: `/${name}` } };
  },
};

const DeleteBucket: Operation = {
  level: "bucket",
  async handle(ctx) {
    if (isLakefs(ctx)) throw new S3Error("ERRLakeFSNotSupported");
    const repo = ctx.repo!;
    const catalog = ctx.services.catalog;
    const { branches } = await catalog.listBranches(repo.name);
    for (const b of branches) {
      const view = await catalog.resolve(repo.name, b.name);
      if (view && (await catalog.listObjects(view, { prefix: "", limit: 1 })).items.length > 0) {
        throw new S3Error("BucketNotEmpty", { bucket: repo.name, resource: repo.name });
      }
    }
    const blobs = await catalog.deleteRepository(repo.name);
    ctx.services.reclaimer.reclaim(blobs);
    return { status: 204 };
  },
};

export const bucketOperations = { CreateBucket, DeleteBucket };
