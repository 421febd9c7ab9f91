/**
 * What a data dir says about its own state at start: whether the metadata store lost records
 * (LevelDB repairs a damaged log silently, reporting only in its LOG file what it dropped), whether
 * it is missing while object files remain, and when the store was last closed cleanly. The server
 * decides from this what the startup sweep may delete (see server/lifecycle.ts): never a blob on the
 * strength of metadata that had to be repaired.
 *
 * Damage, once seen, is written to <dataDir>/damage.json and stays there until a start with
 * --accept-damage has moved every unreferenced blob to lost+found/: LevelDB reports a repair only
 * on the open that made it, so a second start must not take the repaired store for a healthy one.
 */
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { writeFileDurably } from "./durable-file.js";

const CLEAN_STATE_FILE = "clean-state.json";
const DAMAGE_FILE = "damage.json";

export interface Damage {
  /** One line: what was found. */
  reason: string;
  foundAt: string; // ISO
}

/** Recovery messages in LevelDB's LOG of the open that just happened ("dropping N bytes; Corruption: …"). */
export async function droppedByLevelDb(location: string): Promise<string | undefined> {
  const log = await readFile(path.join(location, "LOG"), "utf8").catch(() => "");
  let bytes = 0;
  const causes = new Set<string>();
  for (const m of log.matchAll(/dropping (\d+) bytes; (.*)$/gm)) {
    bytes += Number(m[1]);
    causes.add(m[2]!.trim());
  }
  const other = /^.*\b(Corruption|missing files|ignoring)\b.*$/m.exec(log);
  if (bytes === 0 && !other) return undefined;
  const what = bytes > 0 ? `dropped ${bytes} bytes of its log (${[...causes].join("; ")})` : `reported "${other![0].replace(/^\S+ \S+ /, "")}"`;
  return `the metadata store in ${location} was damaged: LevelDB ${what} while opening it, so records written before the damage may be gone`;
}

/** Whether LevelDB has a store in `location` at all. */
export function storeExists(location: string): boolean {
  return existsSync(path.join(location, "CURRENT"));
}

export async function readDamage(dataDir: string): Promise<Damage | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dataDir, DAMAGE_FILE), "utf8")) as Damage;
  } catch {
    return undefined;
  }
}

export async function recordDamage(dataDir: string, reason: string): Promise<Damage> {
  const damage = (await readDamage(dataDir)) ?? { reason, foundAt: new Date().toISOString() };
  await writeFileDurably(path.join(dataDir, DAMAGE_FILE), JSON.stringify(damage) + "\n");
  return damage;
}

export async function clearDamage(dataDir: string): Promise<void> {
  await rm(path.join(dataDir, DAMAGE_FILE), { force: true });
}

/**
 * The clean-state record: when the store was last closed cleanly, and whether nothing has been
 * written since (`settled`: the last run closed with every blob it wrote accounted for by a record
 * or deleted, and no run has started since). A start clears `settled` (markStarted) before it
 * accepts a write, so a crash is never taken for a clean close.
 */
export async function readCleanState(dataDir: string): Promise<{ closedAt: number; settled: boolean } | undefined> {
  try {
    const { closedAt, settled } = JSON.parse(await readFile(path.join(dataDir, CLEAN_STATE_FILE), "utf8")) as { closedAt: string; settled?: boolean };
    const t = Date.parse(closedAt);
    return Number.isNaN(t) ? undefined : { closedAt: t, settled: settled === true };
  } catch {
    return undefined;
  }
}

/**
 * Record a clean close: every blob written before now is accounted for by the store (or, unless
 * `settled`, may be left unreferenced: a reclaim that failed, a blob still pinned at close).
 */
export async function recordCleanState(dataDir: string, settled = false): Promise<void> {
  await writeCleanState(dataDir, new Date().toISOString(), settled);
}

/** A run starts: the last clean close stays recorded, but no longer as settled. */
export async function markStarted(dataDir: string, closedAt: number): Promise<void> {
  await writeCleanState(dataDir, new Date(closedAt).toISOString(), false);
}

async function writeCleanState(dataDir: string, closedAt: string, settled: boolean): Promise<void> {
  await writeFileDurably(path.join(dataDir, CLEAN_STATE_FILE), JSON.stringify({ closedAt, ...(settled ? { settled } : {}) }) + "\n");
}
