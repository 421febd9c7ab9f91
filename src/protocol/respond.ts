/**
 * The one place that writes HTTP responses: an operation's S3Result (status, headers, then an XML
 * document or a streamed body) or an S3Error rendered as lakeFS/S3 error XML. No body on HEAD.
 */
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { randomString } from "../storage/random.js";
import { S3Error } from "./errors.js";
import { dropsRestOfBody } from "./request.js";
import { sendBody } from "./streams.js";
import { toXml, xmlBytes, type XmlDoc } from "./xml.js";

export type HeaderValue = string | number | undefined;

export interface S3Result {
  status?: number;
  headers?: Record<string, HeaderValue>;
  /** An XML document, or the bytes of an object: streamed, or in one buffer (small objects). */
  xml?: XmlDoc;
  body?: Readable | Buffer;
  /** Bytes of the object body this response streams (for the request log). */
  bytesOut?: number;
  /** Bytes of request body the operation consumed (for the request log). */
  bytesIn?: number;
}

export interface ErrorContext {
  requestId: string;
  region: string;
  bucket?: string;
  key?: string;
  resource?: string;
}

/** Empty values mean "not set", except user metadata, where an empty value is the value. */
function setHeaders(res: ServerResponse, headers: Record<string, HeaderValue>): void {
  // for…in, not Object.entries: an array per header was ~2 KB of a HEAD's ~30 KB of garbage.
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && (value !== "" || name.startsWith("x-amz-meta-"))) res.setHeader(name, value);
  }
}

export async function writeResult(res: ServerResponse, result: S3Result, requestId: string, head: boolean): Promise<void> {
  res.statusCode = result.status ?? 200;
  res.setHeader("x-amz-request-id", requestId);
  if (result.headers) setHeaders(res, result.headers);
  if (result.xml) {
    const body = xmlBytes(result.xml);
    res.setHeader("Content-Type", "application/xml");
    res.setHeader("Content-Length", body.length);
    res.end(head ? undefined : body);
    return;
  }
  if (Buffer.isBuffer(result.body)) {
    res.end(head ? undefined : result.body);
    return;
  }
  if (result.body && !head) {
    await sendBody(result.body, res);
    return;
  }
  result.body?.destroy();
  if (!res.hasHeader("Content-Length") && res.statusCode !== 204 && res.statusCode !== 304) res.setHeader("Content-Length", 0);
  res.end();
}

/** The error document: Code, Message, Key?, BucketName?, Resource, Region?, RequestId, HostId, extras. */
export function errorXml(err: S3Error, ctx: ErrorContext): string {
  const o = err.options;
  const key = o.key ?? ctx.key;
  const bucket = o.bucket ?? ctx.bucket;
  return toXml({
    root: "Error",
    content: {
      Code: err.code,
      Message: err.message,
      ...(key ? { Key: key } : {}),
      ...(bucket ? { BucketName: bucket } : {}),
      Resource: o.resource ?? ctx.resource ?? "",
      ...(ctx.region ? { Region: ctx.region } : {}),
      RequestId: ctx.requestId,
      HostId: randomString(8, "hex").toUpperCase(),
      ...(o.extras ?? {}),
    },
  });
}

export function writeError(res: ServerResponse, err: S3Error, ctx: ErrorContext, head: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) if (!name.startsWith("access-control-")) res.removeHeader(name);
  res.statusCode = err.status;
  res.setHeader("x-amz-request-id", ctx.requestId);
  // A body not read to its end (refused, or the write failed half-way): the answer goes out, then
  // the rest of the body is dropped, or the connection closes (dropsRestOfBody).
  if (res.req && !res.req.complete && !dropsRestOfBody(res.req)) res.setHeader("Connection", "close");
  if (err.options.headers) setHeaders(res, err.options.headers);
  if (err.status === 304) {
    res.end();
    return;
  }
  const text = errorXml(err, ctx);
  res.setHeader("Content-Type", "application/xml");
  res.setHeader("Content-Length", Buffer.byteLength(text));
  res.end(head ? undefined : text);
}
