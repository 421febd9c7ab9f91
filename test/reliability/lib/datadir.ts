/**
 * Offline views of a data directory, independent of the server's own bookkeeping: the blob files on
 * disk (D/blobs/xx/<id>, D/tmp/*) plus the small blobs kept inline in LevelDB (tiny ones are their ids), and every blob a metadata record references (found by scanning
 * all LevelDB values and committed range files for `{ blobId, size }`, so the check does not trust the code under test).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { Level } from "level";

export async function blobFiles(dataDir: string): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  const root = path.join(dataDir, "blobs");
  for (const fan of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(path.join(root, fan)).catch(() => [] as string[])) {
      const st = await stat(path.join(root, fan, name)).catch(() => undefined);
      if (st?.isFile()) files.set(name, st.size);
    }
  }
  // Small blobs live inline in the metadata store; they are readable only while no server holds it.
  const db = new Level<string, Buffer>(path.join(dataDir, "metadata"), { valueEncoding: "buffer" });
  try {
    await db.open();
  } catch {
    return files;
  }
  try {
    for await (const [key, bytes] of db.iterator({ gt: INLINE_PREFIX, lt: INLINE_PREFIX + "\xff" })) files.set(key.slice(INLINE_PREFIX.length), bytes.length);
  } finally {
    await db.close();
  }
  return files;
}

const INLINE_PREFIX = "!inline-blobs!";

export async function tmpFiles(dataDir: string): Promise<string[]> {
  return readdir(path.join(dataDir, "tmp")).catch(() => []);
}

/** blobId → recorded size, over every record in the store (objects, parts, anything else). Server must be stopped. */
export async function referencedBlobs(dataDir: string): Promise<Map<string, number>> {
  const db = new Level<string, string>(path.join(dataDir, "metadata"), { valueEncoding: "utf8" });
  await db.open();
  const refs = new Map<string, number>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (typeof o["blobId"] === "string" && typeof o["size"] === "number") refs.set(o["blobId"], o["size"]);
      Object.values(o).forEach(walk);
    }
  };
  const byJsonText = (text: string) => {
    for (const m of text.matchAll(/\{"blobId":"([^"]+)","size":(\d+)\}/g)) refs.set(m[1]!, Number(m[2]));
  };
  try {
    for await (const [key, value] of db.iterator()) {
      if (key.startsWith(INLINE_PREFIX)) continue; // blob bytes, not records
      try {
        walk(JSON.parse(value));
      } catch {
        // Not JSON: index entries, or a committed range kept in LevelDB by an older version (binary
        // framing around JSON records; see src/storage/range-data.ts): found by their JSON text.
        byJsonText(value);
      }
    }
  } finally {
    await db.close();
  }
  // Committed ranges in files (metadata/ranges/<repo>/<pack>: framing around the same JSON
  // records, src/storage/range-files.ts), every pack, whether a commit names it or not.
  const ranges = path.join(dataDir, "metadata", "ranges");
  for (const repo of await readdir(ranges).catch(() => [] as string[])) {
    if (repo === ".tmp") continue;
    for (const pack of await readdir(path.join(ranges, repo))) byJsonText(await readFile(path.join(ranges, repo, pack), "utf8"));
  }
  return refs;
}

/**
 * Referenced blobs whose file is missing or has another size than recorded. A tiny blob's bytes are
 * its id (`i`, 6 random characters, the bytes in base64url): it has no file, and its id their size.
 */
export function missingOrTruncated(refs: Map<string, number>, files: Map<string, number>): string[] {
  const bad: string[] = [];
  for (const [id, size] of refs) {
    const immediate = /^i[A-Za-z0-9_-]{6}([A-Za-z0-9_-]*)$/.exec(id);
    const actual = immediate ? Buffer.from(immediate[1]!, "base64url").length : files.get(id);
    if (actual !== size) bad.push(`${id}: recorded ${size} bytes, file ${actual === undefined ? "missing" : `${actual} bytes`}`);
  }
  return bad;
}

export function orphans(refs: Map<string, number>, files: Map<string, number>): string[] {
  return [...files.keys()].filter((id) => !refs.has(id));
}
