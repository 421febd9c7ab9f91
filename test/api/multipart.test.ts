/**
 * The streaming multipart/form-data reader: finds the `content` field whatever the chunking,
 * holds back only a boundary's worth of bytes, and rejects truncated or field-less forms.
 */
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { formBoundary, openFormFile } from "../../src/api/multipart.js";
import { ApiError } from "../../src/api/router.js";

const B = "XyZ123";

function form(content: string, options: { preamble?: string; before?: string; after?: string } = {}): Buffer {
  return Buffer.from(
    (options.preamble ?? "") +
      `--${B}\r\nContent-Disposition: form-data; name="meta"\r\n\r\n${options.before ?? "m"}\r\n` +
      `--${B}\r\nContent-Disposition: form-data; name="content"; filename="a b.txt"\r\nContent-Type: text/csv\r\n\r\n${content}\r\n` +
      (options.after ?? "") +
      `--${B}--\r\n`,
  );
}

/** The bytes cut into pieces at the given offsets. */
function chunked(buf: Buffer, cuts: number[]): AsyncIterable<Buffer> {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, buf.length]) {
    pieces.push(buf.subarray(at, c));
    at = c;
  }
  return Readable.from(pieces.filter((p) => p.length > 0));
}

async function readAll(body: Readable): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of body) out.push(c as Buffer);
  return Buffer.concat(out).toString("utf8");
}

describe("openFormFile", () => {
  it("finds the content field for every single split point of the body", async () => {
    const content = `a,b\r\n1,2\r\n--${B.slice(0, 3)}\r\n-`;
    const body = form(content, { preamble: "ignored preamble\r\n" });
    for (let cut = 1; cut < body.length; cut++) {
      const file = await openFormFile(chunked(body, [cut]), B, "content");
      expect(file.contentType).toBe("text/csv");
      expect(await readAll(file.body), `cut at ${cut}`).toBe(content);
    }
  });

  it("works byte by byte, with an empty file, and with fields after the file", async () => {
    const body = form("", { after: `--${B}\r\nContent-Disposition: form-data; name="tail"\r\n\r\nt\r\n` });
    const file = await openFormFile(chunked(body, Array.from({ length: body.length }, (_, i) => i)), B, "content");
    expect(await readAll(file.body)).toBe("");
  });

  it("rejects a form without the field, and a body cut short", async () => {
    const noField = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="x"\r\n\r\nv\r\n--${B}--\r\n`);
    await expect(openFormFile(chunked(noField, []), B, "content")).rejects.toThrow(ApiError);
    const whole = form("some data that never ends");
    const cut = whole.subarray(0, whole.indexOf("some data") + 5);
    const file = await openFormFile(chunked(cut, []), B, "content");
    await expect(readAll(file.body)).rejects.toThrow(/ended early/);
    await expect(openFormFile(chunked(Buffer.from("garbage"), []), B, "content")).rejects.toThrow(/ended early/);
  });
});

describe("formBoundary", () => {
  it("reads plain and quoted boundaries; other types have none", () => {
    expect(formBoundary(`multipart/form-data; boundary=${B}`)).toBe(B);
    expect(formBoundary(`Multipart/Form-Data; charset=utf-8; boundary="a b:c"`)).toBe("a b:c");
    expect(formBoundary("application/octet-stream")).toBeUndefined();
    expect(formBoundary(undefined)).toBeUndefined();
    expect(() => formBoundary("multipart/form-data")).toThrow(ApiError);
  });
});
