/**
 * The query in the request log: a real server records it (secrets masked) for listings,
 * sub-resources and multipart parts; the list, the detail line and the text log show its telling
 * part; REST paths never get a doubled slash.
 */
import { PassThrough } from "node:stream";
import { CreateMultipartUploadCommand, ListObjectsV2Command, UploadPartCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maskQuery, type RequestEvent } from "../../src/log/events.js";
import { attachLogSink, queryLabel, requestLine, textLine } from "../../src/log/sinks.js";
import { fitTarget } from "../../src/ui/format.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

const finished = (match: (e: RequestEvent) => boolean): RequestEvent | undefined => t.server.log.getSnapshot().finished.findLast(match);

describe("the query in request events", () => {
  it("keeps a ListObjectsV2's prefix and delimiter: list, detail and text log", async () => {
    await t.client.send(new ListObjectsV2Command({ Bucket: "test-repo", Prefix: "main/raw/", Delimiter: "/" }));
    const e = finished((x) => x.operation === "ListObjectsV2")!;
    expect(e.query).toContain("prefix=main%2Fraw%2F");
    expect(queryLabel(e)).toBe("prefix=main/raw/ delimiter=/");
    expect(requestLine(e)).toMatch(/^GET \/test-repo\?.*prefix=main%2Fraw%2F/);
    expect(textLine(e)).toContain("test-repo prefix=main/raw/ delimiter=/");
  });

  it("gives the JSON log a query field (--log-format json)", async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (chunk: Buffer) => (text += chunk.toString()));
    const detach = attachLogSink(t.server.log, out, { format: "json", quiet: false });
    await t.client.send(new ListObjectsV2Command({ Bucket: "test-repo", Prefix: "main/json/", Delimiter: "/" }));
    detach();
    const line = JSON.parse(text.trim().split("\n").at(-1)!) as { operation: string; query: string };
    expect(line.operation).toBe("ListObjectsV2");
    expect(line.query).toContain("prefix=main%2Fjson%2F");
    expect(line.query).toContain("delimiter=%2F");
  });

  it("shows a sub-resource (?cors) and multipart's partNumber and uploadId", async () => {
    await t.raw({ method: "GET", path: "/test-repo?cors" });
    expect(queryLabel(finished((x) => x.query === "cors")!)).toBe("?cors");
    const { UploadId } = await t.client.send(new CreateMultipartUploadCommand({ Bucket: "test-repo", Key: "main/big.bin" }));
    expect(queryLabel(finished((x) => x.operation === "CreateMultipartUpload")!)).toBe("?uploads");
    await t.client.send(new UploadPartCommand({ Bucket: "test-repo", Key: "main/big.bin", UploadId, PartNumber: 2, Body: "part" }));
    expect(queryLabel(finished((x) => x.operation === "UploadPart")!)).toBe(`partNumber=2 uploadId=${UploadId!.slice(0, 8)}…`);
  });

  it("masks a presigned URL's signature and token", () => {
    expect(maskQuery("/r/main/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=abcdef&X-Amz-Security-Token=tok&x-id=GetObject")).toBe(
      "X-Amz-Credential=AK%2F1&X-Amz-Signature=****&X-Amz-Security-Token=****&x-id=GetObject",
    );
    expect(maskQuery("/r/main/k")).toBeUndefined();
  });

  it("logs a REST call's path without a doubled slash (createRepository names its repository)", async () => {
    const auth = `Basic ${Buffer.from(`${t.server.accessKeyId}:${t.server.secretAccessKey}`).toString("base64")}`;
    const res = await fetch(`${t.url}/api/v1/repositories`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "rest-made", storage_namespace: "local://rest-made" }),
    });
    expect(res.status).toBe(201);
    await fetch(`${t.url}/api/v1/repositories?amount=5`, { headers: { authorization: auth } });
    const created = finished((x) => x.operation === "api:createRepository")!;
    expect(requestLine(created)).toBe("POST /rest-made");
    expect(textLine(created)).not.toContain("//");
    const listed = finished((x) => x.operation === "api:listRepositories")!;
    expect(requestLine(listed)).toBe("GET /api/v1/repositories?amount=5");
  });
});

describe("fitTarget", () => {
  const e = { repo: "a-rather-long-repository-name", ref: "feature-branch", path: "data/year=2024/month=01/day=15/part-00001.parquet" };
  it("keeps everything that fits", () => {
    expect(fitTarget(e, "", 200)).toBe("a-rather-long-repository-name/feature-branch/data/year=2024/month=01/day=15/part-00001.parquet");
  });
  it("cuts the middle of the path, then the repository, then the path again, never the ref", () => {
    const at40 = fitTarget(e, "", 40);
    expect(at40.length).toBeLessThanOrEqual(40);
    expect(at40).toContain("/feature-branch/");
    expect(at40).toBe("a-r…/feature-branch/data/ye…0001.parquet");
    const at30 = fitTarget(e, "prefix=x/", 30);
    expect(at30.length).toBeLessThanOrEqual(30);
    expect(at30).toContain("feature-branch");
  });
  it("shortens the query before the path", () => {
    const fitted = fitTarget({ repo: "repo", ref: "main" }, "prefix=some/very/deep/prefix/for/listing/ delimiter=/", 30);
    expect(fitted.startsWith("repo/main prefix=")).toBe(true);
    expect(fitted.length).toBe(30);
  });
});
