/**
 * Listing pages skip past each common prefix (seeking in the committed tree and in staging) rather
 * than walking it. Every page must be what a plain walk over the visible keys gives: compared here
 * against a brute-force model, over a branch whose committed tree spans many ranges, with staged
 * additions, overwrites and deletions (a committed folder deleted whole must vanish), for many
 * prefixes, delimiters, start-after values, continuation tokens and max-keys values (page ends
 * falling on common prefixes), in ListObjectsV2 and v1, with and without encoding-type=url.
 */
import { DeleteObjectsCommand, ListObjectsCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { apiClient } from "../api/helpers.js";

const Bucket = "skip-repo";
let t: TestServer;
/** Visible keys on main (the model). */
const visible = new Set<string>();

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function put(keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 32) {
    await Promise.all(keys.slice(i, i + 32).map((k) => t.client.send(new PutObjectCommand({ Bucket, Key: `main/${k}`, Body: k }))));
  }
  for (const k of keys) visible.add(k);
}

async function del(keys: string[]): Promise<void> {
  await t.client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((k) => ({ Key: `main/${k}` })) } }));
  for (const k of keys) visible.delete(k);
}

const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
const pad = (i: number) => String(i).padStart(3, "0");

type Item = { key: string } | { prefix: string };

/** The page a plain walk gives: keys after `after` (a common prefix given as `after` skips all under it). */
function expectedPage(prefix: string, delimiter: string, after: string | undefined, maxKeys: number): { items: Item[]; truncated: boolean } {
  const rest = after !== undefined && delimiter && after.startsWith(prefix) ? after.slice(prefix.length) : undefined;
  const afterIsPrefix = rest !== undefined && rest.endsWith(delimiter) && rest.indexOf(delimiter) === rest.length - delimiter.length;
  const items: Item[] = [];
  for (const key of [...visible].sort(byBytes)) {
    if (!key.startsWith(prefix)) continue;
    if (after !== undefined && byBytes(key, after) <= 0) continue;
    if (afterIsPrefix && key.startsWith(after!)) continue;
    const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const item: Item = at < 0 ? { key } : { prefix: key.slice(0, at + delimiter.length) };
    const last = items.at(-1);
    if (last && "prefix" in item && "prefix" in last && last.prefix === item.prefix) continue;
    items.push(item);
  }
  return { items: items.slice(0, maxKeys), truncated: items.length > maxKeys };
}

/** Every page of a V2 listing, following continuation tokens. */
async function listAllV2(prefix: string, delimiter: string, maxKeys: number, startAfter?: string, encode = false) {
  const pages: { items: Item[]; truncated: boolean }[] = [];
  let token: string | undefined;
  do {
    const res = await t.client.send(
      new ListObjectsV2Command({ Bucket, Prefix: `main/${prefix}`, Delimiter: delimiter || undefined, MaxKeys: maxKeys, StartAfter: token ? undefined : startAfter && `main/${startAfter}`, ContinuationToken: token, EncodingType: encode ? "url" : undefined }),
    );
    const dec = (s: string) => (encode ? decodeURIComponent(s) : s).slice("main/".length);
    // Each object's body is its key: a key listed with another's record (size, ETag) shows here.
    for (const c of res.Contents ?? []) expect(c.ETag, c.Key).toBe(`"${createHash("md5").update(dec(c.Key!)).digest("hex")}"`);
    const items: Item[] = [...(res.Contents ?? []).map((c) => ({ key: dec(c.Key!) })), ...(res.CommonPrefixes ?? []).map((p) => ({ prefix: dec(p.Prefix!) }))];
    items.sort((a, b) => byBytes("key" in a ? a.key : a.prefix, "key" in b ? b.key : b.prefix));
    pages.push({ items, truncated: res.IsTruncated ?? false });
    expect(res.KeyCount).toBe(items.length);
    token = res.NextContinuationToken;
  } while (token);
  return pages;
}

/** The pages a plain walk gives, each starting after the last item of the one before. */
function expectedPages(prefix: string, delimiter: string, maxKeys: number, startAfter?: string) {
  const pages: { items: Item[]; truncated: boolean }[] = [];
  let after = startAfter;
  for (;;) {
    const page = expectedPage(prefix, delimiter, after, maxKeys);
    pages.push(page);
    if (!page.truncated) return pages;
    const last = page.items.at(-1)!;
    after = "key" in last ? last.key : last.prefix;
  }
}

beforeAll(async () => {
  t = await startTestServer({ repos: [Bucket] });
  // Committed: folders large enough to span several ranges, small ones, nested ones, and names
  // that sort next to the delimiter ('-' and '.' before '/', '0' after it).
  await put([
    ...range(300, (i) => `big/${pad(i)}`),
    ...range(5, (i) => `big/sub/${i}`),
    "big-x",
    "big.txt",
    "big0",
    ...range(150, (i) => `d${pad(i)}/f`),
    ...range(70, (i) => `gone/${pad(i)}`),
    ...range(3, (i) => `ü/${i}`),
    "top",
    "z/",
    "z//double",
  ]);
  const res = await apiClient(t)("POST", `/repositories/${Bucket}/branches/main/commits`, { json: { message: "base" } });
  expect(res.status).toBe(201);
  // Staged over it: additions (in committed folders, new folders, between them), overwrites,
  // deletions, and a committed folder deleted whole.
  await put(["big/150x", "big/zzz", "c/new", "d050/g", "d0995/f", "new/a", "new/b", "top"]);
  await del(["big/000", "big/299", ...range(70, (i) => `gone/${pad(i)}`), "d010/f", "ü/1"]);
}, 120_000);

afterAll(async () => {
  await t.close();
});

describe("listing pages skip past common prefixes and equal a plain walk", () => {
  const cases: [prefix: string, delimiter: string][] = [
    ["", "/"],
    ["", ""],
    ["big/", "/"],
    ["big", "/"],
    ["d0", "/"],
    ["gone/", "/"],
    ["z/", "/"],
    ["", "0"],
    ["big/", "1"],
  ];
  for (const [prefix, delimiter] of cases) {
    it(`prefix ${JSON.stringify(prefix)}, delimiter ${JSON.stringify(delimiter)}: every max-keys, following tokens`, async () => {
      for (const maxKeys of [1, 2, 3, 7, 50, 1000]) {
        expect(await listAllV2(prefix, delimiter, maxKeys), `max-keys ${maxKeys}`).toEqual(expectedPages(prefix, delimiter, maxKeys));
      }
    });
  }

  it("start-after: keys, common prefixes, keys inside a common prefix, deleted and absent keys", async () => {
    const afters = ["big/", "big/150", "big/150x", "big/sub/", "big-x", "c/", "d0", "d049/f", "d050/", "gone/", "gone/010", "new/", "top", "z/", "zzz", "ü/0", "a"];
    for (const after of afters) {
      for (const [prefix, delimiter] of [["", "/"], ["big/", "/"], ["", ""]] as const) {
        for (const maxKeys of [1, 4, 1000]) {
          expect(await listAllV2(prefix, delimiter, maxKeys, after), `after ${after} prefix ${prefix} delimiter ${delimiter} max-keys ${maxKeys}`).toEqual(expectedPages(prefix, delimiter, maxKeys, after));
        }
      }
    }
  }, 60_000);

  it("encoding-type=url lists the same items", async () => {
    expect(await listAllV2("", "/", 3, undefined, true)).toEqual(expectedPages("", "/", 3));
  });

  it("ListObjects v1 pages with NextMarker over common prefixes", async () => {
    for (const maxKeys of [2, 1000]) {
      const seen: Item[] = [];
      let marker: string | undefined;
      for (;;) {
        const res = await t.client.send(new ListObjectsCommand({ Bucket, Prefix: "main/", Delimiter: "/", MaxKeys: maxKeys, Marker: marker }));
        const items: Item[] = [...(res.Contents ?? []).map((c) => ({ key: c.Key!.slice(5) })), ...(res.CommonPrefixes ?? []).map((p) => ({ prefix: p.Prefix!.slice(5) }))];
        seen.push(...items.sort((a, b) => byBytes("key" in a ? a.key : a.prefix, "key" in b ? b.key : b.prefix)));
        if (!res.IsTruncated) break;
        marker = res.NextMarker;
      }
      expect(seen).toEqual(expectedPage("", "/", undefined, 100_000).items);
    }
  });
});
