/**
 * A REST request that fails before its body is read must not wedge the keep-alive connection: the
 * next request on the same socket is answered. And the REST API sits only at path-style /api/v1/…:
 * a virtual-host request whose key starts with api/v1 is S3's.
 */
import http from "node:http";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { basicAuth } from "./helpers.js";

let t: TestServer;
let s3mode: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  s3mode = await startTestServer({ mode: "s3" });
});
afterAll(async () => {
  await t.close();
  await s3mode.close();
});

function request(agent: http.Agent, options: http.RequestOptions, body?: Buffer): Promise<{ status: number; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...options, agent, host: "127.0.0.1", port: t.server.port }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, socket: req.socket }));
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("no answer on the kept-alive connection")));
    req.end(body);
  });
}

describe("the REST API on a keep-alive connection", () => {
  it("answers the next request after a form upload that failed before its body was read", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const boundary = "B0undary";
      const form = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="content"\r\nX-Filler: ${"x".repeat(200_000)}\r\n\r\n`),
        Buffer.alloc(256 * 1024, 0x61),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const first = await request(
        agent,
        {
          method: "POST",
          path: "/api/v1/repositories/test-repo/branches/main/objects?path=a.txt",
          headers: { authorization: basicAuth(t.server.accessKeyId, t.server.secretAccessKey), "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": form.length },
        },
        form,
      );
      expect(first.status).toBe(400);
      const second = await request(agent, { method: "GET", path: "/api/v1/healthcheck" });
      expect(second.status).toBe(204);
      expect(second.socket).toBe(first.socket);
    } finally {
      agent.destroy();
    }
  });
});

describe("virtual-host style", () => {
  it("keeps keys that start with api/v1 or _lakes3/ in S3", async () => {
    for (const Key of ["api/v1/healthcheck", "_lakes3/inspect/summary"]) {
      await s3mode.vhostClient.send(new PutObjectCommand({ Bucket: "test-repo", Key, Body: `object ${Key}` }));
      const got = await s3mode.vhostClient.send(new GetObjectCommand({ Bucket: "test-repo", Key }));
      expect(await got.Body!.transformToString()).toBe(`object ${Key}`);
    }
  });
});
