// Tests for src/protocol/streams.ts: sendBody hands a recycling body's chunks back once sent.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { sendBody } from "../../src/protocol/streams.js";

/** A body that records the chunks handed back to it. */
class RecyclingBody extends Readable {
  readonly recycled: Buffer[] = [];
  private next = 0;
  constructor(private readonly chunks: Buffer[]) {
    super();
  }
  override _read(): void {
    this.push(this.chunks[this.next++] ?? null);
  }
  recycle(chunk: Buffer): void {
    this.recycled.push(chunk);
  }
}

let server: http.Server | undefined;
afterEach(async () => {
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

describe("sendBody", () => {
  it("hands each chunk of a recycling body back once the response has sent it", async () => {
    const chunks = Array.from({ length: 16 }, (_, i) => Buffer.alloc(256 * 1024, i));
    const body = new RecyclingBody(chunks);
    let sent!: Promise<void>;
    server = http.createServer((_req, res) => {
      res.setHeader("Content-Length", 16 * 256 * 1024);
      sent = sendBody(body, res);
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const received = Buffer.from(await res.arrayBuffer());
    await sent;
    expect(received.equals(Buffer.concat(chunks))).toBe(true);
    expect(body.recycled).toHaveLength(chunks.length);
    body.recycled.forEach((c, i) => expect(c).toBe(chunks[i]));
  });
});
