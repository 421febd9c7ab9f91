/**
 * Writers for the crash harness, and the model of acknowledged state they keep.
 *
 * Each writer owns its own keys, so per key the operations are sequential and the model is exact:
 * `possible` is the set of states the key may be in — one state after an acknowledged write, the
 * old and the new state while a write is in flight when the server dies (old or new, never partial).
 * States are identified by (size, md5 of the bytes, ETag); an absent key is `null`.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { Rng } from "./lib/random.js";

export const BUCKET = "crash-repo";
const MIB = 1024 * 1024;

export interface Version {
  size: number;
  md5: string;
  etag: string;
}

export type State = Version | null;

export function sameState(a: State, b: State): boolean {
  if (a === null || b === null) return a === b;
  return a.size === b.size && a.md5 === b.md5 && a.etag === b.etag;
}

export function describeState(s: State): string {
  return s === null ? "absent" : `${s.size} B etag ${s.etag}`;
}

export class Model {
  /** Key (without bucket) → the states it may be in. */
  readonly keys = new Map<string, State[]>();
  /** Every state ever written per key (what a concurrent reader may legitimately see). */
  readonly history = new Map<string, State[]>();

  constructor(keys: string[]) {
    for (const k of keys) {
      this.keys.set(k, [null]);
      this.history.set(k, [null]);
    }
  }

  /** A write of `next` to `key` was sent: until it is acknowledged the key may be old or new. */
  begin(key: string, next: State): void {
    const possible = this.keys.get(key)!;
    if (!possible.some((s) => sameState(s, next))) possible.push(next);
    this.history.get(key)!.push(next);
  }

  acknowledge(key: string, next: State): void {
    this.keys.set(key, [next]);
  }

  /** The server answered an error: the write did not happen (old states only). */
  refused(key: string, before: State[]): void {
    this.keys.set(key, before);
  }

  /** After a restart: the key was observed in this state (which must have been possible). */
  observe(key: string, actual: State): void {
    this.keys.set(key, [actual]);
  }
}

export function makeClient(url: string, region: string, credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({
    endpoint: url,
    region,
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30_000 }),
  });
}

function body(size: number): { bytes: Buffer; md5: string } {
  const bytes = randomBytes(size);
  return { bytes, md5: createHash("md5").update(bytes).digest("hex") };
}

function putSize(rng: Rng): number {
  const r = rng.next();
  if (r < 0.3) return rng.int(0, 1024);
  if (r < 0.6) return rng.int(1024, 256 * 1024);
  if (r < 0.85) return rng.int(256 * 1024, 2 * MIB);
  return rng.int(2 * MIB, 8 * MIB);
}

/** Did the server answer (an HTTP error), as opposed to the connection failing? */
function serverAnswered(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

export interface WriterStats {
  acknowledged: number;
  inFlightAtKill: number;
  /** Errors the server answered while it was alive (must stay empty). */
  unexpected: string[];
}

/**
 * Run one writer until `stopped()` turns true: PutObject (0 B – 8 MiB), multipart uploads
 * (5 MiB + tail, completed), DeleteObjects of some of its keys.
 */
export async function runWriter(client: S3Client, model: Model, keys: string[], rng: Rng, stopped: () => boolean, stats: WriterStats): Promise<void> {
  while (!stopped()) {
    const r = rng.next();
    let touched: { key: string; before: State[] }[] = [];
    try {
      if (r < 0.6) {
        const key = rng.pick(keys);
        const { bytes, md5 } = body(putSize(rng));
        const next = { size: bytes.length, md5, etag: md5 };
        touched = [{ key, before: [...model.keys.get(key)!] }];
        model.begin(key, next);
        const out = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `main/${key}`, Body: bytes }));
        if (out.ETag !== `"${md5}"`) stats.unexpected.push(`PutObject ${key}: ETag ${out.ETag}, expected "${md5}"`);
        model.acknowledge(key, next);
      } else if (r < 0.8) {
        const key = rng.pick(keys);
        const p1 = randomBytes(5 * MIB);
        const p2 = randomBytes(rng.int(1, 512 * 1024));
        const created = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `main/${key}` }));
        const uploadId = created.UploadId!;
        const e1 = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: `main/${key}`, UploadId: uploadId, PartNumber: 1, Body: p1 }));
        if (stopped()) return;
        const e2 = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: `main/${key}`, UploadId: uploadId, PartNumber: 2, Body: p2 }));
        if (stopped()) return;
        const md5 = createHash("md5").update(p1).update(p2).digest("hex");
        const etagHash = createHash("md5")
          .update(createHash("md5").update(p1).digest())
          .update(createHash("md5").update(p2).digest())
          .digest("hex");
        const next = { size: p1.length + p2.length, md5, etag: `${etagHash}-2` };
        touched = [{ key, before: [...model.keys.get(key)!] }];
        model.begin(key, next);
        const done = await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: `main/${key}`,
            UploadId: uploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] },
          }),
        );
        if (done.ETag !== `"${next.etag}"`) stats.unexpected.push(`Complete ${key}: ETag ${done.ETag}, expected "${next.etag}"`);
        model.acknowledge(key, next);
      } else {
        const chosen = [...new Set(Array.from({ length: rng.int(1, 4) }, () => rng.pick(keys)))];
        touched = chosen.map((key) => ({ key, before: [...model.keys.get(key)!] }));
        for (const t of touched) model.begin(t.key, null);
        const out = await client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: chosen.map((k) => ({ Key: `main/${k}` })) } }));
        if (out.Errors?.length) stats.unexpected.push(`DeleteObjects: ${JSON.stringify(out.Errors)}`);
        for (const t of touched) model.acknowledge(t.key, null);
      }
      stats.acknowledged++;
    } catch (err) {
      const status = serverAnswered(err);
      if (stopped()) {
        stats.inFlightAtKill++; // outcome unknown: the model keeps old and new
        return;
      }
      if (status !== undefined) {
        stats.unexpected.push(`${(err as Error).name} (${status}): ${(err as Error).message}`);
        for (const t of touched) model.refused(t.key, t.before);
      } else {
        stats.unexpected.push(`connection failed while the server was up: ${(err as Error).message}`);
      }
    }
  }
}

/**
 * Read keys while writers run: every complete response must be a state some writer wrote to that
 * key, byte for byte (never a torn or partial object).
 */
export async function runReader(client: S3Client, model: Model, keys: string[], rng: Rng, stopped: () => boolean, violations: string[]): Promise<void> {
  while (!stopped()) {
    const key = rng.pick(keys);
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `main/${key}` }));
      const bytes = Buffer.from(await out.Body!.transformToByteArray());
      const seen: Version = { size: bytes.length, md5: createHash("md5").update(bytes).digest("hex"), etag: (out.ETag ?? "").replace(/"/g, "") };
      if (!model.history.get(key)!.some((s) => sameState(s, seen))) {
        violations.push(`reader saw ${key} as ${describeState(seen)} (md5 ${seen.md5}), never written`);
      }
    } catch (err) {
      if (stopped()) return;
      const status = serverAnswered(err);
      if (status !== 404) violations.push(`reader: ${key}: ${(err as Error).name} ${(err as Error).message}`);
    }
  }
}
