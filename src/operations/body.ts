/**
 * Request bodies as operations read them: the length rules of a PUT (S3's 411 and 5 GiB limit),
 * and small XML documents (DeleteObjects, CompleteMultipartUpload) read with a size cap while
 * Content-MD5 / x-amz-checksum-* are verified.
 */
import { Digester, parseIntegrityHeaders } from "../protocol/checksums.js";
import { S3Error } from "../protocol/errors.js";
import { flatHeaders, header } from "../protocol/headers.js";
import { pump } from "../protocol/streams.js";
import { readXml } from "../protocol/xml.js";
import { MAX_OBJECT_SIZE, streamError } from "./store-object.js";
import type { OperationContext } from "./types.js";

/** A body needs a length (or chunked framing), and at most 5 GiB of it. Returns the declared length. */
export function checkBodyLength(ctx: OperationContext): number | undefined {
  const h = ctx.req.headers;
  const length = header(h, "x-amz-decoded-content-length") ?? header(h, "content-length");
  if (length === undefined && header(h, "transfer-encoding") === undefined) throw new S3Error("MissingContentLength");
  if (length !== undefined && Number(length) > MAX_OBJECT_SIZE) throw new S3Error("EntityTooLarge");
  return length === undefined || !/^\d+$/.test(length.trim()) ? undefined : Number(length);
}

/** The request body as a parsed XML document (at most `limit` bytes), its digests verified. */
export async function readXmlBody(ctx: OperationContext, limit: number): Promise<Record<string, unknown>> {
  const digester = new Digester(parseIntegrityHeaders(flatHeaders(ctx.req.headers)), () => ctx.trailers());
  const [doc] = await Promise.all([readXml(digester, limit), pump(ctx.body(), digester)]).catch((err) => {
    throw streamError(err);
  });
  return doc;
}
