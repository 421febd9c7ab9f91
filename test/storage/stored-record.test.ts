import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MetadataStore, type ObjectRecord } from "../../src/storage/metadata-store.js";
import { committedBytes, recordText, stagedEncoding, StoredRecord, type ObjectSummary } from "../../src/storage/stored-record.js";

const plain: ObjectRecord = {
  size: 12,
  etag: "d41d8cd98f00b204e9800998ecf8427e",
  lastModified: "2026-01-01T00:00:00.000Z",
  contentType: "text/plain",
  headers: { cacheControl: "no-cache" },
  userMeta: { note: 'say "checksum":{"algorithm":"SHA1","type":"COMPOSITE"}', checksum: "x" },
  parts: [{ blobId: "b1", size: 12 }],
};
const withChecksum: ObjectRecord = {
  contentType: "application/json",
  headers: {},
  userMeta: {},
  parts: [{ blobId: "b2", size: 5 }],
  checksum: { type: "COMPOSITE", value: "AAAAAA==-3", algorithm: "CRC32C" },
  lastModified: "2026-02-03T04:05:06.789Z",
  etag: "0123456789abcdef0123456789abcdef-3",
  size: 5,
};

const summaryOf = (r: ObjectRecord): ObjectSummary => ({
  size: r.size,
  etag: r.etag,
  lastModified: r.lastModified,
  ...(r.checksum && { checksum: { algorithm: r.checksum.algorithm, type: r.checksum.type } }),
});

describe("records as stored: the fields a listing shows, read off the front", () => {
  it("writes size, ETag and last-modified first, whatever order the record was built in", () => {
    expect(recordText(withChecksum).startsWith(`{"size":5,"etag":"0123456789abcdef0123456789abcdef-3","lastModified":"2026-02-03T04:05:06.789Z",`)).toBe(true);
    expect(JSON.parse(recordText(withChecksum))).toEqual(withChecksum);
  });

  it("reads the summary of a written record without parsing it, and the record whole when asked", () => {
    for (const r of [plain, withChecksum]) {
      const stored = StoredRecord.fromText(recordText(r))!;
      // only the summary's own fields (a whole parse would carry contentType along)
      expect(stored.summary()).toStrictEqual(summaryOf(r));
      expect(stored.record()).toEqual(r);
    }
  });

  it("parses whole a record in another order (an older version's) or with anything unexpected up front", () => {
    const odd = [
      JSON.stringify({ etag: plain.etag, size: plain.size, ...plain }),
      JSON.stringify(plain).replace(`"etag":"d41d`, `"etag":"d\\"41d`),
      JSON.stringify({ size: plain.size, contentType: plain.contentType, ...plain }),
    ];
    for (const text of odd) {
      const record = JSON.parse(text) as ObjectRecord;
      expect(StoredRecord.fromText(text)!.summary()).toMatchObject(summaryOf(record));
    }
  });

  it("a commit moves a staged record's text as it is, writes an older version's again in recordText's order, and drops a tombstone", () => {
    for (const r of [plain, withChecksum]) expect(committedBytes(recordText(r))!.toString("utf8")).toBe(recordText(r));
    const older = JSON.stringify({ etag: plain.etag, size: plain.size, ...plain });
    expect(committedBytes(older)!.toString("utf8")).toBe(recordText(plain));
    expect(committedBytes(stagedEncoding.encode({ tombstone: true }))).toBeUndefined();
  });

  it("a staged tombstone is no record", () => {
    expect(StoredRecord.fromText(stagedEncoding.encode({ tombstone: true }))).toBeUndefined();
    expect(stagedEncoding.decode(stagedEncoding.encode(withChecksum))).toEqual(withChecksum);
  });

  it("the store writes a staged record as recordText and a tombstone as JSON, each encoded once, and reads back what it wrote", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-stored-"));
    const store = new MetadataStore(path.join(dir, "metadata"));
    await store.open();
    try {
      await store.batch().put("r!t!a", withChecksum, { sublevel: store.staging }).put("r!t!b", { tombstone: true }, { sublevel: store.staging }).write({ sync: true });
      const raw = new Map<string, string>();
      for await (const [k, v] of store.staging.iterator({ valueEncoding: "utf8" })) raw.set(k, v);
      expect(raw.get("r!t!a")).toBe(recordText(withChecksum));
      expect(raw.get("r!t!b")).toBe(JSON.stringify({ tombstone: true }));
      expect(await store.getStaged("r!t!a")).toEqual(withChecksum); // kept in memory
      expect(await store.staging.get("r!t!a")).toEqual(withChecksum); // from LevelDB
      expect(await store.staging.get("r!t!b")).toEqual({ tombstone: true });
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
