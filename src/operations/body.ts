/**
 * Request bodies as operations read them: the length rules of a PUT (S3's 411 and 5 GiB limit),
 * and small XML documents (DeleteObjects, CompleteMultipartUpload) read with a size cap while
 * Content-MD5 / x-amz-checksum-* are verified.
 */
import { Digester, parseIntegrityHeaders, type IntegrityRequest } from "../protocol/checksums.js";
import { S3Error } from "../protocol/errors.js";
import { header } from "../protocol/headers.js";
import { pump } from "../protocol/streams.js";
import { readXml } from "../protocol/xml.js";
import { MAX_OBJECT_SIZE, streamError } from "./store-object.js";
import type { OperationContext } from "./types.js";

/**
 * The payload size a request announces: x-amz-decoded-content-length, else Content-Length unless
 * aws-chunked framing is counted in it. Checked before a byte of the body is read.
 */
export function declaredBodySize(ctx: OperationContext): number | undefined {
  const h = ctx.req.headers;
  const framed = /^STREAMING-/i.test(header(h, "x-amz-content-sha256")?.trim() ?? "");
  const raw = header(h, "x-amz-decoded-content-length") ?? (framed ? undefined : header(h, "content-length"));
  return raw !== undefined && /^\s*\d{1,16}\s*$/.test(raw) ? Number(raw) : undefined;
}

/** A body needs a length (or chunked framing), and at most 5 GiB of it. Returns the declared size. */
export function checkBodyLength(ctx: OperationContext): number | undefined {
  const h = ctx.req.headers;
  const anyLength = header(h, "x-amz-decoded-content-length") ?? header(h, "content-length") ?? header(h, "transfer-encoding");
  if (anyLength === undefined) throw new S3Error("MissingContentLength");
  const declared = declaredBodySize(ctx);
  if (declared !== undefined && declared > MAX_OBJECT_SIZE) throw new S3Error("EntityTooLarge");
  return declared;
}

/**
 * The request body as a parsed XML document (at most `limit` bytes; a larger declared size is
 * refused before reading), its digests verified: those of its headers, or as given.
 */
export async function readXmlBody(ctx: OperationContext, limit: number, integrity?: IntegrityRequest): Promise<Record<string, unknown>> {
  const declared = declaredBodySize(ctx);
  if (declared !== undefined && declared > limit) {
    throw new S3Error("MalformedXML", `The XML you provided was larger than the maximum of ${limit} bytes allowed.`);
  }
  const digester = new Digester(integrity ?? parseIntegrityHeaders(ctx.req.headers), () => ctx.trailers());
  const [doc] = await Promise.all([readXml(digester, limit), pump(ctx.body(), digester)]).catch((err) => {
    throw streamError(err);
  });
  return doc;
}
