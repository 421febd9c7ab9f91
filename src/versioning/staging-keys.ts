/**
 * Where a branch's uncommitted changes live in the store: the `staging` sublevel, keyed
 * repo!token!path, one token per branch state (a commit or full reset starts a new one). The key
 * layout, the end marker kept after each live range, new tokens, and the two scans every part of
 * the catalog needs over a range (is anything staged; drop what is).
 */
import type { BlobRef } from "../storage/blob-store.js";
import { rangeFor } from "../storage/keys.js";
import { randomString } from "../storage/random.js";
import { isTombstone, SEP, type Batch, type MetadataStore, type StagedEntry } from "../storage/metadata-store.js";

export function stagingKey(repo: string, token: string, path: string): string {
  return repo + SEP + token + SEP + path;
}

/** Sorts right after every key of the token's range (it is rangeFor(base).lt, so scans exclude it). */
export function endMarker(repo: string, token: string): string {
  return stagingKey(repo, token, "\u{10FFFF}");
}

/** A tombstone value: whole-store scans (liveBlobIds, deleteRepository) treat it as nothing staged. */
export const END_MARKER: StagedEntry = { tombstone: true };

export function newToken(): string {
  return randomString(8, "hex");
}

export async function hasStaged(store: MetadataStore, repo: string, token: string): Promise<boolean> {
  for await (const _ of store.staging.keys({ ...rangeFor(stagingKey(repo, token, "")), limit: 1 })) return true;
  return false;
}

/** Queue deletion of staged entries under a prefix; returns their blobs. */
export async function dropStaging(store: MetadataStore, repo: string, token: string, prefix: string, batch: Batch): Promise<BlobRef[]> {
  const blobs: BlobRef[] = [];
  for await (const [key, entry] of store.staging.iterator(rangeFor(stagingKey(repo, token, prefix)))) {
    if (!isTombstone(entry)) blobs.push(...entry.parts);
    batch.del(key, { sublevel: store.staging });
  }
  return blobs;
}

/**
 * Retire a staging range in `batch` (the batch that moves its branch to a new token): its entries
 * stay, invisible, until dropSealed() deletes them in small batches after the commit, as lakeFS
 * drops a sealed staging token. The commit itself then writes only what it adds, whatever the
 * number of staged objects; a crash before the drop leaves the record, and the next start drops it.
 */
export function sealStaging(store: MetadataStore, batch: Batch, repo: string, token: string): void {
  batch.put(repo + SEP + token, new Date().toISOString(), { sublevel: store.sealedStaging });
}

const DROP_CHUNK = 1000;
/** Entries dropped from one range past which its tables are compacted (see compactStaging). */
export const COMPACT_AFTER = 10_000;

/**
 * Delete a sealed staging range, a chunk at a time, then its record; compact the range's tables
 * after a large drop.
 */
export async function dropSealed(store: MetadataStore, repo: string, token: string): Promise<void> {
  const whole = rangeFor(stagingKey(repo, token, ""));
  let range: { gte?: string; gt?: string; lt: string } = whole;
  let dropped = 0;
  for (;;) {
    const keys: string[] = [];
    // From the last key dropped, not the start: LevelDB would step over every deletion so far.
    for await (const key of store.staging.keys({ ...range, limit: DROP_CHUNK })) keys.push(key);
    if (keys.length === 0) break;
    range = { gt: keys.at(-1)!, lt: range.lt };
    const batch = store.batch();
    for (const key of keys) batch.del(key, { sublevel: store.staging });
    await batch.write({ sync: true });
    dropped += keys.length;
  }
  await store.sealedStaging.del(repo + SEP + token, { sync: true } as object);
  // Only to take the deleted entries out of LevelDB's tables: a failure (a full disk) leaves them
  // there, as they were before.
  if (dropped >= COMPACT_AFTER) await store.compactStaging(whole).catch(() => undefined);
}

/** Finish the drops a stop interrupted (at start). */
export async function dropAllSealed(store: MetadataStore): Promise<void> {
  for await (const key of store.sealedStaging.keys()) {
    const at = key.lastIndexOf(SEP);
    await dropSealed(store, key.slice(0, at), key.slice(at + 1));
  }
}
