/**
 * Permissive CORS for browser clients on localhost: preflights are answered without credentials,
 * the origin is echoed, and every response (errors included) carries the CORS headers so a browser
 * can read S3 error XML and the ETag.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, startTestServer, type TestServer } from "./helpers/server.js";

const ORIGIN = "http://localhost:5173";
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.raw({ method: "PUT", path: "/test-repo/main/cors.txt", body: "hello" });
});
afterAll(async () => {
  await t.close();
});

describe("CORS", () => {
  it("answers a preflight (unsigned) with the origin, methods and requested headers", async () => {
    const res = await fetch(`${t.url}/test-repo/main/cors.txt`, {
      method: "OPTIONS",
      headers: {
        Origin: ORIGIN,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type,x-amz-content-sha256,x-amz-date",
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(res.headers.get("access-control-allow-methods")).toContain("PUT");
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization,content-type,x-amz-content-sha256,x-amz-date");
    expect(res.headers.get("access-control-max-age")).toBe("3600");
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("exposes the ETag on a successful GET", async () => {
    const res = await t.raw({ method: "GET", path: "/test-repo/main/cors.txt", headers: { origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(res.headers["access-control-expose-headers"]).toContain("ETag");
  });

  it("puts the CORS headers on error responses too", async () => {
    const unsigned = await fetch(`${t.url}/test-repo/main/cors.txt`, { headers: { Origin: ORIGIN } });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(unsigned.headers.get("access-control-expose-headers")).toContain("x-amz-request-id");
    expect(errorCode(await unsigned.text())).toBe("AccessDenied");

    const missing = await t.raw({ method: "GET", path: "/test-repo/main/none.txt", headers: { origin: ORIGIN } });
    expect(missing.status).toBe(404);
    expect(missing.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(errorCode(missing.body)).toBe("NoSuchKey");
  });

  it("adds no CORS headers without an Origin", async () => {
    const res = await t.raw({ method: "GET", path: "/test-repo/main/cors.txt" });
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
