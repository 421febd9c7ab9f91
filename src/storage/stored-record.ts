/**
 * An object record as it is stored (JSON text), parsed whole only when it is read whole.
 *
 * A listing page shows four fields of a thousand records (size, ETag, last modified and the
 * checksum's kind) and parsing each record whole cost about a microsecond, a third of the page's
 * work. Records are written with those fields first (recordText), so a listing reads them off the
 * front of the text; a record written in another order (by an older version) or with anything
 * unexpected there is parsed whole instead, so the answer never depends on the shortcut.
 */
import type { ObjectRecord, StagedEntry, StoredChecksum } from "./metadata-store.js";

/** What a listing shows of an object. */
export interface ObjectSummary {
  size: number;
  etag: string;
  lastModified: string;
  checksum?: Pick<StoredChecksum, "algorithm" | "type">;
}

/** A record as stored: the fields a listing shows first, then the rest. */
export function recordText(record: ObjectRecord): string {
  const { size, etag, lastModified } = record;
  return JSON.stringify(Object.assign({ size, etag, lastModified }, record));
}

/** The value encoding of the `staging` sublevel: a record as recordText writes it, or a tombstone. */
export const stagedEncoding = {
  name: "lakes3-staged",
  format: "utf8" as const,
  encode: (entry: StagedEntry): string => ("tombstone" in entry ? JSON.stringify(entry) : recordText(entry)),
  decode: (text: string): StagedEntry => JSON.parse(text) as StagedEntry,
};

/**
 * A staged entry's stored text as a committed range stores its record (encodeRecord's bytes), or
 * undefined for a tombstone: the text itself when recordText wrote it, so a commit neither parses
 * nor writes again the records it moves; a record an older version wrote in another order is
 * parsed and written as recordText writes it.
 */
export function committedBytes(text: string): Buffer | undefined {
  const record = StoredRecord.fromText(text);
  return record && Buffer.from(record.storedText(), "utf8");
}

export class StoredRecord {
  private parsed: ObjectRecord | undefined;

  private constructor(
    private readonly text: string | undefined,
    parsed?: ObjectRecord,
  ) {
    this.parsed = parsed;
  }

  /** A record read as text; undefined for a staged tombstone. */
  static fromText(text: string): StoredRecord | undefined {
    if (text.startsWith(HEAD)) return new StoredRecord(text);
    const entry = JSON.parse(text) as StagedEntry;
    return "tombstone" in entry ? undefined : new StoredRecord(undefined, entry);
  }

  static of(record: ObjectRecord): StoredRecord {
    return new StoredRecord(undefined, record);
  }

  record(): ObjectRecord {
    return (this.parsed ??= JSON.parse(this.text!) as ObjectRecord);
  }

  /** The record as recordText writes it: the text read, when it was written so. */
  storedText(): string {
    return this.text ?? recordText(this.parsed!);
  }

  summary(): ObjectSummary {
    return (this.parsed === undefined && readSummary(this.text!)) || this.record();
  }
}

const HEAD = `{"size":`;
const ETAG = `,"etag":"`;
const LAST_MODIFIED = `","lastModified":"`;
const CHECKSUM = `"checksum":{`;

/**
 * The summary fields off the front of a recordText text, or undefined when the text is not
 * that shape. The checksum may be anywhere: `"checksum":{` can only be the record's own checksum,
 * as every other object in a record (headers, user metadata) has string values, and a quote
 * inside a string is escaped.
 */
function readSummary(text: string): ObjectSummary | undefined {
  const etagAt = text.indexOf(ETAG, HEAD.length);
  if (etagAt < 0) return undefined;
  const size = Number(text.slice(HEAD.length, etagAt));
  const etagEnd = text.indexOf(LAST_MODIFIED, etagAt);
  if (!Number.isSafeInteger(size) || etagEnd < 0) return undefined;
  const etag = text.slice(etagAt + ETAG.length, etagEnd);
  const modifiedAt = etagEnd + LAST_MODIFIED.length;
  const modifiedEnd = text.indexOf(`"`, modifiedAt);
  if (etag.includes(`"`) || etag.includes("\\") || modifiedEnd < 0) return undefined;
  const lastModified = text.slice(modifiedAt, modifiedEnd);
  const checksumAt = text.indexOf(CHECKSUM, modifiedEnd);
  if (checksumAt < 0) return { size, etag, lastModified };
  const checksumEnd = text.indexOf("}", checksumAt);
  const algorithm = stringField(text, "algorithm", checksumAt, checksumEnd);
  const type = stringField(text, "type", checksumAt, checksumEnd);
  if (algorithm === undefined || type === undefined) return undefined;
  return { size, etag, lastModified, checksum: { algorithm, type } as ObjectSummary["checksum"] };
}

/** A string field's value between `from` and `to` (an object's text without nested objects). */
function stringField(text: string, name: string, from: number, to: number): string | undefined {
  const label = `"${name}":"`;
  const at = text.indexOf(label, from);
  if (at < 0 || at > to) return undefined;
  const end = text.indexOf(`"`, at + label.length);
  return end < 0 || end > to ? undefined : text.slice(at + label.length, end);
}
