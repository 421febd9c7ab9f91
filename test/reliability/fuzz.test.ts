/**
 * Fuzz pass (issue 7.2): a few thousand seeded, bounded requests with random bytes and lengths in
 * XML bodies, headers, ranges, aws-chunked framing, query strings, paths and raw HTTP, against the
 * real `lakes3 serve`. The server must never crash, never answer 500 for a client's mistake, answer
 * every error as S3 error XML, and keep serving (health check and a sentinel object between batches).
 *
 * LAKES3_FUZZ_SEED (default 7) and LAKES3_FUZZ_ITERATIONS (default 3000) replay or extend a run.
 * Every request is generated from its own (seed, iteration) stream, so a failure names its
 * iteration and `LAKES3_FUZZ_ONLY=<iteration>` replays just that request.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chunkedRequest, encodeChunked, type ChunkedMode } from "./lib/aws-chunked.js";
import { killAll, spawnServer, type SpawnedServer } from "./lib/cli.js";
import { Rng } from "./lib/random.js";
import { encodeComponent, encodeKey, errorCode, rawSocket, rawStatus, send, signV4, type Endpoint, type Response } from "./lib/s3raw.js";

const SEED = Number(process.env["LAKES3_FUZZ_SEED"] ?? 7);
const ITERATIONS = Number(process.env["LAKES3_FUZZ_ITERATIONS"] ?? 3000);
const ONLY = process.env["LAKES3_FUZZ_ONLY"] === undefined ? undefined : Number(process.env["LAKES3_FUZZ_ONLY"]);
const BATCH = 100;
const CONCURRENCY = 8;
const REPO = "fuzz-repo";
const SENTINEL = `/${REPO}/main/sentinel.txt`;
const SENTINEL_BODY = "the sentinel must survive every batch";

let root: string;
let server: SpawnedServer;
let ep: Endpoint;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "lakes3-fuzz-"));
  // LAKES3_DEBUG makes the gateway print internal errors, so a 500 comes with its stack.
  server = await spawnServer(["--data-dir", path.join(root, "data"), "--repo", REPO, "--quiet"], { env: { LAKES3_DEBUG: "1" } });
  ep = { port: server.port, region: "us-east-1", accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
  const put = await send(ep, { method: "PUT", path: SENTINEL, body: SENTINEL_BODY });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  await server?.stop();
  killAll();
  await rm(root, { recursive: true, force: true });
});

// ---- generators ---------------------------------------------------------------------------

type Case =
  | { kind: "http"; category: string; method: string; path: string; headers: Record<string, string>; body?: Buffer; sign?: boolean; setup?: () => Promise<Partial<{ path: string }>> }
  | { kind: "raw"; category: string; bytes: Buffer };

const ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!*'() /\\%&=?#+,;:@$[]{}<>\"|^`";
const SPECIAL_STRINGS = ["..", "../", "..\\", "%00", "%", "%zz", "%2F", "//", "\u00e9", "\u{1F600}", "*", "-", "0", "-1", "99999999999999999999", "1e9", "NaN", "true", "null", " ", "", "main", "main/", "&", "=", "?", "#"];
const CONTROL_XML = ["<!DOCTYPE x [<!ENTITY e \"v\">]>", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#x110000;", "&unknown;", "<?pi x?>", "<!--", "-->", "<a:b xmlns:a='x'>", "</", "<", ">", "\u0000", "\uFFFF", "\uD800"];

function randomText(rng: Rng, max: number): string {
  const r = rng.next();
  if (r < 0.3) return rng.pick(SPECIAL_STRINGS);
  if (r < 0.8) return rng.string(rng.int(0, max), ASCII);
  // raw high bytes: Node sends header strings as latin1
  return rng.bytes(rng.int(0, max)).toString("latin1").replace(/[^\t\x20-\x7e\x80-\xff]/g, "");
}

/** Byte-level mutations of a document. */
function mutate(rng: Rng, doc: Buffer): Buffer {
  let b = Buffer.from(doc);
  const rounds = rng.int(1, 4);
  for (let i = 0; i < rounds; i++) {
    const at = rng.int(0, b.length);
    switch (rng.int(0, 6)) {
      case 0: // flip bytes
        for (let j = 0; j < rng.int(1, 8) && b.length > 0; j++) b[rng.int(0, b.length - 1)] = rng.int(0, 255);
        break;
      case 1: // truncate
        b = b.subarray(0, at);
        break;
      case 2: // insert random bytes
        b = Buffer.concat([b.subarray(0, at), rng.bytes(rng.int(1, 64)), b.subarray(at)]);
        break;
      case 3: // insert XML-ish control strings
        b = Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(CONTROL_XML)), b.subarray(at)]);
        break;
      case 4: {
        // duplicate a slice (bounded)
        const end = Math.min(b.length, at + rng.int(1, 200));
        b = Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)]);
        break;
      }
      case 5: // delete a slice
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.int(1, 50)))]);
        break;
      default: // long text run
        b = Buffer.concat([b.subarray(0, at), Buffer.alloc(rng.int(1, 100_000), rng.pick(["a", "<", "&", " "])), b.subarray(at)]);
    }
  }
  return b;
}

function fuzzKey(rng: Rng): string {
  return `main/f/${rng.chance(0.7) ? `k${rng.int(0, 20)}` : randomText(rng, 40).replace(/^\/+/, "") || "x"}`;
}

function deleteDoc(rng: Rng): Buffer {
  const n = rng.chance(0.05) ? rng.int(990, 1010) : rng.int(0, 5);
  const objects = Array.from({ length: n }, () => `<Object><Key>${fuzzKey(rng).replace(/[<&]/g, "_")}</Key>${rng.chance(0.2) ? "<VersionId>x</VersionId>" : ""}</Object>`).join("");
  const quiet = rng.chance(0.5) ? `<Quiet>${rng.pick(["true", "false", "TRUE", "1", ""])}</Quiet>` : "";
  const ns = rng.chance(0.5) ? ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' : "";
  return Buffer.from(`${rng.chance(0.5) ? '<?xml version="1.0" encoding="UTF-8"?>' : ""}<Delete${ns}>${quiet}${objects}</Delete>`);
}

function nested(rng: Rng, doc: Buffer): Buffer {
  // Nesting stays below fast-xml-parser's 100-level limit: deeper nesting is the known bug
  // pinned by test/protocol/bad-input.test.ts ("20 XML nesting").
  const depth = rng.int(1, 90);
  const s = doc.toString("latin1");
  const at = s.indexOf(">") + 1;
  return Buffer.from(s.slice(0, at) + "<n>".repeat(depth) + "</n>".repeat(depth) + s.slice(at), "latin1");
}

function genXmlDelete(rng: Rng): Case {
  let body = deleteDoc(rng);
  if (rng.chance(0.85)) body = mutate(rng, body);
  if (rng.chance(0.1)) body = nested(rng, body);
  return { kind: "http", category: "xml-delete", method: "POST", path: `/${REPO}?delete`, headers: {}, body };
}

function genXmlComplete(rng: Rng): Case {
  const key = `main/f/mp${rng.int(0, 3)}`;
  const parts = Array.from({ length: rng.int(0, 4) }, (_, i) => `<Part><PartNumber>${rng.chance(0.8) ? i + 1 : randomText(rng, 6)}</PartNumber><ETag>"${rng.chance(0.5) ? "PARTETAG" : randomText(rng, 40)}"</ETag></Part>`);
  let doc: Buffer = Buffer.from(`<CompleteMultipartUpload>${parts.join("")}</CompleteMultipartUpload>`);
  if (rng.chance(0.8)) doc = mutate(rng, doc);
  if (rng.chance(0.1)) doc = nested(rng, doc);
  const c: Case = { kind: "http", category: "xml-complete", method: "POST", path: "", headers: {}, body: doc };
  c.setup = async () => {
    // A fresh upload with one uploaded part, so that the body is what the server looks at.
    const created = await send(ep, { method: "POST", path: `/${REPO}/${encodeKey(key)}?uploads` });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)?.[1] ?? "none";
    const part = await send(ep, { method: "PUT", path: `/${REPO}/${encodeKey(key)}?partNumber=1&uploadId=${uploadId}`, body: "part" });
    c.body = Buffer.from(c.body!.toString("latin1").replace(/PARTETAG/g, String(part.headers.etag ?? "").replace(/"/g, "")), "latin1");
    return { path: `/${REPO}/${encodeKey(key)}?uploadId=${uploadId}` };
  };
  return c;
}

const HEADER_NAMES = [
  "content-md5", "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme", "x-amz-checksum-sha1", "x-amz-checksum-sha256",
  "x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm", "x-amz-trailer", "content-type", "content-encoding", "content-language", "content-disposition",
  "cache-control", "expires", "x-amz-meta-a", "x-amz-meta-b", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since",
  "x-amz-copy-source", "x-amz-copy-source-range", "x-amz-metadata-directive", "x-amz-copy-source-if-match", "x-amz-copy-source-if-none-match",
  "x-amz-decoded-content-length", "x-amz-checksum-mode", "x-amz-checksum-type", "range", "x-amz-storage-class", "x-amz-tagging", "x-amz-acl",
];

function headerValue(rng: Rng, name: string): string {
  const r = rng.next();
  if (r < 0.4) return randomText(rng, 300);
  if (r < 0.55) return rng.bytes(rng.int(0, 40)).toString("base64");
  if (r < 0.65) return String(rng.pick([0, -1, 1, 5 * 1024 ** 3 + 1, 2 ** 53, 1e21, 16, 17]));
  if (r < 0.75) return new Date(rng.int(-1e13, 1e13)).toUTCString();
  if (r < 0.85) return rng.pick(["CRC32", "crc32c", "SHA1", "SHA256", "CRC64NVME", "MD5", "COPY", "REPLACE", "ENABLED", "*", '"abc"', "aws-chunked", "gzip, aws-chunked"]);
  if (name === "x-amz-copy-source") return `/${REPO}/${rng.chance(0.5) ? "main/sentinel.txt" : fuzzKey(rng)}${rng.chance(0.2) ? "?versionId=x" : ""}`;
  if (name === "x-amz-meta-a") return "v".repeat(rng.int(0, 3000));
  return `bytes=${rng.int(-5, 50)}-${rng.int(-5, 50)}`;
}

function genHeaders(rng: Rng): Case {
  const method = rng.pick(["PUT", "PUT", "GET", "HEAD", "DELETE", "POST"]);
  const readOnly = method === "GET" || method === "HEAD";
  const key = readOnly && rng.chance(0.5) ? "main/sentinel.txt" : fuzzKey(rng);
  const headers: Record<string, string> = {};
  for (let i = rng.int(1, 6); i > 0; i--) {
    const name = rng.pick(HEADER_NAMES);
    // Copying onto the sentinel would change it: only reads touch it.
    if (readOnly || key !== "main/sentinel.txt") headers[name] = headerValue(rng, name);
  }
  if (rng.chance(0.15)) headers["x-amz-content-sha256"] = rng.pick(["UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "0".repeat(64), randomText(rng, 70)]);
  const body = method === "PUT" || method === "POST" ? rng.bytes(rng.chance(0.9) ? rng.int(0, 2048) : rng.int(0, 300_000)) : undefined;
  const query = method === "POST" ? (rng.chance(0.5) ? "?uploads" : "?uploadId=x") : "";
  return { kind: "http", category: "headers", method, path: `/${REPO}/${encodeKey(key)}${query}`, headers, body };
}

function genRange(rng: Rng): Case {
  const num = () => rng.pick([String(rng.int(0, 40)), String(rng.int(0, 2 ** 31)), "99999999999999999999999", "", "-1", " 3 ", "0x10", "1e3", randomText(rng, 5)]);
  const unit = rng.pick(["bytes=", "bytes =", "BYTES=", "items=", "", "bytes=="]);
  const specs = Array.from({ length: rng.chance(0.8) ? 1 : rng.int(2, 4) }, () => `${num()}${rng.pick(["-", "--", "", " - "])}${num()}`);
  const range = rng.chance(0.1) ? randomText(rng, 60) : unit + specs.join(rng.pick([",", ", ", ";"]));
  const headers: Record<string, string> = { range };
  if (rng.chance(0.2)) headers["x-amz-checksum-mode"] = "ENABLED";
  return { kind: "http", category: "range", method: rng.pick(["GET", "HEAD"]), path: SENTINEL, headers };
}

async function chunkedCase(rng: Rng): Promise<{ path: string; headers: Record<string, string>; body: Buffer }> {
  const mode = rng.pick<ChunkedMode>(["signed", "signed-trailer", "unsigned-trailer"]);
  const sizes = Array.from({ length: rng.int(0, 3) }, () => (rng.chance(0.7) ? 8192 : rng.int(1, 20_000)));
  const chunks = sizes.map((n) => rng.bytes(n));
  const trailers: Record<string, string> = mode === "signed" ? {} : rng.chance(0.7) ? { "x-amz-checksum-crc32": rng.pick(["AAAAAA==", randomText(rng, 12)]) } : {};
  const p = `/${REPO}/${encodeKey(fuzzKey(rng))}`;
  const req = await chunkedRequest(ep, "PUT", p, chunks, { mode, trailers, ...(rng.chance(0.2) ? { decodedLength: rng.int(0, 50_000) } : {}) });
  let body = encodeChunked(mode, req.frames, req.trailers, req.trailerSignature);
  const r = rng.next();
  if (r < 0.5) body = mutate(rng, body);
  else if (r < 0.6) body = Buffer.from(body.toString("latin1").replace(/^[0-9a-f]+/, rng.pick(["fffffffffffff", "zz", "", "-1", "1".repeat(5000)])), "latin1");
  else if (r < 0.7) body = Buffer.concat([body, rng.bytes(rng.int(1, 100))]);
  else if (r < 0.8) body = Buffer.from(body.toString("latin1").replace(/\r\n/g, rng.pick(["\n", "\r", "\r\n\r\n", ""])), "latin1");
  const headers = req.headers;
  if (rng.chance(0.1)) headers["x-amz-decoded-content-length"] = randomText(rng, 10); // breaks the signature: must still be an S3 error
  return { path: p, headers, body };
}

function genChunked(rng: Rng): Case {
  const c: Case = { kind: "http", category: "chunked", method: "PUT", path: "", headers: {}, sign: false };
  c.setup = async () => {
    const built = await chunkedCase(rng);
    c.headers = built.headers;
    c.body = built.body;
    return { path: built.path };
  };
  return c;
}

const QUERY_NAMES = [
  "list-type", "max-keys", "prefix", "delimiter", "continuation-token", "start-after", "marker", "encoding-type", "fetch-owner", "uploads", "uploadId",
  "partNumber", "delete", "tagging", "acl", "versioning", "location", "versionId", "max-parts", "part-number-marker", "max-uploads", "key-marker",
  "upload-id-marker", "response-content-type", "response-expires", "x-id", "X-Amz-Expires", "X-Amz-Algorithm", "Signature", "AWSAccessKeyId",
];

function genQuery(rng: Rng): Case {
  const pairs: string[] = [];
  for (let i = rng.int(1, 5); i > 0; i--) {
    const name = rng.pick(QUERY_NAMES);
    const value = rng.chance(0.3) ? rng.pick(["", "1", "2", "0", "-1", "1001", "main/", "main/f/", "/", "url", "true"]) : randomText(rng, 50);
    if (rng.chance(0.1)) pairs.push(encodeComponent(name));
    else pairs.push(`${encodeComponent(name)}=${rng.chance(0.9) ? encodeComponent(value) : value.replace(/[#\s]/g, "")}`);
  }
  const target = rng.chance(0.6) ? `/${REPO}` : rng.chance(0.5) ? `/${REPO}/${encodeKey(fuzzKey(rng))}` : "/";
  const method = target === `/${REPO}` || target === "/" ? rng.pick(["GET", "GET", "GET", "HEAD", "POST"]) : rng.pick(["GET", "HEAD", "PUT", "POST", "DELETE"]);
  const body = method === "PUT" || method === "POST" ? rng.bytes(rng.int(0, 512)) : undefined;
  return { kind: "http", category: "query", method, path: `${target}?${pairs.join("&")}`, headers: {}, body };
}

function genPath(rng: Rng): Case {
  const segments = Array.from({ length: rng.int(0, 6) }, () => {
    const r = rng.next();
    if (r < 0.3) return rng.pick(SPECIAL_STRINGS);
    if (r < 0.5) return [...rng.bytes(rng.int(1, 20))].map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
    if (r < 0.55) return "x".repeat(rng.int(200, 2000));
    return encodeComponent(randomText(rng, 20));
  });
  const bucket = rng.chance(0.7) ? REPO : encodeComponent(randomText(rng, 20));
  const ref = rng.chance(0.8) ? "main/f" : rng.pick(["main", "", "main~1", "..", "%2e%2e", "nobranch"]);
  let p = `/${bucket}/${ref}/${segments.join("/")}`.replace(/[#?\s]/g, "_");
  if (p.includes("sentinel")) p = p.replace(/sentinel/g, "s");
  const method = rng.pick(["GET", "HEAD", "PUT", "DELETE", "POST"]);
  return { kind: "http", category: "path", method, path: p, headers: {}, body: method === "PUT" ? rng.bytes(rng.int(0, 100)) : undefined };
}

function genRaw(rng: Rng): Case {
  const signed = (method: string, p: string, extra: Record<string, string>) => {
    const h = signV4(ep, method, p, extra);
    return `${method} ${p} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join("\r\n")}\r\n`;
  };
  const r = rng.int(0, 9);
  let text: string | Buffer;
  switch (r) {
    case 0:
      text = rng.bytes(rng.int(1, 300));
      break;
    case 1:
      text = `${rng.pick(["GET", "PUT", "FOO", "", "G\0T"])} ${randomText(rng, 50)} HTTP/${rng.pick(["1.1", "1.0", "2.0", "9"])}\r\nHost: x\r\n\r\n`;
      break;
    case 2: // invalid header characters
      text = `GET ${SENTINEL} HTTP/1.1\r\nHost: x\r\nX-Bad: a${rng.pick(["\0", "\x01", "\x7f", "\n", "\r"])}b\r\n\r\n`;
      break;
    case 3: // bad Content-Length values
      text = signed("PUT", `/${REPO}/main/f/raw`, {}) + `Content-Length: ${rng.pick(["abc", "-1", "1.5", "", "99999999999999999999", "5, 6"])}\r\nConnection: close\r\n\r\nhello`;
      break;
    case 4: // Content-Length and Transfer-Encoding together / bad chunked framing
      text = signed("PUT", `/${REPO}/main/f/raw`, {}) + `Transfer-Encoding: chunked\r\n${rng.chance(0.5) ? "Content-Length: 5\r\n" : ""}Connection: close\r\n\r\n${rng.pick(["zz\r\nhello\r\n0\r\n\r\n", "5\r\nhel", "5\r\nhelloXX0\r\n\r\n", "ffffffffffffffffff\r\n", "0\r\n\r\n"])}`;
      break;
    case 5: // oversized header section
      text = `GET ${SENTINEL} HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(rng.int(16_000, 80_000))}\r\n\r\n`;
      break;
    case 6: // many headers
      text = `GET ${SENTINEL} HTTP/1.1\r\nHost: x\r\n${Array.from({ length: rng.int(100, 3000) }, (_, i) => `X-H${i}: v`).join("\r\n")}\r\n\r\n`;
      break;
    case 7: // pipelined requests, some garbage
      text = `GET /_health HTTP/1.1\r\nHost: x\r\n\r\n${rng.chance(0.5) ? "GET /_health HTTP/1.1\r\nHost: x\r\n\r\n" : rng.bytes(50).toString("latin1")}`;
      break;
    case 8: // a signed request whose body is cut short, then the socket closes
      text = signed("PUT", `/${REPO}/main/f/short`, { "content-length": "1000" }) + "\r\n" + "x".repeat(rng.int(0, 999));
      break;
    default: // Expect header variants
      text = signed("PUT", `/${REPO}/main/f/expect`, { "content-length": "5", expect: rng.pick(["100-continue", "200-ok", "", "100-CONTINUE"]) }) + "\r\nhello";
  }
  return { kind: "raw", category: "raw", bytes: Buffer.isBuffer(text) ? text : Buffer.from(text, "latin1") };
}

const GENERATORS: [number, (rng: Rng) => Case][] = [
  [15, genXmlDelete],
  [8, genXmlComplete],
  [25, genHeaders],
  [10, genRange],
  [14, genChunked],
  [15, genQuery],
  [8, genPath],
  [5, genRaw],
];
const TOTAL_WEIGHT = GENERATORS.reduce((n, [w]) => n + w, 0);

function generate(rng: Rng): Case {
  let x = rng.next() * TOTAL_WEIGHT;
  for (const [w, g] of GENERATORS) {
    if ((x -= w) < 0) return g(rng);
  }
  return genHeaders(rng);
}

// ---- running ------------------------------------------------------------------------------

interface Finding {
  iteration: number;
  category: string;
  request: string;
  problem: string;
}

function describeCase(c: Case): string {
  if (c.kind === "raw") return JSON.stringify(c.bytes.subarray(0, 200).toString("latin1"));
  return `${c.method} ${c.path.slice(0, 200)} ${JSON.stringify(c.headers).slice(0, 300)} body ${c.body?.length ?? 0} B ${JSON.stringify(c.body?.subarray(0, 120).toString("latin1") ?? "")}`;
}

/** Judge one response: never 500, errors as S3 XML (HEAD and 304 have no body). */
function judge(c: Case, res: Response | undefined, raw: string | undefined): string | undefined {
  const status = res?.status ?? (raw !== undefined ? rawStatus(raw) : 0);
  if (status === 500 || (status > 500 && status !== 501)) return `status ${status}: ${(res?.text ?? raw ?? "").slice(0, 300)}`;
  if (res && status >= 400 && c.kind === "http" && c.method !== "HEAD" && !errorCode(res.text)) return `status ${status} without S3 error XML: ${res.text.slice(0, 200)}`;
  if (raw !== undefined && status >= 400 && !/<Code>[A-Za-z]+<\/Code>/.test(raw) && !/^HTTP\/1\.1 (417|304)/.test(raw)) return `raw ${status} without S3 error XML: ${raw.slice(0, 200)}`;
  return undefined;
}

/**
 * XML that XMLValidator accepts but XMLParser.parse rejects ("Pi Tag is not closed", "Maximum
 * nested tags exceeded") once escaped as 500 InternalError; such findings are collected apart and
 * asserted empty by their own test.
 */
const knownXmlParserBug: Finding[] = [];
/** HEADs the HTTP parser refuses: answered without a body (src/server/client-error.ts); any that were not would be listed here. */
const knownHeadBodyBug: Finding[] = [];
/** Requests Node's own HTTP client refuses to send (bad header bytes, unescaped path): not sent, not judged. */
let unsendable = 0;
const UNSENDABLE = new Set(["ERR_INVALID_CHAR", "ERR_UNESCAPED_CHARACTERS", "ERR_INVALID_HTTP_TOKEN", "ERR_HTTP_INVALID_HEADER_VALUE"]);
/** Category → answered status (or S3 code for errors) → count: shows how deep the fuzz reaches. */
const outcomes: Record<string, Record<string, number>> = {};

function tally(c: Case, status: number, body: string): void {
  const what = status >= 400 ? `${status} ${errorCode(body) ?? ""}`.trim() : String(status);
  const byCategory = (outcomes[c.category] ??= {});
  byCategory[what] = (byCategory[what] ?? 0) + 1;
}

async function runCase(c: Case, iteration: number, findings: Finding[]): Promise<void> {
  const record = (problem: string) => {
    const finding = { iteration, category: c.category, request: describeCase(c), problem };
    if (c.category.startsWith("xml-") && problem.includes("<Code>InternalError</Code>")) knownXmlParserBug.push(finding);
    else findings.push(finding);
  };
  try {
    if (c.kind === "raw") {
      const out = await rawSocket(ep.port, c.bytes, 400);
      tally(c, rawStatus(out), out);
      const problem = judge(c, undefined, out);
      if (problem) record(problem);
      return;
    }
    if (c.setup) Object.assign(c, await c.setup());
    const res = await send(ep, { method: c.method, path: c.path, headers: c.headers, body: c.body, sign: c.sign, timeoutMs: 10_000 });
    tally(c, res.status, res.text);
    const problem = judge(c, res, undefined);
    if (problem) record(problem);
  } catch (err) {
    // The server must answer every request the client could send: neither hang (timeout) nor
    // drop the connection (reset, hang up) nor send what HTTP cannot parse.
    const e = err as NodeJS.ErrnoException;
    if (e.code !== undefined && UNSENDABLE.has(e.code)) unsendable++;
    else if (c.kind !== "raw" && c.method === "HEAD" && /Data after `Connection: close`/.test(e.message)) knownHeadBodyBug.push({ iteration, category: c.category, request: describeCase(c), problem: e.message });
    else record(`no answer: ${e.code ?? ""} ${e.message}`);
  }
}

/** What the run (in beforeAll below) found; each test asserts one part of it, in any order. */
const findings: Finding[] = [];
const counts: Record<string, number> = {};

describe(`fuzz (seed ${SEED}, ${ITERATIONS} requests)`, () => {
  // The requests go out once, before the tests; a dead or wedged server fails the hook.
  beforeAll(async () => {
    const first = ONLY ?? 0;
    const end = ONLY === undefined ? ITERATIONS : ONLY + 1;
    for (let start = first; start < end; start += BATCH) {
      const cases = Array.from({ length: Math.min(BATCH, end - start) }, (_, i) => ({ c: generate(new Rng(SEED * 1_000_003 + start + i)), i: start + i }));
      for (const { c } of cases) counts[c.category] = (counts[c.category] ?? 0) + 1;
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < cases.length) {
            const { c, i } = cases[next++]!;
            await runCase(c, i, findings);
          }
        }),
      );
      expect(server.child.exitCode, `server exited after batch at ${start}: ${server.stderr()}`).toBeNull();
      const health = await fetch(`${server.url}/_health`);
      expect(health.status, `health after batch at ${start}`).toBe(200);
      const sentinel = await send(ep, { method: "GET", path: SENTINEL });
      expect(sentinel.text, `sentinel after batch at ${start}`).toBe(SENTINEL_BODY);
      if (findings.length >= 20) break;
    }
    console.log(`fuzz: seed ${SEED}, requests by category ${JSON.stringify(counts)}, not sendable by Node's client ${unsendable}, findings ${findings.length}`);
    if (process.env["LAKES3_FUZZ_VERBOSE"]) console.log(JSON.stringify(outcomes, null, 1));
  }, 180_000);

  it("never crashes, never answers 500 for a client mistake, keeps serving", () => {
    const stacks = server.stderr().slice(0, 4000);
    expect(findings, `seed ${SEED}; server stderr:\n${stacks}`).toEqual([]);
    expect(Object.values(counts).reduce((a, b) => a + b, 0), "requests sent").toBe(ONLY === undefined ? ITERATIONS : 1);
  });

  it("XML bodies the parser rejects are MalformedXML, never 500", () => {
    expect(knownXmlParserBug.map((f) => `${f.iteration}: ${f.request}`)).toEqual([]);
  });

  // A HEAD whose request line Node's parser refuses (e.g. raw non-ASCII bytes in the query) is
  // answered with a 400 without a body, as a HEAD response must be (src/server/client-error.ts).
  it("a HEAD refused by the HTTP parser gets a 400 without a body", () => {
    expect(knownHeadBodyBug.map((f) => `${f.iteration}: ${f.request}`)).toEqual([]);
  });
});
