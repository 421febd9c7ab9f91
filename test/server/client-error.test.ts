/**
 * The request line of a request Node's parser refused (src/server/client-error.ts): its method
 * decides whether the answer may have a body (not for a HEAD), and the request log shows it. The
 * packet the parser failed on may start with the request, with the tail of an earlier body, or in
 * the middle of a head split across reads.
 */
import { describe, expect, it } from "vitest";
import { refusedRequestLine } from "../../src/server/client-error.js";

/** The packet, and the error at the "|" in it (as llhttp's bytesParsed points). */
function at(marked: string): [Buffer, number] {
  const i = marked.indexOf("|");
  return [Buffer.from(marked.replace("|", ""), "latin1"), i];
}

describe("refusedRequestLine", () => {
  it.each([
    ["the packet starts with the request line, refused in it", "HEAD /r/main/k?x=|\xff HTTP/1.1\r\n", "HEAD", "/r/main/k?x="],
    ["... a GET", "GET /r?max-keys=|\xd2 HTTP/1.1\r\n", "GET", "/r?max-keys="],
    ["refused in a header, after a complete request line", "HEAD /r/main/k HTTP/1.1\r\nHost: x\r\nBad| Header: y\r\n", "HEAD", "/r/main/k"],
    ["after the tail of an earlier body", "hello wORLD\nxyHEAD /r/main/k?x=|\xff HTTP/1.1\r\n", "HEAD", "/r/main/k?x="],
    ["after a body that ends in capitals", "xHEADGET /r?x=|\xff HTTP/1.1\r\n", "GET", "/r?x="],
    ["after a body that ends in something like a request line", "GET /PUT /r/main/k HTTP/1.1\r\nBad| Header: y\r\n", "PUT", "/r/main/k"],
    ["after an earlier HEAD in the same packet", "HEAD /r/main/k HTTP/1.1\r\nHost: x\r\n\r\nGET /r?x=|\xff HTTP/1.1\r\n", "GET", "/r?x="],
    ["an absolute target, refused in the version", "HEAD http://x/r/main/k HT|XP/1.1\r\n", "HEAD", "http://x/r/main/k"],
    ["a header value that looks like a request line in progress", "GET /r/main/k HTTP/1.1\r\nx-amz-meta-a: HEAD /k|\x01\r\n", "GET", "/r/main/k"],
    ["a method no client sends", "BREW /pot|\xff HTTP/1.1\r\n", "BREW", "/pot"],
  ])("%s", (_name, marked, method, target) => {
    expect(refusedRequestLine(...at(marked))).toEqual({ method, target });
  });

  it.each([
    ["a later part of a head split across reads, refused in a header", "Host: x\r\nBad| Header: y\r\n"],
    ["... refused in the request line", "ain/k?x=|\xff HTTP/1.1\r\n"],
    ["garbage", "NOT| HTTP AT ALL\r\n"],
    ["nothing", "|"],
  ])("is unknown when the packet does not show the request line: %s", (_name, marked) => {
    expect(refusedRequestLine(...at(marked))).toBeUndefined();
  });
});
