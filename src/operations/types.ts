/**
 * What an operation handler sees and returns. Handlers never touch HTTP: they get an
 * OperationContext and return an S3Result (or throw an S3Error); the gateway writes the response.
 */
import type { Readable } from "node:stream";
import type { Config } from "../server/config.js";
import type { Diverge } from "../protocol/divergences.js";
import type { S3Request } from "../protocol/request.js";
import type { S3Result } from "../protocol/respond.js";
import type { Level, OperationId } from "../protocol/route.js";
import type { BlobStore } from "../storage/blob-store.js";
import type { MetadataStore, RepositoryRecord } from "../storage/metadata-store.js";
import type { Reclaimer } from "../storage/reclaimer.js";
import type { Catalog } from "../versioning/catalog.js";

export interface Services {
  config: Config;
  store: MetadataStore;
  catalog: Catalog;
  blobs: BlobStore;
  reclaimer: Reclaimer;
}

export interface OperationContext {
  req: S3Request;
  services: Services;
  /** The repository (bucket level and below). */
  repo?: RepositoryRecord;
  /** The decoded request body (aws-chunked framing removed, payload hash verified). */
  body(): Readable;
  /** Trailing headers of an aws-chunked body, available once the body has ended. */
  trailers(): Record<string, string>;
  /** Rely on a permissive divergence from lakeFS: false (or lakeFS's refusal) under --strict. */
  diverge: Diverge;
}

/** Object-level context: everything the addressing ladder guarantees. */
export interface ObjectContext extends OperationContext {
  repo: RepositoryRecord;
  /** The ref as addressed (lakefs mode) or the repository's default branch (s3 mode). */
  ref: string;
  path: string;
}

export interface Operation {
  level: Level;
  handle(ctx: OperationContext): Promise<S3Result>;
}

export type OperationTable = Record<OperationId, Operation>;

/** An object-level operation: the gateway guarantees the ObjectContext fields before it runs. */
export function objectOperation(handle: (ctx: ObjectContext) => Promise<S3Result>): Operation {
  return { level: "object", handle: (ctx) => handle(ctx as ObjectContext) };
}
