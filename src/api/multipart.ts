/**
 * A streaming `multipart/form-data` reader for uploads (lakectl sends the file as the form field
 * `content`). It reads the body until the wanted part's headers, then hands out that part's bytes
 * as a stream, holding back only enough bytes to recognise the next boundary; the whole file is
 * never buffered. Other parts are skipped; whatever follows the wanted part is drained.
 */
import { Readable } from "node:stream";
import { badRequest } from "./router.js";

const MAX_PART_HEADERS = 16 * 1024;

export interface FormFile {
  headers: Record<string, string>;
  /** The part's own Content-Type, if it sent one. */
  contentType?: string;
  body: Readable;
}

/** The boundary of a multipart/form-data Content-Type, or undefined for any other type. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary || boundary.length > 200) throw badRequest("multipart/form-data without a valid boundary");
  return boundary;
}

/** Find the form field `name` in a multipart body and stream its content. */
export async function openFormFile(source: AsyncIterable<Buffer>, boundary: string, name: string): Promise<FormFile> {
  const it = source[Symbol.asyncIterator]();
  // A leading CRLF lets the first boundary (which has none before it) match like the others.
  let buf: Buffer = Buffer.from("\r\n");
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const fill = async (): Promise<boolean> => {
    const next = await it.next();
    if (next.done) return false;
    buf = buf.length === 0 ? next.value : Buffer.concat([buf, next.value]);
    return true;
  };
  const truncated = () => badRequest("multipart body ended early");

  for (;;) {
    // Skip to the next delimiter (the preamble, or a part we do not want).
    let at = buf.indexOf(delimiter);
    while (at < 0) {
      buf = buf.subarray(Math.max(0, buf.length - delimiter.length + 1));
      if (!(await fill())) throw truncated();
      at = buf.indexOf(delimiter);
    }
    buf = buf.subarray(at + delimiter.length);
    while (buf.length < 2) if (!(await fill())) throw truncated();
    if (buf[0] === 0x2d && buf[1] === 0x2d) throw badRequest(`multipart body has no "${name}" field`);
    // The part's headers end at an empty line.
    let end = buf.indexOf("\r\n\r\n");
    while (end < 0) {
      if (buf.length > MAX_PART_HEADERS) throw badRequest("multipart part headers too large");
      if (!(await fill())) throw truncated();
      end = buf.indexOf("\r\n\r\n");
    }
    const headers = parseHeaders(buf.subarray(0, end).toString("utf8"));
    buf = buf.subarray(end + 4);
    if (fieldName(headers["content-disposition"]) !== name) continue;
    return { headers, contentType: headers["content-type"], body: Readable.from(partBody(), { objectMode: false }) };
  }

  async function* partBody(): AsyncGenerator<Buffer> {
    for (;;) {
      const at = buf.indexOf(delimiter);
      if (at >= 0) {
        if (at > 0) yield buf.subarray(0, at);
        buf = Buffer.alloc(0);
        while (!(await it.next()).done); // drain the rest of the form
        return;
      }
      const keep = delimiter.length - 1;
      if (buf.length > keep) {
        yield buf.subarray(0, buf.length - keep);
        buf = buf.subarray(buf.length - keep);
      }
      if (!(await fill())) throw truncated();
    }
  }
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function fieldName(disposition: string | undefined): string | undefined {
  if (!disposition) return undefined;
  const m = /;\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(disposition);
  return m ? (m[1]?.replace(/\\(.)/g, "$1") ?? m[2]) : undefined;
}
