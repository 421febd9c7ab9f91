/** Unit tests for the pure helpers: filter parsing/matching, header masking, truncation, key splitting. */
import { describe, expect, it } from "vitest";
import type { RequestEvent } from "../../src/log/events.js";
import { filterEvents, matchesFilter, parseFilter } from "../../src/ui/filter.js";
import { maskedHeaderEntries, maskHeaderValue } from "../../src/ui/mask.js";
import { truncateMiddle } from "../../src/ui/format.js";
import { splitKeys } from "../../src/ui/split-keys.js";

const base: RequestEvent = { id: "1", source: "s3", startedAt: 0, method: "GET", bytesIn: 0, bytesOut: 0, done: true };
const get: RequestEvent = { ...base, id: "g", operation: "GetObject", repo: "lake", ref: "main", path: "data/x.csv", status: 200 };
const put: RequestEvent = { ...base, id: "p", method: "PUT", operation: "PutObject", repo: "other", ref: "dev", path: "y.json", status: 404, errorCode: "NoSuchBucket" };
const fail: RequestEvent = { ...base, id: "f", operation: "ListObjectsV2", repo: "lake", status: 503, errorCode: "SlowDown" };
const pending: RequestEvent = { ...base, id: "i", operation: "GetObject", repo: "lake", done: false };
const fixture: RequestEvent = { ...base, id: "x", source: "fixture", method: "PUT", operation: "PutObject", repo: "lake", path: "fx.txt", status: 200 };
const all = [get, put, fail, pending, fixture];
const ids = (text: string) => filterEvents(all, parseFilter(text)).map((e) => e.id);

describe("parseFilter", () => {
  it("parses tokens", () => {
    expect(parseFilter("  status:4xx op:PutObject repo:Lake foo ").tokens).toEqual([
      { kind: "status", min: 400, max: 499 },
      { kind: "field", field: "operation", value: "putobject" },
      { kind: "field", field: "repo", value: "lake" },
      { kind: "text", value: "foo" },
    ]);
    expect(parseFilter("status:404").tokens).toEqual([{ kind: "status", min: 404, max: 404 }]);
    expect(parseFilter("").tokens).toEqual([]);
  });
  it("treats unknown or malformed keys as text, and says what is malformed", () => {
    const filter = parseFilter("status:abc x:y op: status:404");
    expect(filter.tokens.map((t) => t.kind)).toEqual(["text", "text", "text", "status"]);
    expect(filter.errors).toEqual(["status:abc: a status is 100–599 or a class such as 4xx", "op:: give a value, e.g. op:PutObject"]);
    expect(parseFilter("x:y a.txt").errors).toEqual([]);
  });
});

describe("matchesFilter / filterEvents", () => {
  it("matches free text against method, operation, repo, ref, path, error code", () => {
    expect(ids("")).toEqual(["g", "p", "f", "i", "x"]);
    expect(ids("put")).toEqual(["p", "x"]);
    expect(ids("CSV")).toEqual(["g"]);
    expect(ids("dev")).toEqual(["p"]);
    expect(ids("slowdown")).toEqual(["f"]);
    expect(ids("fixture")).toEqual(["x"]);
  });
  it("matches status classes and exact statuses; in-flight requests have none", () => {
    expect(ids("status:2xx")).toEqual(["g", "x"]);
    expect(ids("status:4xx")).toEqual(["p"]);
    expect(ids("status:5xx")).toEqual(["f"]);
    expect(ids("status:503")).toEqual(["f"]);
  });
  it("matches op:, repo:, ref:, method: exactly (case-insensitive) and ANDs tokens", () => {
    expect(ids("op:getobject")).toEqual(["g", "i"]);
    expect(ids("op:Get")).toEqual([]);
    expect(ids("repo:lake")).toEqual(["g", "f", "i", "x"]);
    expect(ids("repo:lake op:PutObject")).toEqual(["x"]);
    expect(ids("repo:lake status:2xx data")).toEqual(["g"]);
    expect(ids("method:put ref:dev")).toEqual(["p"]);
    expect(matchesFilter(get, parseFilter("repo:lake nope"))).toBe(false);
  });
});

describe("mask", () => {
  it("masks signatures, tokens and cookies", () => {
    expect(maskHeaderValue("Authorization", "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=deadbeef")).toBe(
      "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=****",
    );
    expect(maskHeaderValue("authorization", "AWS AKID:c2lnbmF0dXJl")).toBe("AWS ****");
    expect(maskHeaderValue("authorization", "opaque")).toBe("****");
    expect(maskHeaderValue("X-Amz-Security-Token", "token")).toBe("****");
    expect(maskHeaderValue("cookie", "a=b")).toBe("****");
    expect(maskHeaderValue("x-amz-signature", "abc")).toBe("****");
    expect(maskHeaderValue("referer", "http://h/b/k?X-Amz-Signature=abc&x=1")).toBe("http://h/b/k?X-Amz-Signature=****&x=1");
    expect(maskedHeaderEntries({ b: "2", a: "1" })).toEqual([["a", "1"], ["b", "2"]]);
  });
});

describe("truncateMiddle", () => {
  it("keeps both ends", () => {
    expect(truncateMiddle("repo/main/very/long/path/file.csv", 15)).toBe("repo/ma…ile.csv");
    expect(truncateMiddle("short", 15)).toBe("short");
  });
});

describe("splitKeys", () => {
  const none = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false };
  it("replays a text run as single keys", () => {
    const keys = splitKeys("kG\r\u007F\u0003", none);
    expect(keys.map(([input]) => input)).toEqual(["k", "G", "", "", "c"]);
    expect(keys[1]![1].shift).toBe(true);
    expect(keys[2]![1].return).toBe(true);
    expect(keys[3]![1].backspace).toBe(true);
    expect(keys[4]![1].ctrl).toBe(true);
  });
  it("leaves single keys and modified input alone", () => {
    expect(splitKeys("q", none)).toEqual([["q", none]]);
    expect(splitKeys("ab", { ...none, meta: true })).toHaveLength(1);
  });
});
