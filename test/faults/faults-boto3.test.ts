/**
 * boto3 (legacy and standard retry modes) through injected SlowDowns, with rules set over the
 * loopback REST endpoint /_lakes3/faults as a Python suite would (skipped with the reason printed
 * when boto3 is missing; LAKES3_REQUIRE_CLIENTS=1 makes that a failure).
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { itWithTool, runs } from "../helpers/tools.js";
import { waitFor } from "../helpers/wait.js";

const python = ["python3", "/usr/bin/python3"].find((py) => runs(py, ["-c", "import boto3"]));
const withBoto3 = itWithTool(python !== undefined, "boto3 fault test: python3 with boto3 is not installed (apt-get install python3-boto3)");
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

describe("boto3 retries through injected faults", () => {
  withBoto3("legacy and standard modes: 2 SlowDowns are retried away, 10 fail with ClientError SlowDown and store nothing", async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: t.server.accessKeyId, AWS_SECRET_ACCESS_KEY: t.server.secretAccessKey, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_EC2_METADATA_DISABLED: "true" };
    const { stdout } = await promisify(execFile)(python!, [path.join(import.meta.dirname, "../clients/boto3_faults.py"), t.url, "test-repo"], { env });
    expect(stdout).toContain("boto3 faults OK");
    // legacy: 2 + 5 injected SlowDowns, standard: 2 + 3
    const faulted = await waitFor(() => {
      const events = t.server.log.getSnapshot().finished.filter((e) => e.fault);
      return events.length >= 12 && events;
    });
    expect(faulted.map((e) => e.errorCode)).toEqual(Array(12).fill("SlowDown"));
  }, 120_000);
});
