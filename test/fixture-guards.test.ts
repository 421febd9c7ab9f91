/**
 * The two guards that keep a half-written fixture file from being published, each on its own
 * (the live-watch test in fixtures.test.ts writes faster than the watcher's debounce, so the
 * debounce alone would pass it): the initial load — which has no debounce — waits until a file has
 * not been written to for the quiet time, and a file that changes while it is read is read again.
 */
import { appendFile, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type LakeS3Server } from "../src/server/lifecycle.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function fixtureDir(): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-guards-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "guard-repo/main/data/growing.bin");
  await mkdir(path.dirname(file), { recursive: true });
  return { dir, file };
}

async function start(dir: string): Promise<{ server: LakeS3Server; s3: S3Client }> {
  const server = await startServer({ port: 0, ephemeral: true, fixtures: dir, onWarning: () => undefined });
  const s3 = new S3Client({ ...server.s3ClientConfig, maxAttempts: 1 });
  cleanups.push(async () => {
    s3.destroy();
    await server.close();
  });
  return { server, s3 };
}

async function published(s3: S3Client): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: "guard-repo", Key: "main/data/growing.bin" }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

describe("fixture guards", () => {
  it("quiet time: the initial load waits for a file that is still being written (pauses shorter than the quiet time)", async () => {
    const { dir, file } = await fixtureDir();
    const chunks = Array.from({ length: 8 }, () => randomBytes(96 * 1024));
    await writeFile(file, chunks[0]!);
    let done = false;
    const writer = (async () => {
      for (const chunk of chunks.slice(1)) {
        await new Promise((r) => setTimeout(r, 80)); // well under the 200 ms quiet time
        await appendFile(file, chunk);
      }
      done = true;
    })();
    cleanups.push(() => writer);
    const { s3 } = await start(dir); // resolves once the initial load is done
    expect(done, "the initial load finished while the file was still being written").toBe(true);
    expect((await published(s3)).equals(Buffer.concat(chunks))).toBe(true);
  });

  it("changed while read: a file whose size changes during the read is read again, never published as read", async () => {
    const { dir, file } = await fixtureDir();
    const old = new Date(Date.now() - 3600_000); // an old mtime: the quiet-time check lets it through
    await writeFile(file, randomBytes(16 * 1024 * 1024));
    await utimes(file, old, old);
    // Grow it in small steps while the server starts, restoring the old mtime each time, for 1.5 s (longer than a loaded machine takes to start reading).
    let growing = true;
    const stopAt = Date.now() + 1500;
    const grower = (async () => {
      while (Date.now() < stopAt) {
        await appendFile(file, randomBytes(64 * 1024));
        await utimes(file, old, old);
        await new Promise((r) => setTimeout(r, 5));
      }
      growing = false;
    })();
    cleanups.push(() => grower);
    const { server, s3 } = await start(dir);
    await grower;
    expect(growing).toBe(false);
    const final = await readFile(file);
    expect((await published(s3)).equals(final), "the object is the file as it ended, not a read that raced a write").toBe(true);
    // the guard did fire (otherwise this test proved nothing)
    const changed = server.log.getSnapshot().finished.filter((e) => e.source === "fixture" && e.errorCode === "FixtureChanged");
    expect(changed.length).toBeGreaterThanOrEqual(1);
  });
});
