/**
 * CORS for browser clients on this machine: preflights are answered without credentials, a
 * loopback origin is echoed, and every response (errors included) carries the CORS headers so a
 * browser can read S3 error XML and the ETag. Any other website gets no CORS headers (issue 12:
 * with the public quickstart keys it could otherwise read and write the data), unless allowed with
 * --cors-origin; the loopback admin route never answers CORS and only loopback Host headers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, startTestServer, type TestServer } from "./helpers/server.js";
import { apiClient } from "./api/helpers.js";

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

describe("CORS for origins that are not this machine", () => {
  const EVIL = "https://evil.example";

  it("every loopback origin is allowed (localhost, 127.0.0.1, [::1], any port, http or https)", async () => {
    for (const origin of ["http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:5173", "https://localhost"]) {
      const res = await t.raw({ method: "GET", path: "/test-repo/main/cors.txt", headers: { origin } });
      expect(res.headers["access-control-allow-origin"], origin).toBe(origin);
    }
  });

  it("another website's request carries no CORS headers, and its preflight is refused (S3 and REST)", async () => {
    const get = await t.raw({ method: "GET", path: "/test-repo/main/cors.txt", headers: { origin: EVIL } });
    expect(get.status).toBe(200); // the signature is good; the browser just may not read it
    expect(get.headers["access-control-allow-origin"]).toBeUndefined();
    expect(get.headers["access-control-allow-credentials"]).toBeUndefined();
    const pre = await fetch(`${t.url}/test-repo/main/cors.txt`, { method: "OPTIONS", headers: { Origin: EVIL, "Access-Control-Request-Method": "GET" } });
    expect(pre.status).toBe(403);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    expect(errorCode(await pre.text())).toBe("AccessForbidden");

    const api = apiClient(t);
    const rest = await api("GET", "/repositories", { headers: { origin: EVIL } });
    expect(rest.status).toBe(200);
    expect(rest.headers.get("access-control-allow-origin")).toBeNull();
    const restPre = await fetch(`${t.url}/api/v1/repositories`, { method: "OPTIONS", headers: { Origin: EVIL, "Access-Control-Request-Method": "GET" } });
    expect(restPre.status).toBe(403);
    expect(restPre.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("the admin route never answers CORS, and refuses a Host that is not loopback (DNS rebinding)", async () => {
    const ok = await fetch(`${t.url}/_lakes3/inspect/repos`, { headers: { Origin: "http://localhost:3000" } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBeNull();
    const port = new URL(t.url).port;
    const rebound = await t.raw({ method: "GET", path: "/_lakes3/inspect/summary", sign: false, headers: { host: `evil.example:${port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toContain(t.dataDir);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const res = await t.raw({ method: "GET", path: "/_lakes3/inspect/repos", sign: false, headers: { host } });
      expect(res.status, host).toBe(200);
    }
  });
});

describe("--cors-origin", () => {
  it("opens one more origin (with credentials), or every origin with * (without)", async () => {
    const one = await startTestServer({ corsOrigins: ["https://app.example:8443"] });
    try {
      const allowed = await one.raw({ method: "GET", path: "/test-repo/main/x", headers: { origin: "https://app.example:8443" } });
      expect(allowed.headers["access-control-allow-origin"]).toBe("https://app.example:8443");
      expect(allowed.headers["access-control-allow-credentials"]).toBe("true");
      const other = await one.raw({ method: "GET", path: "/test-repo/main/x", headers: { origin: "https://other.example" } });
      expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    } finally {
      await one.close();
    }
    const any = await startTestServer({ corsOrigins: ["*"] });
    try {
      const res = await any.raw({ method: "GET", path: "/test-repo/main/x", headers: { origin: "https://anything.example" } });
      expect(res.headers["access-control-allow-origin"]).toBe("*");
      expect(res.headers["access-control-allow-credentials"]).toBeUndefined();
      const local = await any.raw({ method: "GET", path: "/test-repo/main/x", headers: { origin: "http://localhost:1234" } });
      expect(local.headers["access-control-allow-origin"]).toBe("http://localhost:1234");
    } finally {
      await any.close();
    }
  });

  it("an origin that is not * or scheme://host[:port] is refused at start", async () => {
    await expect(startTestServer({ corsOrigins: ["evil.example/path"] })).rejects.toThrow(/invalid CORS origin "evil.example\/path"/);
  });
});
