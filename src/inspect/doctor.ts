/**
 * `lakes3 doctor`: does the data dir hold every byte its records promise? Every object record
 * (uncommitted, committed, and the parts of uploads in progress) is checked to have its blobs with
 * the recorded sizes, and with --verify their MD5 against the ETag. Damage LevelDB reported, and
 * files the startup sweep moved to lost+found/, are problems too: a person should look at them.
 */
import { createHash } from "node:crypto";
import { isTombstone, SEP } from "../storage/metadata-store.js";
import { StorageError } from "../storage/errors.js";
import { readDamage } from "../storage/recovery.js";
import type { BlobRef } from "../storage/blob-store.js";
import type { InspectSources } from "./queries.js";

export interface DoctorReport {
  dataDir: string;
  /** Object records and upload parts checked. */
  records: number;
  /** Distinct blobs checked. */
  blobs: number;
  verified: boolean;
  damage?: string;
  problems: { where: string; problem: string }[];
  quarantined: { file: string; size: number }[];
}

export async function doctor(s: InspectSources, options: { verify?: boolean } = {}): Promise<DoctorReport> {
  const store = s.catalog.store;
  const verify = options.verify ?? false;
  const report: DoctorReport = { dataDir: s.dataDir, records: 0, blobs: 0, verified: verify, problems: [], quarantined: [] };
  const damage = await readDamage(s.dataDir);
  if (damage) report.damage = `${damage.reason} (found ${damage.foundAt})`;

  /** blobId → its problem ("" when fine) and MD5 (with --verify). */
  const checked = new Map<string, Promise<{ problem: string; md5?: Buffer }>>();
  const checkBlob = (b: BlobRef) => {
    let result = checked.get(b.blobId);
    if (!result) checked.set(b.blobId, (result = checkOne(s, b, verify)));
    return result;
  };
  const checkRecord = async (where: string, parts: readonly BlobRef[], etag: string) => {
    report.records++;
    const results = await Promise.all(parts.map(checkBlob));
    const broken = results.map((r) => r.problem).filter(Boolean);
    if (broken.length > 0) return void report.problems.push({ where, problem: broken.join("; ") });
    if (!verify) return;
    const md5s = results.map((r) => r.md5!);
    const multipart = /^([0-9a-f]{32})-(\d+)$/.exec(etag);
    const actual = multipart ? `${createHash("md5").update(Buffer.concat(md5s)).digest("hex")}-${md5s.length}` : md5s.length === 1 ? md5s[0]!.toString("hex") : undefined;
    if (actual !== undefined && actual !== etag) report.problems.push({ where, problem: `its bytes do not match its ETag "${etag}" (MD5 gives "${actual}")` });
  };

  // Uncommitted objects, named by their branch.
  const branchOf = new Map<string, string>();
  for await (const b of store.branches.values()) branchOf.set(b.stagingToken, b.name);
  for await (const [key, entry] of store.staging.iterator()) {
    if (isTombstone(entry)) continue;
    const [repo, token, ...rest] = key.split(SEP);
    await checkRecord(`${repo}/${branchOf.get(token!) ?? `(staging ${token})`}/${rest.join(SEP)} (uncommitted)`, entry.parts, entry.etag);
  }
  // Committed objects: every range once (ranges are shared between commits); a range that
  // cannot be read is a problem of its own.
  const damagedRange = (err: StorageError) => report.problems.push({ where: "committed metadata", problem: err.message });
  for await (const [repo, range] of s.catalog.trees.committedRanges({ onDamage: damagedRange })) {
    for (const [path, record] of range.entries()) await checkRecord(`${repo}: ${path} (committed)`, record.parts, record.etag);
  }
  // Parts of uploads in progress.
  for await (const [key, part] of store.parts.iterator()) {
    const upload = await store.uploads.get(key.split(SEP)[0]!);
    await checkRecord(`upload ${upload ? `${upload.repo}/${upload.ref}/${upload.path}` : key.split(SEP)[0]} part ${part.partNumber}`, [part.blob], part.etag);
  }
  report.blobs = checked.size;
  report.quarantined = await s.blobs.quarantined();
  return report;
}

async function checkOne(s: InspectSources, b: BlobRef, verify: boolean): Promise<{ problem: string; md5?: Buffer }> {
  try {
    const body = await s.blobs.open([b]);
    if (!verify) {
      body.destroy();
      return { problem: "" };
    }
    const hash = createHash("md5");
    for await (const chunk of body) hash.update(chunk as Buffer);
    return { problem: "", md5: hash.digest() };
  } catch (err) {
    if (err instanceof StorageError) return { problem: err.message.replace(/: (run|it was).*$/, "") };
    return { problem: (err as Error).message };
  }
}

/** Whether the report has anything a person must look at (the CLI's exit code). */
export function hasProblems(r: DoctorReport): boolean {
  return r.damage !== undefined || r.problems.length > 0 || r.quarantined.length > 0;
}
