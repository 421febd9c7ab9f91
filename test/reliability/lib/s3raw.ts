/**
 * Raw S3 requests for the reliability suites: a SigV4 header signer that takes the path and query
 * exactly as they go on the wire (no URL normalisation, so `..` and `//` reach the server as sent),
 * a keep-alive HTTP sender, and a raw-socket sender for bytes Node's client refuses to send.
 */
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import net from "node:net";

export interface Endpoint {
  port: number;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** SigV4 encoding of bytes: unreserved kept, `/` kept unless `encodeSlash`, the rest `%XX`. */
export function encodeBytes(bytes: Uint8Array, encodeSlash: boolean): string {
  let out = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (b < 0x80 && UNRESERVED.test(c)) out += c;
    else if (c === "/" && !encodeSlash) out += c;
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** A key or query value as an SDK puts it on the wire. */
export const encodeKey = (key: string) => encodeBytes(Buffer.from(key, "utf8"), false);
export const encodeComponent = (value: string) => encodeBytes(Buffer.from(value, "utf8"), true);

/** `%XX` decoded to bytes; a `%` without two hex digits is literal (never throws). */
function decodeBytes(s: string): Buffer {
  const out: number[] = [];
  const bytes = Buffer.from(s, "utf8");
  for (let i = 0; i < bytes.length; i++) {
    const hex = bytes.subarray(i + 1, i + 3).toString("latin1");
    if (bytes[i] === 0x25 && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(bytes[i]!);
  }
  return Buffer.from(out);
}

export const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
export const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** The AWS4 signing key for S3 in `region` on `date` (YYYYMMDD). */
export function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac("AWS4" + secret, date), region), "s3"), "aws4_request");
}

export function amzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

export interface SignOptions {
  /** x-amz-content-sha256 (default UNSIGNED-PAYLOAD); `null` leaves the header out. */
  payload?: string | null;
  date?: Date;
  secret?: string;
  accessKeyId?: string;
  region?: string;
}

/** Headers for a SigV4 header-signed request (every given header is signed, plus host and x-amz-date). */
export function signV4(ep: Endpoint, method: string, pathAndQuery: string, headers: Record<string, string> = {}, options: SignOptions = {}): Record<string, string> {
  const q = pathAndQuery.indexOf("?");
  const rawPath = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const rawQuery = q < 0 ? "" : pathAndQuery.slice(q + 1);
  const date = amzDate(options.date ?? new Date());
  const region = options.region ?? ep.region;
  const out: Record<string, string> = { host: `127.0.0.1:${ep.port}`, "x-amz-date": date };
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  const payload = options.payload === undefined ? (out["x-amz-content-sha256"] ?? "UNSIGNED-PAYLOAD") : options.payload;
  if (payload !== null) out["x-amz-content-sha256"] = payload;

  const canonicalUri = encodeBytes(decodeBytes(rawPath || "/"), false);
  const pairs = rawQuery
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      const k = eq < 0 ? p : p.slice(0, eq);
      const v = eq < 0 ? "" : p.slice(eq + 1);
      return [encodeBytes(decodeBytes(k), true), encodeBytes(decodeBytes(v), true)] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const canonicalQuery = pairs.map(([k, v]) => `${k}=${v}`).join("&");
  const names = Object.keys(out).sort();
  const canonicalHeaders = names.map((n) => `${n}:${out[n]!.trim().replace(/\s+/g, " ")}\n`).join("");
  const signedHeaders = names.join(";");
  const creq = [method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payload ?? "UNSIGNED-PAYLOAD"].join("\n");
  const scope = `${date.slice(0, 8)}/${region}/s3/aws4_request`;
  const sts = `AWS4-HMAC-SHA256\n${date}\n${scope}\n${sha256(creq)}`;
  const key = signingKey(options.secret ?? ep.secretAccessKey, date.slice(0, 8), region);
  const signature = hmac(key, sts).toString("hex");
  out["authorization"] = `AWS4-HMAC-SHA256 Credential=${options.accessKeyId ?? ep.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return out;
}

/** A SigV4 presigned path+query (signed header: host; payload UNSIGNED-PAYLOAD). */
export function presignV4(ep: Endpoint, method: string, pathAndQuery: string, options: { expires?: number; date?: Date; secret?: string } = {}): string {
  const q = pathAndQuery.indexOf("?");
  const rawPath = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const date = amzDate(options.date ?? new Date());
  const scope = `${date.slice(0, 8)}/${ep.region}/s3/aws4_request`;
  const params: [string, string][] = [
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${ep.accessKeyId}/${scope}`],
    ["X-Amz-Date", date],
    ["X-Amz-Expires", String(options.expires ?? 300)],
    ["X-Amz-SignedHeaders", "host"],
  ];
  const existing = q < 0 ? "" : pathAndQuery.slice(q + 1);
  const query = [existing, ...params.map(([k, v]) => `${k}=${encodeComponent(v)}`)].filter(Boolean).join("&");
  const pairs = query
    .split("&")
    .map((p) => {
      const eq = p.indexOf("=");
      return [encodeBytes(decodeBytes(eq < 0 ? p : p.slice(0, eq)), true), encodeBytes(decodeBytes(eq < 0 ? "" : p.slice(eq + 1)), true)] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
  const creq = [method, encodeBytes(decodeBytes(rawPath), false), pairs.map(([k, v]) => `${k}=${v}`).join("&"), `host:127.0.0.1:${ep.port}\n`, "host", "UNSIGNED-PAYLOAD"].join("\n");
  const sts = `AWS4-HMAC-SHA256\n${date}\n${scope}\n${sha256(creq)}`;
  const key = signingKey(options.secret ?? ep.secretAccessKey, date.slice(0, 8), ep.region);
  return `${rawPath}?${query}&X-Amz-Signature=${hmac(key, sts).toString("hex")}`;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

export interface SendOptions {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Sign with SigV4 (default true). */
  sign?: boolean;
  signOptions?: SignOptions;
  timeoutMs?: number;
  /** Another agent, or false for a connection of its own (default: the shared keep-alive agent). */
  agent?: http.Agent | false;
}

/** One HTTP request over a keep-alive agent; Content-Length is set from the body (never signed). */
export function send(ep: Endpoint, o: SendOptions): Promise<Response> {
  const body = o.body === undefined ? undefined : Buffer.from(o.body);
  const headers = o.sign === false ? { ...o.headers } : signV4(ep, o.method, o.path, o.headers, o.signOptions);
  if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === "content-length" || k.toLowerCase() === "transfer-encoding")) {
    headers["content-length"] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: ep.port, method: o.method, path: o.path, headers, agent: o.agent ?? agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString("utf8") });
      });
      res.on("error", reject);
    });
    req.setTimeout(o.timeoutMs ?? 30_000, () => req.destroy(new Error(`timeout: ${o.method} ${o.path}`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** Write bytes on a fresh socket; resolve what came back when the server closes or after `waitMs`. */
export function rawSocket(port: number, data: Buffer | string, waitMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const done = () => resolve(Buffer.concat(chunks).toString("latin1"));
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("close", done);
    sock.on("error", () => undefined);
    sock.write(data);
    setTimeout(() => sock.destroy(), waitMs).unref();
  });
}

/** Status code of a raw HTTP/1.1 response text (0 if none). */
export function rawStatus(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

export function errorCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}

export const md5Hex = (data: Buffer | string) => createHash("md5").update(data).digest("hex");

/** The ETag S3 gives a multipart object made of these parts. */
export function multipartEtag(parts: Buffer[]): string {
  const h = createHash("md5");
  for (const p of parts) h.update(createHash("md5").update(p).digest());
  return `${h.digest("hex")}-${parts.length}`;
}
