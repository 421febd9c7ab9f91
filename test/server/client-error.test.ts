/**
 * Whether a request Node's parser refused is a HEAD (src/server/client-error.ts): its answer must
 * then have no body. The packet the parser failed on may start with the request, with the tail of
 * an earlier body, or in the middle of a head split across reads.
 */
import { describe, expect, it } from "vitest";
import { refusedIsHead } from "../../src/server/client-error.js";

/** The packet, and the error at the "|" in it (as llhttp's bytesParsed points). */
function at(marked: string): [Buffer, number] {
  const i = marked.indexOf("|");
  return [Buffer.from(marked.replace("|", ""), "latin1"), i];
}

describe("refusedIsHead", () => {
  it.each([
    ["the packet starts with the request line, refused in it", "HEAD /r/main/k?x=|\xff HTTP/1.1\r\n", true],
    ["... a GET", "GET /r?max-keys=|\xd2 HTTP/1.1\r\n", false],
    ["refused in a header, after a complete request line", "HEAD /r/main/k HTTP/1.1\r\nHost: x\r\nBad| Header: y\r\n", true],
    ["after the tail of an earlier body", "hello wORLD\nxyHEAD /r/main/k?x=|\xff HTTP/1.1\r\n", true],
    ["after a body that ends in capitals", "xHEADGET /r?x=|\xff HTTP/1.1\r\n", false],
    ["after a body that ends in something like a request line", "GET /PUT /r/main/k HTTP/1.1\r\nBad| Header: y\r\n", false],
    ["after an earlier HEAD in the same packet", "HEAD /r/main/k HTTP/1.1\r\nHost: x\r\n\r\nGET /r?x=|\xff HTTP/1.1\r\n", false],
    ["an absolute target, refused in the version", "HEAD http://x/r/main/k HT|XP/1.1\r\n", true],
    ["a header value that looks like a request line in progress", "GET /r/main/k HTTP/1.1\r\nx-amz-meta-a: HEAD /k|\x01\r\n", false],
  ])("%s", (_name, marked, expected) => {
    expect(refusedIsHead(...at(marked))).toBe(expected);
  });

  it.each([
    ["a later part of a head split across reads, refused in a header", "Host: x\r\nBad| Header: y\r\n"],
    ["... refused in the request line", "ain/k?x=|\xff HTTP/1.1\r\n"],
    ["garbage", "NOT| HTTP AT ALL\r\n"],
    ["nothing", "|"],
  ])("says nothing when the packet does not show the request line: %s", (_name, marked) => {
    expect(refusedIsHead(...at(marked))).toBeUndefined();
  });
});
