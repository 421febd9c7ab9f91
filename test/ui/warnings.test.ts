/**
 * Server warnings go to one place: the request log keeps them (for the viewer), requests.log
 * records them, and `inspect requests` (readRequests) still lists only requests.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RequestLog } from "../../src/log/events.js";
import { readRequests } from "../../src/log/request-store.js";
import { startServer, type LakeS3Server } from "../../src/server/lifecycle.js";
import { waitFor } from "../helpers/wait.js";

let dir: string | undefined;
let server: LakeS3Server | undefined;
afterEach(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  server = dir = undefined;
});

describe("server warnings", () => {
  it("are kept in the request log and requests.log, at start and while watching", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-warnings-"));
    const fixtures = path.join(dir, "fixtures");
    await mkdir(path.join(fixtures, "good-repo/main"), { recursive: true });
    await writeFile(path.join(fixtures, "good-repo/main/a.txt"), "a");
    await writeFile(path.join(fixtures, "stray.txt"), "x");
    const printed: string[] = [];
    // a warning given before the request log file is open (as start-up findings are) is written too
    const log = new RequestLog();
    log.warn("given before start");
    server = await startServer({ port: 0, dataDir: path.join(dir, "data"), fixtures, log, onWarning: (m) => printed.push(m) });
    const warnings = () => server!.log.getSnapshot().warnings;
    expect(warnings().count).toBe(2);
    expect(warnings().recent[1]!.message).toContain("fixtures: skipping stray.txt");
    expect(printed).toEqual([warnings().recent[1]!.message]);

    // at run time: a bad branch directory
    await mkdir(path.join(fixtures, "good-repo/bad.branch"), { recursive: true });
    await writeFile(path.join(fixtures, "good-repo/bad.branch/b.txt"), "b");
    await waitFor(() => warnings().count === 3, { timeoutMs: 5000, message: "the runtime warning" });
    expect(warnings().recent[2]!.message).toContain("good-repo/bad.branch/: invalid branch name");

    const data = server.dataDir;
    await server.close();
    server = undefined;
    const lines = (await readFile(path.join(data, "requests.log"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l["type"] === "warning").map((l) => l["message"])).toEqual(["given before start", expect.stringContaining("stray.txt"), expect.stringContaining("bad.branch")]);
    const requests = await readRequests(data);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => typeof r.id === "string" && !("type" in r))).toBe(true);
  });
});
