/**
 * Writing files the storage layer keeps: a small file written so that a reader never sees it
 * half-written and a crash keeps either the old or the new one (a temp file beside it → write →
 * fsync → rename → fsync the directory), fsync of a directory, and buffers written whole.
 */
import { constants as fsConstants } from "node:fs";
import { open, rename, rm, writeFile, type FileHandle } from "node:fs/promises";
import path from "node:path";

export async function writeFileDurably(file: string, text: string): Promise<void> {
  await replaceFile(file, async (tmp) => {
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
  });
  await fsyncDir(path.dirname(file));
}

/**
 * A small file that a reader never sees half-written (a temp file beside it, renamed), but not
 * synced: for what describes the running process only (server.json), which a crash makes stale
 * anyway. Two steps instead of writeFileDurably's eight, before the server's first answer.
 */
export function writeFileAtomically(file: string, text: string): Promise<void> {
  return replaceFile(file, (tmp) => writeFile(tmp, text));
}

/** `write` a temp file beside `file`, then rename it over `file`; a failure removes the temp file. */
async function replaceFile(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await write(tmp);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** fsync a directory so a create or rename inside it survives power loss (no-op on Windows). */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const fh = await open(dir, fsConstants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Write `buffers` in order at the file's position, all of them (a writev may write part). */
export async function writeAll(fh: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    const { bytesWritten } = await fh.writev(pending);
    let skip = bytesWritten;
    let i = 0;
    while (i < pending.length && skip >= pending[i]!.length) skip -= pending[i++]!.length;
    pending = pending.slice(i);
    if (skip > 0 && pending.length > 0) pending[0] = pending[0]!.subarray(skip);
  }
}
