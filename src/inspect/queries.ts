/**
 * The read-only questions `lakes3 inspect` asks of a store. The same functions answer in two
 * places: in the CLI when it opens a data dir no server holds, and in a running server behind the
 * loopback admin route (/_lakes3/inspect/...), so both paths give the same JSON.
 */
import { isTombstone, type ObjectRecord } from "../storage/metadata-store.js";
import { isImmediateBlob, isInlineBlob, type BlobStore } from "../storage/blob-store.js";
import { rangeFor } from "../storage/keys.js";
import type { Catalog } from "../versioning/catalog.js";
import { stagingKey } from "../versioning/staging-keys.js";
import { isFailure } from "../log/events.js";
import { readRequests } from "../log/request-store.js";
import type { RequestEvent } from "../log/events.js";
import { doctor } from "./doctor.js";

export interface InspectSources {
  catalog: Catalog;
  blobs: BlobStore;
  dataDir: string;
}

export class NotFound extends Error {}

export interface Summary {
  dataDir: string;
  repositories: number;
  branches: number;
  commits: number;
  /** Objects visible on the repositories' default branches. */
  objects: number;
  bytes: number;
  blobFiles: number;
  blobBytes: number;
  orphanedBlobs: number;
  orphanedBytes: number;
  uploadsInProgress: number;
}

export async function summary(s: InspectSources): Promise<Summary> {
  const { repos } = await s.catalog.listRepositories({ limit: 100_000 });
  let branches = 0;
  let objects = 0;
  let bytes = 0;
  for (const repo of repos) {
    branches += (await s.catalog.listBranches(repo.name, { limit: 100_000 })).branches.length;
    const view = await s.catalog.resolve(repo.name, repo.defaultBranch);
    if (view) {
      for await (const [, record] of s.catalog.objects(view)) {
        objects++;
        bytes += record.size;
      }
    }
  }
  let commits = 0;
  for await (const _ of s.catalog.store.commits.keys()) commits++;
  let uploadsInProgress = 0;
  for await (const _ of s.catalog.store.uploads.keys()) uploadsInProgress++;
  const live = await s.catalog.liveBlobIds();
  let blobFiles = 0;
  let blobBytes = 0;
  let orphanedBlobs = 0;
  let orphanedBytes = 0;
  for await (const blob of s.blobs.list()) {
    blobFiles++;
    blobBytes += blob.size;
    if (!live.has(blob.blobId)) {
      orphanedBlobs++;
      orphanedBytes += blob.size;
    }
  }
  return { dataDir: s.dataDir, repositories: repos.length, branches, commits, objects, bytes, blobFiles, blobBytes, orphanedBlobs, orphanedBytes, uploadsInProgress };
}

export async function repositories(s: InspectSources) {
  const { repos } = await s.catalog.listRepositories({ limit: 100_000 });
  return Promise.all(
    repos.map(async (r) => ({
      name: r.name,
      defaultBranch: r.defaultBranch,
      createdAt: r.createdAt,
      branches: (await s.catalog.listBranches(r.name, { limit: 100_000 })).branches.length,
    })),
  );
}

export async function branches(s: InspectSources, repo: string) {
  if (!(await s.catalog.getRepository(repo))) throw new NotFound(`repository ${repo} not found`);
  const { branches } = await s.catalog.listBranches(repo, { limit: 100_000 });
  return Promise.all(
    branches.map(async (b) => {
      let staged = 0;
      for await (const _ of s.catalog.store.staging.keys(rangeFor(stagingKey(repo, b.stagingToken, "")))) staged++;
      const head = await s.catalog.getCommit(repo, b.head);
      return { name: b.name, head: b.head, headMessage: head?.message ?? "", createdAt: b.createdAt, uncommittedChanges: staged };
    }),
  );
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  contentType: string;
  lastModified: string;
}

/** Objects at REPO/REF under PREFIX: one level (with common prefixes) or everything (`recursive`). */
export async function ls(s: InspectSources, repo: string, ref: string, prefix: string, recursive: boolean, limit = 10_000) {
  const view = await s.catalog.resolve(repo, ref);
  if (!view) throw new NotFound(`${repo}/${ref}: no such repository or ref`);
  const page = await s.catalog.listObjects(view, { prefix, delimiter: recursive ? undefined : "/", limit });
  return {
    prefixes: page.items.flatMap((i) => ("prefix" in i ? [i.prefix] : [])),
    objects: page.items.flatMap((i): ListedObject[] => ("key" in i ? [listed(i.key, i.object.record())] : [])),
    truncated: page.isTruncated,
  };
}

function listed(key: string, r: ObjectRecord): ListedObject {
  return { key, size: r.size, etag: r.etag, contentType: r.contentType, lastModified: r.lastModified };
}

/** Everything known about one object, including where its bytes live on disk. */
export async function stat(s: InspectSources, repo: string, ref: string, path: string) {
  const view = await s.catalog.resolve(repo, ref);
  const record = view && (await s.catalog.getObject(view, path));
  if (!record) throw new NotFound(`${repo}/${ref}/${path}: no such object`);
  let staged = false;
  if (view?.staging !== undefined) {
    const entry = await s.catalog.store.getStaged(stagingKey(repo, view.staging, path));
    staged = entry !== undefined && !isTombstone(entry);
  }
  return {
    repo,
    ref,
    path,
    ...record,
    state: staged ? "uncommitted" : "committed",
    commit: view?.commitId,
    blobs: record.parts.map((p) => ({ ...p, file: isImmediateBlob(p.blobId) ? "(in the record, as its id)" : isInlineBlob(p.blobId) ? "(inline in the metadata store)" : s.blobs.pathOf(p.blobId) })),
  };
}

export async function uploads(s: InspectSources) {
  const out = [];
  for await (const u of s.catalog.store.uploads.values()) {
    const { parts } = await s.catalog.store.listParts(u.uploadId);
    out.push({ uploadId: u.uploadId, repo: u.repo, key: u.clientKey, initiated: u.initiated, parts: parts.length, bytes: parts.reduce((n, p) => n + p.blob.size, 0) });
  }
  return out;
}

export async function requests(s: Pick<InspectSources, "dataDir">, options: { errors?: boolean; divergent?: boolean; faults?: boolean; since?: number; limit?: number } = {}): Promise<RequestEvent[]> {
  // Failures come from their own log, so that they outlive any amount of successful traffic.
  const all = await readRequests(s.dataDir, undefined, options.errors ? "errors" : "all");
  const filtered = all.filter(
    (e) => (!options.errors || isFailure(e)) && (!options.divergent || e.divergence !== undefined) && (!options.faults || e.fault !== undefined) && (options.since === undefined || e.startedAt >= options.since),
  );
  return options.limit ? filtered.slice(-options.limit) : filtered;
}

export const QUERIES = ["summary", "repos", "branches", "ls", "stat", "uploads", "requests", "doctor"] as const;
export type Query = (typeof QUERIES)[number];

/** One entry point for both transports: a query name and string parameters → JSON-able data. */
export async function answer(s: InspectSources, query: string, p: Record<string, string | undefined>): Promise<unknown> {
  switch (query as Query) {
    case "summary":
      return summary(s);
    case "repos":
      return repositories(s);
    case "branches":
      return branches(s, p["repo"] ?? "");
    case "ls":
      return ls(s, p["repo"] ?? "", p["ref"] ?? "", p["prefix"] ?? "", p["recursive"] === "true");
    case "stat":
      return stat(s, p["repo"] ?? "", p["ref"] ?? "", p["path"] ?? "");
    case "uploads":
      return uploads(s);
    case "requests":
      return requests(s, { errors: p["errors"] === "true", divergent: p["divergent"] === "true", faults: p["faults"] === "true", since: p["since"] ? Number(p["since"]) : undefined, limit: p["limit"] ? Number(p["limit"]) : undefined });
    case "doctor":
      return doctor(s, { verify: p["verify"] === "true" });
    default:
      throw new NotFound(`unknown inspect query ${query}`);
  }
}
