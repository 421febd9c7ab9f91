/**
 * The admin route answers loopback clients only. Tests never connect to another address, so the
 * handler gets requests whose socket claims a remote address (no traffic leaves the process).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { createAdminHandler } from "../src/inspect/admin-route.js";
import type { InspectSources } from "../src/inspect/queries.js";

async function ask(remoteAddress: string, url: string, host = "127.0.0.1:8000"): Promise<{ status: number; body: { error?: string } }> {
  const handler = createAdminHandler({ dataDir: "/nonexistent-lakes3-admin-test" } as unknown as InspectSources);
  let status = 0;
  let text = "";
  const req = { method: "GET", url, headers: { host }, socket: { remoteAddress } } as unknown as IncomingMessage;
  const res = {
    writeHead(s: number) {
      status = s;
      return this;
    },
    end(t?: string) {
      text = t ?? "";
    },
  } as unknown as ServerResponse;
  await handler(req, res);
  return { status, body: JSON.parse(text) as { error?: string } };
}

describe("admin route", () => {
  it("refuses non-loopback clients with 403, whatever they ask", async () => {
    for (const remote of ["192.0.2.10", "10.0.0.5", "::ffff:192.0.2.10", "2001:db8::1", "", "127.0.0.2.evil"]) {
      for (const url of ["/_lakes3/inspect/summary", "/_lakes3/inspect/nope"]) {
        const r = await ask(remote, url);
        expect(r.status, `${remote} ${url}`).toBe(403);
        expect(r.body.error).toMatch(/loopback clients/);
      }
    }
  });

  it("answers loopback clients (IPv4, IPv6, IPv4-mapped)", async () => {
    for (const remote of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
      for (const host of ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"]) {
        const r = await ask(remote, "/_lakes3/inspect/nope", host);
        expect(r.status, `${remote} ${host}`).toBe(404); // past the loopback checks: an unknown query
      }
    }
  });

  it("refuses a loopback client that addresses another host (DNS rebinding)", async () => {
    for (const host of ["evil.example:8000", "127.0.0.1.evil.example", "", "s3.local.lakefs.io:8000"]) {
      const r = await ask("127.0.0.1", "/_lakes3/inspect/nope", host);
      expect(r.status, host).toBe(403);
    }
  });
});
