/**
 * A request Node's HTTP parser refuses never reaches the gateway: it is answered here, as S3 does,
 * with error XML, and the connection closes.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { clip, maskQuery, type RequestLog } from "../log/events.js";
import { S3Error } from "../protocol/errors.js";
import { errorXml } from "../protocol/respond.js";

/** What Node's parser leaves on the error it raises (lib/_http_server.js prepareError). */
interface ParseError extends NodeJS.ErrnoException {
  /** The packet the parser failed on, as read from the socket. */
  rawPacket?: Buffer;
  /** Where in that packet it failed. */
  bytesParsed?: number;
  /** llhttp's reason, e.g. "Invalid char in url query". */
  reason?: string;
}

/**
 * Answer a request the parser refused: a header section over Node's limit (16 KiB) is
 * RequestHeaderSectionTooLarge (400; Node's own answer would be 431), a head not received within
 * the header timeout RequestTimeout (400), anything else BadRequest (400), naming what the parser
 * could not read. Then the connection goes. The request is logged with what its packet shows of it.
 */
export function answerClientError(err: ParseError, socket: Duplex, region: string, log: RequestLog): void {
  // Answered already: the parser fails again on each later read while the connection lingers.
  if (socket.writableEnded) return;
  const inFlight = (socket as { _httpMessage?: http.ServerResponse })._httpMessage;
  // A client that closed (mid-body, too) leaves nobody to answer: the socket goes, which fails
  // the request's body so its handler ends.
  if (err.code === "ECONNRESET" || err.code === "HPE_INVALID_EOF_STATE" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  // Bytes after a request's body (a body longer than its Content-Length) fail to parse while that
  // request is still being answered: its answer (e.g. BadDigest) goes out first, then the
  // connection closes.
  if (inFlight) {
    inFlight.shouldKeepAlive = false;
    return;
  }
  const s3err =
    err.code === "HPE_HEADER_OVERFLOW"
      ? new S3Error("RequestHeaderSectionTooLarge")
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? new S3Error("RequestTimeout")
        : new S3Error("BadRequest", `The request is not HTTP/1.1 the server can read${err.reason ? ` (${err.reason})` : ""}: percent-encode the URL, and send header names and values as printable ASCII.`);
  const requestId = randomUUID();
  const packet = err.rawPacket ?? Buffer.alloc(0);
  const line = refusedRequestLine(packet, Math.min(err.bytesParsed ?? packet.length, packet.length));
  const event = log.start({ id: requestId, source: "s3", method: line?.method ?? "-", path: line && clip(line.target.split("?")[0]!), query: line && maskQuery(line.target) });
  // Without the request line, a connection's first packet is garbage, and any other a later part
  // of a request whose head was split across reads, which says nothing of the method: the answer
  // has no body then (a 400 without one suits any request; a body after a HEAD's breaks the
  // client's next read).
  const head = line ? line.method === "HEAD" : ((socket as Partial<Socket>).bytesRead ?? 0) > packet.length;
  const body = head ? "" : errorXml(s3err, { requestId, region });
  const response =
    `HTTP/1.1 ${s3err.status} ${http.STATUS_CODES[s3err.status]}\r\n` +
    (head ? "Content-Length: 0\r\n" : `Content-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`) +
    `x-amz-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`;
  // The answer, then the connection goes, lingering (lingerOnClose): a client still sending would
  // otherwise keep it open, and closing at once would reset it before the client read the answer.
  socket.write(response);
  (socket as Socket).destroySoon();
  log.end(event, { status: s3err.status, errorCode: s3err.code, errorMessage: s3err.message, bytesOut: Buffer.byteLength(response) });
}

/** A method and a request target (origin, asterisk or absolute form), each captured. */
const METHOD_AND_TARGET = String.raw`([A-Z]+) ((?:\/|\*|[a-z][a-z0-9+.-]*:\/\/)[^ \r\n]*)`;
const COMPLETE_REQUEST_LINE = new RegExp(`${METHOD_AND_TARGET} HTTP\\/\\d\\.\\d\\r?\\n`, "g");
const PARTIAL_REQUEST_LINE = new RegExp(`${METHOD_AND_TARGET}(?: H[^ \\r\\n]*)?$`);
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/;
/** The method a run of capitals ends with, when it is one a client sends (`…xHEAD` is a HEAD). */
const METHOD_ENDING = /(?:GET|HEAD|PUT|POST|DELETE|OPTIONS|PATCH|CONNECT|TRACE)$/;

/**
 * The method and target (as far as it was read) of the request the parser refused at `errorAt` in
 * `packet`, when the packet shows its request line. The packet may start with that request, or
 * with the tail of an earlier request's body (answered before the body arrived, the connection
 * kept) or an earlier request, so the line is looked for from the error back: the line the error
 * is in, unless that is a header line, else the last complete request line before the error (a
 * header value would have to end in " HTTP/1.1" to pass for one). A method run into the end of an
 * earlier body (`…xHEAD /k`) is known by its ending.
 */
export function refusedRequestLine(packet: Buffer, errorAt: number): { method: string; target: string } | undefined {
  const before = packet.subarray(0, errorAt).toString("latin1");
  const line = before.slice(before.lastIndexOf("\n") + 1);
  let found = HEADER_LINE.test(line) ? undefined : PARTIAL_REQUEST_LINE.exec(line);
  if (!found) for (const m of before.matchAll(COMPLETE_REQUEST_LINE)) found = m;
  if (!found) return undefined;
  const run = found[1]!;
  return { method: METHOD_ENDING.exec(run)?.[0] ?? run, target: found[2]! };
}
